"""Drift of a Parquet sample read one row group at a time: current samples larger than memory.

Each row group adds to a small :class:`Partial` per column, and partials merge in any order
(threads here, or the workers of a Dask cluster), so no more than a row group per worker is
ever in memory. What the partials keep decides which tests can be computed from them:

- value counts (categorical columns, and numeric ones with at most ``COUNT_LIMIT`` distinct
  values): chi-square, the Z-test and Jensen-Shannon on counts, **exact**;
- per bin of the reference's distinct values, the count of current values, the sum of
  their offsets from the bin's left edge and how many lie on it: K-S (evidently's test up
  to 1,000 reference values), **exact** (:func:`ks_binned`), and the normed Wasserstein
  distance (above), exact on every bin where the two CDFs do not cross, and on the few
  where they do within a bound reported as the verdict's ``score_error``
  (:func:`wasserstein_binned`);
- Jensen-Shannon on Sturges bins (a policy's ``jensenshannon`` on a numeric column of many
  values): the bins' edges follow from both samples' range and size, which the file's
  statistics give before reading (counted in the one pass) and the first pass gives for
  sure (checked; where they differ, a second pass over those columns counts the current
  over the right edges), **exact**;
- every finite value while a column has at most ``RAW_LIMIT`` of them: then the column is
  judged exactly as in memory (:func:`~readiness.monitoring.engine.judge.judge_column`);
- the current's counts over the equal bins of drift's picture, when the file's statistics
  give its range before reading (:func:`current_picture`).

- Jensen-Shannon on value counts of a numeric column of more values than ``COUNT_LIMIT``:
  the bins' counts on each reference value, and how many lie on none (they only matter
  together: :func:`.stattests.jensenshannon_counts`).

A summarised profile (quantiles) gives Wasserstein only: another test is an
:class:`EngineError` naming the column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from readiness.core.schema import DriftPolicy
from readiness.monitoring.engine import parquet, stattests
from readiness.monitoring.engine.columns import (
    CATEGORICAL,
    INTEGER_CARDINALITY_LIMIT,
    NUMERICAL,
    TEXT,
    UNKNOWN,
)
from readiness.monitoring.engine.groups import run_groups
from readiness.monitoring.engine.judge import (
    JS_BINNED_ABOVE,
    SMALL_REFERENCE,
    ColumnVerdict,
    EngineError,
    NotInEngine,
    _empty_current,
    _numpy_dtype,
    _on_counts,
    _std,
    categorical_on_counts,
    column_verdict,
    implemented,
    judge_column,
    resolve_method,
    resolve_threshold,
)
from readiness.monitoring.engine.profile import (
    DISTINCT_LIMIT,
    ColumnProfile,
    distinct_count,
    finite_values,
    is_numeric_series,
    sorted_counts,
    value_counts,
)

# finite values of a numeric column kept as they are (judged exactly): scipy's exact K-S
# regime, so that K-S from counts only ever needs its asymptotic p-value
RAW_LIMIT = stattests.KS_EXACT_MAX
COUNT_LIMIT = DISTINCT_LIMIT  # distinct numeric values counted (the rules look at <= 20)


PICTURE_BINS = 16  # the equal bins of drift's per-column picture (``drift._numeric_histogram``)


@dataclass(frozen=True)
class Plan:
    """What a column's row groups are reduced to besides counts and values: the reference's
    bins (``grid``, :func:`grid_of`) and the range of drift's picture (``picture``: known
    before reading from the file's statistics, :func:`plan_of`)."""

    grid: np.ndarray | None = None
    picture: tuple[float, float] | None = None
    sturges: np.ndarray | None = None  # Jensen-Shannon's edges, if the statistics are right


@dataclass
class Partial:
    """One column over some row groups (see the module docstring); :meth:`merge` adds two."""

    dtype: str
    numeric: bool
    rows: int = 0
    missing: int = 0  # missing and infinite values (evidently drops both)
    first: tuple[int, Any] | None = None  # (group, a 1-row Series): the first non-missing value
    last: tuple[int, Any] | None = None  # (group, value): the last non-missing value
    raw: list[np.ndarray] | None = field(default_factory=list)
    counts: dict[Any, int] | None = field(default_factory=dict)
    bins: np.ndarray | None = None
    offsets: np.ndarray | None = None
    edges: np.ndarray | None = None  # per bin: the values on its left edge exactly
    low: float = math.inf
    high: float = -math.inf
    picture: np.ndarray | None = None  # counts over PICTURE_BINS equal bins of picture_range
    picture_range: tuple[float, float] | None = None
    sturges: np.ndarray | None = None  # counts over sturges_edges
    sturges_edges: np.ndarray | None = None

    @property
    def count(self) -> int:
        return self.rows - self.missing

    def add(self, series: Any, group: int, grid: np.ndarray | None,
            picture: tuple[float, float] | None = None, sturges: np.ndarray | None = None
            ) -> None:
        """Add one row group's values of the column (``grid``: the reference's bins;
        ``picture``: the range of drift's picture)."""
        self.rows += len(series)
        present = series.dropna() if not self.numeric else None
        if self.numeric:
            array = series.to_numpy()
            kept = array if array.dtype.kind in "iu" else array[np.isfinite(array)]
            values = kept.astype(np.float64, copy=False)
            self.missing += len(series) - values.size
            if values.size:
                self.low = min(self.low, float(values.min()))
                self.high = max(self.high, float(values.max()))
                self._note(group, series[np.isfinite(array)] if array.dtype.kind == "f"
                           else series, values[-1])
            self._add_raw(kept)
            self._add_counts(values)
            if grid is not None:
                self._add_bins(values, grid)
            if picture is not None:  # numpy's equal bins: each value's bin alone, by range
                self.picture_range = picture
                self.picture = np.histogram(values, PICTURE_BINS, picture)[0]
            if sturges is not None:
                self.sturges_edges, self.sturges = sturges, bin_counts(values, sturges)
            return
        counts = value_counts(series)
        self.missing += len(series) - sum(counts.values())
        if present is not None and len(present):
            self._note(group, present, present.iloc[-1])
        self._merge_counts(counts)

    def _note(self, group: int, present: Any, last: Any) -> None:
        if self.first is None or group < self.first[0]:
            self.first = (group, present.iloc[:1].copy())
        if self.last is None or group > self.last[0]:
            self.last = (group, last)

    def _add_raw(self, kept: np.ndarray) -> None:
        if self.raw is None:
            return
        if sum(a.size for a in self.raw) + kept.size > RAW_LIMIT:
            self.raw = None
        else:
            self.raw.append(kept.copy())

    def _add_counts(self, values: np.ndarray) -> None:
        if self.counts is None:
            return
        if distinct_count(np.sort(values[:4096])) > COUNT_LIMIT:  # many values: no sort of all
            self.counts = None
            return
        ordered = np.sort(values)
        if distinct_count(ordered) > COUNT_LIMIT:  # many values: no counts (no dict built)
            self.counts = None
            return
        integer = np.dtype(self.dtype).kind in "iu"
        self._merge_counts(sorted_counts(ordered, integer=integer))

    def _merge_counts(self, counts: dict[Any, int] | None) -> None:
        if self.counts is None or counts is None:
            self.counts = None
            return
        for key, number in counts.items():
            self.counts[key] = self.counts.get(key, 0) + number
        if self.numeric and len(self.counts) > COUNT_LIMIT:
            self.counts = None

    def _add_bins(self, values: np.ndarray, grid: np.ndarray) -> None:
        at = np.searchsorted(grid, values, side="right")
        offsets = values - grid[np.maximum(at - 1, 0)]
        size = grid.size + 1
        bins = np.bincount(at, minlength=size)
        sums = np.bincount(at, weights=offsets, minlength=size)
        edges = np.bincount(at[offsets == 0], minlength=size)
        self.bins = bins if self.bins is None else self.bins + bins
        self.offsets = sums if self.offsets is None else self.offsets + sums
        self.edges = edges if self.edges is None else self.edges + edges

    def merge(self, other: Partial) -> Partial:
        """This partial with ``other``'s row groups added (in place; returns self)."""
        self.rows += other.rows
        self.missing += other.missing
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)
        if other.first is not None and (self.first is None or other.first[0] < self.first[0]):
            self.first = other.first
        if other.last is not None and (self.last is None or other.last[0] > self.last[0]):
            self.last = other.last
        if self.raw is not None:
            if other.raw is None or sum(a.size for a in self.raw + other.raw) > RAW_LIMIT:
                self.raw = None
            else:
                self.raw.extend(other.raw)
        self._merge_counts(other.counts)
        if other.picture is not None:
            if self.picture is None:
                self.picture, self.picture_range = other.picture, other.picture_range
            else:
                self.picture = self.picture + other.picture
        if other.sturges is not None:
            if self.sturges is None:
                self.sturges, self.sturges_edges = other.sturges, other.sturges_edges
            else:
                self.sturges = self.sturges + other.sturges
        if other.bins is not None:
            if self.bins is None or self.offsets is None or self.edges is None:
                self.bins, self.offsets, self.edges = other.bins, other.offsets, other.edges
            else:
                self.bins = self.bins + other.bins
                self.offsets = self.offsets + other.offsets
                self.edges = self.edges + other.edges
        return self

    def kind(self) -> str:
        """evidently's type of the whole current column (:func:`.columns.infer_kind`)."""
        name = self.dtype
        if name.startswith("float"):
            return NUMERICAL
        if name.startswith("int"):
            few = self.counts is not None and len(self.counts) <= INTEGER_CARDINALITY_LIMIT
            return CATEGORICAL if few else NUMERICAL
        if name in ("string", "str") or (name == "object" and self._strings()):
            if self.counts is None:
                return UNKNOWN
            return TEXT if len(self.counts) > self.count * 0.5 else CATEGORICAL
        if name in ("bool", "category"):
            return CATEGORICAL
        return UNKNOWN  # lists, mixed objects, datetimes: not judged by the engine

    def _strings(self) -> bool:
        if self.first is None or self.last is None:
            return False
        return isinstance(self.first[1].iloc[0], str) and isinstance(self.last[1], str)

    def head(self) -> Any:
        """A 1-row Series of the column's dtype: a value of it, or a missing one if none."""
        import pandas as pd

        if self.first is not None:
            return self.first[1].reset_index(drop=True)
        return pd.Series([None], dtype=self.dtype)


def grid_of(profile: ColumnProfile) -> np.ndarray | None:
    """The bins a numeric profile's Wasserstein needs: its distinct values (sorted)."""
    if not profile.numeric or profile.values is None or profile.values.size == 0:
        return None
    return np.unique(profile.values)


def plan_of(profile: ColumnProfile, statistics: tuple[float, float, int] | None,
            method: str | None = None) -> Plan:
    """A column's :class:`Plan`: the reference's bins, and from the current's min, max and
    count in the file's ``statistics`` the picture's range and (``method``: the policy's
    for a numerical column) Jensen-Shannon's Sturges edges, both checked against the values
    read (:func:`current_picture`, :func:`judge_stream`)."""
    grid = grid_of(profile)
    if grid is None or statistics is None or not all(map(math.isfinite, statistics[:2])):
        return Plan(grid)
    low, high, count = statistics
    edges = None
    if binned_js(profile, method) and count > 0 and profile.values is not None:
        dtype = _numpy_dtype(profile.dtype)  # the current's dtype may widen it: then checked
        edges = stattests.sturges_edges(min(float(profile.values[0]), low),
                                        max(float(profile.values[-1]), high),
                                        profile.values.size + count, dtype)
    return Plan(grid, picture_range(profile.values, low, high), edges)


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, edges)[0]`` of unsorted ``values`` without sorting them (each
    value's bin by a binary search of the edges; the last bin is closed)."""
    at = np.searchsorted(edges, values, side="right") - 1
    at[values == edges[-1]] = edges.size - 2
    inside = (at >= 0) & (at < edges.size - 1)
    return np.bincount(at[inside], minlength=edges.size - 1)


def picture_range(reference: Any, low: float, high: float) -> tuple[float, float]:
    """The range of drift's picture: both samples' min and max (a single value: width 1)."""
    if reference is not None and reference.size:
        low, high = min(float(reference[0]), low), max(float(reference[-1]), high)
    return (low, high + 1.0) if low == high else (low, high)


def current_picture(profile: ColumnProfile, partial: Partial
                    ) -> tuple[tuple[float, float], np.ndarray, bool] | None:
    """The picture's range, the current's counts over its bins, and whether they are exact.

    Exact when the range the file's statistics gave was the values' own, when the column is
    kept whole, or counted; else spread from the reference's bins (evenly within each: the
    bins are the reference's distinct values, much finer than the picture's), None without
    them.
    """
    if profile.values is None or partial.count == 0:
        return None
    span = picture_range(profile.values, partial.low, partial.high)
    if partial.picture is not None and partial.picture_range == span:
        return span, partial.picture, True
    if partial.raw is not None:
        values = np.concatenate(partial.raw).astype(np.float64) if partial.raw else np.empty(0)
        return span, np.histogram(values, PICTURE_BINS, span)[0], True
    if partial.counts is not None:
        keys = np.array([float(k) for k in partial.counts])
        weights = np.array(list(partial.counts.values()), dtype=np.float64)
        return span, np.histogram(keys, PICTURE_BINS, span, weights=weights)[0], True
    grid = grid_of(profile)
    if grid is None or partial.bins is None:
        return None
    # cumulative counts at the bins' bounds, interpolated at the picture's edges
    bounds = np.concatenate(([min(span[0], grid[0])], grid, [max(span[1], grid[-1])]))
    below = np.concatenate(([0.0], np.cumsum(partial.bins, dtype=np.float64)))
    edges = np.linspace(span[0], span[1], PICTURE_BINS + 1)
    return span, np.diff(np.interp(edges, bounds, below)), False


def frame_partials(frame: Any, group: int, plans: Mapping[str, Plan | np.ndarray | None]
                   ) -> dict[str, Partial]:
    """The partials of one row group's ``frame`` (group ``group`` of the file); ``plans``
    per column: a :class:`Plan`, or the reference's bins alone."""
    out = {}
    for column, spec in plans.items():
        plan = spec if isinstance(spec, Plan) else Plan(spec)
        series = frame[column]
        partial = Partial(dtype=series.dtype.name, numeric=is_numeric_series(series))
        partial.add(series, group, plan.grid, plan.picture, plan.sturges)
        out[column] = partial
        del series
    return out


def frame_histograms(frame: Any, group: int, edges: dict[str, np.ndarray]
                     ) -> dict[str, np.ndarray]:
    """Per column, ``np.histogram`` counts of the finite values of ``frame`` over its edges."""
    return {column: bin_counts(finite_values(frame[column]), bins)
            for column, bins in edges.items()}


def _merged(found: dict[str, Partial], partials: dict[str, Partial]) -> None:
    for column, partial in partials.items():
        if column in found:
            found[column].merge(partial)
        else:
            found[column] = partial


def _summed(found: dict[str, np.ndarray], counts: dict[str, np.ndarray]) -> None:
    for column, number in counts.items():
        found[column] = found[column] + number if column in found else number


def stream_partials(path: Path, grids: Mapping[str, Plan | np.ndarray | None],
                    workers: int | None = None, client: Any = None) -> dict[str, Partial]:
    """Every column's partial over all row groups of ``path``, on threads or a Dask client.

    Row groups are read side by side, ``workers`` (default: the cores) at a time; with a
    ``distributed`` ``client`` on the cluster (:func:`.groups.run_groups`).
    """
    found: dict[str, Partial] = {}
    run_groups(path, frame_partials, dict(grids), lambda part: _merged(found, part), workers,
               client)
    return found


def stream_histograms(path: Path, edges: dict[str, np.ndarray], workers: int | None = None,
                      client: Any = None) -> dict[str, np.ndarray]:
    """Every column's counts over its ``edges`` (a second pass, for Sturges bins)."""
    found: dict[str, np.ndarray] = {}
    run_groups(path, frame_histograms, edges, lambda part: _summed(found, part), workers,
               client)
    return found


# -- verdicts ---------------------------------------------------------------------------------


def wasserstein_binned(reference: np.ndarray, grid: np.ndarray, bins: np.ndarray,
                       offsets: np.ndarray, edges: np.ndarray | None = None
                       ) -> tuple[float, float]:
    """The first Wasserstein distance between ``reference`` (sorted) and the binned current,
    and a bound on its error.

    ``grid``: the reference's distinct values; bin ``b`` holds the current values in
    ``[grid[b-1], grid[b])`` (bin 0 below the grid, the last one from its top up), with
    their count, the sum of their offsets from the bin's left edge and (``edges``) how many
    lie on that edge. Within a bin the reference CDF is a constant ``r`` and the current's
    rises from ``lo`` (on the left edge) to ``hi``; the
    integral of the current CDF over the bin follows from the count and the offsets, so
    ``∫|r - F|`` is exact unless ``lo < r < hi``; there it lies within
    ``w·min(r - lo, hi - r)`` of the value given (the two CDFs cross in few bins; values
    that all lie on the reference's own values, as integers do, never cross).
    """
    n = float(bins.sum())
    k = grid.size
    total = (-offsets[0] + offsets[k]) / n  # below and above the reference: exact
    if k < 2:
        return float(total), 0.0
    ref_cdf = np.searchsorted(reference, grid[:-1], side="right") / reference.size
    before = np.concatenate(([0.0], np.cumsum(bins, dtype=np.float64)))
    width = np.diff(grid)
    inner = bins[1:k].astype(np.float64)
    on_edge = edges[1:k] if edges is not None else 0.0
    lo, hi = (before[1:k] + on_edge) / n, before[2 : k + 1] / n
    integral = (before[1:k] * width + inner * width - offsets[1:k]) / n
    level = ref_cdf * width
    slack = width * np.clip(np.minimum(ref_cdf - lo, hi - ref_cdf), 0.0, None)
    total += float(np.abs(level - integral).sum() + slack.sum())
    return float(total), float(slack.sum())


def ks_binned(reference: np.ndarray, grid: np.ndarray, bins: np.ndarray, edges: np.ndarray
              ) -> float:
    """``ks_2samp(reference, current).pvalue`` from the current's bins over ``grid`` (exact).

    ``bins``/``edges`` as :func:`wasserstein_binned` takes them: the current values below
    each grid value are a running sum of the bins, those at it the next bin's edge count.
    """
    count = int(bins.sum())
    below = np.cumsum(bins)[:-1]
    d = stattests.ks_statistic_counts(reference, grid, below, below + edges[1:], count)
    return stattests.ks_pvalue_of(d, reference.size, count)


def binned_js(profile: ColumnProfile, method: str | None) -> bool:
    """Whether ``method`` on a numerical column of ``profile`` is Jensen-Shannon on bins."""
    return method == "jensenshannon" and profile.numeric and profile.exact \
        and profile.n_distinct > JS_BINNED_ABOVE and profile.values is not None \
        and profile.values.size > 0


def sturges_of(profile: ColumnProfile, partial: Partial, method: str | None
               ) -> np.ndarray | None:
    """The Sturges edges of a column the policy's Jensen-Shannon bins, else None.

    evidently bins both samples together (:func:`.stattests.jensenshannon_numeric`): the
    edges follow from their joint range and size, which the first pass gives; the
    counts over them take a second pass over that column (:func:`stream_histograms`).
    """
    if not binned_js(profile, method) or partial.kind() != NUMERICAL or partial.raw is not None \
            or partial.count == 0 or profile.values is None:
        return None
    dtype = np.result_type(_numpy_dtype(profile.dtype), _numpy_dtype(partial.dtype))
    low = min(float(profile.values[0]), partial.low)
    high = max(float(profile.values[-1]), partial.high)
    return stattests.sturges_edges(low, high, profile.values.size + partial.count, dtype)


def judge_partial(profile: ColumnProfile, partial: Partial, method: str | None = None,
                  threshold: float | None = None, grid: np.ndarray | None = None,
                  histogram: tuple[np.ndarray, np.ndarray] | None = None) -> ColumnVerdict:
    """The drift of a streamed current column (``partial``) against the reference ``profile``.

    Exact where the partial holds the values or their counts, for K-S (from the bins) and
    for Jensen-Shannon on Sturges bins (``histogram``: the edges of :func:`sturges_of` and
    the current's counts over them); the Wasserstein score from bins (``score_error``: its
    bound, plus a summarised profile's). Tests the partial cannot give raise
    :class:`EngineError`; text columns :class:`NotInEngine`.
    """
    kind = partial.kind()
    if not implemented(kind, method):
        raise NotInEngine(f"column {profile.name!r} ({kind}, {method or 'default'}): evidently")
    if partial.raw is not None and partial.numeric:
        import pandas as pd

        values = np.concatenate(partial.raw) if partial.raw else np.empty(0, partial.dtype)
        return judge_column(profile, pd.Series(values, dtype=partial.dtype), method, threshold,
                            kind=kind)
    if partial.count == 0:
        raise _empty_current(profile)
    if profile.count == 0:
        raise EngineError(
            f"An empty column '{profile.name}' was provided for drift calculation in the "
            "reference dataset."
        )
    if kind == CATEGORICAL:
        if not profile.exact:
            raise _summarised(profile, method or "the default test for categorical")
        if partial.counts is None:
            raise _needs_values(profile, "counts of more than 32 values")
        name, score = categorical_on_counts(profile, partial.counts, method)
        return column_verdict(profile, kind, method, name, score, threshold)
    name = method or _numerical_default(profile, partial)
    if not profile.exact and name != "wasserstein":
        raise _summarised(profile, name)
    if name == "wasserstein":
        if grid is None or partial.bins is None or partial.offsets is None \
                or profile.values is None:
            raise _needs_values(profile, "wasserstein without the reference's values")
        w1, error = wasserstein_binned(profile.values, grid, partial.bins, partial.offsets,
                                       partial.edges)
        norm = max(float(_std(profile)), 0.001)
        verdict = column_verdict(profile, kind, method, name, w1 / norm, threshold)
        verdict.score_error = error / norm + float(profile.extra.get("score_error", 0.0))
        return verdict
    if name == "ks":
        if not profile.exact or grid is None or partial.bins is None or partial.edges is None \
                or profile.values is None:
            raise _needs_values(profile, "ks without the reference's values")
        return column_verdict(profile, kind, method, name, ks_binned(profile.values, grid,
                              partial.bins, partial.edges), threshold)
    if name == "jensenshannon" and profile.n_distinct > JS_BINNED_ABOVE:
        if histogram is None or profile.values is None or not profile.exact:
            raise _needs_values(profile, "jensenshannon on Sturges bins without its bins")
        score = stattests.jensenshannon_binned(profile.values, *histogram)
        return column_verdict(profile, kind, method, name, score, threshold)
    counted = name in ("chisquare", "z") or (
        name == "jensenshannon" and profile.n_distinct <= 20
    )
    if name == "jensenshannon" and partial.counts is None and grid is not None \
            and partial.bins is not None and partial.edges is not None and profile.exact:
        score = _on_reference_values(profile, grid, partial.edges, partial.count)
        return column_verdict(profile, kind, method, name, score, threshold)
    if not counted or partial.counts is None or not profile.exact:
        raise _needs_values(profile, name)
    return column_verdict(profile, kind, method, name,
                    _on_counts(name, profile.category_counts(), partial.counts), threshold)


def _on_reference_values(profile: ColumnProfile, grid: np.ndarray, edges: np.ndarray,
                         count: int) -> float:
    """Jensen-Shannon on value counts (a reference of at most 20 values) for a current of
    too many values to count: the bins' edge counts give the current values equal to each
    reference value; the others, none of them a reference value, only matter together
    (:func:`.stattests.jensenshannon_counts`'s ``rest``). The counted tests for few values,
    chi-square and Z, come with a current of few values (the defaults' rule), so counted."""
    at = edges[1:]  # the current values on each reference value
    current = {float(v): int(n) for v, n in zip(grid, at, strict=True) if n}
    rest = count - int(at.sum())
    return stattests.jensenshannon_counts(profile.category_counts(), current, rest)


def _same(partial: Partial, edges: np.ndarray) -> bool:
    found = partial.sturges_edges
    return found is not None and partial.sturges is not None and found.dtype == edges.dtype \
        and np.array_equal(found, edges)


def _numerical_default(profile: ColumnProfile, partial: Partial) -> str:
    """evidently's default test for a numerical column (``judge._numerical``'s rule)."""
    if not profile.exact:
        if profile.count > SMALL_REFERENCE and profile.n_distinct > 5:
            return "wasserstein"
        raise _summarised(profile, "the default test for numerical")
    if profile.n_distinct > 5:
        distinct = profile.n_distinct
    elif profile.distinct is None or partial.counts is None:
        distinct = 6
    else:
        distinct = min(6, len(set(profile.distinct) | set(partial.counts)))
    if profile.count <= SMALL_REFERENCE:
        return ("chisquare" if distinct > 2 else "z") if distinct <= 5 else "ks"
    return "jensenshannon" if distinct <= 5 else "wasserstein"


def _summarised(profile: ColumnProfile, test: str) -> EngineError:
    return EngineError(
        f"column {profile.name!r}: its profile is summarised (quantiles), which only the "
        f"Wasserstein test reads, not {test}: profile it exactly (profile_exact_rows:)"
    )


def _needs_values(profile: ColumnProfile, test: str) -> EngineError:
    return EngineError(
        f"column {profile.name!r}: {test} needs every current value, which a streamed sample "
        "does not keep; compare it without streaming (or with --sample), or leave it out "
        "with --columns"
    )


def judge_stream(
    profiles: dict[str, ColumnProfile],
    path: Path,
    columns: list[str],
    policy: DriftPolicy | None = None,
    workers: int | None = None,
    client: Any = None,
    prepare: Callable[[dict[str, Partial]], list[str]] | None = None,
) -> tuple[list[ColumnVerdict], float, dict[str, Partial]]:
    """Every column's verdict against ``profiles``, the share drifted, and the partials.

    ``columns`` are streamed from the Parquet file at ``path``; ``prepare`` (given the
    partials) may narrow them to those to judge (drift's checks), in their order.
    """
    policy = policy or DriftPolicy()
    absent = [c for c in columns if c not in profiles]
    if absent:
        raise EngineError(f"no reference profile for {', '.join(map(repr, absent))}")
    ranges = parquet.value_ranges(path, [c for c in columns if profiles[c].numeric])
    plans = {c: plan_of(profiles[c], ranges.get(c), resolve_method(policy, c, NUMERICAL))
             for c in columns}
    partials = stream_partials(path, plans, workers=workers, client=client)
    judged = prepare(partials) if prepare is not None else columns
    methods = {c: resolve_method(policy, c, partials[c].kind()) for c in judged}
    edges = {c: e for c in judged
             if (e := sturges_of(profiles[c], partials[c], methods[c])) is not None}
    # the edges the statistics gave, if they were the values' own: counted in the first pass
    counts: dict[str, np.ndarray] = {}
    for column, bins in edges.items():
        first = partials[column].sturges
        if first is not None and _same(partials[column], bins):
            counts[column] = first
    missed = {c: e for c, e in edges.items() if c not in counts}
    if missed:
        counts.update(stream_histograms(path, missed, workers, client))
    verdicts = []
    for column in judged:
        partial = partials[column]
        kind = partial.kind()
        try:
            verdict = judge_partial(
                profiles[column], partial, methods[column],
                resolve_threshold(policy, column, kind), grid=plans[column].grid,
                histogram=(edges[column], counts[column]) if column in edges else None,
            )
        except NotInEngine:
            raise EngineError(
                f"the engine cannot judge {column!r} ({kind}) from a profile (text columns and "
                "other methods than evidently's defaults need the reference data)"
            ) from None
        verdict.column = column
        verdicts.append(verdict)
    share = sum(v.drifted for v in verdicts) / len(verdicts) if verdicts else 0.0
    return verdicts, share, partials
