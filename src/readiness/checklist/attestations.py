"""``readiness attest``: a dated, named manual check with an evidence link, in readiness.yaml."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from readiness.core.config import merged_text, read_text
from readiness.core.errors import UsageError
from readiness.core.fsutil import atomic_write_text, file_lock
from readiness.core.project import Project
from readiness.core.results import Renderable


@dataclass
class Attested(Renderable):
    item: str
    entry: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, **self.entry}


def attest(
    project: Project,
    item: str,
    by: str,
    evidence: str,
    date: dt.date | None = None,
    expires: dt.date | None = None,
    note: str | None = None,
) -> Attested:
    """Record an attestation of checklist ``item`` (kept with the other sections' comments)."""
    from readiness.checklist.probes import ITEMS
    from readiness.core import audit, yamlio

    known = {i.id for i in ITEMS}
    if item not in known:
        raise UsageError(f"unknown checklist item {item!r}; items: {', '.join(sorted(known))}")
    if not by.strip() or not evidence.strip():
        raise UsageError("an attestation needs --by NAME and --evidence URL")
    if date is not None and date > dt.date.today():
        raise UsageError(f"--date {date} is in the future: attest what has been checked")
    if expires is not None and expires < (date or dt.date.today()):
        raise UsageError(
            f"--expires {expires} is before the attestation's date {date or dt.date.today()}"
        )
    entry: dict[str, Any] = {
        "by": by,
        "date": (date or dt.date.today()).isoformat(),
        "evidence": evidence,
    }
    if expires:
        entry["expires"] = expires.isoformat()
    if note:
        entry["note"] = note
    _valid(entry)
    with file_lock(project.write_lock_path):
        current = yamlio.parse(read_text(project), "readiness.yaml").data or {}
        attestations = dict(current.get("attestations") or {})
        attestations[item] = entry
        atomic_write_text(project.config_path, merged_text(project, {"attestations": attestations}))
    audit.append(project, "checklist.attested", item=item, by=by, evidence=evidence)
    return Attested(item, entry)


def _valid(entry: dict[str, Any]) -> None:
    """Refuse what the checklist would not count (the schema's rules: a URL, dates)."""
    from pydantic import ValidationError

    from readiness.core.schema import Attestation

    try:
        Attestation.model_validate(entry)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise UsageError(f"--{exc.errors()[0]['loc'][0]}: {message}") from None
