"""Model quality on the labelled rows of a window: the criteria's metrics, their intervals, and
the net value per 1,000 predictions realised from the labelled outcomes.

Point values are ``evidence.metrics.classification_metrics`` (what ``readiness.evaluate``
records); the 95 % intervals ``evaluate``'s own seeded, stratified percentile bootstrap
over the labelled rows (``evidence.intervals.classification_resamples``, 1,000 resamples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from readiness.core.errors import EvidenceError

# the bootstrap is evaluate's too: it lives in the evidence layer, monitoring reuses it
from readiness.evidence.intervals import classification_resamples, interval

# the metrics recomputed from labels (classification; the others need more than the log)
RECOMPUTED = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc",
              "log_loss", "brier")


@dataclass
class MetricCheck:
    """One criterion recomputed on labelled rows: value, interval, bound, breach."""

    metric: str
    value: float | None
    low: float | None
    high: float | None
    bound: float
    direction: str  # min | max
    breach: bool | None  # None: not judged (too few labelled rows, or not computable)
    note: str = ""

    def contract(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("value", "low", "high", "bound", "direction",
                                              "breach")}


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def labelled_metrics(
    criteria: list[Any], y: Any, predicted: Any, proba: Any | None, classes: Any,
    min_labelled: int, seed: int = 0,
) -> tuple[list[MetricCheck], list[str], dict[str, Any] | None]:
    """The technical criteria recomputed on labelled rows; what was not; the point values.

    With fewer than ``min_labelled`` rows nothing is judged (``breach`` None).
    """
    import numpy as np

    from readiness.evidence.metrics import classification_metrics

    wanted = [c for c in criteria if c.metric in RECOMPUTED]
    skipped = [f"{c.metric}: not computable from the log" for c in criteria
               if c.metric not in RECOMPUTED]
    n = len(y)
    if n < min_labelled or not wanted:
        note = f"too few labelled rows ({n})" if n < min_labelled else ""
        return [MetricCheck(c.metric, None, None, None, float(c.bound), c.direction, None, note)
                for c in wanted], skipped, None
    points = classification_metrics(y, predicted, proba, classes=classes,
                                    probabilities=proba is not None)
    resampled = classification_resamples(np.asarray(y), np.asarray(predicted), scores=proba,
                                         probabilities=proba is not None, seed=seed)
    out = []
    for c in wanted:
        value = _finite(points.get(c.metric))
        low, high = interval(resampled[c.metric]) if c.metric in resampled else (None, None)
        if value is None:
            note = "needs probabilities (predict_proba)" if c.metric in (
                "roc_auc", "log_loss", "brier") else "undefined on these rows"
            out.append(MetricCheck(c.metric, None, None, None, float(c.bound), c.direction, None,
                                   note))
            continue
        breach = value < c.bound if c.direction == "min" else value > c.bound
        out.append(MetricCheck(c.metric, value, low, high, float(c.bound), c.direction, breach))
    return out, skipped, points


def net_value(points: dict[str, Any] | None, value_per_outcome: dict[str, float] | None
              ) -> tuple[float | None, str]:
    """Net value per 1,000 predictions from the labelled rows' confusion matrix, or why not."""
    from readiness.criteria import business

    if value_per_outcome is None:
        return None, "no value_per_outcome declared"
    if points is None:
        return None, "not judged"
    try:
        counts = business.Outcomes.from_matrix(points["confusion_matrix"])
    except EvidenceError as exc:
        return None, str(exc)
    return _finite(business.net_value_per_1000(counts, value_per_outcome)), ""
