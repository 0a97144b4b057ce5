"""Net value of a classifier from its confusion matrix, and the break-even performance.

Counts and values are finite (schema and evidence refuse others), but products and sums
of large ones overflow: a result that is not finite is returned as NaN or infinity by
:func:`net_value_per_1000` (the judge fails it) and as None by the break-even functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from readiness.core.errors import EvidenceError


@dataclass(frozen=True)
class Outcomes:
    """Counts of a binary confusion matrix."""

    tp: float
    fp: float
    fn: float
    tn: float

    @classmethod
    def from_matrix(cls, matrix: Any) -> Outcomes:
        """Read scikit-learn's layout ``[[tn, fp], [fn, tp]]``."""
        try:
            (tn, fp), (fn, tp) = matrix
            counts = cls(tp=float(tp), fp=float(fp), fn=float(fn), tn=float(tn))
        except (TypeError, ValueError, OverflowError):
            raise EvidenceError(
                "business criteria need a binary confusion matrix [[tn, fp], [fn, tp]]; "
                f"the recorded one is {matrix!r}"
            ) from None
        if not math.isfinite(counts.total):  # NaN, infinity, or counts whose sum overflows
            raise EvidenceError(
                "the recorded confusion matrix has counts that are not finite numbers "
                "(or overflow when added): it judges nothing"
            )
        if min(counts.tp, counts.fp, counts.fn, counts.tn) < 0 or counts.total == 0:
            raise EvidenceError(f"confusion matrix {matrix!r} has negative or no counts")
        return counts

    @property
    def total(self) -> float:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def net_value_per_1000(counts: Outcomes, values: dict[str, float]) -> float:
    """Net value of 1,000 predictions at the observed outcome rates."""
    total = sum(getattr(counts, k) * values.get(k, 0.0) for k in ("tp", "fp", "fn", "tn"))
    return total / counts.total * 1000.0


def _finite(value: float | None) -> float | None:
    """None for a break-even point lost to overflow (NaN, infinity): unknown, not reached."""
    return value if value is None or math.isfinite(value) else None


def break_even_precision(counts: Outcomes, values: dict[str, float], target: float = 0.0):
    """Precision at which net value per 1,000 reaches ``target``, recall held as observed.

    Net value is linear in the number of false positives once true positives are
    fixed, so the break-even point is exact. Returns None when no precision reaches
    it at this recall (or the computation overflows), 0.0 when every precision does.
    """
    return _finite(_break_even_precision(counts, values, target))


def _break_even_precision(counts: Outcomes, values: dict[str, float], target: float):
    v_fp, v_tn = values.get("fp", 0.0), values.get("tn", 0.0)
    positives_found = counts.tp * values.get("tp", 0.0) + counts.fn * values.get("fn", 0.0)
    negatives = counts.fp + counts.tn
    fixed = positives_found + negatives * v_tn
    goal = target * counts.total / 1000.0
    slope = v_fp - v_tn  # value change per negative turned into a false positive
    if not all(map(math.isfinite, (fixed, goal, slope))):
        return None
    if slope == 0:
        return 0.0 if fixed >= goal else None
    fp_at_goal = (goal - fixed) / slope
    if slope < 0:  # false positives cost: at most fp_at_goal of them
        if fp_at_goal < 0:
            return None
        if fp_at_goal >= negatives or counts.tp == 0:
            return 0.0
        return counts.tp / (counts.tp + fp_at_goal)
    return 0.0 if fp_at_goal <= negatives else None


def break_even_recall(counts: Outcomes, values: dict[str, float], target: float = 0.0):
    """Recall at which net value per 1,000 reaches ``target``, precision held as observed.

    Returns None when no recall reaches it at this precision (or the computation
    overflows), 0.0 when every recall does.
    """
    return _finite(_break_even_recall(counts, values, target))


def _break_even_recall(counts: Outcomes, values: dict[str, float], target: float):
    precision = counts.precision
    positives = counts.tp + counts.fn
    negatives = counts.fp + counts.tn
    if precision is None or precision == 0 or positives == 0:
        return None
    v = {k: values.get(k, 0.0) for k in ("tp", "fp", "fn", "tn")}
    fixed = positives * v["fn"] + negatives * v["tn"]
    per_recall = positives * (v["tp"] - v["fn"] + (1 - precision) / precision * (v["fp"] - v["tn"]))
    goal = target * counts.total / 1000.0
    if not all(map(math.isfinite, (fixed, per_recall, goal))):
        return None
    if per_recall == 0:
        return 0.0 if fixed >= goal else None
    recall = (goal - fixed) / per_recall
    if per_recall > 0:
        return max(recall, 0.0) if recall <= 1 else None
    return None if recall < 0 else 0.0


def break_even_arrays(
    confusion: Any, values: dict[str, float], target: float = 0.0
) -> dict[str, Any]:
    """Break-even precision and recall of many confusion matrices (R, 2, 2) at once.

    The same formulas as :func:`break_even_precision` and :func:`break_even_recall`,
    vectorised over bootstrap resamples; NaN where no precision (recall) reaches the
    target.
    """
    import numpy as np

    tn, fp = confusion[:, 0, 0], confusion[:, 0, 1]
    fn, tp = confusion[:, 1, 0], confusion[:, 1, 1]
    v = {k: values.get(k, 0.0) for k in ("tp", "fp", "fn", "tn")}
    total, negatives, positives = tp + fp + fn + tn, fp + tn, tp + fn
    goal = target * total / 1000.0
    with np.errstate(divide="ignore", invalid="ignore"):
        fixed = tp * v["tp"] + fn * v["fn"] + negatives * v["tn"]
        slope = v["fp"] - v["tn"]
        if slope == 0:
            precision = np.where(fixed >= goal, 0.0, np.nan)
        else:
            at_goal = (goal - fixed) / slope
            if slope < 0:
                precision = np.where(
                    at_goal < 0, np.nan,
                    np.where((at_goal >= negatives) | (tp == 0), 0.0, tp / (tp + at_goal)))
            else:
                precision = np.where(at_goal <= negatives, 0.0, np.nan)
        observed = tp / (tp + fp)
        fixed_r = positives * v["fn"] + negatives * v["tn"]
        per_recall = positives * (v["tp"] - v["fn"] + (1 - observed) / observed
                                  * (v["fp"] - v["tn"]))
        recall = (goal - fixed_r) / per_recall
        recall = np.where(
            per_recall == 0, np.where(fixed_r >= goal, 0.0, np.nan),
            np.where(per_recall > 0, np.where(recall <= 1, np.maximum(recall, 0.0), np.nan),
                     np.where(recall < 0, np.nan, 0.0)))
        recall = np.where((observed > 0) & (positives > 0) & np.isfinite(observed), recall,
                          np.nan)
    return {"precision": precision, "recall": recall}
