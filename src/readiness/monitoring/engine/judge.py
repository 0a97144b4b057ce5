"""Per-column drift verdicts and the share of drifted columns, as evidently's preset gives them.

What evidently's ``Report([DataDriftPreset(...)], include_tests=True)`` does per column
(``ValueDrift`` -> ``get_one_column_drift``), reproduced:

1. the column's type is inferred from the *current* sample (:mod:`.columns`);
2. the method is the policy's (per column, else per type, else for every column), else
   evidently's default from the cleaned reference size and the distinct values of both
   samples (``_get_default_stattest``): up to 1,000 reference values, K-S for a numerical
   column with more than 5 distinct values, chi-square for more than 2, the Z-test for 1 or
   2; above, normed Wasserstein for more than 5 and Jensen-Shannon otherwise (and for every
   categorical column);
3. the threshold is the policy's (per column, per type, for every column), else the
   method's default; the report names the method as the policy does, or by its display
   name when evidently chose it.

The dataset drifts when the share of drifted columns reaches the policy's share (0.5 by
default). Text columns, and methods the engine does not implement, are judged by evidently
itself on a frame of those columns only (:func:`evidently_verdicts`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from readiness.core.errors import ReadinessError
from readiness.core.schema import DriftPolicy
from readiness.monitoring.engine import stattests
from readiness.monitoring.engine.columns import CATEGORICAL, NUMERICAL, infer_kind
from readiness.monitoring.engine.profile import (
    ColumnProfile,
    distinct_count,
    finite_values,
    profile_column,
    sorted_counts,
    value_counts,
)

# evidently's size rule: at most this many (cleaned) reference values is a "small" reference
SMALL_REFERENCE = 1000
# the reference's distinct values above which Jensen-Shannon bins a numerical column
JS_BINNED_ABOVE = 20
DEFAULT_DRIFT_SHARE = 0.5


class EngineError(ReadinessError):
    """The engine cannot judge a column as given (evidently would refuse it too)."""


class NotInEngine(ReadinessError):
    """A column the engine leaves to evidently (a text column, a method it lacks)."""


@dataclass
class ColumnVerdict:
    """One column's drift, as the report gives it (``method``: evidently's label)."""

    column: str
    kind: str  # numerical | categorical | text
    method: str
    score: float | None
    threshold: float | None
    drifted: bool
    engine: str = "numpy"  # numpy | evidently: who computed it
    score_error: float | None = None  # against a summarised profile: |score - exact| at most

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the policy -------------------------------------------------------------------------------


def resolve_method(policy: DriftPolicy, column: str, kind: str) -> str | None:
    """The method the policy names for ``column`` (None: evidently's default choice)."""
    method = policy.method
    if kind == NUMERICAL and policy.num_method is not None:
        method = policy.num_method
    elif kind == CATEGORICAL and policy.cat_method is not None:
        method = policy.cat_method
    override = policy.columns.get(column)
    if override is not None and override.method:
        method = override.method
    return method


def resolve_threshold(policy: DriftPolicy, column: str, kind: str) -> float | None:
    """The threshold the policy sets for ``column`` (None: the method's default)."""
    override = policy.columns.get(column)
    if override is not None and override.threshold is not None:
        return float(override.threshold)
    if kind == CATEGORICAL and policy.cat_threshold is not None:
        return float(policy.cat_threshold)
    if kind == NUMERICAL and policy.num_threshold is not None:
        return float(policy.num_threshold)
    if policy.threshold is not None:
        return float(policy.threshold)
    return None


def preset_options(policy: DriftPolicy, columns: list[str]) -> dict[str, Any]:
    """``DataDriftPreset`` keyword arguments for ``columns`` under ``policy``."""
    options: dict[str, Any] = {"columns": list(columns)}
    if policy.max_drift_share is not None:
        options["drift_share"] = policy.max_drift_share
    keys = ("method", "threshold", "num_method", "cat_method", "num_threshold", "cat_threshold")
    for key in keys:
        if getattr(policy, key) is not None:
            options[key] = getattr(policy, key)
    methods = {c: o.method for c, o in policy.columns.items() if o.method and c in columns}
    thresholds = {
        c: o.threshold
        for c, o in policy.columns.items()
        if o.threshold is not None and c in columns
    }
    if methods:
        options["per_column_method"] = methods
    if thresholds:
        options["per_column_threshold"] = thresholds
    return options


def implemented(kind: str, method: str | None) -> bool:
    """Whether the engine judges a ``kind`` column with ``method`` (None: the default)."""
    if kind not in (NUMERICAL, CATEGORICAL):
        return False
    if method is None:
        return True
    return method in stattests.STATTESTS and kind in stattests.STATTESTS[method][2]


def dataset_drift(share: float, policy: DriftPolicy | None = None) -> bool:
    """The dataset verdict: the share of drifted columns reaches the policy's share."""
    limit = policy.max_drift_share if policy is not None else None
    return bool(share >= (DEFAULT_DRIFT_SHARE if limit is None else limit))


# -- one column -----------------------------------------------------------------------------------


def judge_column(
    profile: ColumnProfile,
    current: Any,
    method: str | None = None,
    threshold: float | None = None,
    kind: str | None = None,
) -> ColumnVerdict:
    """The drift of ``current`` (a pandas Series) against the reference ``profile``.

    Parameters
    ----------
    profile:
        The reference column (:func:`~readiness.monitoring.engine.profile.profile_column`).
    current:
        The current values.
    method, threshold:
        evidently's stattest name and threshold, as the policy resolves them
        (:func:`resolve_method`, :func:`resolve_threshold`); None: evidently's defaults.
    kind:
        The column's type if already inferred from ``current``.

    Raises
    ------
    NotInEngine
        A text (or unknown) column, or a method the engine does not implement.
    EngineError
        Data evidently refuses too (nothing left after dropping missing values ...).
    """
    kind = kind or infer_kind(current)
    if not implemented(kind, method):
        raise NotInEngine(f"column {profile.name!r} ({kind}, {method or 'default'}): evidently")
    if not profile.exact:
        return _on_summary(profile, current, kind, method, threshold)
    if profile.count == 0:
        raise EngineError(
            f"An empty column '{profile.name}' was provided for drift calculation in the "
            "reference dataset."
        )
    if kind == NUMERICAL:
        name, score = _numerical(profile, current, method)
    else:
        name, score = _categorical(profile, current, method)
    return column_verdict(profile, kind, method, name, score, threshold)


def column_verdict(profile: ColumnProfile, kind: str, method: str | None, name: str,
                   score: float, threshold: float | None) -> ColumnVerdict:
    """The verdict of test ``name`` scoring ``score`` on ``profile``'s column (the policy's
    ``method`` display name and ``threshold`` where it sets them, else the test's own)."""
    display, default, _ = stattests.STATTESTS[name]
    actual = default if threshold is None else float(threshold)
    return ColumnVerdict(
        column=profile.name,
        kind=kind,
        method=method if method is not None else display,
        score=score,
        threshold=actual,
        drifted=stattests.drifted(name, score, actual),
    )


def _on_summary(profile: ColumnProfile, current: Any, kind: str, method: str | None,
                threshold: float | None) -> ColumnVerdict:
    """The normed Wasserstein verdict against a summarised profile, with its error bound.

    A summary keeps quantiles, which only that test reads; it is evidently's choice for a
    numerical column of more than 1,000 reference values and 5 distinct ones (a summary is
    made only for such columns). Any other test needs the exact profile.
    """
    chosen = method
    if chosen is None and kind == NUMERICAL and profile.count > SMALL_REFERENCE \
            and profile.n_distinct > 5:
        chosen = "wasserstein"
    if chosen != "wasserstein" or kind != NUMERICAL or profile.values is None:
        raise EngineError(
            f"column {profile.name!r}: its profile is summarised (quantiles), which only the "
            f"Wasserstein test reads, not {method or 'the default test for ' + kind}: "
            "profile it exactly (a larger drift: profile_exact_rows:)"
        )
    cur = finite_values(current)
    if np.may_share_memory(cur, current.to_numpy()):
        cur = cur.copy()
    cur.sort()
    if cur.size == 0:
        raise _empty_current(profile)
    score = stattests.wasserstein_normed(profile.values, cur, _std(profile))
    display, default, _ = stattests.STATTESTS["wasserstein"]
    actual = default if threshold is None else float(threshold)
    return ColumnVerdict(
        column=profile.name,
        kind=kind,
        method=method if method is not None else display,
        score=score,
        threshold=actual,
        drifted=stattests.drifted("wasserstein", score, actual),
        score_error=float(profile.extra.get("score_error", 0.0)),
    )


def _empty_current(profile: ColumnProfile) -> EngineError:
    return EngineError(
        f"An empty column '{profile.name}' was provided for drift calculation in the current "
        "dataset."
    )


def _numerical(profile: ColumnProfile, current: Any, method: str | None) -> tuple[str, float]:
    if not profile.numeric or profile.values is None:
        raise NotInEngine(f"column {profile.name!r}: numerical now, not in the reference")
    cur = finite_values(current)
    if np.may_share_memory(cur, current.to_numpy()):
        cur = cur.copy()  # the one copy: sorted in place, the caller's data untouched
    cur.sort()
    if cur.size == 0:
        raise _empty_current(profile)
    ref = profile.values
    if method is None:
        values = _distinct_union(profile, cur)
        if profile.count <= SMALL_REFERENCE:
            method = ("chisquare" if values > 2 else "z") if values <= 5 else "ks"
        else:
            method = "jensenshannon" if values <= 5 else "wasserstein"
    if method == "ks":
        return method, stattests.ks_pvalue(ref, cur)
    if method == "wasserstein":
        return method, stattests.wasserstein_normed(ref, cur, _std(profile))
    if method == "jensenshannon" and profile.n_distinct > JS_BINNED_ABOVE:
        dtype = np.result_type(_numpy_dtype(profile.dtype), current.dtype)
        return method, stattests.jensenshannon_numeric(ref, cur, dtype)
    counts = sorted_counts(cur, integer=current.dtype.kind in "iu")
    return method, _on_counts(method, profile.category_counts(), counts)


def _std(profile: ColumnProfile) -> float:
    if profile.std is not None:
        return profile.std
    from readiness.monitoring.engine.profile import population_std

    values = profile.values if profile.values is not None else np.empty(0)
    return population_std(values, _numpy_dtype(profile.dtype))


def _numpy_dtype(name: str) -> Any:
    try:
        return np.dtype(name)
    except TypeError:  # a pandas-only dtype: its values were stored as float64
        return np.dtype(np.float64)


def _distinct_union(profile: ColumnProfile, cur: np.ndarray) -> int:
    """Distinct values of both samples together, exact up to 6 (the rules stop at 5)."""
    if profile.n_distinct > 5:
        return profile.n_distinct
    if profile.distinct is None:
        raise NotInEngine(f"column {profile.name!r}: a profile without its distinct values")
    if distinct_count(cur) > 5:
        return 6
    return len(set(profile.distinct) | set(sorted_counts(cur)))


def _categorical(profile: ColumnProfile, current: Any, method: str | None) -> tuple[str, float]:
    # a categorical current is never of a float dtype
    return categorical_on_counts(profile, value_counts(current), method)


def categorical_on_counts(profile: ColumnProfile, cur: dict[Any, int], method: str | None
                          ) -> tuple[str, float]:
    """The method and score of a categorical column from the current's value counts."""
    ref = profile.category_counts()
    if not cur:
        raise _empty_current(profile)
    if method is None:
        values_n = len(set(ref) | set(cur))
        if profile.count <= SMALL_REFERENCE:
            method = "chisquare" if values_n > 2 else "z"
        else:
            method = "jensenshannon"
    return method, _on_counts(method, ref, cur)


def _on_counts(method: str, ref: dict[Any, int], cur: dict[Any, int]) -> float:
    if method == "chisquare":
        return stattests.chisquare_pvalue(ref, cur)
    if method == "z":
        try:
            return stattests.z_pvalue(ref, cur)
        except TypeError as exc:  # values of mixed types do not sort (evidently fails alike)
            raise EngineError(f"the Z-test cannot order the values: {exc}") from None
    if method == "jensenshannon":
        return stattests.jensenshannon_counts(ref, cur)
    raise NotInEngine(f"{method} on value counts")


# -- a frame ---------------------------------------------------------------------------------------


def judge_frame(
    reference: Any,
    current: Any,
    columns: list[str],
    policy: DriftPolicy | None = None,
    workers: int | None = None,
) -> tuple[list[ColumnVerdict], float]:
    """Every column's verdict, in ``columns`` order, and the share of drifted columns.

    Parameters
    ----------
    reference:
        The reference DataFrame, or its column profiles (``profile_frame``).
    current:
        The current DataFrame.
    columns:
        The columns to judge (present in both).
    policy:
        Methods, thresholds and the dataset share (default: evidently's defaults).
    workers:
        Threads judging columns side by side (default: the available cores).

    Columns the engine does not judge (text, methods it lacks) go to evidently, on a frame
    of those columns only; with profiles instead of reference data they cannot:
    :class:`EngineError`.
    """
    policy = policy or DriftPolicy()
    plan = []
    for column in columns:
        kind = infer_kind(current[column])
        plan.append((column, kind))
    profiles = reference if isinstance(reference, dict) else None
    if profiles is not None:
        absent = [c for c in columns if c not in profiles]
        if absent:
            raise EngineError(f"no reference profile for {', '.join(map(repr, absent))}")

    def one(task: tuple[str, str]) -> ColumnVerdict | None:
        column, kind = task
        ref = profiles[column] if profiles is not None else reference[column]
        return judge_one(ref, current[column], column, policy, kind)

    threads = max(1, min(workers or cores(), len(plan)))
    if threads == 1:
        results = [one(task) for task in plan]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(one, plan))
    left = [task[0] for task, verdict in zip(plan, results, strict=True) if verdict is None]
    if left:
        if profiles is not None:
            raise not_from_profile(left)
        kinds = {task[0]: task[1] for task in plan}
        found = {v.column: v for v in evidently_verdicts(reference, current, left, policy, kinds)}
        results = [
            verdict if verdict is not None else found[task[0]]
            for task, verdict in zip(plan, results, strict=True)
        ]
    verdicts = [v for v in results if v is not None]
    share = sum(v.drifted for v in verdicts) / len(verdicts) if verdicts else 0.0
    return verdicts, share


def not_from_profile(left: list[str]) -> EngineError:
    """The error for columns only evidently judges, given a profile instead of the data."""
    return EngineError(
        f"the engine cannot judge {', '.join(map(repr, left))} from a profile (text "
        "columns and other methods than evidently's defaults need the reference data)"
    )


def judge_one(reference: Any, current: Any, column: str, policy: DriftPolicy,
              kind: str | None = None) -> ColumnVerdict | None:
    """One column's verdict under ``policy``; None: a column for evidently (text, a method
    the engine lacks).

    ``reference``: the reference values (a pandas Series, profiled here) or their profile;
    ``current``: the current values; ``kind``: evidently's type if already inferred.
    Raises :class:`EngineError` for data evidently refuses too.
    """
    kind = kind or infer_kind(current)
    method = resolve_method(policy, column, kind)
    if not implemented(kind, method):
        return None
    profile = reference if isinstance(reference, ColumnProfile) else profile_column(
        reference, name=column
    )
    try:
        verdict = judge_column(profile, current, method, resolve_threshold(policy, column, kind),
                               kind=kind)
    except NotInEngine:
        return None
    verdict.column = column  # the caller's key (a profile holds it as text)
    return verdict


def cores() -> int:
    """The cores this process may use (its affinity), the default of the engine's threads."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def evidently_verdicts(
    reference: Any,
    current: Any,
    columns: list[str],
    policy: DriftPolicy,
    kinds: dict[str, str] | None = None,
) -> list[ColumnVerdict]:
    """evidently's own verdicts for ``columns``: its preset run on a frame of those columns.

    The engine's one way to evidently (text columns, methods the engine lacks).
    """
    from readiness.integrations import evidently

    found = evidently.column_drift(
        reference[columns], current[columns], preset_options(policy, columns)
    )
    kinds = kinds or {}
    out = []
    for column in columns:
        result = found.get(column, {})
        out.append(
            ColumnVerdict(
                column=column,
                kind=kinds.get(column) or infer_kind(current[column]),
                method=result.get("method") or "-",
                score=result.get("score"),
                threshold=result.get("threshold"),
                drifted=bool(result.get("drifted")),
                engine="evidently",
            )
        )
    return out
