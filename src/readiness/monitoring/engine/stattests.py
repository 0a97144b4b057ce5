"""evidently 0.7's default drift tests, on arrays and counts (no pandas in the hot paths).

Each function reproduces the module of ``evidently/legacy/calculations/stattests/`` it is
named after, on what evidently passes it: the reference and current values after its
cleaning (``±inf`` made missing, missing values dropped). Numeric inputs are *sorted*
float64 arrays; categorical ones are ``value -> count`` dicts. Whether a score drifts is
:func:`drifted` (p-values below, or for K-S at most, the threshold; distances from it up).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# evidently's stattest name -> (display name, default threshold, column kinds it accepts)
STATTESTS: dict[str, tuple[str, float, tuple[str, ...]]] = {
    "ks": ("K-S p_value", 0.05, ("numerical",)),
    "chisquare": ("chi-square p_value", 0.05, ("categorical",)),
    "z": ("Z-test p_value", 0.05, ("categorical",)),
    "wasserstein": ("Wasserstein distance (normed)", 0.1, ("numerical",)),
    "jensenshannon": ("Jensen-Shannon distance", 0.1, ("categorical", "numerical")),
}
DISTANCES = {"wasserstein", "jensenshannon"}

# cdf-distance blocks: bounded temporaries however long the samples
_BLOCK = 1 << 16


def drifted(method: str, score: float, threshold: float) -> bool:
    """evidently's verdict: K-S ``p <= t``, chi-square and Z ``p < t``, distances ``>= t``."""
    if method in DISTANCES:
        return bool(score >= threshold)
    if method == "ks":
        return bool(score <= threshold)
    return bool(score < threshold)


# -- numeric ----------------------------------------------------------------------------------


def ks_pvalue(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample K-S p-value, two-sided, as ``scipy.stats.ks_2samp`` gives it (evidently's)."""
    from scipy.stats import ks_2samp

    return float(ks_2samp(reference, current)[1])


# scipy's ks_2samp computes an exact p-value when neither sample is larger (method "auto")
KS_EXACT_MAX = 10_000


def ks_statistic_counts(reference: np.ndarray, grid: np.ndarray, below: np.ndarray,
                        at_or_below: np.ndarray, n_cur: int) -> float:
    """``ks_2samp(reference, current).statistic`` from counts of the current values only.

    ``reference``: sorted; ``grid``: its distinct values; ``below[j]`` / ``at_or_below[j]``:
    the current values ``< grid[j]`` / ``<= grid[j]``. scipy takes the largest ``F_ref -
    F_cur`` and ``F_cur - F_ref`` over every value of either sample (right-continuous
    CDFs). ``F_ref`` is a constant ``R_j`` on ``[grid[j], grid[j+1])`` (0 below the grid, 1
    from its top) while ``F_cur`` only rises there, so on that interval ``F_ref - F_cur``
    is largest at ``grid[j]`` itself (``at_or_below[j]``) and ``F_cur - F_ref`` at the last
    current value before ``grid[j+1]``, where ``F_cur`` counts ``below[j+1]`` values (``n``
    after the top; without such a value that count is the one at ``grid[j]``, a pair
    scipy also scores). The other points of the interval score less with the same ``R_j``,
    and a float difference is monotone in its terms, so the maxima are scipy's to the bit.
    """
    n_ref = reference.size
    ref_counts = np.searchsorted(reference, grid, side="right")
    levels = np.concatenate(([0], ref_counts)) / n_ref  # R_j, j = 0 (below the grid) .. k
    ends = np.concatenate((below, [n_cur])) / n_cur  # F_cur just before each next point
    at = at_or_below / n_cur
    maximum = max(float(np.max(levels[1:] - at)), 0.0)  # F_ref - F_cur (0: at the top)
    minimum = float(np.max(ends - levels))  # F_cur - F_ref
    minimum = min(max(minimum, 0.0), 1.0)
    return minimum if minimum > maximum else maximum


def ks_pvalue_of(d: float, n_ref: int, n_cur: int) -> float:
    """``ks_2samp``'s two-sided p-value for statistic ``d`` of samples of these sizes.

    Only scipy's asymptotic regime (one sample larger than ``KS_EXACT_MAX``): the exact one
    needs the values' order. The same call as scipy's: ``kstwo.sf(d, round(m n / (m + n)))``.
    """
    from scipy.stats import kstwo

    if max(n_ref, n_cur) <= KS_EXACT_MAX:
        raise ValueError("ks_2samp is exact for these sizes: give it the values")
    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(kstwo.sf(d, np.round(en)), 0, 1))


def wasserstein_normed(reference: np.ndarray, current: np.ndarray, reference_std: float) -> float:
    """First Wasserstein distance over ``max(std(reference), 0.001)`` (evidently's norm).

    ``scipy.stats.wasserstein_distance`` on sorted inputs, in linear time: a stable merge of
    the two samples gives, at each merged value, how many values of each sample lie at or
    below it (scipy's ``searchsorted(..., "right")`` there: the two agree wherever the gap to
    the next value is not zero, the only terms that count). Block by block, so that no
    temporary is longer than a block.
    """
    norm = max(float(reference_std), 0.001)
    n_ref, n_cur = reference.size, current.size
    both = np.concatenate((reference, current))
    order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
    total, below = 0.0, 0
    for start in range(0, both.size - 1, _BLOCK):
        stop = min(start + _BLOCK, both.size - 1)
        positions = order[start : stop + 1]
        deltas = np.diff(both[positions])
        u_counts = below + np.cumsum(positions[:-1] < n_ref)
        below = int(u_counts[-1])
        v_counts = np.arange(start + 1, stop + 1) - u_counts
        total += float(np.vecdot(np.abs(u_counts / n_ref - v_counts / n_cur), deltas))
    return total / norm


def sturges_edges(low: float, high: float, size: int, dtype: Any = np.float64) -> np.ndarray:
    """``np.histogram_bin_edges(values, bins="sturges")`` from the values' min, max and size.

    ``dtype``: the values' dtype (evidently bins the concatenation of both samples; numpy
    widens integer bins to at least 1 and keeps float32 edges for float32 values).
    """
    dtype = np.dtype(dtype)
    integer = np.issubdtype(dtype, np.integer)
    lo, hi = np.array(low).astype(dtype)[()], np.array(high).astype(dtype)[()]
    first, last = lo, hi
    if first == last:
        first, last = first - 0.5, last + 0.5
    width = (hi - lo) / (np.log2(size) + 1.0)
    if width:
        if integer and width < 1:
            width = 1
        delta = int(last) - int(first) if integer else last - first
        bins = int(np.ceil(delta / width))
    else:
        bins = 1
    bin_type = np.result_type(first, last, np.empty(0, dtype))
    if np.issubdtype(bin_type, np.integer):
        bin_type = np.result_type(bin_type, float)
    return np.linspace(first, last, bins + 1, endpoint=True, dtype=bin_type)


def histogram_sorted(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, edges)[0]`` of sorted ``values`` (the last bin is closed)."""
    cumulative = np.concatenate(
        (values.searchsorted(edges[:-1], "left"), values.searchsorted(edges[-1:], "right"))
    )
    return np.diff(cumulative)


def jensenshannon_numeric(reference: np.ndarray, current: np.ndarray, dtype: Any) -> float:
    """Jensen-Shannon distance over evidently's Sturges bins of both samples together.

    evidently bins a numerical column this way when the reference has more than 20
    distinct values (else it compares the values' shares, :func:`jensenshannon_counts`).
    ``dtype``: the dtype of both samples' concatenation.
    """
    low = min(reference[0], current[0])
    high = max(reference[-1], current[-1])
    edges = sturges_edges(low, high, reference.size + current.size, dtype)
    return jensenshannon_binned(reference, edges, histogram_sorted(current, edges))


def jensenshannon_binned(reference: np.ndarray, edges: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance of ``reference`` (sorted) and the ``current`` counts per bin
    of ``edges`` (every current value in a bin: a streamed sample's merged histogram)."""
    ref = histogram_sorted(reference, edges) / reference.size
    return _jensenshannon(ref, current / int(current.sum()))


# -- counts -------------------------------------------------------------------------------------


def _aligned(reference: dict[Any, int], current: dict[Any, int]) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both samples over the union of their values (evidently's ``keys``)."""
    keys = list(set(reference) | set(current))
    ref = np.array([reference.get(k, 0) for k in keys], dtype=np.int64)
    cur = np.array([current.get(k, 0) for k in keys], dtype=np.int64)
    return ref, cur


def chisquare_pvalue(reference: dict[Any, int], current: dict[Any, int]) -> float:
    """Chi-square p-value of the current counts against the reference's, rescaled."""
    from scipy.stats import chisquare

    ref, cur = _aligned(reference, current)
    k_norm = int(cur.sum()) / int(ref.sum())
    with np.errstate(divide="ignore", invalid="ignore"):  # a value new in the current: p = 0
        return float(chisquare(cur, ref * k_norm)[1])


def z_pvalue(reference: dict[Any, int], current: dict[Any, int]) -> float:
    """Two-sided p-value of the proportion Z-test (evidently's ``proportions_diff_z_test``).

    The proportion is that of values other than the smallest one of either sample.
    """
    from scipy.stats import norm

    if len(reference) == 1 and len(current) == 1 and next(iter(reference)) == next(iter(current)):
        return 1.0
    first = sorted(set(reference) | set(current))[0]
    n1, n2 = sum(reference.values()), sum(current.values())
    p1 = float(n1 - _count_of(reference, first)) / n1
    p2 = float(n2 - _count_of(current, first)) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
        return float(2 * (1 - norm.cdf(np.abs(z))))


def _count_of(counts: dict[Any, int], value: Any) -> int:
    # evidently compares every value with ``==``: 1 and 1.0 (and True) are one value
    return sum(n for k, n in counts.items() if k == value)


def jensenshannon_counts(reference: dict[Any, int], current: dict[Any, int], rest: int = 0
                         ) -> float:
    """Jensen-Shannon distance of the two samples' shares of each value.

    ``rest``: current values counted apart, none of them a reference value (a streamed
    column of many values). A value only the current holds, of share ``q``, adds
    ``rel_entr(q, q/2) = q log 2`` to the sum and nothing else, so they add
    ``(rest / n) log 2`` together (equal to the per-value sum up to rounding, ~1e-16).
    """
    ref, cur = _aligned(reference, current)
    if not rest:
        return _jensenshannon(ref / int(ref.sum()), cur / int(cur.sum()))
    total = int(cur.sum()) + rest
    p, q = ref / int(ref.sum()), cur / total
    m = (p + q) / 2.0
    apart = rest / total * np.log(2.0)
    return float(np.sqrt((_rel_entr(p, m).sum() + _rel_entr(q, m).sum() + apart) / 2.0))


def _jensenshannon(reference: np.ndarray, current: np.ndarray) -> float:
    """``scipy.spatial.distance.jensenshannon(reference, current)``, its steps in numpy.

    Without importing scipy.spatial (its import costs more than the test on a million rows).
    """
    p = reference / np.sum(reference)
    q = current / np.sum(current)
    m = (p + q) / 2.0
    return float(np.sqrt((_rel_entr(p, m).sum() + _rel_entr(q, m).sum()) / 2.0))


def _rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``scipy.special.rel_entr``: ``x log(x/y)``, 0 where ``x`` is 0, inf where ``y`` is."""
    out = np.full(x.shape, np.inf)
    zero = (x == 0) & (y >= 0)
    positive = (x > 0) & (y > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[positive] = x[positive] * np.log(x[positive] / y[positive])
    out[zero] = 0.0
    return out
