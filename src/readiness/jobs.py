"""Executing a parameterized notebook as a recorded run (papermill in a fresh kernel).

The coordinating process owns the run record: it writes it before the kernel starts
(parameters, git commit, data versions) and completes it after (status, duration,
the executed notebook, the failing cell). The kernel records evidence into the same
run (``READINESS_RUN_ID``), and the evidence is also read back from the executed
notebook, which is the copy a human reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness import audit
from readiness.errors import ReadinessError, UsageError
from readiness.evidence import (
    RUN_ID_ENV,
    new_run_id,
    read_notebook_evidence,
    run_path,
)
from readiness.fsutil import atomic_write_json, file_lock
from readiness.project import Project
from readiness.results import Renderable

METRICS_ENV = "READINESS_METRICS_FILE"


@dataclass
class RunResult(Renderable):
    """One executed notebook: status, outputs, evidence and, on failure, the failing cell."""

    run_id: str
    status: str  # succeeded | failed | timed_out | cancelled
    notebook: str
    output: str
    duration_s: float
    params: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    data_versions: dict[str, Any] = field(default_factory=dict)
    git_commit: str | None = None
    failure: dict[str, Any] | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def exit_code(self) -> int:
        return 0 if self.succeeded else 1

    def metrics(self, split: str | None = None) -> dict[str, Any]:
        """The last numeric value per metric (on ``split`` when given)."""
        return {
            e["name"]: e["value"]
            for e in self.evidence
            if (split is None or e.get("split") == split)
            and isinstance(e.get("value"), (int, float))
            and not isinstance(e.get("value"), bool)
        }

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def parse_value(raw: str) -> Any:
    """A command-line parameter value: JSON when it parses (numbers, true, lists), else text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered in ("none", "null"):
            return None
        return raw


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables the kernel inherits, restoring the previous ones afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _update_record(project: Project, run_id: str, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into the run record under the project write lock."""
    from readiness.evidence import new_record

    with file_lock(project.write_lock_path):
        path = run_path(project, run_id)
        record = (
            json.loads(path.read_text(encoding="utf-8"))
            if path.is_file()
            else new_record(project, run_id)
        )
        record.update(fields)
        record["updated_at"] = audit.now()
        atomic_write_json(path, record)
    return record


def _failure_of(exc: Exception) -> tuple[str, dict[str, Any]]:
    """Status and failing-cell description of a papermill/nbclient exception."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        if exc.ename == "SystemExit" and str(exc.evalue).strip() in ("", "0", "None"):
            return "succeeded", {}
        return "failed", {
            "cell_index": exc.cell_index,
            "execution_count": exc.exec_count,
            "ename": exc.ename,
            "evalue": exc.evalue,
        }
    if isinstance(exc, CellTimeoutError):
        return "timed_out", {"ename": "CellTimeoutError", "evalue": str(exc).splitlines()[0]}
    if isinstance(exc, DeadKernelError):
        return "failed", {"ename": "DeadKernelError", "evalue": "the kernel died"}
    return "failed", {"ename": type(exc).__name__, "evalue": str(exc)}


def run_notebook(
    notebook: str | Path,
    params: dict[str, Any] | None = None,
    project: Project | None = None,
    output: str | Path | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    cwd: str | Path | None = None,
    metrics_file: str | Path | None = None,
    run_id: str | None = None,
    inputs: list[str] | None = None,
) -> RunResult:
    """Execute ``notebook`` with papermill as a recorded run.

    Parameters
    ----------
    notebook:
        The input notebook (never overwritten).
    params:
        Values injected after the cell tagged ``parameters``.
    project:
        Where the run is recorded (default: the project of the working directory).
    output:
        The executed notebook (default ``runs/<name>-<run id>.ipynb``).
    timeout:
        Seconds allowed per cell.
    kernel:
        Kernel name (default: the notebook's own kernelspec).
    cwd:
        The kernel's working directory (default: the notebook's folder, as in Jupyter).
    metrics_file:
        Where the kernel's DVC metrics go (default ``metrics.json``).
    inputs:
        Data files the run reads, recorded with the run (reproduce restores them).
    """
    from readiness.dvcstore import data_versions
    from readiness.gitinfo import head_commit
    from readiness.project import current_project

    project = project or current_project()
    source = Path(notebook).resolve()
    if not source.is_file():
        raise UsageError(f"notebook {notebook} does not exist")
    if source.suffix != ".ipynb":
        raise UsageError(f"{notebook} is not a Jupyter notebook (.ipynb)")
    run_id = run_id or new_run_id()
    target = (
        Path(output).resolve()
        if output
        else project.executed_notebooks_dir / f"{source.stem}-{run_id}.ipynb"
    )
    if target == source:
        raise UsageError(
            "the executed notebook must not overwrite its input: choose another --output"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    params = dict(params or {})
    relative = os.path.relpath(source, project.root)
    if inputs:
        from readiness.validation import validate_inputs

        validate_inputs(project, list(inputs))  # refuse bad data before any kernel starts
    _update_record(
        project,
        run_id,
        status="running",
        notebook=relative,
        output=os.path.relpath(target, project.root),
        params=params,
        inputs=list(inputs or []),
        metrics_file=str(metrics_file) if metrics_file else None,
        git_commit=head_commit(project.root),
        data_versions=data_versions(project),
        source=relative,
    )
    env = {RUN_ID_ENV: run_id, "READINESS_PROJECT": str(project.root), "READINESS_SOURCE": relative}
    if metrics_file:
        env[METRICS_ENV] = str((project.root / metrics_file).resolve())
    started = time.perf_counter()
    status, failure = "succeeded", None
    try:
        import papermill

        with _environment(env):
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=params,
                kernel_name=kernel,
                cwd=str(cwd or source.parent),
                execution_timeout=timeout,
                progress_bar=False,
                log_output=False,
            )
    except KeyboardInterrupt:
        _update_record(
            project, run_id, status="cancelled", duration_s=time.perf_counter() - started
        )
        raise
    except ReadinessError:
        raise
    except Exception as exc:  # papermill/nbclient failures become the run's status
        status, failure = _failure_of(exc)
        failure = failure or None
    duration = time.perf_counter() - started
    evidence = [e.to_dict() for e in read_notebook_evidence(target)] if target.is_file() else []
    record = _update_record(
        project,
        run_id,
        status=status,
        duration_s=round(duration, 3),
        failure=failure,
        finished_at=audit.now(),
    )
    if not record.get("evidence") and evidence:  # the kernel recorded elsewhere (another machine)
        record = _update_record(project, run_id, evidence=evidence)
    return RunResult(
        run_id=run_id,
        status=status,
        notebook=relative,
        output=record["output"],
        duration_s=round(duration, 3),
        params=params,
        evidence=record.get("evidence") or evidence,
        data_versions=record.get("data_versions") or {},
        git_commit=record.get("git_commit"),
        failure=failure,
    )
