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
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.environ import environment
from readiness.core.errors import EvidenceError, NotebookError, UsageError
from readiness.core.fsutil import file_lock, require_dir
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.evidence.record import METRICS_FILE_ENV, PROJECT_ENV, RUN_ID_ENV
from readiness.evidence.runs import new_run_id, run_path
from readiness.integrations import papermill


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
    start_timeout: float = 60.0  # seconds a kernel gets to start (papermill's default)
    report_mode: bool = False  # hide code cells' input in the executed notebook
    log_output: bool = False  # cell outputs to the log (stderr) as they come
    prepare_only: bool = False  # write the parameterized notebook; start no kernel


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
        return 0 if self.status in ("succeeded", "prepared") else 1

    @property
    def reason(self) -> str:
        """One line: the run and how it ended (the failing cell and exception, if any)."""
        return f"run {self.run_id} " + failure_reason(self.status, self.failure)

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


def failure_reason(status: str, failure: dict[str, Any] | None) -> str:
    """``failed at cell 3: ValueError: bad input``: a run's end in one line, for people."""
    if not failure:
        return status
    where = failure.get("cell")
    evalue = " ".join(str(failure.get("evalue") or "").split())  # a multi-line message: one
    error = ": ".join(str(p) for p in (failure.get("ename"), evalue) if p)
    at = "" if where is None else f" at cell {where}"
    return f"{status}{at}: {error}" if error else f"{status}{at}"


def update_record(project: Project, run_id: str, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into the run record under the project write lock."""
    from readiness.evidence.journal import load_record, write
    from readiness.evidence.record import new_record

    with file_lock(project.write_lock_path):
        path = run_path(project, run_id)
        record = load_record(path) if path.is_file() else new_record(project, run_id)
        record.update(fields)
        record["updated_at"] = audit.now()
        write(path, record)  # the evidence journal is folded in
    return record


# -- 1. prepare (coordinator) ----------------------------------------------------------

# Project state an executed notebook must never be written onto.
OWN_FILES = frozenset({"readiness.yaml", "dvc.yaml", "dvc.lock", "params.yaml", "metrics.json"})
OWN_FOLDERS = frozenset({".readiness", ".dvc", ".git"})


def _inside(project: Project, path: Path) -> Path | None:
    """``path`` relative to the project root (as written, or once links resolve), else None."""
    for candidate in (Path(os.path.abspath(path)), path.resolve()):
        if candidate.is_relative_to(project.root):
            return candidate.relative_to(project.root)
    return None


def check_output(
    project: Project, target: Path, metrics_file: str | None = None, anywhere: bool = False
) -> None:
    """Refuse an executed-notebook path onto readiness's own files or a folder, and (unless
    ``anywhere``: a batch's shared output folder) outside the project."""
    own = OWN_FILES | ({os.path.normpath(metrics_file)} if metrics_file else set())
    for candidate in (Path(os.path.abspath(target)), target.resolve()):
        if not candidate.is_relative_to(project.root):
            continue
        relative = candidate.relative_to(project.root)
        if relative.as_posix() in own or (relative.parts and relative.parts[0] in OWN_FOLDERS):
            raise UsageError(
                f"--output {relative.as_posix()} is one of readiness's own files: "
                "choose another path (default runs/NAME-RUNID.ipynb)"
            )
    if not anywhere and _inside(project, target) is None:
        raise UsageError(f"--output {target} is outside the project {project.root}")
    if target.is_dir():
        raise UsageError(f"--output {target} is a directory, not a file")


def check_inputs(project: Project, inputs: list[str]) -> None:
    """Refuse inputs outside the project: reproduce could never restore them."""
    for raw in inputs:
        if _inside(project, project.root / raw) is None:
            raise UsageError(
                f"--input {raw} is outside the project {project.root}: "
                "copy or track the data inside it (readiness track)"
            )


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
    shared_output: bool = False,
    start_timeout: float | None = None,
    report_mode: bool = False,
    log_output: bool = False,
    prepare_only: bool = False,
) -> JobSpec:
    """Check everything that can be checked before a kernel starts, and record the run.

    ``output`` must lie in the project unless ``shared_output`` (a batch's output folder
    that every worker reaches may be elsewhere); never on readiness's own files.
    ``prepare_only`` (papermill's ``--prepare-only``): nothing runs, so nothing is
    recorded; the job only writes the parameterized notebook.
    """
    from readiness.checklist.probes.secret_scan import redact_params
    from readiness.integrations.dvc import data_versions
    from readiness.integrations.git import head_commit, is_dirty
    from readiness.jobs.parameters import check_kernel, check_parameters, read_notebook

    source = Path(notebook).resolve()
    node = read_notebook(source)
    params = dict(params or {})
    check_parameters(source, params, allow_extra=allow_extra)
    kernel = check_kernel(node, kernel)
    if timeout is not None and timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if cwd is not None:
        require_dir(Path(cwd), f"--cwd {cwd}")
    if start_timeout is not None and start_timeout <= 0:
        raise UsageError("--start-timeout must be a positive number of seconds")
    if inputs:
        from readiness.data.validation import validate_inputs

        check_inputs(project, list(inputs))
        validate_inputs(project, list(inputs))
    run_id = run_id or new_run_id()
    if output is None:
        target = str(project.executed_notebooks_dir / f"{source.stem}-{run_id}.ipynb")
    elif "://" in str(output):
        target = str(output)
    else:
        check_output(project, Path(output), metrics_file, anywhere=shared_output)
        target = str(Path(output).resolve())
    if target == str(source):
        raise UsageError(
            "the executed notebook must not overwrite its input: choose another --output"
        )
    if "://" not in target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(source, project.root)
    if not prepare_only:
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
        start_timeout=60.0 if start_timeout is None else float(start_timeout),
        report_mode=report_mode,
        log_output=log_output,
        prepare_only=prepare_only,
    )


# -- 2. execute (anywhere) --------------------------------------------------------------


_failure_of = papermill.failure_of


_ERROR_MARKER = papermill.ERROR_MARKER
_INJECTED = papermill.INJECTED
CANCELLED = {"ename": "KeyboardInterrupt", "evalue": "cancelled"}


def _tagged(cell: Any, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def input_cell_number(source_cells: list[Any], executed_cells: list[Any], index: int) -> int:
    """1-based position in the input notebook of papermill's executed cell ``index``.

    papermill counts the cells it executed: the input without the error-marker cells an
    earlier papermill run left in it (it removes them first) and with the injected
    parameters cell (it replaces one already in the input). A user reads their own
    notebook: the cells of the input file, its marker cells included.
    """
    own = [i for i, c in enumerate(source_cells) if not _tagged(c, _ERROR_MARKER)]
    own = [i for i in own if not _tagged(source_cells[i], _INJECTED)]
    # markers in the executed notebook were added after papermill took the index
    executed = [c for c in executed_cells if not _tagged(c, _ERROR_MARKER)]
    before = sum(not _tagged(c, _INJECTED) for c in executed[:index])
    return own[before] + 1 if before < len(own) else index + 1


def _failing_cell(spec: JobSpec, index: int) -> int:
    try:
        source = papermill.load(spec.notebook).cells
        executed = papermill.load(spec.output).cells
    except NotebookError:  # unreadable output: fall back to papermill's own count
        return index + 1
    return input_cell_number(source, executed, index)


class _Stop:
    """Set by the stop handler: the job was cancelled, not failed."""

    requested = False
    depth = 0  # nested _stoppable() blocks (run_notebook around execute_job)
    executing = False  # papermill is running: our children are kernels, not git or DVC


def _terminate_children() -> None:
    import psutil

    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.terminate()


def _keep_stopping() -> None:
    """After Ctrl-C, a kernel that was still being launched is stopped as it appears."""
    while _Stop.requested and _Stop.depth:
        if _Stop.executing:
            _terminate_children()
        time.sleep(0.2)


def _stop_kernels(signum: int, frame: Any) -> None:
    """Ctrl-C / SIGTERM during a job: stop this process's kernels, then let papermill
    see a dead kernel and return normally (no exception thrown into its event loop)."""
    import threading

    first = not _Stop.requested
    _Stop.requested = True
    if _Stop.executing:
        _terminate_children()
    if first:  # a kernel starting up may not be a child yet: keep watching for it
        threading.Thread(target=_keep_stopping, name="readiness-stop", daemon=True).start()


@contextlib.contextmanager
def _stoppable() -> Iterator[None]:
    """Route SIGINT (unless ignored) and SIGTERM to :func:`_stop_kernels` while inside.

    Nested blocks share the outermost one's state: a Ctrl-C before the kernel starts
    still cancels the job.
    """
    import signal
    import threading

    if _Stop.depth == 0:
        _Stop.requested = False
    if threading.current_thread() is not threading.main_thread():
        yield  # signals only reach the main thread (e.g. on a Dask worker)
        return
    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            saved[sig] = signal.signal(sig, _stop_kernels)
    _Stop.depth += 1
    try:
        yield
    finally:
        _Stop.depth -= 1
        for sig, handler in saved.items():
            signal.signal(sig, handler)


class _Cancelled(Exception):
    """Raised at a cell boundary after Ctrl-C: no further cell starts."""


OnCell = Callable[[int, int, Any], None]  # (executed index, input cell number, cell)


def _watch_cells(nb_man: Any, source_cells: list[Any], on_cell: OnCell | None) -> None:
    """Hook papermill's per-cell callbacks: stop at the next cell after Ctrl-C (a
    kernel that finished starting after it), and report each finished cell."""
    start, complete = nb_man.cell_start, nb_man.cell_complete

    def cell_start(cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        if _Stop.requested:
            raise _Cancelled
        start(cell, cell_index, **kwargs)

    def cell_complete(cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        complete(cell, cell_index, **kwargs)
        if on_cell is not None and cell_index is not None and not _Stop.requested:
            number = input_cell_number(source_cells, nb_man.nb.cells, cell_index)
            on_cell(cell_index, number, cell)

    nb_man.cell_start, nb_man.cell_complete = cell_start, cell_complete


ENGINE = papermill.ENGINE


def _register_engine() -> str:
    """papermill's nbclient engine with our cell hooks, registered under ``readiness``."""
    return papermill.register_engine(_watch_cells)


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


@contextlib.contextmanager
def _cell_log(enabled: bool) -> Iterator[None]:
    """``--log-output``: papermill logs cell outputs at INFO; show them on stderr."""
    import logging
    import sys

    if not enabled:
        yield
        return
    logger = logging.getLogger("papermill")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def execute_job(spec: JobSpec, on_cell: OnCell | None = None) -> dict[str, Any]:
    """Execute one job with papermill and return its outcome (plain data).

    Never raises for the notebook's own failures: they are the outcome. Ctrl-C (or
    SIGTERM from a coordinator) stops the kernel, even one still starting, and the
    outcome is ``cancelled``. ``on_cell`` is called as each cell finishes.
    """
    from readiness.evidence.record import read_notebook_evidence

    started = time.perf_counter()
    failure: dict[str, Any] | None = None
    status = "prepared" if spec.prepare_only else "succeeded"
    try:
        with environment(spec.env), _stoppable(), _cell_log(spec.log_output):
            if _Stop.requested:  # Ctrl-C while the job was being prepared
                raise _Cancelled
            _Stop.executing = True
            papermill.execute(
                spec.notebook,
                spec.output,
                _watch_cells,
                parameters=spec.params,
                kernel_name=spec.kernel,
                execution_timeout=spec.timeout,
                start_timeout=spec.start_timeout,
                report_mode=spec.report_mode,
                prepare_only=spec.prepare_only,
                log_output=spec.log_output,
                resources={"metadata": {"path": spec.cwd}},  # kernel cwd, without chdir
                extra_arguments=_quiet_kernel_arguments(spec.kernel),
                source_cells=papermill.load(spec.notebook).cells,
                on_cell=on_cell,
            )
    except KeyboardInterrupt:
        status, failure = "cancelled", dict(CANCELLED)
    except Exception as exc:  # whatever the notebook or its kernel raise is the job's outcome
        status, failure = _failure_of(exc)
    finally:
        _Stop.executing = False
    if _Stop.requested:
        status, failure = "cancelled", dict(CANCELLED)
    try:
        evidence = [e.to_dict() for e in read_notebook_evidence(spec.output)]
    except EvidenceError:  # no executed notebook (the kernel never started)
        evidence = []
    if failure and failure.get("cell_index") is not None:
        failure["cell"] = _failing_cell(spec, failure["cell_index"])
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
    from readiness.criteria.declaration import lock_before_evidence
    from readiness.evidence.journal import load_record
    from readiness.evidence.record import write_metrics

    if outcome["status"] == "prepared":  # --prepare-only: nothing ran, nothing recorded
        return _prepared(project, spec)
    record = load_record(run_path(project, spec.run_id))
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


def _prepared(project: Project, spec: JobSpec) -> RunResult:
    def shown(path: str) -> str:
        inside = "://" not in path and Path(path).is_relative_to(project.root)
        return os.path.relpath(path, project.root) if inside else path

    return RunResult(
        run_id=spec.run_id,
        status="prepared",
        notebook=shown(spec.notebook),
        output=shown(spec.output),
        duration_s=0.0,
        params=spec.params,
    )


def cancel_unfinished(project: Project, run_ids: list[str]) -> None:
    """Record as ``cancelled`` every run of ``run_ids`` whose record exists unfinished.

    Called after Ctrl-C, whatever the moment: a run whose record was just written
    (queued, running) must never stay ``running`` forever. Further Ctrl-C are ignored
    until the records are written.
    """
    from readiness.core.errors import EvidenceError
    from readiness.evidence.journal import load_record

    with _no_interrupts():
        for run_id in run_ids:
            path = run_path(project, run_id)
            with contextlib.suppress(OSError, ValueError, EvidenceError):
                if load_record(path).get("status") in ("queued", "running"):
                    update_record(
                        project,
                        run_id,
                        status="cancelled",
                        failure=dict(CANCELLED),
                        finished_at=audit.now(),
                    )


@contextlib.contextmanager
def _no_interrupts() -> Iterator[None]:
    """Ignore SIGINT while inside (main thread only): records are being completed."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


def _track_saved_models(project: Project, evidence: list[dict[str, Any]]) -> None:
    """Models the job saved are DVC-tracked here, by the coordinating process (one writer)."""
    from readiness.registry.models import MODEL_EVIDENCE, model_path, track_model

    saved = [e for e in evidence if e.get("name") == MODEL_EVIDENCE]
    for name in dict.fromkeys(e["split"] for e in saved):
        paths = {(e.get("value") or {}).get("path") for e in saved if e["split"] == name}
        if model_path(name) not in paths:
            continue  # a batch run's own copy: register versions it, if it is chosen
        if (project.root / model_path(name)).is_file():
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
    start_timeout: float | None = None,
    report_mode: bool = False,
    log_output: bool = False,
    prepare_only: bool = False,
    on_cell: OnCell | None = None,
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
        Pass parameters the notebook does not declare (to a notebook without a
        ``parameters`` cell too: papermill then injects them as its first cell).
    start_timeout:
        Seconds the kernel gets to start (default 60, as papermill).
    report_mode:
        Hide the code cells' input in the executed notebook (papermill's report mode).
    log_output:
        Log the cells' outputs to stderr as they come.
    prepare_only:
        Write the parameterized notebook without executing it; nothing is recorded.
    on_cell:
        Called as each cell finishes with (executed index, input cell number, cell).
    """
    from readiness.core.project import current_project

    project = project or current_project()
    run_id = new_run_id()
    # Ctrl-C from here on cancels the run, whenever it comes: before the record exists,
    # just after, while the kernel starts or runs, or while the record is completed.
    try:
        with _stoppable():
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
                run_id=run_id,
                metrics_file=str(metrics_file) if metrics_file else "metrics.json",
                start_timeout=start_timeout,
                report_mode=report_mode,
                log_output=log_output,
                prepare_only=prepare_only,
            )
            if not prepare_only:
                update_record(project, run_id, status="running")
            outcome = execute_job(spec, on_cell=on_cell)
            with _no_interrupts():
                result = finish_job(project, spec, outcome, spec_metrics(spec))
    except KeyboardInterrupt:
        cancel_unfinished(project, [run_id])
        raise
    if outcome["status"] == "cancelled":
        raise KeyboardInterrupt
    return result


def spec_metrics(spec: JobSpec) -> str | None:
    """The metrics file a job writes (relative to its project), or None."""
    path = spec.env.get(METRICS_FILE_ENV, "-")
    return None if path == "-" else path
