"""The automated retraining loop: drift -> retrain -> register -> staging -> production.

Production changes in one place only: the final GTO stage assignment, a single git
tag written after the candidate is registered and has passed the gate. A process
killed at any earlier step leaves production exactly as it was; a killed process
can at worst leave a registered candidate that no stage points at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import ReadinessError, UsageError
from readiness.core.fsutil import require_file
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.evidence.runs import new_run_id, read_run
from readiness.gate.promotion import promote
from readiness.jobs.notebook import update_record
from readiness.jobs.parameters import training_data
from readiness.registry.versions import AlreadyRegistered, fault_point, in_stage, register

DEFAULT_NOTEBOOK = "notebooks/retrain.ipynb"


@dataclass
class RetrainResult(Renderable):
    """Every step of one retraining, and what production serves afterwards."""

    name: str
    run_id: str
    outcome: str  # nothing to do | promoted | not promoted | failed
    steps: list[dict[str, Any]] = field(default_factory=list)
    production_before: str | None = None
    production_after: str | None = None
    candidate: str | None = None

    @property
    def exit_code(self) -> int:
        return {"nothing to do": 0, "promoted": 0, "not promoted": 1}.get(self.outcome, 2)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "exit_code": self.exit_code}


class _Steps:
    """Appends each step to the result and to the retrain's own run record."""

    def __init__(self, project: Project, result: RetrainResult) -> None:
        self.project, self.result = project, result

    def add(self, step: str, status: str, detail: str = "", **extra: Any) -> None:
        self.result.steps.append({"step": step, "status": status, "detail": detail, **extra})
        update_record(
            self.project,
            self.result.run_id,
            kind="retrain",
            model=self.result.name,
            outcome=self.result.outcome,
            steps=self.result.steps,
        )


def _training_record(project: Project, production: Any) -> tuple[dict[str, Any] | None, str]:
    """The run record that trained the production version, or None and why there is none."""
    if production is None:
        return None, "nothing is in production"
    if not production.run_id:
        return None, f"{production.version} names no run"
    try:
        return read_run(project, production.run_id), ""
    except ReadinessError as exc:
        return None, str(exc)


def _training_notebook(
    project: Project, record: dict[str, Any] | None, why_none: str, version: str | None
) -> tuple[str, str]:
    """The notebook to retrain with, and a note on where it comes from.

    Retraining runs the notebook that trained the production version (its run record
    names it), so the new version is trained the way the one it replaces was; the
    template only when no record names a notebook, and the note says so.
    """
    notebook = (record or {}).get("notebook")
    if not isinstance(notebook, str) or not notebook:
        if record is not None:
            why_none = f"the run record of {version} names no notebook"
        return DEFAULT_NOTEBOOK, f"the template {DEFAULT_NOTEBOOK} ({why_none})"
    if not (project.root / notebook).resolve().is_relative_to(project.root):
        raise UsageError(
            f"the run record of {version} names the notebook {notebook}, outside the project: "
            "give --notebook"
        )
    return notebook, f"{notebook}, which trained {version}"


def _version_data(project: Project, current: str, steps: _Steps) -> bool:
    """Track and commit the new training data, so the model's commit pins its version.

    False (a failed step with git's message) when the commit did not happen: a model
    trained then would name a commit that does not hold its data.
    """
    from readiness.data.tracking import track
    from readiness.integrations import git as gitinfo

    if gitinfo.is_tracked(project.root, Path(current)):
        steps.add("data", "ok", f"{current} is versioned by git")
        return True
    tracked = track(project, [current], cwd=project.root)
    pointer = f"{current}.dvc"
    ignore = str(Path(current).parent / ".gitignore")
    files = [p for p in (pointer, ignore) if (project.root / p).exists()]
    commit, what = gitinfo.commit_paths(
        project.root, files, f"readiness retrain: training data {current}"
    )
    if commit is None:
        steps.add("data", "failed", f"{current} is not versioned: {what}")
        return False
    steps.add("data", "ok", f"{current} versioned (md5 {(tracked.items[0].md5 or '')[:8]})")
    return True


def _rehearse(project: Project, name: str, candidate: str, steps: _Steps) -> None:
    """Without a recent successful drill, rehearse the way back from this candidate first."""
    from readiness.registry.versions import drill, drill_is_recent, latest_drill

    if drill_is_recent(latest_drill(project, name)):
        return
    try:
        rehearsal = drill(project, name, candidate=candidate)
        steps.add("drill", "ok" if rehearsal.ok else "failed", rehearsal.detail)
    except ReadinessError as exc:
        steps.add("drill", "failed", str(exc))


def _failed(result: RetrainResult, steps: _Steps, reason: str) -> RetrainResult:
    result.outcome = "failed"
    result.production_after = result.production_before
    steps.add("end", "failed", reason)
    return result


def retrain(
    project: Project,
    name: str,
    current: str | None = None,
    force: bool = False,
    notebook: str | None = None,
    data_param: str = "train_csv",
    params: dict[str, Any] | None = None,
) -> RetrainResult:
    """Retrain ``name`` when its data drifted (or ``force``); promote only through the gate.

    Parameters
    ----------
    current:
        The new data (a labelled sample of production): compared with the production
        model's training data version, and passed to the notebook as ``data_param``.
    force:
        Retrain even without drift.
    notebook:
        The retraining notebook (parameters ``data_param`` and ``model_name``); default:
        the notebook that trained the production version (its run record names it), else
        the template ``notebooks/retrain.ipynb``.
    """
    from readiness.jobs.notebook import run_notebook
    from readiness.monitoring.drift import drift

    production = in_stage(project, name, "production")
    record, why_none = _training_record(project, production)
    if notebook is None:
        notebook, origin = _training_notebook(
            project, record, why_none, production.version if production else None
        )
    else:
        origin = f"{notebook} (--notebook)"
    source = project.root / notebook
    require_file(source, f"retraining notebook {notebook}", hint=" (readiness init copies one)")
    if current is not None:
        require_file(project.root / current, f"current data {current}")
    result = RetrainResult(
        name,
        f"retrain-{new_run_id()}",
        "running",
        production_before=production.version if production else None,
    )
    steps = _Steps(project, result)
    update_record(project, result.run_id, current=current)  # the production sample, for probes
    steps.add(
        "start",
        "ok",
        f"production is {result.production_before or 'empty'}; notebook {origin}",
        notebook=notebook,
    )

    reference = training_data(project, record, data_param)
    if current is not None and reference is not None and production is not None:
        report = drift(reference, project.root / current, project=project, rev=production.commit)
        steps.add(
            "drift",
            "drift" if report.dataset_drift else "no drift",
            f"{len(report.drifted_columns)} of {len(report.columns)} columns drifted "
            f"against {reference} at {production.version}",
            report=report.report_html,
        )
        if not report.dataset_drift and not force:
            result.outcome = "nothing to do"
            result.production_after = result.production_before
            steps.add("end", "ok", "no drift beyond the policy: production stays")
            return result
    elif not force:
        raise UsageError(
            "nothing to compare: give --current DATA (and a production model trained by a job), "
            "or --force to retrain anyway"
        )
    else:
        steps.add("drift", "skipped", "forced")

    values = {"model_name": name, **(params or {})}
    if current is not None:
        if not _version_data(project, current, steps):
            return _failed(result, steps, "the new data is not versioned: nothing was trained")
        values[data_param] = os.path.relpath(project.root / current, source.parent)
    run = run_notebook(source, values, project=project)
    if run.succeeded:
        steps.add("train", run.status, f"run {run.run_id}", run=run.run_id)
    else:  # the reason in words; the failure itself stays structured for JSON
        steps.add("train", run.status, run.reason, run=run.run_id, failure=run.failure)
    fault_point("retrain:trained")
    if not run.succeeded:
        return _failed(result, steps, f"training failed: {run.reason}")

    try:
        registration = register(project, name)
    except AlreadyRegistered as exc:  # same data, same code: the same model file, byte for byte
        result.outcome = "nothing to do"
        result.production_after = result.production_before
        steps.add("register", "unchanged", str(exc))
        steps.add("end", "ok", "the retrained model is a registered version already")
        return result
    result.candidate = registration.version
    steps.add("register", "ok", f"{name} {registration.version}", version=registration.version)
    for stage in ("staging", "production"):
        if stage == "production" and production is not None:
            _rehearse(project, name, registration.version, steps)
        promotion = promote(project, name, registration.version, stage)
        # what was refused, and what passed only within noise (the owner should know)
        failed = [
            f"{c['condition']}: {c['detail']}" for c in promotion.conditions
            if not c["passed"] or "within noise" in c["detail"]
        ]
        steps.add(stage, "promoted" if promotion.promoted else "refused", "; ".join(failed))
        if not promotion.promoted:
            result.outcome = "not promoted"
            break
    else:
        result.outcome = "promoted"
    now = in_stage(project, name, "production")
    result.production_after = now.version if now else None
    steps.add("end", result.outcome, f"production serves {result.production_after or 'nothing'}")
    audit.append(
        project,
        "model.retrained",
        name=name,
        outcome=result.outcome,
        candidate=result.candidate,
        production=result.production_after,
    )
    return result
