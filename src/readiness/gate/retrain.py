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


def _training_data(project: Project, run_id: str | None, data_param: str) -> str | None:
    """The project-relative path the production model was trained on (from its run record)."""
    if not run_id:
        return None
    try:
        record = read_run(project, run_id)
    except ReadinessError:
        return None
    notebook = record.get("notebook")
    if not notebook:
        return None
    value = (record.get("params") or {}).get(data_param)
    if value is None and (project.root / notebook).is_file():  # the notebook's default was used
        from readiness.jobs.parameters import parameters_of, read_notebook

        declared = parameters_of(read_notebook(project.root / notebook)) or {}
        value = declared[data_param].default if data_param in declared else None
    if not isinstance(value, str):
        return None
    path = (project.root / Path(notebook).parent / value).resolve()
    return os.path.relpath(path, project.root)


def _version_data(project: Project, current: str, steps: _Steps) -> None:
    """Track and commit the new training data, so the model's commit pins its version."""
    from readiness.data.tracking import track
    from readiness.integrations import git as gitinfo

    if gitinfo.is_tracked(project.root, Path(current)):
        steps.add("data", "ok", f"{current} is versioned by git")
        return
    tracked = track(project, [current], cwd=project.root)
    pointer = f"{current}.dvc"
    ignore = str(Path(current).parent / ".gitignore")
    files = [p for p in (pointer, ignore) if (project.root / p).exists()]
    gitinfo.commit_paths(project.root, files, f"readiness retrain: training data {current}")
    steps.add("data", "ok", f"{current} versioned (md5 {(tracked.items[0].md5 or '')[:8]})")


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


def retrain(
    project: Project,
    name: str,
    current: str | None = None,
    force: bool = False,
    notebook: str = DEFAULT_NOTEBOOK,
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
        The retraining notebook (parameters ``data_param`` and ``model_name``).
    """
    from readiness.jobs.notebook import run_notebook
    from readiness.monitoring.drift import drift

    source = project.root / notebook
    require_file(source, f"retraining notebook {notebook}", hint=" (readiness init copies one)")
    if current is not None:
        require_file(project.root / current, f"current data {current}")
    production = in_stage(project, name, "production")
    result = RetrainResult(
        name,
        f"retrain-{new_run_id()}",
        "running",
        production_before=production.version if production else None,
    )
    steps = _Steps(project, result)
    update_record(project, result.run_id, current=current)  # the production sample, for probes
    steps.add("start", "ok", f"production is {result.production_before or 'empty'}")

    reference = _training_data(project, production.run_id, data_param) if production else None
    if current is not None and reference is not None:
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
        _version_data(project, current, steps)
        values[data_param] = os.path.relpath(project.root / current, source.parent)
    run = run_notebook(source, values, project=project)
    steps.add("train", run.status, f"run {run.run_id}", run=run.run_id)
    fault_point("retrain:trained")
    if not run.succeeded:
        result.outcome = "failed"
        result.production_after = result.production_before
        steps.add("end", "failed", f"training failed: {run.failure}")
        return result

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
        failed = [
            f"{c['condition']}: {c['detail']}" for c in promotion.conditions if not c["passed"]
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
