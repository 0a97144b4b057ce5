"""Model quality on the labelled rows of a window: the criteria's metrics, their intervals, and
the net value per 1,000 predictions realised from the labelled outcomes.

Point values are ``evidence.metrics.classification_metrics`` (what ``readiness.evaluate``
records); the 95 % intervals a seeded percentile bootstrap over the labelled rows, 1,000
resamples, computed at once with numpy from each resample's confusion matrix (and per-row
losses, and pairwise score comparisons for ROC AUC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from readiness.core.errors import EvidenceError

RESAMPLES = 1000
LEVEL = 0.95
# the metrics recomputed from labels (classification; the others need more than the log)
RECOMPUTED = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc",
              "log_loss", "brier")
_CHUNK = 100  # resamples per numpy pass: memory stays resamples x rows / 10


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


def _resample_counts(n: int, seed: int) -> Any:
    """Per resample, how often each of the ``n`` rows is drawn: (RESAMPLES, n)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.empty((RESAMPLES, n), dtype=np.int32)
    for start in range(0, RESAMPLES, _CHUNK):
        stop = min(start + _CHUNK, RESAMPLES)
        drawn = rng.integers(0, n, size=(stop - start, n))
        offset = (drawn + np.arange(stop - start)[:, None] * n).ravel()
        out[start:stop] = np.bincount(offset, minlength=(stop - start) * n).reshape(-1, n)
    return out


def _from_confusion(counts: Any, k: int, positive: int, binary: bool) -> dict[str, Any]:
    """Metrics of each resample from its confusion matrices (R, k, k): rows true, cols predicted."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        diag = np.einsum("rii->ri", counts).astype(float)
        true, pred = counts.sum(axis=2).astype(float), counts.sum(axis=1).astype(float)
        total = true.sum(axis=1)
        recall_c = np.where(true > 0, diag / true, 0.0)
        precision_c = np.where(pred > 0, diag / pred, 0.0)
        f1_c = np.where(precision_c + recall_c > 0,
                        2 * precision_c * recall_c / (precision_c + recall_c), 0.0)
        present = true > 0
        balanced = np.where(present, recall_c, 0.0).sum(axis=1) / np.maximum(present.sum(axis=1),
                                                                              1)
    out = {"accuracy": diag.sum(axis=1) / total, "balanced_accuracy": balanced}
    if binary:
        out.update(precision=precision_c[:, positive], recall=recall_c[:, positive],
                   f1=f1_c[:, positive])
    else:
        out.update(precision=precision_c.mean(axis=1), recall=recall_c.mean(axis=1),
                   f1=f1_c.mean(axis=1))
    return out


def _auc(weights: Any, positive: Any, scores: Any) -> Any | None:
    """ROC AUC of each resample: weighted pairwise comparisons (ties count a half)."""
    import numpy as np

    pos, neg = scores[positive], scores[~positive]
    if len(pos) * len(neg) > 25_000_000:  # the pair matrix would not fit: no interval
        return None
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    w_pos, w_neg = weights[:, positive].astype(float), weights[:, ~positive].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.einsum("rp,pn,rn->r", w_pos, pairs, w_neg) / (
            w_pos.sum(axis=1) * w_neg.sum(axis=1)
        )


def bootstrap(
    y: Any, predicted: Any, labels: Any, proba: Any | None, seed: int
) -> dict[str, Any]:
    """Each metric over the resamples (arrays of RESAMPLES values; NaN where undefined)."""
    import numpy as np

    n, k = len(y), len(labels)
    index = {v: i for i, v in enumerate(labels.tolist())}
    yt = np.array([index[v] for v in y.tolist()])
    yp = np.array([index[v] for v in predicted.tolist()])
    weights = _resample_counts(n, seed)
    codes = np.zeros((n, k * k), dtype=np.int32)
    codes[np.arange(n), yt * k + yp] = 1
    counts = (weights @ codes).reshape(RESAMPLES, k, k)
    binary = k <= 2
    out = _from_confusion(counts, k, k - 1, binary)
    if proba is not None and binary:
        positive_score = proba[:, -1]
        is_positive = yt == k - 1
        auc = _auc(weights, is_positive, positive_score)
        if auc is not None:
            out["roc_auc"] = auc
        p_true = np.clip(np.where(is_positive, positive_score, 1 - positive_score),
                         np.finfo(float).eps, 1)
        out["log_loss"] = weights @ -np.log(p_true) / n
        out["brier"] = weights @ (positive_score - is_positive) ** 2 / n
    return out


def interval(values: Any) -> tuple[float | None, float | None]:
    """The percentile interval at LEVEL (NaN resamples left out)."""
    import numpy as np

    finite = values[np.isfinite(values)]
    if not len(finite):
        return None, None
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


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
    labels = np.unique(np.concatenate([np.asarray(y), np.asarray(predicted)]))
    resampled = bootstrap(np.asarray(y), np.asarray(predicted), labels, proba, seed)
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
