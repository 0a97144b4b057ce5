"""What the engine keeps of one reference column: enough to judge a current column against it.

A :class:`ColumnProfile` replaces the reference data: the current sample is judged against
the profile alone. An *exact* profile holds what evidently's tests read from the reference,
after evidently's own cleaning (``±inf`` made missing, missing values dropped):

- numeric dtypes (``int*``, ``uint*``, ``float*``): every finite value, sorted (K-S,
  Wasserstein and the histogram of Jensen-Shannon read them; the category counts of the
  chi-square, Z-test and Jensen-Shannon on few values follow from them), and the population
  standard deviation computed as pandas computes it (Wasserstein's norm);
- other dtypes (strings, ``bool``, ``category``, objects): the count of every value.

A *summarised* profile (``exact`` False, :func:`summarise`) keeps, for a numeric column of a
large reference, ``points`` quantiles instead of every value, and still the exact count,
distinct count and standard deviation. Only the test evidently uses for such a column (the
normed Wasserstein distance: above 1,000 values and 5 distinct ones) reads it, and its score
then differs from the exact one by at most ``extra["score_error"]``: the Wasserstein
distance between the exact values and the quantiles (computed exactly when summarising),
over the same norm, by the triangle inequality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from readiness.monitoring.engine.columns import infer_kind

# distinct values listed in a profile up to this many (evidently's rules look at <= 5, <= 20)
DISTINCT_LIMIT = 32
SUMMARY_POINTS = 10_000  # quantiles a summarised numeric column keeps


@dataclass
class ColumnProfile:
    """One reference column, as the engine needs it (see the module docstring).

    ``rows`` counts every row, ``missing`` the missing and infinite ones (evidently drops
    both); ``count`` (a property) is what remains, the size evidently's tests see.
    """

    name: str
    dtype: str
    kind: str  # evidently's type of the reference sample itself (the current's decides)
    rows: int
    missing: int
    numeric: bool  # a numeric dtype (bool excluded): ``values`` is set, else ``counts``
    n_distinct: int
    distinct: list[Any] | None = None  # sorted, when at most DISTINCT_LIMIT
    values: np.ndarray | None = None  # sorted finite float64 values (numeric, exact)
    std: float | None = None  # population std (ddof 0) of the values, as pandas computes it
    counts: dict[Any, int] | None = None  # value -> count (non-numeric dtypes)
    exact: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # room for summarised forms

    @property
    def count(self) -> int:
        """Non-missing, finite values: the reference size evidently's tests see."""
        return self.rows - self.missing

    @property
    def integer(self) -> bool:
        """Whether the dtype is an integer one (numpy's histogram widens integer bins to 1)."""
        return _is_integer_dtype(self.dtype)

    def category_counts(self) -> dict[Any, int]:
        """Value -> count over the non-missing values (derived from ``values`` if numeric)."""
        if self.counts is not None:
            return self.counts
        if self.values is None:
            raise ValueError(f"the profile of {self.name!r} holds neither values nor counts")
        return sorted_counts(self.values, integer=self.integer)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (values as a list, counts as ``[value, count]`` pairs)."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "kind": self.kind,
            "rows": self.rows,
            "missing": self.missing,
            "numeric": self.numeric,
            "n_distinct": self.n_distinct,
            "distinct": self.distinct,
            "values": None if self.values is None else self.values.tolist(),
            "std": self.std,
            "counts": None if self.counts is None else [[k, c] for k, c in self.counts.items()],
            "exact": self.exact,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnProfile:
        """The profile :meth:`to_dict` wrote."""
        values = data.get("values")
        counts = data.get("counts")
        return cls(
            name=data["name"],
            dtype=data["dtype"],
            kind=data["kind"],
            rows=int(data["rows"]),
            missing=int(data["missing"]),
            numeric=bool(data["numeric"]),
            n_distinct=int(data["n_distinct"]),
            distinct=data.get("distinct"),
            values=None if values is None else np.asarray(values, dtype=np.float64),
            std=data.get("std"),
            counts=None if counts is None else {_key(k): int(c) for k, c in counts},
            exact=bool(data.get("exact", True)),
            extra=dict(data.get("extra") or {}),
        )


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _is_integer_dtype(name: str) -> bool:
    try:
        return np.dtype(name).kind in "iu"
    except TypeError:  # pandas-only dtypes (category, str, Int64 ...)
        return False


def is_numeric_series(series: Any) -> bool:
    """A numpy numeric dtype other than bool (the engine keeps its values)."""
    return series.dtype.kind in "iuf"


def finite_values(series: Any) -> np.ndarray:
    """The finite values of a numeric ``series`` as float64, in their order (one copy at most).

    evidently replaces ``±inf`` by missing and drops missing values before every test.
    """
    array = series.to_numpy()
    if array.dtype.kind in "iu":
        return array.astype(np.float64)  # integers are never missing nor infinite
    array = array.astype(np.float64, copy=False)
    finite = np.isfinite(array)
    return array if finite.all() else array[finite]


def population_std(values: np.ndarray, dtype: Any = np.float64) -> float:
    """``np.std`` of a pandas Series (pandas' nanvar, ddof 0), which evidently's norm uses.

    ``values``: float64 copies of values of ``dtype``; pandas keeps a float dtype's own
    precision for the count and the variance (float32 data: a float32 std).
    """
    if values.size == 0:
        return float("nan")
    kind = np.dtype(dtype)
    precision = kind if kind.kind == "f" else np.dtype(np.float64)
    count = precision.type(values.size)
    mean = values.sum(dtype=np.float64) / count
    variance = ((mean - values) ** 2).sum(dtype=np.float64) / count
    return float(np.sqrt(precision.type(variance)))


def sorted_counts(values: np.ndarray, integer: bool = False) -> dict[Any, int]:
    """Value -> count of a sorted float array (integers given back as ``int``)."""
    if values.size == 0:
        return {}
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    sizes = np.diff(np.append(starts, values.size))
    keys = values[starts]
    if integer:
        return {int(k): int(n) for k, n in zip(keys, sizes, strict=True)}
    return {float(k): int(n) for k, n in zip(keys, sizes, strict=True)}


def distinct_count(values: np.ndarray) -> int:
    """Distinct values of a sorted array."""
    if values.size == 0:
        return 0
    return int(np.count_nonzero(values[1:] != values[:-1])) + 1


def value_counts(series: Any) -> dict[Any, int]:
    """Value -> count of the non-missing values of a non-numeric ``series``.

    As evidently sees them: missing values dropped, float ``±inf`` too, categories of a
    ``category`` dtype that no row holds left out; numpy scalars given back as Python ones.
    """
    counts = series.value_counts(dropna=True, sort=False)
    out: dict[Any, int] = {}
    for key, number in zip(counts.index.tolist(), counts.to_numpy().tolist(), strict=True):
        if number <= 0 or (isinstance(key, float) and not np.isfinite(key)):
            continue
        key = key.item() if isinstance(key, np.generic) else key
        out[key] = out.get(key, 0) + int(number)
    return out


def profile_column(series: Any, name: str | None = None) -> ColumnProfile:
    """The exact profile of one reference column (a pandas Series).

    Parameters
    ----------
    series:
        The reference values.
    name:
        The column's name (default: the series' name).
    """
    rows = len(series)
    label = str(series.name if name is None else name)
    kind = infer_kind(series)
    if is_numeric_series(series):
        values = finite_values(series)
        std = population_std(values, series.dtype)
        if np.may_share_memory(values, series.to_numpy()):
            values = values.copy()  # never sort the caller's data in place
        values.sort()
        n_distinct = distinct_count(values)
        distinct = (
            list(sorted_counts(values, _is_integer_dtype(series.dtype.name)))
            if n_distinct <= DISTINCT_LIMIT
            else None
        )
        return ColumnProfile(
            name=label,
            dtype=series.dtype.name,
            kind=kind,
            rows=rows,
            missing=rows - int(values.size),
            numeric=True,
            n_distinct=n_distinct,
            distinct=distinct,
            values=values,
            std=std,
        )
    counts = value_counts(series)
    keys = list(counts)
    try:
        distinct = sorted(keys) if len(keys) <= DISTINCT_LIMIT else None
    except TypeError:  # values of mixed types do not sort
        distinct = keys if len(keys) <= DISTINCT_LIMIT else None
    return ColumnProfile(
        name=label,
        dtype=series.dtype.name,
        kind=kind,
        rows=rows,
        missing=rows - sum(counts.values()),
        numeric=False,
        n_distinct=len(counts),
        distinct=distinct,
        counts=counts,
    )


def profile_frame(
    frame: Any, columns: list[str] | None = None, exact_rows: int | None = None,
    points: int = SUMMARY_POINTS,
) -> dict[str, ColumnProfile]:
    """Profiles of ``columns`` (default: all) of a reference DataFrame.

    Exact, except with ``exact_rows``: a numeric column with more values than that (and
    more distinct ones than a profile lists) is summarised into ``points`` quantiles.
    """
    names = list(frame.columns) if columns is None else list(columns)
    out = {}
    for c in names:
        profile = profile_column(frame[c], name=str(c))
        if exact_rows is not None and profile.numeric and profile.count > exact_rows \
                and profile.distinct is None:
            profile = summarise(profile, points)
        out[str(c)] = profile
    return out


def summarise(profile: ColumnProfile, points: int = SUMMARY_POINTS) -> ColumnProfile:
    """``profile`` (exact, numeric) with ``points`` mid-quantiles in place of its values.

    ``extra``: the summary's kind, its size, the exact Wasserstein distance between the
    values and the quantiles (``w1``) and its share of the norm (``score_error``): the
    largest difference a normed Wasserstein score against the summary can have from the
    score against the values.
    """
    from readiness.monitoring.engine.stattests import wasserstein_normed

    if profile.values is None or not profile.exact:
        raise ValueError(f"the profile of {profile.name!r} is not an exact numeric one")
    values = profile.values
    if values.size <= points:
        return profile
    # the quantile at the middle of each of ``points`` equal shares of the values
    at = ((np.arange(points) + 0.5) / points * values.size).astype(np.int64)
    quantiles = values[np.minimum(at, values.size - 1)]  # sorted: a pick, no interpolation
    std = profile.std if profile.std is not None else float("nan")
    norm = max(float(std), 0.001)
    w1 = wasserstein_normed(values, quantiles, 1.0)  # un-normed: the norm of 1
    return ColumnProfile(
        name=profile.name,
        dtype=profile.dtype,
        kind=profile.kind,
        rows=profile.rows,
        missing=profile.missing,
        numeric=True,
        n_distinct=profile.n_distinct,
        distinct=None,
        values=quantiles,
        std=profile.std,
        exact=False,
        extra={"summary": "quantiles", "points": points, "w1": w1, "score_error": w1 / norm},
    )
