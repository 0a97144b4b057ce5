"""governance: model card, bias, responsible-AI review, criteria declared first."""

from __future__ import annotations

from typing import Any

from readiness.checklist.items import Item
from readiness.core.errors import ReadinessError

CARD = "docs/model-card.md"


def card_fingerprint(ctx: Any) -> str | None:
    """What a current model card was written from: criteria, model version and its run."""
    from readiness.criteria.declaration import read_lock

    lock = read_lock(ctx.project) or {}
    model = ctx.model
    if model is None:
        return None
    criteria = str(lock.get("hash"))[:19]
    return f"criteria={criteria} model={model.name}@{model.version} run={model.run_id}"


def performance(ctx: Any) -> tuple[bool | None, str]:
    path = ctx.root / CARD
    if not path.is_file():
        return None, f"no model card ({CARD})"
    expected = card_fingerprint(ctx)
    text = path.read_text(encoding="utf-8")
    if expected is None or f"<!-- readiness:card {expected} -->" not in text:
        return False, f"{CARD} is out of date (criteria or model changed): readiness card"
    return True, f"{CARD} is current ({expected})"


def bias(ctx: Any) -> tuple[bool | None, str]:
    fairness = ctx.config.fairness if ctx.config is not None else None
    if fairness is None:
        return None, "no fairness: section (sensitive features, metric, bound) in readiness.yaml"
    if ctx.model is None:
        return False, "no registered model to assess"
    # imported only now: fairlearn (and scikit-learn under it) take seconds to import
    from fairlearn.metrics import MetricFrame, selection_rate
    from sklearn import metrics

    from readiness.data.validation import read_table
    from readiness.registry.versions import load_model

    target = fairness.target or (ctx.config.drift.target if ctx.config.drift else None)
    frame = read_table(ctx.root / fairness.data)
    if target is None:
        return False, "no target column: set fairness: target: (or drift: target:)"
    missing = [c for c in [*fairness.sensitive_features, target] if c not in frame.columns]
    if missing:
        return False, f"{fairness.data} lacks {', '.join(missing)}"
    try:  # the registry's loader: skops types checked against the project's trust first
        model = load_model(ctx.project, ctx.model.name, version=ctx.model.version)
    except ReadinessError as exc:
        return False, str(exc)
    # the columns the model was trained on (the sensitive ones may not be features)
    names = getattr(model, "feature_names_in_", None)
    features = frame[list(names)] if names is not None else frame.drop(columns=[target])
    functions = {
        "recall": metrics.recall_score,
        "precision": metrics.precision_score,
        "accuracy": metrics.accuracy_score,
        "selection_rate": selection_rate,
    }
    result = MetricFrame(
        metrics=functions[fairness.metric],
        y_true=frame[target],
        y_pred=model.predict(features),
        sensitive_features=frame[fairness.sensitive_features],
    )
    gap = float(result.difference())
    detail = (
        f"largest {fairness.metric} difference between groups of "
        f"{', '.join(fairness.sensitive_features)}: {gap:.3f} (bound {fairness.max_difference:g})"
    )
    return gap <= fairness.max_difference, detail


def criteria_first(ctx: Any) -> tuple[bool | None, str]:
    from readiness.criteria.declaration import amendments, lock_problem, read_lock

    lock = read_lock(ctx.project)
    problem = lock_problem(ctx.project, lock)
    if problem:
        return False, problem
    if lock is None or not lock.get("hash"):
        return None, "criteria never declared"
    if any(
        h.get("event") == "declared" and h.get("after_evidence") for h in lock.get("history", [])
    ):
        return False, "criteria were declared after evidence had been recorded"
    unexplained = [a for a in amendments(lock) if not (a.get("reason") or "").strip()]
    if unexplained:
        return False, f"{len(unexplained)} amendment(s) without a reason"
    return (
        True,
        f"locked {lock['locked_at']} before the first evidence; "
        f"{len(amendments(lock))} amendment(s), each with a reason",
    )


ITEMS = [
    Item("governance.performance", "a current model card", "readiness card", performance),
    Item(
        "governance.bias",
        "between-group difference within the declared bound (fairlearn)",
        "declare fairness: in readiness.yaml (sensitive_features, metric, max_difference, data)",
        bias,
    ),
    Item(
        "governance.rai_review",
        "responsible-AI review",
        "readiness attest governance.rai_review --by NAME --evidence URL",
    ),
    Item(
        "governance.criteria_first",
        "criteria locked before the first evidence; amendments explained",
        "declare criteria before recording evidence; amend with a reason",
        criteria_first,
    ),
]
