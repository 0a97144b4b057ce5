"""An append-only audit log of decisions (criteria declared, amended, forced overrides)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from readiness.core.errors import FileError
from readiness.core.fsutil import append_text
from readiness.core.project import Project


def now() -> str:
    """The current UTC time as ISO 8601 in milliseconds, the format of every timestamp we write.

    Milliseconds keep records written within one second in order.
    """
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def append(project: Project, event: str, **fields: Any) -> dict[str, Any]:
    """Append one event as a JSON line to ``.readiness/audit.jsonl`` and return it."""
    entry = {"at": now(), "event": event, **fields}
    append_text(project.audit_path, json.dumps(entry, default=str) + "\n")
    return entry


def read(project: Project) -> list[dict[str, Any]]:
    """Every audit event, oldest first (unreadable lines are skipped, not fatal)."""
    if not project.audit_path.is_file():
        return []
    events = []
    try:
        # bytes that are not UTF-8 spoil their line only, which is then skipped
        text = project.audit_path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise FileError(f"cannot read the audit log {project.audit_path}: {exc.strerror}") from None
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events
