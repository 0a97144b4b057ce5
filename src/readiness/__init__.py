"""readiness: take a model from a notebook PoC to production, gated by declared criteria.

``import readiness`` stays light: the public functions import their heavy libraries
(scikit-learn, pandas, evidently, DVC) only when called.

Public API
----------
record(name, value, split="holdout", **tags)
    Record one piece of evidence for the current run.
evaluate(model, X, y, split="holdout")
    Compute and record standard metrics, the confusion matrix and latency.
check(project=None)
    Judge the success criteria against the latest evidence.
declare_criteria(yaml_text, amend=None)
    Declare (and lock) success criteria.
drift(reference, current)
    Drift between two samples with evidently, summarized inline, full report saved.
track(paths), validate(path), lineage()
    Version data with DVC, check it against its schema, show the pipeline.
run_notebook(notebook, params), batch(notebook, grid)
    Execute parameterized notebooks with papermill as recorded runs, one or in parallel.
portfolio(dirs=None, file=None)
    Every use case's verdict, production version and monitoring in one table.
serve(name, stage="production", background=False, ...)
    Serve a registry stage over HTTP (API keys, metrics, prediction log); see readiness.serve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from readiness.core.errors import ReadinessError

__version__ = "0.1.0"
__all__ = [
    "ReadinessError",
    "__version__",
    "batch",
    "check",
    "declare_criteria",
    "drift",
    "evaluate",
    "lineage",
    "load_ipython_extension",
    "load_model",
    "new_run",
    "portfolio",
    "read_notebook_evidence",
    "record",
    "run_notebook",
    "save_model",
    "serve",
    "track",
    "validate",
]

if TYPE_CHECKING:
    from readiness.criteria.declaration import Declaration
    from readiness.data.lineage import Lineage
    from readiness.data.tracking import TrackResult
    from readiness.data.validation import ValidationResult
    from readiness.evidence.metrics import Evaluation
    from readiness.evidence.record import Evidence
    from readiness.evidence.verdict import CheckResult
    from readiness.gate.portfolio import Portfolio
    from readiness.jobs.batches import BatchResult
    from readiness.jobs.notebook import RunResult
    from readiness.monitoring.drift import DriftResult

# Every function that returns a result returns a Renderable: a notebook shows it as a table
# (text/plain, text/html and application/json), never as a raw dict.


def record(name: str, value: Any, /, split: str = "holdout", **tags: Any) -> Evidence:
    """Record one piece of evidence; see :func:`readiness.evidence.record`."""
    from readiness.evidence.record import record as _record

    return _record(name, value, split, **tags)


def evaluate(
    model: Any, X: Any, y: Any, /, split: str = "holdout", **kwargs: Any
) -> Evaluation:
    """Compute and record standard metrics; see :func:`readiness.evidence.metrics.evaluate`."""
    from readiness.evidence.metrics import evaluate as _evaluate

    return _evaluate(model, X, y, split=split, **kwargs)


def check(project: str | None = None, run_id: str | None = None) -> CheckResult:
    """Judge the success criteria of the project at ``project`` (default: here)."""
    from readiness.core.project import current_project
    from readiness.evidence.verdict import check as _check

    return _check(current_project(project), run_id=run_id)


def declare_criteria(
    yaml_text: str, amend: str | None = None, project: str | None = None
) -> Declaration:
    """Declare success criteria from YAML text, as ``%%readiness criteria`` does."""
    from readiness.core.project import current_project
    from readiness.criteria.declaration import declare

    return declare(current_project(project), yaml_text, amend=amend)


def new_run() -> str:
    """Start a new run: later evidence in this process goes to a fresh run record."""
    from readiness.evidence.record import start_run

    return start_run()


def read_notebook_evidence(path: str) -> list[Evidence]:
    """The evidence displayed in an executed notebook."""
    from readiness.evidence.record import read_notebook_evidence as _read

    return _read(path)


def track(paths: str | list[str], push: bool = True) -> TrackResult:
    """DVC-track files or folders and push them; see :func:`readiness.data.tracking.track`."""
    from readiness.core.project import current_project
    from readiness.data.tracking import track as _track

    return _track(current_project(), [paths] if isinstance(paths, str) else paths, push=push)


def validate(path: str, dataset: str | None = None) -> ValidationResult:
    """Check a data file against its schema in readiness.yaml."""
    from readiness.core.project import current_project
    from readiness.data.validation import validate as _validate

    return _validate(current_project(), path, dataset)


def run_notebook(
    notebook: str, params: dict[str, Any] | None = None, **kwargs: Any
) -> RunResult:
    """Execute a parameterized notebook as a recorded run (readiness.jobs.notebook.run_notebook)."""
    from readiness.jobs.notebook import run_notebook as _run

    return _run(notebook, params, **kwargs)


def batch(
    notebook: str, grid: dict[str, Any] | list[dict[str, Any]], workers: int = 2, **kwargs: Any
) -> BatchResult:
    """Run ``notebook`` for every combination of ``grid`` in parallel; see readiness.batch.batch.

    ``grid`` maps parameter names to lists of values (their product runs), or lists runs.
    """
    from readiness.core.project import current_project
    from readiness.jobs.batches import batch as _batch
    from readiness.jobs.batches import expand_grid

    kwargs.setdefault("front_end", "notebook")
    return _batch(current_project(), notebook, expand_grid(grid), workers=workers, **kwargs)


def drift(
    reference: Any, current: Any, columns: list[str] | None = None, **kwargs: Any
) -> DriftResult:
    """Drift between two samples with evidently; see readiness.monitoring.drift.drift.

    ``reference``/``current``: DataFrames or CSV/Parquet paths; ``rev=`` reads the
    reference (a DVC-tracked path) at a git revision; ``sample=`` draws seeded samples.
    """
    from readiness.core.project import current_project
    from readiness.monitoring.drift import drift as _drift

    kwargs.setdefault("project", current_project())
    return _drift(reference, current, columns=columns, **kwargs)


def save_model(model: Any, name: str) -> dict[str, Any]:
    """Save ``model`` with skops as models/NAME.skops and record it for this run."""
    from readiness.registry.models import save_model as _save

    return _save(model, name)


def load_model(
    name: str, stage: str | None = "production", version: str | None = None, **kwargs: Any
) -> Any:
    """The model of a registry stage (or a version), its skops types checked first."""
    from readiness.core.project import current_project
    from readiness.registry.versions import load_model as _load

    return _load(current_project(), name, stage=stage, version=version, **kwargs)


def portfolio(
    dirs: list[str] | None = None, file: str | None = None
) -> Portfolio:
    """Every use case in one table, attention first; see readiness.gate.portfolio.portfolio.

    ``dirs``: project folders; ``file``: a portfolio.yaml (default: ./portfolio.yaml,
    else the current project).
    """
    from readiness.gate.portfolio import portfolio as _portfolio

    return _portfolio(list(dirs or []), file)


def lineage() -> Lineage:
    """Data -> notebook stage -> model -> metrics of the current project."""
    from readiness.core.project import current_project
    from readiness.data.lineage import lineage as _lineage

    return _lineage(current_project())


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext readiness``: register the ``%readiness`` magics."""
    from readiness.magics import load_ipython_extension as _load

    _load(shell)


# readiness.serve is a package you can call: readiness.serve("churn", background=True)
from readiness import serve  # noqa: E402  (stdlib imports only: import readiness stays light)
