"""The run store: run ids, record paths, and reading run records (newest last)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import EvidenceError
from readiness.core.project import Project
from readiness.evidence.journal import load_record, read_record_file

RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_run_id(run_id: str, source: str = "run") -> str:
    """``run_id`` when it is a valid run id; an error naming ``source`` otherwise."""
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id):
        raise EvidenceError(
            f"{source} {run_id!r} is not a run id: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit (e.g. 20261126T110230850-55db6e)"
        )
    return run_id


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus random hex."""
    stamp = audit.now().replace("-", "").replace(":", "").replace(".", "").split("+")[0]
    return f"{stamp}-{secrets.token_hex(3)}"


def run_path(project: Project, run_id: str) -> Path:
    """The record of ``run_id``; every reader and writer of a run goes through here."""
    return project.runs_dir / f"{check_run_id(run_id)}.json"


def batch_path(project: Project, batch_id: str) -> Path:
    """A batch's table and best run (``.readiness/batches/<batch id>.json``)."""
    return project.state_dir / "batches" / f"{check_run_id(batch_id, 'batch')}.json"


def read_batch(project: Project, batch_id: str) -> dict[str, Any]:
    path = batch_path(project, batch_id)
    if not path.is_file():
        raise EvidenceError(f"no record of batch {batch_id!r} ({path.name} is missing)")
    return read_record_file(path)


def read_run(project: Project, run_id: str) -> dict[str, Any]:
    """One run record; a missing or corrupt file is a clear error."""
    path = run_path(project, run_id)
    if not path.is_file():
        raise EvidenceError(f"no run {run_id!r} in {project.runs_dir}")
    return load_record(path)


def list_runs(project: Project) -> list[dict[str, Any]]:
    """Every run record, oldest first (by last update); a corrupt one is an error."""
    if not project.runs_dir.is_dir():
        return []
    runs = [load_record(path) for path in project.runs_dir.glob("*.json")]
    return sorted(runs, key=lambda r: (r.get("updated_at", ""), r.get("id", "")))


def latest_run_with_evidence(project: Project) -> dict[str, Any] | None:
    """The most recently updated run holding evidence that did not fail or get cancelled."""
    unfinished = ("failed", "cancelled", "timed_out")  # partial evidence judges nothing
    runs = [
        r for r in list_runs(project) if r.get("evidence") and r.get("status") not in unfinished
    ]
    return runs[-1] if runs else None
