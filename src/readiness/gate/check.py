"""The full check: success criteria and the readiness checklist; READY needs both.

Which run is judged: the one named (``run_id``), the run of a named model version
(``NAME@VERSION``), else, once a registry exists, the run of the version in production
(what serves is what is judged), else the latest run. Every result names the run and,
when there is one, the model version its evidence belongs to.
"""

from __future__ import annotations

from typing import Any

from readiness.core.errors import UsageError
from readiness.core.project import Project
from readiness.evidence.verdict import CheckResult, check


def _label(version: Any) -> str:
    stages = f" ({', '.join(version.stages)})" if version.stages else ""
    return f"{version.name} {version.version}{stages}"


def _registered(project: Project) -> list[Any]:
    """Every registered version (none, cheaply, before the first registration)."""
    from readiness.registry.backend import any_registered

    if not any_registered(project):
        return []
    from readiness.registry.versions import versions

    return versions(project)


def _named_version(registered: list[Any], model: str) -> Any:
    """``NAME@VERSION`` (``v`` optional) as a registered version."""
    from readiness.registry.versions import RegistryError

    name, at, version = model.partition("@")
    if not at or not name or not version:
        raise UsageError(f"--model {model!r}: use NAME@VERSION, e.g. churn@1.0.1")
    version = version if version.startswith("v") else f"v{version}"
    found = next((v for v in registered if (v.name, v.version) == (name, version)), None)
    if found is None:
        known = ", ".join(v.version for v in registered if v.name == name) or "none registered"
        raise RegistryError(f"{name} has no version {version} (versions: {known})")
    if not found.run_id:
        raise RegistryError(f"{name} {found.version} names no run: no evidence to judge")
    return found


def judged_run(
    registered: list[Any], run_id: str | None = None, model: str | None = None
) -> tuple[str | None, list[str]]:
    """The run to judge (None: the latest) and what to say about the choice."""
    if run_id and model:
        raise UsageError("judge either a run (--run) or a model version (--model), not both")
    if model:
        return _named_version(registered, model).run_id, []
    if run_id:
        return run_id, []
    serving = [v for v in registered if "production" in v.stages]
    if len(serving) > 1:
        names = ", ".join(_label(v) for v in serving)
        return None, [
            f"several models are in production ({names}): the latest run is judged; "
            "name one with --model NAME@VERSION"
        ]
    if serving and not serving[0].run_id:
        return None, [f"{_label(serving[0])} names no run: the latest run is judged instead"]
    return (serving[0].run_id if serving else None), []


def criteria_check(
    project: Project, run_id: str | None = None, model: str | None = None
) -> CheckResult:
    """The success criteria alone, on the run :func:`judged_run` picks, naming its version."""
    registered = _registered(project)
    chosen, notes = judged_run(registered, run_id, model)
    result = check(project, run_id=chosen)
    result.flags += notes
    found = [v for v in registered if result.run_id and v.run_id == result.run_id]
    result.model = ", ".join(_label(v) for v in found) or None
    return result


def full_check(
    project: Project, run_id: str | None = None, model: str | None = None
) -> CheckResult:
    """The success criteria and the production readiness checklist: READY needs both.

    READY only when every criterion passes and no checklist item is failed or missing.
    """
    from readiness.checklist.scorecard import evaluate
    from readiness.registry.audit import describe, reconcile_if_idle

    result = criteria_check(project, run_id, model)
    # a registry tag left without its audit entry (a killed command) is recorded, and said
    result.flags += [describe(entry) for entry in reconcile_if_idle(project)]
    card = evaluate(project)
    result.checklist = card.items
    result.score = {"overall": card.overall, "categories": card.categories}
    result.serving = serving_figures(project)
    result.verdict = "READY" if result.criteria_passed and card.complete else "NOT_READY"
    return result


def serving_figures(project: Project) -> dict[str, Any] | None:
    """Cost per 1,000 predictions realised by the served model(s), from the prediction log.

    None when no instance price is declared (``serving: {cost_per_hour: ...}``) or nothing
    was served yet; a log that cannot be read is said, not fatal to the check.
    """
    from readiness.core.config import load_config
    from readiness.core.errors import ReadinessError
    from readiness.serve.predlog import (
        count_predictions,
        describe_url,
        realised_cost_per_1000,
        resolve_url,
    )

    config = load_config(project) if project.config_path.is_file() else None
    serving = config.serving if config is not None else None
    if config is None or serving is None or serving.cost_per_hour is None:
        return None
    url = resolve_url(project, serving.log_url)
    out: dict[str, Any] = {"cost_per_hour": serving.cost_per_hour, "log": describe_url(url)}
    try:
        models = sorted({v.name for v in _registered(project) if "production" in v.stages})
        mine = config.use_case.name  # a log shared by projects holds others' rows too
        out["predictions"] = count_predictions(url, use_case=mine)
        costs = {m: realised_cost_per_1000(url, m, use_case=mine) for m in models}
    except ReadinessError as exc:  # an unreachable log costs this line only
        return {**out, "error": str(exc)}
    out["cost_per_1000"] = {m: c for m, c in costs.items() if c is not None} or None
    return out
