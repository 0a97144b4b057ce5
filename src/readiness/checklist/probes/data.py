"""data: pipeline, quality, lineage, holdout."""

from __future__ import annotations

from typing import Any

from readiness.checklist.items import Item


def pipeline(ctx: Any) -> tuple[bool | None, str]:
    from readiness.integrations import dvc as dvcstore

    if not (ctx.root / "dvc.yaml").is_file() or not dvcstore.is_dvc_project(ctx.root):
        return None, "no DVC pipeline (dvc.yaml stages)"

    def facts(repo: Any) -> tuple[int, dict[str, Any]]:
        with dvcstore.silenced():
            stages = [s for s in repo.index.stages if not s.is_data_source]
            return len(stages), repo.status()

    count, status = dvcstore.read(ctx.project, facts)
    if count == 0:
        return None, "dvc.yaml has no stages"
    if status:
        return False, f"dvc status is not clean: {', '.join(sorted(status))[:200]} (dvc repro)"
    return True, f"{count} stage(s), dvc status clean"


def quality(ctx: Any) -> tuple[bool | None, str]:
    from readiness.core.errors import ReadinessError
    from readiness.data.validation import validate_declared, validate_inputs

    if ctx.config is None or not ctx.config.datasets:
        return None, "no dataset schema declared (datasets: in readiness.yaml)"
    try:
        results = validate_declared(ctx.project)
        inputs = (ctx.model_run or {}).get("inputs") or []
        covered = validate_inputs(ctx.project, inputs) if inputs else []
    except ReadinessError as exc:
        return False, str(exc)
    invalid = [r.dataset for r in results if not r.valid]
    if invalid:
        return False, f"invalid: {', '.join(invalid)} (readiness validate)"
    if inputs and not covered:
        return False, f"the model's inputs {', '.join(inputs)} have no declared schema"
    return True, f"{len(results)} dataset(s) valid" + (
        "; inputs of the model covered" if covered else ""
    )


def lineage(ctx: Any) -> tuple[bool | None, str]:
    if ctx.model is None:
        return None, "no registered model to trace"
    run = ctx.model_run
    if run is None:
        return False, f"{ctx.model.name} {ctx.model.version}: its run record is not here"
    missing = [k for k in ("notebook", "data_versions", "git_commit") if not run.get(k)]
    if missing:
        why = "train with readiness run"
        if "git_commit" in missing:
            # The usual cause: the repository had no commit yet when the model was trained.
            why += "; no git commit was recorded: commit your work first (git add -A && git commit)"
        return False, f"run {run['id']} does not record {', '.join(missing)} ({why})"
    return True, (
        f"{ctx.model.name} {ctx.model.version} <- run {run['id']} <- {run['notebook']}, "
        f"{len(run['data_versions'])} data version(s), params {sorted(run.get('params') or {})}"
    )


def holdout(ctx: Any) -> tuple[bool | None, str]:
    from readiness.monitoring.drift import DriftError

    if ctx.config is None or not ctx.config.criteria.technical:
        return None, "no technical criteria"
    split = ctx.config.criteria.technical[0].split
    candidates = [
        d.path for n, d in ctx.config.datasets.items() if d.path and split in (n + d.path)
    ]
    tracked = [
        p for p in candidates if any(p == t or p.startswith(t + "/") for t in ctx.data_versions)
    ]
    if not tracked:
        return (
            None,
            f"no DVC-tracked dataset for the {split!r} split (declare its path under datasets:)",
        )
    monitors = [r for r in ctx.runs if r.get("kind") == "retrain" and r.get("current")]
    if not monitors:
        return False, f"{tracked[0]} is tracked, but no production sample to compare it with yet"
    sample = monitors[-1]["current"]
    try:
        drifted = _drifted_columns(ctx, tracked[0], sample)
    except DriftError as exc:
        return False, str(exc)
    if drifted is not None:
        return False, f"{tracked[0]} differs from production ({sample}): {drifted} columns drifted"
    return True, f"{tracked[0]} is DVC-tracked and looks like production ({sample})"


def _drifted_columns(ctx: Any, reference: str, current: str) -> int | None:
    """Columns drifted when the dataset drifts, else None; cached while nothing changed.

    evidently costs seconds per report, and a check re-reads the same two files.
    """
    from readiness.core.cache import file_digest, memo
    from readiness.monitoring.drift import DriftError, drift

    ref, cur = ctx.root / reference, ctx.root / current
    try:
        parts: dict[str, Any] = {"reference": file_digest(ref), "current": file_digest(cur)}
    except OSError as exc:
        raise DriftError(f"cannot read {exc.filename}: {exc.strerror}") from None
    policy = ctx.config.drift.model_dump(mode="json") if ctx.config.drift else None
    datasets = {n: d.model_dump(mode="json") for n, d in ctx.config.datasets.items()}

    def compute() -> int | None:
        report = drift(ref, cur, project=ctx.project, save=False)
        return len(report.drifted_columns) if report.dataset_drift else None

    parts.update(policy=policy, datasets=datasets)
    return memo(ctx.project, "holdout-drift", parts, compute)


ITEMS = [
    Item(
        "data.pipeline",
        "DVC pipeline stages, dvc status clean",
        "readiness pipeline add NOTEBOOK --name STAGE, then dvc repro and commit",
        pipeline,
    ),
    Item(
        "data.quality",
        "every model input has a schema and passes it",
        "declare datasets: in readiness.yaml and fix what readiness validate reports",
        quality,
    ),
    Item(
        "data.lineage",
        "the model traces to data versions, notebook and parameters",
        "train with readiness run (or a pipeline stage) and register from that run",
        lineage,
    ),
    Item(
        "data.holdout",
        "criteria measured on a tracked holdout that looks like production",
        "track the holdout split and run readiness monitor with a production sample",
        holdout,
    ),
]
