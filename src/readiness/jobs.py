"""Notebook jobs: a parameterized notebook executed by papermill in a fresh kernel.

A job has three steps, split so that executors can run the middle one anywhere:

1. ``prepare_job`` (coordinating process): check the notebook, its parameters, the
   kernel and the input data before anything runs; write the run record.
2. ``execute_job`` (here, a worker process or a Dask worker): papermill executes the
   notebook; the kernel's evidence travels back inside the executed notebook (our
   MIME type), never through files the worker writes.
3. ``finish_job`` (coordinating process, the one writer): complete the run record
   with status, duration, failing cell and evidence.
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
from readiness.errors import UsageError
from readiness.evidence import METRICS_FILE_ENV, PROJECT_ENV, RUN_ID_ENV, new_run_id, run_path
from readiness.fsutil import atomic_write_json, file_lock
from readiness.project import Project
from readiness.results import Renderable


@dataclass
class JobSpec:
    """Everything a worker needs to execute one run (plain data: it is pickled)."""

    run_id: str
    notebook: str  # absolute path of the input notebook
    output: str  # path or URL of the executed notebook
    params: dict[str, Any]
    kernel: str | None = None
    cwd: str | None = None
    timeout: float | None = None
    env: dict[str, str] = field(default_factory=dict)


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


def update_record(project: Project, run_id: str, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into the run record under the project write lock."""
    from readiness.evidence import new_record

    with file_lock(project.write_lock_path):
        path = run_path(project, run_id)
        if path.is_file():
            record = json.loads(path.read_text(encoding="utf-8"))
        else:
            record = new_record(project, run_id)
        record.update(fields)
        record["updated_at"] = audit.now()
        atomic_write_json(path, record)
    return record


# -- 1. prepare (coordinator) ----------------------------------------------------------


def prepare_job(
    project: Project,
    notebook: str | Path,
    params: dict[str, Any] | None = None,
    output: str | Path | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    cwd: str | Path | None = None,
    inputs: list[str] | None = None,
    allow_extra: bool = False,
    run_id: str | None = None,
    metrics_file: str | None = None,
    batch: str | None = None,
) -> JobSpec:
    """Check everything that can be checked before a kernel starts, and record the run."""
    from readiness.dvcstore import data_versions
    from readiness.gitinfo import head_commit, is_dirty
    from readiness.notebook_params import check_kernel, check_parameters, read_notebook
    from readiness.probes.secret_scan import redact_params

    source = Path(notebook).resolve()
    node = read_notebook(source)
    params = dict(params or {})
    check_parameters(source, params, allow_extra=allow_extra)
    kernel = check_kernel(node, kernel)
    if timeout is not None and timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if inputs:
        from readiness.validation import validate_inputs

        validate_inputs(project, list(inputs))
    run_id = run_id or new_run_id()
    if output is None:
        target = str(project.executed_notebooks_dir / f"{source.stem}-{run_id}.ipynb")
    else:
        target = str(output) if "://" in str(output) else str(Path(output).resolve())
    if target == str(source):
        raise UsageError(
            "the executed notebook must not overwrite its input: choose another --output"
        )
    if "://" not in target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(source, project.root)
    update_record(
        project,
        run_id,
        status="queued",
        notebook=relative,
        output=os.path.relpath(target, project.root) if "://" not in target else target,
        params=redact_params(params),  # the record is committed; the kernel gets the values
        inputs=list(inputs or []),
        metrics_file=metrics_file,
        batch=batch,
        git_commit=head_commit(project.root),
        git_dirty=is_dirty(project.root),
        data_versions=data_versions(project),
        source=relative,
    )
    env = {
        RUN_ID_ENV: run_id,
        PROJECT_ENV: str(project.root),
        METRICS_FILE_ENV: str(project.root / metrics_file) if metrics_file else "-",
        "READINESS_SOURCE": relative,
    }
    return JobSpec(
        run_id=run_id,
        notebook=str(source),
        output=target,
        params=params,
        kernel=kernel,
        cwd=str(Path(cwd).resolve()) if cwd else str(source.parent),
        timeout=timeout,
        env=env,
    )


# -- 2. execute (anywhere) --------------------------------------------------------------


def _failure_of(exc: BaseException) -> tuple[str, dict[str, Any] | None]:
    """Status and failing-cell description of a papermill/nbclient exception."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        if exc.ename == "SystemExit" and str(exc.evalue).strip() in ("", "0", "None"):
            return "succeeded", None
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


def _input_cell_number(output: str, index: int) -> int:
    """1-based position in the input notebook of the executed notebook's cell ``index``.

    papermill counts cells of the executed notebook, which holds an extra injected
    parameters cell; a user reads their own notebook.
    """
    try:
        from papermill.iorw import load_notebook_node

        cells = load_notebook_node(output).cells
    except Exception:  # unreadable output: fall back to papermill's own count
        return index + 1
    # papermill's index counts the executed cells before it added its error-marker cells
    executed = [
        c for c in cells if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])
    ]
    injected = sum(
        "injected-parameters" in c.get("metadata", {}).get("tags", []) for c in executed[:index]
    )
    return index - injected + 1


class _Stop:
    """Set by the stop handler: the job was cancelled, not failed."""

    requested = False


def _stop_kernels(signum: int, frame: Any) -> None:
    """Ctrl-C / SIGTERM during a job: stop this process's kernels, then let papermill
    see a dead kernel and return normally (no exception thrown into its event loop)."""
    import psutil

    _Stop.requested = True
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.terminate()


@contextlib.contextmanager
def _stoppable() -> Iterator[None]:
    """Route SIGINT (unless ignored) and SIGTERM to :func:`_stop_kernels` while inside."""
    import signal
    import threading

    _Stop.requested = False
    if threading.current_thread() is not threading.main_thread():
        yield  # signals only reach the main thread (e.g. on a Dask worker)
        return
    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            saved[sig] = signal.signal(sig, _stop_kernels)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _quiet_kernel_arguments(kernel: str | None) -> list[str]:
    """Silence ipykernel's own log in job output: its TCP warning at start and the
    "KeyboardInterrupt caught" that jupyter_client's interrupt-before-shutdown causes.
    Only for ipykernel kernels: another kernel could refuse the option."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel or "python3").argv
    except (NoSuchKernel, OSError, ValueError):
        return []
    return ["--IPKernelApp.log_level=CRITICAL"] if any("ipykernel" in a for a in argv) else []


def execute_job(spec: JobSpec) -> dict[str, Any]:
    """Execute one job with papermill and return its outcome (plain data).

    Never raises for the notebook's own failures: they are the outcome. Ctrl-C (or
    SIGTERM from a coordinator) stops the kernel and the outcome is ``cancelled``.
    """
    import papermill

    from readiness.evidence import read_notebook_evidence

    started = time.perf_counter()
    status, failure = "succeeded", None
    try:
        with _environment(spec.env), _stoppable():
            papermill.execute_notebook(
                spec.notebook,
                spec.output,
                parameters=spec.params,
                kernel_name=spec.kernel,
                execution_timeout=spec.timeout,
                progress_bar=False,
                log_output=False,
                resources={"metadata": {"path": spec.cwd}},  # kernel cwd, without chdir
                extra_arguments=_quiet_kernel_arguments(spec.kernel),
            )
    except KeyboardInterrupt:
        status, failure = "cancelled", {"ename": "KeyboardInterrupt", "evalue": "cancelled"}
    except Exception as exc:  # the notebook's failure is the job's outcome
        status, failure = _failure_of(exc)
    if _Stop.requested:
        status, failure = "cancelled", {"ename": "KeyboardInterrupt", "evalue": "cancelled"}
    try:
        evidence = [e.to_dict() for e in read_notebook_evidence(spec.output)]
    except Exception:  # no executed notebook (the kernel never started)
        evidence = []
    if failure and failure.get("cell_index") is not None:
        failure["cell"] = _input_cell_number(spec.output, failure["cell_index"])
    return {
        "run_id": spec.run_id,
        "status": status,
        "failure": failure,
        "duration_s": round(time.perf_counter() - started, 3),
        "evidence": evidence,
    }


# -- 3. finish (coordinator, the one writer) --------------------------------------------


def finish_job(
    project: Project, spec: JobSpec, outcome: dict[str, Any], metrics_file: str | Path | None = None
) -> RunResult:
    """Complete the run record from a worker's outcome; update the metrics file if asked."""
    from readiness.criteria import lock_before_evidence
    from readiness.evidence import write_metrics

    record = json.loads(run_path(project, spec.run_id).read_text(encoding="utf-8"))
    evidence = record.get("evidence") or []  # written by a kernel that shares this folder
    fields: dict[str, Any] = {}
    if not evidence and outcome.get("evidence"):  # the kernel ran on another machine
        versions = {p: v.get("md5") for p, v in (record.get("data_versions") or {}).items()}
        commit = record.get("git_commit")
        evidence = [
            {**item, "run_id": spec.run_id, "git_commit": commit, "data": versions}
            for item in outcome["evidence"]
        ]
        fields["evidence"] = evidence
        with file_lock(project.write_lock_path):
            lock_before_evidence(project)
        if metrics_file is not None:
            write_metrics(project.root / metrics_file, evidence)
    if outcome["status"] == "succeeded":
        _track_saved_models(project, evidence)
    record = update_record(
        project,
        spec.run_id,
        status=outcome["status"],
        failure=outcome.get("failure"),
        duration_s=outcome.get("duration_s"),
        finished_at=audit.now(),
        **fields,
    )
    return RunResult(
        run_id=spec.run_id,
        status=outcome["status"],
        notebook=record["notebook"],
        output=record["output"],
        duration_s=outcome.get("duration_s") or 0.0,
        params=record.get("params", spec.params),  # as recorded: credentials redacted
        evidence=evidence,
        data_versions=record.get("data_versions") or {},
        git_commit=record.get("git_commit"),
        failure=outcome.get("failure"),
    )


def _track_saved_models(project: Project, evidence: list[dict[str, Any]]) -> None:
    """Models the job saved are DVC-tracked here, by the coordinating process (one writer)."""
    from readiness.models import MODEL_EVIDENCE, track_model

    for name in dict.fromkeys(e["split"] for e in evidence if e.get("name") == MODEL_EVIDENCE):
        if (project.root / "models" / f"{name}.skops").is_file():
            track_model(project, name)


def run_notebook(
    notebook: str | Path,
    params: dict[str, Any] | None = None,
    project: Project | None = None,
    output: str | Path | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    cwd: str | Path | None = None,
    metrics_file: str | Path | None = None,
    inputs: list[str] | None = None,
    allow_extra: bool = False,
) -> RunResult:
    """Execute ``notebook`` with papermill as a recorded run, in this process.

    Parameters
    ----------
    notebook:
        The input notebook (never overwritten).
    params:
        Values injected after the cell tagged ``parameters``; checked against it first.
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
        The DVC metrics file the run's numeric evidence goes to (default ``metrics.json``).
    inputs:
        Data files the notebook reads: validated against their schema first, recorded
        with the run (``reproduce`` restores them).
    allow_extra:
        Pass parameters the notebook does not declare.
    """
    from readiness.project import current_project

    project = project or current_project()
    spec = prepare_job(
        project,
        notebook,
        params,
        output=output,
        timeout=timeout,
        kernel=kernel,
        cwd=cwd,
        inputs=inputs,
        allow_extra=allow_extra,
        metrics_file=str(metrics_file) if metrics_file else "metrics.json",
    )
    update_record(project, spec.run_id, status="running")
    outcome = execute_job(spec)
    result = finish_job(project, spec, outcome, spec_metrics(spec))
    if outcome["status"] == "cancelled":
        raise KeyboardInterrupt
    return result


def spec_metrics(spec: JobSpec) -> str | None:
    """The metrics file a job writes (relative to its project), or None."""
    path = spec.env.get(METRICS_FILE_ENV, "-")
    return None if path == "-" else path
