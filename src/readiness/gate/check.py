"""The full check: success criteria and the readiness checklist; READY needs both."""

from __future__ import annotations

from readiness.core.project import Project
from readiness.evidence.verdict import CheckResult, check


def full_check(project: Project, run_id: str | None = None) -> CheckResult:
    """The success criteria and the production readiness checklist: READY needs both.

    READY only when every criterion passes and no checklist item is failed or missing.
    """
    from readiness.checklist.scorecard import evaluate
    from readiness.registry.audit import describe, reconcile_if_idle

    result = check(project, run_id=run_id)
    # a registry tag left without its audit entry (a killed command) is recorded, and said
    result.flags += [describe(entry) for entry in reconcile_if_idle(project)]
    card = evaluate(project)
    result.checklist = card.items
    result.score = {"overall": card.overall, "categories": card.categories}
    result.verdict = "READY" if result.criteria_passed and card.complete else "NOT_READY"
    return result
