"""Recording evidence (metrics measured on a split) from notebooks, scripts and jobs.

Each process records into one run: ``.readiness/runs/<run-id>.json`` holds its
parameters, git commit, data versions and every piece of evidence; ``metrics.json``
holds the latest numeric value per split and metric in DVC's metrics format (plain numbers:
a metric's confidence interval travels in the run record, with its evidence). With the
MLflow registry backend, each record is also logged to the run's MLflow run
(:mod:`readiness.evidence.mlflow_log`). Inside
a Jupyter kernel, every record is also displayed under our own MIME type, so an
executed notebook carries its evidence and can be read back with nbformat.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit, numbers
from readiness.core.errors import EvidenceError, NotebookError
from readiness.core.fsutil import atomic_write_json, file_lock, rewrite_json_in_place
from readiness.core.project import Project, current_project
from readiness.core.results import EVIDENCE_MIME, Renderable
from readiness.evidence.journal import append as journal_append
from readiness.evidence.journal import compact, head
from readiness.evidence.mlflow_log import mirror
from readiness.evidence.runs import check_run_id, latest_run_with_evidence, new_run_id, run_path
from readiness.integrations.dvc import data_versions
from readiness.integrations.git import head_commit, is_dirty

RUN_ID_ENV = "READINESS_RUN_ID"
# Set for a job's kernel: where the project is, which metrics file the job writes.
PROJECT_ENV = "READINESS_PROJECT"
METRICS_FILE_ENV = "READINESS_METRICS_FILE"


def _remote_job() -> bool:
    """A job's kernel that cannot see its project's folder (it runs on another machine)."""
    folder = os.environ.get(PROJECT_ENV)
    return bool(os.environ.get(RUN_ID_ENV) and folder and not os.path.isdir(folder))


_current: dict[Path, str] = {}

# A run id names a file in .readiness/runs/: one plain path segment, never a path. New ids
# look like 20261126T110230850-55db6e; chosen ones (READINESS_RUN_ID=nightly-2026-11-26) too.


def current_run_id(project: Project) -> str:
    """The run this process records into (``READINESS_RUN_ID`` wins, for jobs)."""
    env = os.environ.get(RUN_ID_ENV)
    if env:
        return check_run_id(env, RUN_ID_ENV)
    if project.root not in _current:
        _current[project.root] = new_run_id()
    return _current[project.root]


def start_run(project: Project | None = None) -> str:
    """Start a new run in this process: later evidence goes to a fresh run record."""
    project = project or current_project()
    previous = _current.get(project.root)
    if previous is not None and run_path(project, previous).is_file():
        with file_lock(project.write_lock_path):
            compact(run_path(project, previous))  # the finished run's record is complete
    _current[project.root] = new_run_id()
    return _current[project.root]


def _check_value(name: str, value: Any) -> Any:
    """Accept numbers, booleans and JSON lists/dicts of them; refuse NaN, infinity, huge ints.

    Every number must be finite and representable as a float (:mod:`readiness.core.numbers`),
    inside lists and dicts too: the judge compares them.
    """
    if isinstance(value, bool):
        return value
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        value = value.tolist()
    if isinstance(value, (int, float)):
        reason = numbers.problem(value)
        if reason:
            raise EvidenceError(f"evidence {name!r} is {reason}: {numbers.RULE}")
        return value
    if not isinstance(value, (list, tuple, dict)):
        raise EvidenceError(
            f"evidence {name!r} must be a number, a boolean, or JSON data (lists, dicts); "
            f"got {type(value).__name__} {numbers.describe(value)}"
        )
    bad = numbers.first_problem(value)
    if bad:
        raise EvidenceError(f"evidence {name!r} holds {bad[1]} at {bad[0]}: {numbers.RULE}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise EvidenceError(
            f"evidence {name!r} must be a number, a boolean, or JSON data (lists, dicts); "
            f"got {type(value).__name__}"
        ) from None
    return value


def _check_tag(name: str, key: str, value: Any) -> Any:
    """Tags are context: text is fine, but they must still be JSON."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise EvidenceError(
            f"tag {key!r} of evidence {name!r} is not JSON data: {numbers.describe(value)}"
        ) from None
    return value


@dataclass
class Evidence(Renderable):
    """One measured value: metric name, value, split, tags and where it came from."""

    name: str
    value: Any
    split: str
    tags: dict[str, Any] = field(default_factory=dict)
    recorded_at: str = ""
    run_id: str = ""
    git_commit: str | None = None
    data: dict[str, str] = field(default_factory=dict)  # tracked path -> DVC md5
    # evaluate's bootstrap interval: {value, low, high, confidence, n, method, seed, resamples}
    interval: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "value": self.value,
            "split": self.split,
            "tags": self.tags,
            "recorded_at": self.recorded_at,
            "run_id": self.run_id,
            "git_commit": self.git_commit,
            "data": self.data,
        }
        if self.interval is not None:  # only evaluate's metrics have one: old records unchanged
            out["interval"] = self.interval
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(
            name=str(data["name"]),
            value=data["value"],
            split=str(data.get("split", "holdout")),
            tags=dict(data.get("tags") or {}),
            recorded_at=str(data.get("recorded_at", "")),
            run_id=str(data.get("run_id", "")),
            git_commit=data.get("git_commit"),
            data=dict(data.get("data") or {}),
            interval=data["interval"] if isinstance(data.get("interval"), dict) else None,
        )


def make_evidence(name: str, value: Any, /, split: str = "holdout", **tags: Any) -> Evidence:
    """Validate one piece of evidence without recording it."""
    if not isinstance(name, str) or not name.strip():
        raise EvidenceError("evidence needs a non-empty metric name")
    if not isinstance(split, str) or not split.strip():
        raise EvidenceError(f"evidence {name!r} needs a split name, e.g. split='holdout'")
    clean_tags = {str(k): _check_tag(name, str(k), v) for k, v in tags.items()}
    return Evidence(
        name=name.strip(), value=_check_value(name, value), split=split.strip(), tags=clean_tags
    )


def _source() -> str | None:
    """What produced the run: a job's notebook, a Jupyter session, or a script."""
    named = os.environ.get("READINESS_SOURCE") or os.environ.get("JPY_SESSION_NAME")
    if named:
        return named
    script = sys.argv[0] if sys.argv else ""
    return None if not script or "ipykernel" in script else script


def new_record(project: Project, run_id: str) -> dict[str, Any]:
    return {
        "id": run_id,
        "started_at": audit.now(),
        "updated_at": audit.now(),
        "source": _source(),
        "git_commit": head_commit(project.root),
        "git_dirty": is_dirty(project.root),
        "params": {},
        "data_versions": data_versions(project),
        "evidence": [],
    }


def write_metrics(
    path: Path, items: Iterable[Evidence | dict[str, Any]], durable: bool = True
) -> None:
    """Merge numeric evidence into a DVC metrics file as ``{split: {metric: value}}``.

    ``durable=False`` (per record) rewrites the file in place: no fsync, no rename, and
    still whole JSON if the process is killed.
    """
    try:
        metrics = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (ValueError, OSError):  # corrupt, binary or unreadable: start it again
        metrics = {}
    if not isinstance(metrics, dict):
        metrics = {}
    for item in items:
        entry = item.to_dict() if isinstance(item, Evidence) else item
        value = entry.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            split = metrics.setdefault(entry.get("split", "holdout"), {})
            if isinstance(split, dict):
                split[entry["name"]] = value
    if durable:
        atomic_write_json(path, metrics)
    else:
        rewrite_json_in_place(path, metrics)


def record_many(
    items: list[Evidence],
    project: Project | None = None,
    display: bool = True,
    run_id: str | None = None,
) -> list[Evidence]:
    """Record several pieces of evidence in one write (and one display output).

    ``run_id`` adds to that run (it must exist) instead of this process's run.
    """
    if _remote_job():
        # A job's kernel on a machine without the project (a Dask worker): the evidence
        # travels in the executed notebook and the coordinating process records it.
        stamp = audit.now()
        for item in items:
            item.recorded_at, item.run_id = stamp, os.environ.get(RUN_ID_ENV, "")
        if display:
            _display(items)
        return items
    project = project or current_project()
    from readiness.criteria.declaration import lock_before_evidence

    if run_id is not None and not run_path(project, run_id).is_file():
        raise EvidenceError(f"no run {run_id!r} in {project.runs_dir}")
    run_id = run_id or current_run_id(project)
    with file_lock(project.write_lock_path):
        stamp = audit.now()  # taken under the lock, so records and the criteria lock agree
        for item in items:
            item.recorded_at, item.run_id = stamp, run_id
        lock_before_evidence(project)
        path = run_path(project, run_id)
        if not path.is_file():
            atomic_write_json(path, new_record(project, run_id))
        record = head(path)
        versions = {p: v.get("md5") for p, v in (record.get("data_versions") or {}).items()}
        for item in items:
            item.git_commit, item.data = record.get("git_commit"), versions
        # appended, not rewritten: O(1) per record (see run_journal)
        journal_append(path, [item.to_dict() for item in items], project.write_lock_path)
        metrics = os.environ.get(METRICS_FILE_ENV)  # a job names its own, or "-" for none
        if metrics != "-":
            write_metrics(Path(metrics) if metrics else project.metrics_path, items, durable=False)
    mirror(project, run_id, items, record)  # outside the lock: MLflow may be slow or down
    if display:
        _display(items)
    return items


def record(name: str, value: Any, /, split: str = "holdout", **tags: Any) -> Evidence:
    """Record one piece of evidence for the current run.

    Parameters
    ----------
    name:
        The metric name, as the success criteria refer to it (``roc_auc``).
    value:
        A finite number, a boolean, or JSON data (a confusion matrix as a list).
    split:
        The data split it was measured on (default ``holdout``).
    **tags:
        Free-form context (model name, threshold, sample size).

    Returns
    -------
    Evidence
        The stored evidence, with its run id and time.
    """
    return record_many([make_evidence(name, value, split, **tags)])[0]


def _in_kernel() -> bool:
    # Only a kernel has a front end that keeps display outputs; avoid importing IPython.
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _display(items: list[Evidence]) -> None:
    if not items or not _in_kernel():
        return
    from IPython.display import display

    shown = ", ".join(
        f"{i.name}={i.value:.4g}" if isinstance(i.value, float) else f"{i.name}={i.value}"
        for i in items
        if not isinstance(i.value, (list, dict))
    )
    payload = {"run_id": items[0].run_id, "evidence": [i.to_dict() for i in items]}
    text = f"readiness evidence [{items[0].split}] {shown or ', '.join(i.name for i in items)}"
    display({EVIDENCE_MIME: payload, "text/plain": text}, raw=True)


def read_notebook_evidence(path: str | Path) -> list[Evidence]:
    """The evidence an executed notebook displayed, in order (a path, or any papermill URL)."""
    from readiness.integrations import papermill

    url = "://" in str(path)
    if not url and not Path(path).exists():
        raise EvidenceError(f"notebook {path} does not exist")
    try:
        notebook = papermill.load(path) if url else papermill.read(path)
    except NotebookError as exc:  # not JSON, not a notebook, unreadable
        raise EvidenceError(f"cannot read notebook {path}: {exc}") from None
    found: list[Evidence] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(EVIDENCE_MIME)
            if isinstance(payload, str):
                payload = json.loads(payload)
            if isinstance(payload, dict):
                found.extend(Evidence.from_dict(item) for item in payload.get("evidence", []))
    return found


def latest_values(run: dict[str, Any]) -> dict[tuple[str, str], Evidence]:
    """The last value per (metric, split) within one run."""
    values: dict[tuple[str, str], Evidence] = {}
    for item in run.get("evidence", []):
        evidence = Evidence.from_dict(item)
        values[(evidence.name, evidence.split)] = evidence
    return values


@dataclass
class Recorded(Renderable):
    """Evidence just recorded by hand (``%readiness log``)."""

    items: list[Evidence]

    def to_dict(self) -> dict[str, Any]:
        return {"recorded": [item.to_dict() for item in self.items]}


def recorded_names(project: Any) -> list[str]:
    """The metric names the latest run with evidence recorded (none when unreadable)."""
    from readiness.core.errors import ReadinessError

    try:
        run = latest_run_with_evidence(project) or {}
    except ReadinessError:
        return []
    names = [e.get("name") for e in run.get("evidence", []) if isinstance(e, dict)]
    return [n for n in names if isinstance(n, str)]
