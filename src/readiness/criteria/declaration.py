"""Declaring success criteria, locking them, and amending them with a reason.

The first declaration is locked in ``.readiness/criteria.lock`` (content hash, time,
git commit). Before any evidence exists, criteria may still be revised freely (each
revision is logged). Once evidence exists, a change needs an amendment reason; the
check shows every amendment and which criteria changed after results were seen.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from readiness.core import audit, yamlio
from readiness.core.config import load_config, merged_text, read_text
from readiness.core.errors import ConfigError, CriteriaLockedError, UsageError
from readiness.core.fsutil import atomic_write_json, atomic_write_text, file_lock, read_text_file
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.core.schema import SECTIONS, Config, Criteria, validate
from readiness.core.templates import placeholder_problem
from readiness.integrations.git import head_commit


def criteria_hash(criteria: Criteria) -> str:
    """A stable content hash of the criteria (key order and YAML layout do not matter)."""
    canonical = json.dumps(criteria.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


LOCK_KEYS = ("version", "hash", "locked_at", "history")
DECLARATIONS = ("criteria.declared", "criteria.revised", "criteria.amended")


def _is_lock(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and all(key in data for key in LOCK_KEYS)
        and isinstance(data["history"], list)
        and (data["hash"] is None or isinstance(data["hash"], str))
    )


def read_lock(project: Project) -> dict[str, Any] | None:
    """The criteria lock, or None when criteria were never declared.

    A file that is not a lock (``{}``, ``[]``, keys missing) is an error, like a
    truncated one: reading it as "never declared" would unlock the criteria.
    """
    path = project.criteria_lock_path
    if not path.is_file():
        return None
    try:
        data = json.loads(read_text_file(path, "criteria lock", error=ConfigError))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is corrupt ({exc}); restore it from git") from None
    if not _is_lock(data):
        raise ConfigError(
            f"{path} is not a criteria lock (an object with {', '.join(LOCK_KEYS)} expected); "
            "restore it from git"
        )
    return data


def audit_declarations(project: Project) -> list[dict[str, Any]]:
    """Every declaration, revision and amendment of the criteria in the audit log."""
    return [e for e in audit.read(project) if e.get("event") in DECLARATIONS and e.get("hash")]


def _runs_with_evidence(project: Project) -> list[dict[str, Any]]:
    from readiness.evidence.runs import list_runs

    return [r for r in list_runs(project) if r.get("evidence")]


def lock_problem(project: Project, lock: dict[str, Any] | None) -> str | None:
    """Why the lock cannot be trusted: missing or holding no criteria while the audit log
    records a declaration or runs hold evidence (every evidence write leaves a lock)."""
    if lock is not None and lock.get("hash"):
        return None
    declared = audit_declarations(project)
    evidence = _runs_with_evidence(project) if declared or lock is None else []
    if not declared and not (lock is None and evidence):
        return None
    reasons = [f"{len(evidence)} run(s) hold evidence"] if evidence else []
    if declared:
        reasons.append(f"the audit log records criteria declared at {declared[0]['at']}")
    state = "is missing" if lock is None else "holds no criteria"
    return (
        f"the criteria lock {project.criteria_lock_path.relative_to(project.root).as_posix()} "
        f"{state} while {' and '.join(reasons)}: restore it from git, or readiness criteria "
        'amend --reason "why" rebuilds it from the audit log'
    )


def _rebuilt_lock(project: Project, lock: dict[str, Any] | None) -> dict[str, Any] | None:
    """The lock as the audit log knows it, when the file is missing or holds no criteria.

    The audit log records every declaration, so criteria once locked stay locked (and
    their amendment reasons kept) even when the lock file is deleted or emptied.
    """
    if lock is not None and lock.get("hash"):
        return None
    declared = audit_declarations(project)
    if not declared:
        return None
    first_evidence = (lock or {}).get("first_evidence_at")
    if first_evidence is None:
        stamps = [
            str(item.get("recorded_at"))
            for run in _runs_with_evidence(project)
            for item in run["evidence"]
            if item.get("recorded_at")
        ]
        first_evidence = min(stamps) if stamps else None
    history = [
        {
            "event": e["event"].removeprefix("criteria."),
            "at": e.get("at"),
            "hash": e["hash"],
            "reason": e.get("reason"),
            "after_evidence": bool(e.get("after_evidence")),
        }
        for e in declared
    ]
    rebuilt = {
        "version": 1,
        "hash": declared[-1]["hash"],
        "locked_at": declared[0].get("at"),
        "git_commit": None,
        "first_evidence_at": first_evidence,
        "history": history,
        "rebuilt_from_audit_log": audit.now(),
    }
    plans = [e for e in audit.read(project) if e.get("event") == "criteria.planned"
             and e.get("hash") == rebuilt["hash"] and isinstance(e.get("plan"), dict)]
    if plans:  # the holdout plan, as declared with these criteria
        rebuilt["plan"] = plans[-1]["plan"]
    return rebuilt


def amendments(lock: dict[str, Any] | None) -> list[dict[str, Any]]:
    """History entries that changed criteria after evidence existed."""
    return [h for h in (lock or {}).get("history", []) if h.get("event") == "amended"]


def _entry(event: str, criteria: Criteria, project: Project, **extra: Any) -> dict[str, Any]:
    return {
        "event": event,
        "at": audit.now(),
        "hash": criteria_hash(criteria),
        "git_commit": head_commit(project.root),
        "criteria": criteria.model_dump(mode="json"),
        **extra,
    }


def _apply(
    project: Project, config: Config, reason: str | None, lock: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, str]:
    """Decide what declaring ``config`` does to ``lock``: (new lock or None, what happened)."""
    new_hash = criteria_hash(config.criteria)
    evidence_exists = bool(lock and lock.get("first_evidence_at"))
    if lock is not None and _same_as_locked(config.criteria, new_hash, lock):
        return None, "unchanged"
    problem = placeholder_problem(config.use_case)
    if problem:
        raise ConfigError(problem)
    if lock is None or lock.get("hash") is None:
        # First declaration; evidence may already exist (then the lock says so).
        entry = _entry(
            "declared", config.criteria, project, reason=reason, after_evidence=evidence_exists
        )
        fresh = {
            "version": 1,
            "hash": new_hash,
            "locked_at": entry["at"],
            "git_commit": entry["git_commit"],
            "first_evidence_at": (lock or {}).get("first_evidence_at"),
            "history": [*(lock or {}).get("history", []), entry],
        }
        return fresh, "declared"
    if evidence_exists and not (reason and reason.strip()):
        raise CriteriaLockedError(
            f"criteria changed after evidence was recorded (first evidence "
            f"{lock['first_evidence_at']}). Say why with an amendment reason: "
            '%%readiness criteria --amend "why" in a notebook, readiness criteria declare '
            '--amend "why" for a file, or readiness criteria amend --reason "why" after '
            "editing readiness.yaml"
        )
    event = "amended" if evidence_exists else "revised"
    entry = _entry(event, config.criteria, project, reason=reason, previous_hash=lock.get("hash"))
    updated = {**lock, "hash": new_hash, "history": [*lock.get("history", []), entry]}
    return updated, event


def _canonical(criteria: dict[str, Any]) -> str:
    """Criteria as comparable text: the order of the technical list does not matter."""
    technical = sorted(
        criteria.get("technical") or [], key=lambda c: (str(c.get("metric")), str(c.get("split")))
    )
    return json.dumps({**criteria, "technical": technical}, sort_keys=True, default=str)


def _same_as_locked(criteria: Criteria, new_hash: str, lock: dict[str, Any]) -> bool:
    """Whether declaring ``criteria`` changes nothing: they equal the locked ones."""
    if lock.get("hash") is None:
        return False
    if lock.get("hash") == new_hash:
        return True
    locked = next(
        (
            h.get("criteria")
            for h in reversed(lock.get("history") or [])
            if h.get("hash") == lock["hash"]
        ),
        None,
    )
    return isinstance(locked, dict) and _canonical(locked) == _canonical(
        criteria.model_dump(mode="json")
    )


@dataclass
class Declaration(Renderable):
    """What declaring criteria did: the criteria, the lock state and the event."""

    config: Config
    event: str
    lock: dict[str, Any] | None = None
    path: str = ""
    amendments: list[dict[str, Any]] = field(default_factory=list)
    saved: dict[str, list[str]] = field(default_factory=dict)  # section -> its entries
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "path": self.path,
            "saved": self.saved,
            "warnings": self.warnings,
            "hash": (self.lock or {}).get("hash"),
            "locked_at": (self.lock or {}).get("locked_at"),
            "first_evidence_at": (self.lock or {}).get("first_evidence_at"),
            "use_case": self.config.use_case.model_dump(mode="json"),
            "criteria": self.config.criteria.model_dump(mode="json", exclude_none=True),
            "amendments": [
                {k: a.get(k) for k in ("at", "reason", "hash")} for a in self.amendments
            ],
        }


def _commit(
    project: Project,
    config: Config,
    reason: str | None,
    text: str | None,
    lock_criteria: bool = True,
) -> Declaration:
    """Lock (or amend) ``config`` and, when ``text`` is given, write it as readiness.yaml.

    Without ``lock_criteria`` (a body that declares no criteria: a data schema, a
    drift policy), an unlocked file stays unlocked and a locked one must be unchanged.
    """
    with file_lock(project.write_lock_path):
        lock = read_lock(project)
        rebuilt = _rebuilt_lock(project, lock)
        lock = rebuilt or lock
        if not lock_criteria and (lock is None or lock.get("hash") is None):
            new_lock, event = None, "saved"
        else:
            new_lock, event = _apply(project, config, reason, lock)
        if new_lock is None and rebuilt is not None:
            new_lock, event = rebuilt, "rebuilt"  # the same criteria: the lock file is back
        if text is not None:
            atomic_write_text(project.config_path, text)
        if new_lock is not None:
            atomic_write_json(project.criteria_lock_path, new_lock)
            audit.append(
                project,
                f"criteria.{event}",
                hash=new_lock["hash"],
                reason=reason,
                **_declared_facts(new_lock, event),
            )
        final = new_lock or lock
    return Declaration(
        config=config,
        event=event,
        lock=final,
        path=str(project.config_path),
        amendments=amendments(final),
    )


def _declared_facts(lock: dict[str, Any], event: str) -> dict[str, Any]:
    """What the audit entry keeps of a first declaration, so a lost lock can be rebuilt."""
    if event != "declared":
        return {}
    return {"after_evidence": bool(lock["history"][-1].get("after_evidence"))}


def preview(project: Project, body: str, source: str = "criteria") -> Config:
    """Validate YAML ``body`` merged into ``readiness.yaml`` without writing anything."""
    return _merge(project, body, source)[0]


def declare(
    project: Project, body: str, amend: str | None = None, source: str = "criteria"
) -> Declaration:
    """Declare criteria from YAML ``body`` (a cell or file in the readiness.yaml format).

    Sections present in ``body`` replace those in ``readiness.yaml``; the others are
    kept. The result is validated as a whole before anything is written.
    """
    config, text = _merge(project, body, source)
    sections = yamlio.parse(body, "criteria").data or {}
    declaration = _commit(project, config, amend, text, lock_criteria="criteria" in sections)
    declaration.saved = _saved_sections(sections)
    return declaration


def _saved_sections(sections: dict[str, Any]) -> dict[str, list[str]]:
    """What a declaration wrote: each section, with the names it holds (datasets, ...)."""
    return {
        str(name): [str(k) for k in value] if isinstance(value, dict) else []
        for name, value in sections.items()
    }


def _merge(project: Project, body: str, source: str = "criteria") -> tuple[Config, str]:
    """The configuration and file text that ``body`` merged into readiness.yaml gives.

    ``source`` names the body in error messages (a file name, or the cell).
    """
    doc = yamlio.parse(body, source=source)
    if not isinstance(doc.data, dict) or not doc.data:
        raise ConfigError(
            f"{source}: expected YAML with a criteria: section (and use_case: the first time)"
        )
    unknown = sorted(str(k) for k in doc.data if k not in SECTIONS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown section(s) {', '.join(unknown)}; allowed: {', '.join(SECTIONS)}"
        )
    # Validate the body on its own first, so errors point at the lines the user typed.
    sections = {key: doc.tree[key] for key in doc.data}
    text = merged_text(project, sections)
    merged = yamlio.parse(text, source="readiness.yaml")
    try:
        config = validate(merged.data, positions=merged, source="readiness.yaml")
    except ConfigError:
        validate({**current_sections(project), **doc.data}, positions=doc, source=source)
        raise
    return config, text


def current_sections(project: Project) -> dict[str, Any]:
    """The top-level sections of readiness.yaml as plain data (empty without the file)."""
    if not project.config_path.is_file():
        return {}
    data = yamlio.parse(read_text(project), "readiness.yaml").data
    return data if isinstance(data, dict) else {}


def amend(project: Project, reason: str) -> Declaration:
    """Record the criteria now in ``readiness.yaml`` (edited by hand) with ``reason``."""
    if not reason or not reason.strip():
        raise UsageError('an amendment needs a reason: --reason "why the criteria change"')
    config = load_config(project)
    declaration = _commit(project, config, reason, None)
    if declaration.event == "unchanged":
        raise UsageError("the criteria in readiness.yaml equal the locked ones: nothing to amend")
    return declaration


def show(project: Project) -> Declaration:
    """The criteria as declared, with their lock state."""
    config = load_config(project)
    lock = read_lock(project)
    if lock is None or lock.get("hash") is None:
        event = "not locked"
    elif lock.get("hash") == criteria_hash(config.criteria):
        event = "locked"
    else:
        event = "changed since lock"
    return Declaration(
        config=config,
        event=event,
        lock=lock,
        path=str(project.config_path),
        amendments=amendments(lock),
    )


def lock_before_evidence(project: Project) -> None:
    """Called (under the write lock) before evidence is first written.

    Locks the criteria as they stand, so evidence can never precede its criteria
    without the lock saying so, and stamps the time of the first evidence.
    """
    lock = read_lock(project)
    rebuilt = _rebuilt_lock(project, lock)
    lock = rebuilt or lock  # a deleted lock does not unlock the criteria
    if lock is not None and lock.get("first_evidence_at"):
        return  # a lock that is still missing is what check reports
    config = None
    if project.config_path.is_file():
        try:
            config = load_config(project)
        except ConfigError:
            config = None  # evidence is still recorded; `check` reports the invalid file
    if config is not None:
        new_lock, event = _apply(
            project, config, "locked automatically at the first evidence", lock
        )
        if new_lock is not None:
            audit.append(
                project,
                f"criteria.{event}",
                hash=new_lock["hash"],
                reason="first evidence",
                **_declared_facts(new_lock, event),
            )
            lock = new_lock
        elif rebuilt is not None:
            audit.append(project, "criteria.rebuilt", hash=rebuilt["hash"], reason="lock missing")
    if lock is None:
        lock = {"version": 1, "hash": None, "locked_at": None, "git_commit": None, "history": []}
    lock["first_evidence_at"] = audit.now()
    # What results were first judged against: later amendments are compared with it.
    lock["criteria_at_first_evidence"] = config.criteria.model_dump(mode="json") if config else None
    atomic_write_json(project.criteria_lock_path, lock)
