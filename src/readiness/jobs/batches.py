"""``readiness batch``: every parameter combination of a grid, in parallel.

The coordinating process checks every combination before any kernel starts,
records each run, hands the jobs to an executor, and records each outcome as it
arrives (one writer). One failing run never stops the others; Ctrl-C stops the
running kernels and records the unfinished runs as cancelled.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import yamlio
from readiness.core.errors import ConfigError
from readiness.core.fsutil import require_file
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.evidence.record import Evidence
from readiness.evidence.runs import batch_path, new_run_id
from readiness.jobs.notebook import (
    JobSpec,
    RunResult,
    cancel_unfinished,
    execute_job,
    finish_job,
    prepare_job,
    update_record,
)
from readiness.jobs.parameters import check_kernel, check_parameters, read_notebook


@dataclass
class BatchRun:
    """One run of a batch, judged against the technical criteria."""

    result: RunResult
    criteria: dict[str, bool] = field(default_factory=dict)  # "metric/split" -> passed

    @property
    def passed(self) -> bool | None:
        return all(self.criteria.values()) if self.criteria else None

    def to_dict(self) -> dict[str, Any]:
        return {**self.result.to_dict(), "criteria": self.criteria, "criteria_passed": self.passed}


@dataclass
class BatchResult(Renderable):
    """The results table of a batch and its best candidate."""

    batch_id: str
    notebook: str
    executor: str
    runs: list[BatchRun] = field(default_factory=list)
    key_metrics: list[str] = field(default_factory=list)
    best: str | None = None
    best_reason: str = ""
    cancelled: bool = False
    duration_s: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.cancelled:
            return 130
        return 0 if all(r.result.exit_code == 0 for r in self.runs) else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "notebook": self.notebook,
            "executor": self.executor,
            "cancelled": self.cancelled,
            "duration_s": self.duration_s,
            "best": self.best,
            "best_reason": self.best_reason,
            "key_metrics": self.key_metrics,
            "runs": [r.to_dict() for r in self.runs],
        }


def expand_grid(grid: Any) -> list[dict[str, Any]]:
    """Parameter combinations: a mapping of lists (their product), or a list of mappings.

    A scalar in a mapping is a fixed value; a list is a set of values to try.
    """
    if isinstance(grid, list):
        combos = grid
        if not all(isinstance(c, dict) for c in combos):
            raise ConfigError("a grid list must hold one mapping of parameter values per run")
    elif isinstance(grid, dict):
        names = list(grid)
        values = [v if isinstance(v, list) else [v] for v in grid.values()]
        if any(not v for v in values):
            empty = [n for n, v in zip(names, values, strict=True) if not v]
            raise ConfigError(f"grid parameter(s) {', '.join(empty)} have no values")
        combos = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    else:
        raise ConfigError("a grid is a mapping of parameter -> list of values (or a list of runs)")
    if not combos:
        raise ConfigError("the grid is empty: nothing to run")
    return combos


def load_grid(path: Path) -> list[dict[str, Any]]:
    require_file(path, f"grid file {path}")
    return expand_grid(yamlio.load_file(path, "grid file").data)


def _judge(project: Project, runs: list[BatchRun]) -> tuple[list[str], str | None, str]:
    """Criteria per run; the key metrics; the best run by the first technical criterion."""
    from readiness.core.config import load_config
    from readiness.evidence.verdict import judge_technical

    try:
        criteria = load_config(project).criteria.technical if project.config_path.is_file() else []
    except ConfigError:
        criteria = []
    for run in runs:
        if not run.result.succeeded:
            continue  # no complete evidence: neither pass nor fail
        values = {}
        for item in run.result.evidence:
            evidence = Evidence.from_dict(item)
            values[(evidence.name, evidence.split)] = evidence
        for criterion in criteria:
            judged = judge_technical(criterion, values)
            run.criteria[f"{criterion.metric}/{criterion.split}"] = judged.passed
    if criteria:
        keys = [c.metric for c in criteria]
    else:
        seen: list[str] = []
        for run in runs:
            seen += [m for m in run.result.metrics() if m not in seen]
        keys = seen[:4]
    if not criteria:
        return keys, None, "no technical criteria declared: no ranking"
    best, reason = _best(runs, criteria[0])
    return keys, best, reason


def _best(runs: list[BatchRun], first: Any) -> tuple[str | None, str]:
    """The best run by the first criterion among the runs that meet every criterion.

    A tie goes to the first of the tied runs in grid order, and the reason says so.
    """
    scored = [
        (value, run)
        for run in runs
        if run.result.succeeded
        and (value := run.result.metrics(first.split).get(first.metric)) is not None
    ]
    if not scored:
        return None, f"no successful run recorded {first.metric} on {first.split}"
    higher = first.direction == "min"
    way = "highest" if higher else "lowest"
    passing = [(value, run) for value, run in scored if run.passed]
    if not passing:
        value, run = _top(scored, higher)[0]
        return None, (
            f"no run meets every criterion; the {way} {first.metric} on {first.split} "
            f"({value:.4g}) was {run.result.run_id}, which fails "
            + ", ".join(k for k, ok in run.criteria.items() if not ok)
        )
    top = _top(passing, higher)
    value, run = top[0]
    reason = (
        f"{way} {first.metric} on {first.split} ({value:.4g}), the first criterion, among "
        f"the {len(passing)} of {len(scored)} runs that meet every criterion"
    )
    if len(top) > 1:
        others = ", ".join(r.result.run_id for _, r in top[1:])
        reason += f"; tied with {others}: the first in the grid is taken"
    return run.result.run_id, reason


def _top(scored: list[tuple[Any, BatchRun]], higher: bool) -> list[tuple[Any, BatchRun]]:
    """The runs sharing the best value, in grid order."""
    target = max(v for v, _ in scored) if higher else min(v for v, _ in scored)
    return [(v, r) for v, r in scored if v == target]


def batch(
    project: Project,
    notebook: str | Path,
    grid: list[dict[str, Any]],
    workers: int = 2,
    executor: str = "local",
    scheduler: str | None = None,
    output_dir: str | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    inputs: list[str] | None = None,
    allow_extra: bool = False,
    front_end: str = "cli",
    start_timeout: float | None = None,
    report_mode: bool = False,
    log_output: bool = False,
    prepare_only: bool = False,
) -> BatchResult:
    """Run ``notebook`` once per parameter combination, in parallel.

    Parameters
    ----------
    grid:
        Parameter combinations (see :func:`expand_grid`).
    workers:
        Runs at once (local executor).
    executor:
        ``local`` (a process pool) or ``dask`` (a cluster at ``scheduler``).
    output_dir:
        Where executed notebooks go: a folder or URL every worker can reach
        (default ``runs/<batch id>/``).
    front_end:
        The progress display: ``cli`` (a bar), ``lines`` (a line per finished run),
        ``notebook`` (a widget) or ``quiet``.
    start_timeout, report_mode, log_output, prepare_only:
        As for :func:`readiness.jobs.notebook.run_notebook`, for every run. With
        ``prepare_only`` the parameterized notebooks are written and nothing runs
        or is recorded.
    """
    import time

    from readiness.jobs.executors import get_executor
    from readiness.jobs.progress import make_progress
    from readiness.registry.models import MODELS_DIR_ENV, batch_model_dir

    source = Path(notebook).resolve()
    node = read_notebook(source)
    if not grid:
        raise ConfigError("the grid is empty: nothing to run")
    for combo in grid:  # every combination is checked before anything runs
        check_parameters(source, combo, allow_extra=allow_extra)
    check_kernel(node, kernel)
    runner = None if prepare_only else get_executor(executor, workers=workers, scheduler=scheduler)
    batch_id = f"batch-{new_run_id()}"
    run_ids = [new_run_id() for _ in grid]  # known before any record: Ctrl-C cancels them
    # one folder per batch, so a second batch never overwrites the first one's notebooks
    base = output_dir.rstrip("/") if output_dir else str(project.executed_notebooks_dir)
    folder = f"{base}/{batch_id}"
    result = BatchResult(
        batch_id=batch_id,
        notebook=str(
            source.relative_to(project.root) if source.is_relative_to(project.root) else source
        ),
        executor=executor,
    )
    progress = make_progress(
        len(grid),
        front_end,
        label=f"{source.stem} x{len(grid)}",
        workers=workers if executor == "local" else None,
    )
    specs: list[JobSpec] = []
    finished: dict[str, RunResult] = {}
    started = time.perf_counter()

    def on_done(spec: JobSpec, outcome: dict[str, Any]) -> None:
        finished[spec.run_id] = finish_job(project, spec, outcome)
        progress.update(outcome["status"], finished[spec.run_id])

    try:
        for i, (combo, run_id) in enumerate(zip(grid, run_ids, strict=True), start=1):
            specs.append(
                prepare_job(
                    project,
                    source,
                    combo,
                    output=f"{folder}/{source.stem}-{i:03d}.ipynb",
                    timeout=timeout,
                    kernel=kernel,
                    inputs=inputs,
                    allow_extra=allow_extra,
                    run_id=run_id,
                    batch=batch_id,
                    start_timeout=start_timeout,
                    report_mode=report_mode,
                    log_output=log_output,
                    prepare_only=prepare_only,
                    shared_output=True,
                )
            )
            # each run saves its models in its own folder: none overwrites another's
            specs[-1].env[MODELS_DIR_ENV] = batch_model_dir(project, batch_id, run_id)
        if runner is None:  # --prepare-only: papermill writes each notebook, no kernel
            for spec in specs:
                on_done(spec, execute_job(spec))
        else:
            for spec in specs:
                update_record(project, spec.run_id, status="running")
            runner.run_all(specs, on_done)
    except KeyboardInterrupt:
        result.cancelled = True
    finally:
        progress.close()
    if not prepare_only:  # whenever the Ctrl-C came, no run stays queued or running
        cancel_unfinished(project, [r for r in run_ids if r not in finished])
    for spec in specs:
        run = finished.get(spec.run_id)
        if run is None:  # never finished: recorded as cancelled
            run = RunResult(
                run_id=spec.run_id,
                status="cancelled",
                notebook=result.notebook,
                output=spec.output,
                duration_s=0.0,
                params=spec.params,
            )
        result.runs.append(BatchRun(run))
    result.duration_s = round(time.perf_counter() - started, 3)
    result.key_metrics, result.best, result.best_reason = _judge(project, result.runs)
    if not prepare_only:
        save_batch(project, result)
    progress.finish(result)
    return result


def save_batch(project: Project, result: BatchResult) -> None:
    """The batch's table and best run, for ``register`` to take the best run's model."""
    from readiness.core.fsutil import atomic_write_json

    path = batch_path(project, result.batch_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, result.to_dict())
