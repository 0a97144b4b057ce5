"""The promotion gate: a version reaches a stage only through it (or forced, audited)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from readiness.core import audit
from readiness.core.errors import ReadinessError
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.registry import audit as registry_audit
from readiness.registry.backend import backend_for
from readiness.registry.versions import (
    DRILL_MAX_AGE_DAYS,
    STAGES,
    RegistryError,
    drill_is_recent,
    fault_point,
    get_version,
    gto_stage,
    in_stage,
    latest_drill,
    registry_lock,
)


@dataclass
class Promotion(Renderable):
    name: str
    version: str
    stage: str
    promoted: bool
    conditions: list[dict[str, Any]] = field(default_factory=list)  # condition, passed, detail
    forced: str | None = None
    previous: str | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.promoted else 1

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def gate(project: Project, name: str, version: str, stage: str) -> list[dict[str, Any]]:
    """Every condition of promoting ``version`` to ``stage``, passed or not."""
    from readiness.evidence.verdict import check

    candidate = get_version(project, name, version)
    conditions = []
    if not candidate.run_id:
        conditions.append(
            {
                "condition": "evidence",
                "passed": False,
                "detail": "the version names no run: no evidence to judge",
            }
        )
    else:
        try:
            verdict = check(project, run_id=candidate.run_id)
            failed = [f"{c.metric}/{c.split}: {c.reason}" for c in verdict.criteria if not c.passed]
            if verdict.business and not verdict.business.passed:
                failed += verdict.business.problems
            conditions.append(
                {
                    "condition": "success criteria",
                    "passed": verdict.passed,
                    "detail": "; ".join(failed) or f"all pass on run {candidate.run_id}",
                }
            )
        except ReadinessError as exc:
            conditions.append(
                {"condition": "success criteria", "passed": False, "detail": str(exc)}
            )
    if stage == "production":
        current = in_stage(project, name, "production")
        if current is not None and current.version != candidate.version:
            from readiness.core.config import load_config
            from readiness.gate.regression import compare

            compared = compare(project, load_config(project), candidate, current)
            conditions.append(
                {
                    "condition": "no regression against production",
                    "passed": not compared.worse,
                    "detail": compared.detail(current.version),
                    "comparisons": [c.to_dict() for c in compared.comparisons],
                }
            )
            drill = latest_drill(project, name)
            conditions.append(
                {
                    "condition": f"rollback drill within {DRILL_MAX_AGE_DAYS} days",
                    "passed": drill_is_recent(drill),
                    "detail": f"last drill {drill['at']} ({'ok' if drill.get('ok') else 'failed'})"
                    if drill
                    else f"none on record: readiness rollback {name} --drill",
                }
            )
    return conditions


def promote(
    project: Project,
    name: str,
    version: str,
    stage: str,
    force: bool = False,
    reason: str | None = None,
) -> Promotion:
    """Assign ``stage`` to ``version`` when the gate passes (or when forced, with a reason).

    The registry backend moves the stage (a GTO tag, an MLflow alias); nothing else does.
    """
    if stage not in STAGES:
        raise RegistryError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    tag_stage = gto_stage(project, stage)  # the registry's name (readiness.yaml registry.stages)
    backend = backend_for(project)
    if force and not (reason and reason.strip()):
        raise RegistryError('--force needs --reason "why": it goes to the audit log')
    version = version if version.startswith("v") else f"v{version}"
    with registry_lock(project):
        backend.reconcile(project)
        conditions = gate(project, name, version, stage)
        previous = in_stage(project, name, stage)
        result = Promotion(
            name,
            version,
            stage,
            promoted=False,
            conditions=conditions,
            previous=previous.version if previous else None,
        )
        if not all(c["passed"] for c in conditions) and not force:
            return result
        fault_point(f"promote:{stage}:before")
        forced = force and not all(c["passed"] for c in conditions)
        failed = [c["condition"] for c in conditions if not c["passed"]]
        # the intent first: a kill after the tag leaves the forced promotion's reason on record
        intent = registry_audit.new_intent(
            project,
            "assign",
            name=name,
            version=version,
            stage=tag_stage,
            forced=forced,
            reason=reason if forced else None,
            failed=failed if forced else [],
        )
        written = backend.assign(project, name, version, stage)
        fault_point(f"promote:{stage}:assigned")
        result.promoted = True
        done = {"tag": written, "intent": intent}
        if forced:
            result.forced = reason
            audit.append(
                project,
                "model.promoted.forced",
                name=name,
                version=version,
                stage=stage,
                reason=reason,
                failed=failed,
                **done,
            )
        else:
            audit.append(project, "model.promoted", name=name, version=version, stage=stage, **done)
    return result
