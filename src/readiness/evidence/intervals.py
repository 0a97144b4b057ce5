"""Seeded bootstrap confidence intervals of the metrics ``evaluate`` records, vectorised.

The method is the **percentile bootstrap**: the held-out rows are resampled with
replacement ``resamples`` times (for classification *within each true class*, so every
resample keeps the holdout's class counts: stratified), each metric is computed on every
resample, and the interval at confidence ``c`` runs from the ``(1 - c) / 2`` to the
``(1 + c) / 2`` quantile of those values. A numpy ``Generator`` seeded with ``seed`` draws
the resamples, so the same rows, predictions, seed and count give the same interval.

Nothing loops over resamples in Python. Up to ``ROW_LIMIT`` held-out rows, a chunk of
resamples is one ``rng.integers`` matrix of rows drawn within each class; ``np.bincount``
turns it into row weights, and matrix products of the weights with per-row columns (the
predicted class one-hot, each row's log loss and Brier term) give every resample's
confusion matrix and losses at once. ROC AUC is the rank formula: with each class's rows in
score order, one cumulative sum of one class's weights and two ``searchsorted`` lookups
(ties count a half) give, for every row of the other class, the weight ranked below it.
Above ``ROW_LIMIT`` rows (binary, or without AUC), each class's resamples are one
``rng.multinomial`` matrix of counts of its cells (score bin, predicted class), which is
the same distribution as counting drawn rows: exact for the confusion-matrix metrics, and
for ROC AUC, log loss and Brier exact up to grouping scores into ``BINS`` quantile bins
(see :func:`_cell_resamples`). Regression resamples are row weights times a matrix of
per-row errors.

Monitoring (labelled rows of the prediction log) uses :func:`classification_resamples`
and :func:`interval` from here, as ``evaluate`` does; the evidence layer never imports
monitoring.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

RESAMPLES = 1000
LEVEL = 0.95
STRATIFIED = "stratified percentile bootstrap"
PLAIN = "percentile bootstrap"
_CELLS = 4_000_000  # bincount cells per pass in the evaluate path: memory stays ~32 MB
# Above ROW_LIMIT held-out rows (binary, or no AUC), resamples are drawn as counts of cells
# (see classification_resamples); scores are then grouped into at most BINS quantile bins.
ROW_LIMIT = 20_000
BINS = 256


def from_confusion(counts: Any, k: int, positive: int, binary: bool) -> dict[str, Any]:
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


def interval(values: Any, level: float = LEVEL) -> tuple[float | None, float | None]:
    """The percentile interval at ``level`` (NaN resamples left out; None when none is left)."""
    import numpy as np

    finite = values[np.isfinite(values)]
    if not len(finite):
        return None, None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


# -- evaluate's bootstrap: stratified, one bincount per chunk, any holdout size ----------------


def _chunks(resamples: int, cells: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of resample chunks whose bincount holds at most ~_CELLS cells."""
    step = max(1, min(resamples, _CELLS // max(cells, 1)))
    for start in range(0, resamples, step):
        yield start, min(start + step, resamples)


def _counts(codes: Any, cells: int) -> Any:
    """Per resample (row of ``codes``), how many drawn rows fall in each code: (size, cells)."""
    import numpy as np

    size = codes.shape[0]
    shifted = (codes + (np.arange(size) * cells)[:, None]).ravel()
    return np.bincount(shifted, minlength=size * cells).reshape(size, cells)


class _Stratum:
    """The rows of one true class, in ascending order of that class's score when scored."""

    def __init__(self, index: int, rows: Any, own_score: Any | None) -> None:
        import numpy as np

        self.index = index
        self.rows = rows if own_score is None else rows[np.argsort(own_score[rows],
                                                                  kind="stable")]
        self.sorted: Any = None if own_score is None else own_score[self.rows]


def _below(base: _Stratum, weights: Any, other: Any, scores: Any) -> Any:
    """Per resample and ``other`` row: the weight of base rows scored below it (ties a half).

    ``weights`` (size, len(base.rows)) are in the base's score order, so one cumulative sum
    and two lookups (the rank formula with ties) replace every pairwise comparison.
    """
    import numpy as np

    cumulative = np.zeros((weights.shape[0], weights.shape[1] + 1))
    np.cumsum(weights, axis=1, out=cumulative[:, 1:])
    at = scores[other]
    left = np.searchsorted(base.sorted, at, side="left")
    right = np.searchsorted(base.sorted, at, side="right")
    return 0.5 * (cumulative[:, left] + cumulative[:, right])


def _auc(positive: _Stratum, w_pos: Any, negative: _Stratum, w_neg: Any, scores: Any) -> Any:
    """ROC AUC per resample; the cumulative sum runs over the smaller class."""
    import numpy as np

    n_pos, n_neg = w_pos.sum(axis=1), w_neg.sum(axis=1)
    if len(positive.rows) <= len(negative.rows):
        beaten_by = _below(positive, w_pos, negative.rows, scores)  # positives below each neg
        wins = n_pos * n_neg - np.einsum("rj,rj->r", w_neg, beaten_by)
    else:
        wins = np.einsum("ri,ri->r", w_pos, _below(negative, w_neg, positive.rows, scores))
    with np.errstate(divide="ignore", invalid="ignore"):
        return wins / (n_pos * n_neg)


def classification_resamples(
    y: Any,
    predicted: Any,
    scores: Any = None,
    probabilities: bool = True,
    seed: int = 0,
    resamples: int = RESAMPLES,
    value_per_outcome: dict[str, float] | None = None,
    min_net_value: float = 0.0,
) -> dict[str, Any]:
    """The classification metrics of ``evaluate`` on each stratified resample.

    Labels, the positive class (the last label when binary) and the averages (binary or
    macro) are those of ``evidence.metrics.classification_metrics``. ROC AUC needs
    ``scores`` (binary: one column or the positive's; multiclass: probabilities, one vs rest,
    macro); log loss and Brier need binary probabilities; ``net_value_per_1000`` needs
    ``value_per_outcome`` and two classes (with it, the break-even precision and recall, at
    net value 0 and at ``min_net_value``: see :func:`_business`). Returns arrays of
    ``resamples`` values.
    """
    import numpy as np

    y, predicted = np.asarray(y), np.asarray(predicted)
    labels = np.unique(np.concatenate([y, predicted]))
    k, n = len(labels), len(y)
    yt, yp = np.searchsorted(labels, y), np.searchsorted(labels, predicted)
    binary = k <= 2
    proba = _usable_scores(scores, k, binary, probabilities)
    strata = []
    for c in range(k):
        rows = np.flatnonzero(yt == c)
        if len(rows):
            own = None if proba is None else (proba[:, -1] if binary else proba[:, c])
            strata.append(_Stratum(c, rows, own))
    # per row: its predicted class (one-hot) and, binary with probabilities, its two losses
    columns = [np.eye(k)[yp]]
    if binary and probabilities and proba is not None and proba.shape[1] == 2:
        p = np.clip(proba[:, -1], np.finfo(float).eps, 1 - np.finfo(float).eps)
        is_positive = yt == k - 1
        columns.append(np.where(is_positive, -np.log(p), -np.log(1 - p))[:, None])
        columns.append(((proba[:, -1] - is_positive) ** 2)[:, None])
    per_row = np.concatenate(columns, axis=1)
    rng = np.random.default_rng(seed)
    if n > ROW_LIMIT and (binary or proba is None):
        return _cell_resamples(rng, strata, yp, per_row, proba, k, n, resamples,
                               value_per_outcome, min_net_value)
    parts: dict[str, list[Any]] = {}
    for start, stop in _chunks(resamples, n):
        size = stop - start
        weights = [
            _counts(rng.integers(0, len(s.rows), size=(size, len(s.rows))), len(s.rows))
            .astype(float)
            for s in strata
        ]
        confusion = np.zeros((size, k, k))
        losses = np.zeros((size, per_row.shape[1] - k))
        for s, w in zip(strata, weights, strict=True):
            summed = w @ per_row[s.rows]
            confusion[:, s.index, :] = summed[:, :k]
            losses += summed[:, k:]
        found = from_confusion(confusion, k, k - 1, binary)
        if losses.shape[1]:
            found["log_loss"], found["brier"] = losses[:, 0] / n, losses[:, 1] / n
        if proba is not None:
            found["roc_auc"] = _resampled_auc(strata, weights, proba, binary)
        if value_per_outcome is not None and k == 2:
            found.update(_business(confusion, value_per_outcome, n, min_net_value))
        for name, values in found.items():
            parts.setdefault(name, []).append(values)
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def _rank_auc(pos: Any, neg: Any) -> Any:
    """ROC AUC per row of counts of positives and negatives per score group (ascending)."""
    import numpy as np

    below = np.cumsum(neg, axis=1) - neg  # negatives in lower groups
    wins = (pos * (below + 0.5 * neg)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return wins / (pos.sum(axis=1) * neg.sum(axis=1))


def _cell_resamples(
    rng: Any,
    strata: list[_Stratum],
    yp: Any,
    per_row: Any,
    proba: Any | None,
    k: int,
    n: int,
    resamples: int,
    value_per_outcome: dict[str, float] | None,
    min_net_value: float = 0.0,
) -> dict[str, Any]:
    """Large holdouts: each stratum's resample as multinomial counts of its cells.

    A cell is (score bin, predicted class). Drawing ``n_c`` rows with replacement from a
    stratum and counting them per cell *is* a multinomial draw with the cells' shares, so
    the confusion counts (accuracy, precision, recall, F1, balanced accuracy, net value)
    are exactly the row bootstrap's. With more than BINS distinct scores, scores are
    grouped into BINS quantile bins: ROC AUC then counts pairs within a bin as ties (the
    resamples are shifted by the exact AUC minus the binned one), and log loss and Brier
    take each cell's mean loss (their totals on the holdout stay exact).
    """
    import numpy as np

    bins, groups = _score_bins(proba, n)
    counted: dict[str, Any] = {}
    confusion = np.zeros((resamples, k, k))
    losses = np.zeros((resamples, per_row.shape[1] - k))
    per_bin = {}
    for s in strata:
        cell = bins[s.rows] * k + yp[s.rows]
        cells, where, sizes = np.unique(cell, return_inverse=True, return_counts=True)
        drawn = rng.multinomial(len(s.rows), sizes / len(s.rows), size=resamples)
        mean = np.zeros((len(cells), per_row.shape[1]))
        np.add.at(mean, where, per_row[s.rows])
        summed = drawn @ (mean / sizes[:, None])
        confusion[:, s.index, :] = summed[:, :k]
        losses += summed[:, k:]
        if groups:
            to_bin = np.zeros((len(cells), groups))
            to_bin[np.arange(len(cells)), cells // k] = 1
            per_bin[s.index] = (drawn @ to_bin, sizes @ to_bin)
    counted.update(from_confusion(confusion, k, k - 1, k <= 2))
    if losses.shape[1]:
        counted["log_loss"], counted["brier"] = losses[:, 0] / n, losses[:, 1] / n
    if groups and len(per_bin) == 2:
        (neg, neg_seen), (pos, pos_seen) = per_bin[0], per_bin[1]
        binned = _rank_auc(pos_seen[None, :], neg_seen[None, :])[0]
        counted["roc_auc"] = _rank_auc(pos, neg) + (_exact_auc(strata, proba) - binned)
    elif groups:
        counted["roc_auc"] = np.full(resamples, np.nan)
    if value_per_outcome is not None and k == 2:
        counted.update(_business(confusion, value_per_outcome, n, min_net_value))
    return counted


def _score_bins(proba: Any | None, n: int) -> tuple[Any, int]:
    """Each row's score bin (distinct scores, or BINS quantile bins) and the bin count."""
    import numpy as np

    if proba is None:
        return np.zeros(n, dtype=np.int64), 0
    score = proba[:, -1]
    distinct, groups = np.unique(score, return_inverse=True)
    if len(distinct) <= BINS:
        return groups, len(distinct)
    edges = np.unique(np.quantile(score, np.linspace(0, 1, BINS + 1)[1:-1]))
    return np.searchsorted(edges, score, side="right"), len(edges) + 1


def _exact_auc(strata: list[_Stratum], proba: Any) -> float:
    """The holdout's ROC AUC by the rank formula over its distinct scores."""
    import numpy as np

    distinct, groups = np.unique(proba[:, -1], return_inverse=True)
    neg = np.bincount(groups[strata[0].rows], minlength=len(distinct))
    pos = np.bincount(groups[strata[1].rows], minlength=len(distinct))
    return float(_rank_auc(pos[None, :].astype(float), neg[None, :].astype(float))[0])


def _usable_scores(scores: Any, k: int, binary: bool, probabilities: bool) -> Any | None:
    """Scores as floats, (n, 1 or 2) when binary, (n, k) otherwise; None: no AUC from them."""
    import numpy as np

    if scores is None:
        return None
    scores = np.asarray(scores, dtype=float)
    if binary:
        return scores if scores.ndim == 2 else scores[:, None]
    return scores if probabilities and scores.ndim == 2 and scores.shape[1] == k else None


def _resampled_auc(strata: list[_Stratum], weights: list[Any], proba: Any, binary: bool) -> Any:
    """Binary ROC AUC, or the macro one-vs-rest AUC, of each resample (NaN: one class only)."""
    import numpy as np

    if len(strata) < 2:
        return np.full(weights[0].shape[0], np.nan)
    if binary:
        return _auc(strata[1], weights[1], strata[0], weights[0], proba[:, -1])
    per_class = []
    for i, s in enumerate(strata):
        rest = [j for j in range(len(strata)) if j != i]
        negative = np.concatenate([strata[j].rows for j in rest])
        w_rest = np.concatenate([weights[j] for j in rest], axis=1)
        beaten_by = _below(s, weights[i], negative, proba[:, s.index])
        n_pos, n_neg = weights[i].sum(axis=1), w_rest.sum(axis=1)
        wins = n_pos * n_neg - np.einsum("rj,rj->r", w_rest, beaten_by)
        per_class.append(wins / (n_pos * n_neg))
    return np.mean(per_class, axis=0)


BREAK_EVEN = ("break_even_precision", "break_even_recall", "required_precision",
              "required_recall")


def _business(confusion: Any, values: dict[str, float], n: int, target: float) -> dict[str, Any]:
    """Net value per 1,000 and the break-even precision and recall of each resample:
    ``break_even_*`` at net value 0, ``required_*`` at ``target`` (the declared minimum)."""
    from readiness.criteria.business import break_even_arrays

    zero, goal = break_even_arrays(confusion, values), break_even_arrays(confusion, values, target)
    return {"net_value_per_1000": _net_value(confusion, values, n),
            "break_even_precision": zero["precision"], "break_even_recall": zero["recall"],
            "required_precision": goal["precision"], "required_recall": goal["recall"]}


def reachable_interval(values: Any, level: float = LEVEL) -> list[float] | None:
    """The percentile interval of a break-even point, None when it is unreachable (NaN) in
    more resamples than one tail holds: an interval of the reachable ones would mislead."""
    import numpy as np

    if not len(values) or np.mean(~np.isfinite(values)) > (1 - level) / 2:
        return None
    low, high = interval(values, level)
    return None if low is None or high is None else [low, high]


def _net_value(confusion: Any, values: dict[str, float], n: int) -> Any:
    """Net value per 1,000 predictions of each resample, layout [[tn, fp], [fn, tp]]."""
    tn, fp = confusion[:, 0, 0], confusion[:, 0, 1]
    fn, tp = confusion[:, 1, 0], confusion[:, 1, 1]
    total = (tp * values.get("tp", 0.0) + fp * values.get("fp", 0.0)
             + fn * values.get("fn", 0.0) + tn * values.get("tn", 0.0))
    return total / n * 1000.0


def regression_resamples(
    y: Any, predicted: Any, seed: int = 0, resamples: int = RESAMPLES
) -> dict[str, Any]:
    """RMSE, MAE, R² and MAPE (when no target is 0) on each plain resample of the rows."""
    import numpy as np

    y, predicted = np.asarray(y, dtype=float), np.asarray(predicted, dtype=float)
    n = len(y)
    error = y - predicted
    columns = [error**2, np.abs(error), y, y**2]
    has_mape = not np.any(y == 0)
    if has_mape:
        columns.append(np.abs(error) / np.abs(y))
    per_row = np.stack(columns, axis=1)
    rng = np.random.default_rng(seed)
    sums = []
    for start, stop in _chunks(resamples, n):
        drawn = rng.integers(0, n, size=(stop - start, n))
        sums.append(_counts(drawn, n).astype(float) @ per_row)
    total = np.concatenate(sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        sst = total[:, 3] - total[:, 2] ** 2 / n
        out = {
            "rmse": np.sqrt(total[:, 0] / n),
            "mae": total[:, 1] / n,
            "r2": np.where(sst > 0, 1 - total[:, 0] / sst, np.nan),
        }
    if has_mape:
        out["mape"] = total[:, 4] / n
    return out


def intervals_of(
    points: dict[str, Any],
    resampled: dict[str, Any],
    n: int,
    seed: int,
    resamples: int,
    method: str,
    levels: dict[str, float] | float = LEVEL,
) -> dict[str, dict[str, Any]]:
    """``{metric: {value, low, high, confidence, n, method, seed, resamples}}``.

    ``points`` are the recorded values; ``levels`` the confidence of each metric's interval
    (one number for all). A metric with no finite point value or resample has none.
    """
    out = {}
    for name, values in resampled.items():
        point = points.get(name)
        if isinstance(point, bool) or not isinstance(point, (int, float)):
            continue
        if not math.isfinite(point):
            continue
        level = levels if isinstance(levels, float) else levels.get(name, LEVEL)
        low, high = interval(values, level)
        if low is None or high is None:
            continue
        out[name] = {
            "value": float(point),
            "low": low,
            "high": high,
            "confidence": level,
            "n": n,
            "method": method,
            "seed": seed,
            "resamples": resamples,
        }
    return out


def holdout_needed(n: int, value: float, required: float, low: float, high: float) -> int | None:
    """The holdout size that would likely settle a straddling interval (an estimate).

    An interval's width shrinks as 1/sqrt(n), so one of half-width ``h`` around ``value``
    excludes ``required`` once ``h * sqrt(n / n') < |value - required|``:
    ``n' = n * (h / |value - required|)^2``. None when the value sits on the bound.
    """
    gap = abs(value - required)
    half = (high - low) / 2
    if gap == 0 or not math.isfinite(gap) or not math.isfinite(half):
        return None
    return max(n + 1, math.ceil(n * (half / gap) ** 2))


# -- paired: two models on the same held-out rows ------------------------------------------------

PAIRED = "paired stratified percentile bootstrap"
PAIRED_PLAIN = "paired percentile bootstrap"


class _Model:
    """One model's predictions on the shared rows, arranged for weighted metrics."""

    def __init__(self, yt: Any, predicted: Any, scores: Any, k: int, probabilities: bool) -> None:
        import numpy as np

        self.binary = k <= 2
        self.onehot = np.eye(k)[predicted]
        self.proba = _usable_scores(scores, k, self.binary, probabilities)
        self.losses: Any = None
        if self.binary and probabilities and self.proba is not None and self.proba.shape[1] == 2:
            eps = np.finfo(float).eps
            p = np.clip(self.proba[:, -1], eps, 1 - eps)
            positive = yt == k - 1
            self.losses = np.c_[np.where(positive, -np.log(p), -np.log(1 - p)),
                                (self.proba[:, -1] - positive) ** 2]


def _weighted_metrics(
    model: _Model, strata: list[_Stratum], weights: list[Any], k: int, n: int
) -> dict[str, Any]:
    """``evaluate``'s classification metrics of each weighted resample (rows: natural order)."""
    import numpy as np

    size = weights[0].shape[0]
    confusion = np.zeros((size, k, k))
    losses = np.zeros((size, 2))
    for s, w in zip(strata, weights, strict=True):
        confusion[:, s.index, :] = w @ model.onehot[s.rows]
        if model.losses is not None:
            losses += w @ model.losses[s.rows]
    out = from_confusion(confusion, k, k - 1, model.binary)
    if model.losses is not None:
        out["log_loss"], out["brier"] = losses[:, 0] / n, losses[:, 1] / n
    if model.proba is not None:
        ranked, moved = [], []
        for s, w in zip(strata, weights, strict=True):
            own = model.proba[:, -1] if model.binary else model.proba[:, s.index]
            order = np.argsort(own[s.rows], kind="stable")  # as _Stratum orders its rows
            ranked.append(_Stratum(s.index, s.rows, own))
            moved.append(w[:, order])
        out["roc_auc"] = _resampled_auc(ranked, moved, model.proba, model.binary)
    return out


def _regression_sums(y: Any, predicted: Any) -> Any:
    import numpy as np

    error = y - predicted
    relative = np.abs(error) / np.abs(np.where(y == 0, 1, y))
    return np.stack([error**2, np.abs(error), y, y**2, relative], axis=1)


def _regression_from_sums(total: Any, n: int, has_mape: bool) -> dict[str, Any]:
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        sst = total[:, 3] - total[:, 2] ** 2 / n
        out = {"rmse": np.sqrt(total[:, 0] / n), "mae": total[:, 1] / n,
               "r2": np.where(sst > 0, 1 - total[:, 0] / sst, np.nan)}
    if has_mape:
        out["mape"] = total[:, 4] / n
    return out


def paired_difference(
    y: Any,
    predicted_a: Any,
    predicted_b: Any,
    scores_a: Any = None,
    scores_b: Any = None,
    task: str = "classification",
    probabilities: bool = True,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> dict[str, dict[str, Any]]:
    """Metric of model a minus metric of model b on the same rows, with a paired interval.

    Each resample draws one set of held-out rows (within each true class for
    classification) and computes both models' metrics on *those* rows, so what the rows
    have in common (easy and hard cases) cancels out of the difference. Vectorised like
    :func:`classification_resamples` (row weights, no Python loop over resamples) and seeded.
    Returns ``{metric: {difference, a, b, low, high, confidence, n, method, seed, resamples}}``
    for every metric both models have (ROC AUC needs both models' scores).
    """
    import numpy as np

    y = np.asarray(y)
    n = len(y)
    rng = np.random.default_rng(seed)
    point: dict[str, tuple[float, float]] = {}
    parts: dict[str, list[Any]] = {}
    if task == "classification":
        pa, pb = np.asarray(predicted_a), np.asarray(predicted_b)
        labels = np.unique(np.concatenate([y, pa, pb]))
        k = len(labels)
        yt = np.searchsorted(labels, y)
        models = [_Model(yt, np.searchsorted(labels, p), s, k, probabilities)
                  for p, s in ((pa, scores_a), (pb, scores_b))]
        strata = [_Stratum(c, np.flatnonzero(yt == c), None) for c in range(k)
                  if np.any(yt == c)]
        ones = [np.ones((1, len(s.rows))) for s in strata]
        full = [_weighted_metrics(m, strata, ones, k, n) for m in models]
        point = {name: (float(full[0][name][0]), float(full[1][name][0]))
                 for name in full[0] if name in full[1]}
        for start, stop in _chunks(resamples, 2 * n):
            size = stop - start
            weights = [_counts(rng.integers(0, len(s.rows), size=(size, len(s.rows))),
                               len(s.rows)).astype(float) for s in strata]
            a, b = (_weighted_metrics(m, strata, weights, k, n) for m in models)
            for name in point:
                parts.setdefault(name, []).append(a[name] - b[name])
        method = PAIRED
    else:
        y = y.astype(float)
        has_mape = not np.any(y == 0)
        sums = [_regression_sums(y, np.asarray(p, dtype=float))
                for p in (predicted_a, predicted_b)]
        full = [_regression_from_sums(s.sum(axis=0)[None, :], n, has_mape) for s in sums]
        point = {name: (float(full[0][name][0]), float(full[1][name][0])) for name in full[0]}
        for start, stop in _chunks(resamples, n):
            weights = _counts(rng.integers(0, n, size=(stop - start, n)), n).astype(float)
            a, b = (_regression_from_sums(weights @ s, n, has_mape) for s in sums)
            for name in point:
                parts.setdefault(name, []).append(a[name] - b[name])
        method = PAIRED_PLAIN
    out = {}
    for name, (value_a, value_b) in point.items():
        if not (math.isfinite(value_a) and math.isfinite(value_b)):
            continue
        low, high = interval(np.concatenate(parts[name]), level) if resamples else (None, None)
        out[name] = {"difference": value_a - value_b, "a": value_a, "b": value_b, "low": low,
                     "high": high, "confidence": level, "n": n, "method": method,
                     "seed": seed, "resamples": resamples}
    return out
