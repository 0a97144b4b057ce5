"""Drift between a reference (training) sample and a current (production) sample.

The verdicts are evidently's: ``Report([DataDriftPreset(...)], include_tests=True)``'s
per-column tests and dataset verdict, computed by readiness's numpy engine
(``monitoring.engine``), which ``tests/test_drift_parity.py`` holds identical to evidently's
own run (text columns and methods the engine lacks are evidently's, run on those columns).
readiness adds what the notebook and CI need around it: inputs from files or from a
DVC-tracked version, clear errors for mismatched data (before anything is computed), the
drift policy from ``readiness.yaml``, seeded sampling for large data, missing values
and new categories next to the drift, a compact summary, and evidently's full HTML
and JSON report saved under ``reports/`` instead of inside the notebook.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import EvidentlyError, ReadinessError
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.core.schema import DriftPolicy


class DriftError(ReadinessError):
    """The two samples cannot be compared as given."""


# evidently's methods whose score is a distance (higher: more drift); the others are p-values
DISTANCE_METHODS = {
    "Energy-distance",
    "Hellinger distance",
    "Jensen-Shannon distance",
    "Kullback-Leibler divergence",
    "PSI",
    "Wasserstein distance (normed)",
}


@dataclass
class ColumnDrift:
    column: str
    kind: str  # numerical | categorical | text | datetime
    method: str
    score: float | None
    threshold: float | None
    drifted: bool
    role: str = "feature"  # feature | target | prediction
    missing_reference: float = 0.0
    missing_current: float = 0.0
    new_categories: list[str] = field(default_factory=list)
    histogram: dict[str, Any] = field(default_factory=dict)  # for the inline picture
    score_error: float | None = None  # against a summarised profile: |score - exact| at most

    @property
    def strength(self) -> float | None:
        """The score against its threshold, comparable across methods (above 1: drifted).

        evidently's distances drift when they reach the threshold; its tests when the
        p-value falls below it.
        """
        if self.score is None or not self.threshold:
            return None
        if self.method in DISTANCE_METHODS:
            return self.score / self.threshold
        return self.threshold / max(self.score, 1e-300)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("histogram")
        return out


@dataclass
class DriftResult(Renderable):
    """Dataset drift (share of drifted columns >= the policy's share) and every column."""

    dataset_drift: bool
    drift_share: float
    threshold_share: float
    columns: list[ColumnDrift]
    rows: dict[str, int]
    sample: dict[str, Any] | None = None
    skipped: list[str] = field(default_factory=list)
    report_html: str | None = None
    report_json: str | None = None
    fail_on_drift: bool = False
    renamed: dict[str, str] = field(default_factory=dict)  # true name -> name in the report
    # true column name -> {true category value -> its placeholder in the report}
    relabelled: dict[str, dict[str, str]] = field(default_factory=dict)
    streamed: bool = False  # the current sample was read row group by row group

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def exit_code(self) -> int:
        return 1 if self.fail_on_drift and self.dataset_drift else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "threshold_share": self.threshold_share,
            "drifted_columns": self.drifted_columns,
            "columns": [c.to_dict() for c in self.columns],
            "rows": self.rows,
            "sample": self.sample,
            "skipped": self.skipped,
            "report_html": self.report_html,
            "report_json": self.report_json,
            "renamed_in_report": self.renamed,
            "relabelled_in_report": self.relabelled,
            "streamed": self.streamed,
        }


# -- inputs ------------------------------------------------------------------------------


def load_frame(source: Any, project: Project | None, rev: str | None, what: str,
               names: list[str] | None = None) -> Any:
    """A DataFrame from a DataFrame, a CSV/Parquet path, or a DVC-tracked path at ``rev``.

    ``names``: of a Parquet file, read only these columns (column-wise, through pyarrow).
    """
    import pandas as pd

    from readiness.monitoring.engine import parquet

    if isinstance(source, pd.DataFrame):
        if rev is not None:
            raise DriftError(f"rev= applies to a tracked file, not to a DataFrame ({what})")
        return source
    path = Path(source)
    if rev is None and parquet.is_parquet(path):
        from readiness.core.fsutil import require_file

        require_file(path, str(path), DriftError)
        try:
            return parquet.read_columns(path, names)
        except Exception as exc:  # pyarrow raises many unrelated types for unreadable files
            raise DriftError(f"{what}: cannot read {path} as PARQUET: {exc}") from None
    if rev is None:
        from readiness.data.validation import DataValidationError, read_table

        try:
            return read_table(path)
        except DataValidationError as exc:
            raise DriftError(f"{what}: {exc}") from None
    return _read_at_revision(project, path, rev, what)


def needed_columns(source: Any, columns: list[str] | None, policy: DriftPolicy) -> list[str] | None:
    """The columns of a Parquet ``source`` that drift reads (None: all, or not Parquet).

    Those compared (``columns``, else all but ``drift: ignore:``) and those the policy
    names (its checks need them); a name the file lacks is left to the checks to report.
    """
    from readiness.monitoring.engine import parquet

    if not parquet.is_parquet(source) or not Path(source).is_file():
        return None
    if not columns and not policy.ignore:
        return None
    try:
        present = parquet.columns(Path(source))
    except Exception:  # not a readable Parquet file: reading it whole says so
        return None
    named = set(policy.columns) | {c for c in (policy.target, policy.prediction) if c}
    wanted = set(columns) if columns else {c for c in present if c not in policy.ignore}
    return [c for c in present if c in wanted or c in named]


def reference_profile(project: Project, spec: str) -> tuple[dict[str, Any], str]:
    """The profiles ``spec`` names, and a label: ``NAME@VERSION``, ``NAME`` (its production
    version), or a profile file's path."""
    from readiness.registry.profiles import ProfileError, read_profile, read_profile_file
    from readiness.registry.versions import check_name, get_version, in_stage

    if spec.endswith(".json") and "@" not in spec:
        profiles, source = read_profile_file(Path(spec))
        return profiles, f"{spec} (profile of {source})"
    name, _, version = spec.partition("@")
    check_name(name)
    if version:
        found = get_version(project, name, version if version.startswith("v") else f"v{version}")
    else:
        stage = in_stage(project, name, "production")
        if stage is None:
            raise ProfileError(f"{name} has no production version: name one, {name}@VERSION")
        found = stage
    stored = read_profile(project, found)
    if stored is None:
        raise ProfileError(
            f"{name} {found.version} has no reference profile (registered before profiles, or "
            f"without known training data): compare with the data, "
            f"readiness drift TRAIN CURRENT --rev {name}@{found.version}"
        )
    profiles, source = stored
    return profiles, f"{name} {found.version} (profile of {source})"



def _read_at_revision(project: Project | None, path: Path, rev: str, what: str) -> Any:
    """A DVC-tracked (or git-tracked) file as it was at git revision ``rev``."""
    import pandas as pd

    from readiness.integrations.dvc import DataError, read_bytes

    if project is None:
        raise DriftError(f"{what}: reading at a revision needs a project")
    try:
        relative = path.resolve().relative_to(project.root) if path.is_absolute() else path
    except ValueError:
        raise DriftError(
            f"{what}: {path} is outside the project: --rev reads tracked files"
        ) from None
    try:
        data = read_bytes(project, str(relative), rev)
    except DataError as exc:  # missing path, unknown rev, no cache
        raise DriftError(f"{what}: cannot read {relative} at revision {rev}: {exc}") from None
    try:
        if relative.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data), sep="\t" if relative.suffix == ".tsv" else ",")
    except Exception as exc:  # pandas/pyarrow parsers raise many unrelated types
        raise DriftError(f"{what}: {relative}@{rev} is not readable as a table: {exc}") from None


def _prepare(
    reference: Any, current: Any, columns: list[str] | None, policy: DriftPolicy
) -> tuple[list[str], list[str]]:
    """The columns to compare, and those skipped with a reason. Errors name the problem.

    ``reference`` is a DataFrame or a version's column profiles (a dict).
    """
    profiled = isinstance(reference, dict)
    wanted = _prepare_names(
        list(reference) if profiled else list(reference.columns),
        not reference if profiled else reference.empty,
        list(current.columns), current.empty, columns, policy,
    )
    skipped = []
    kept = []
    for column in wanted:
        reason = _check_column(column, reference[column], current[column], profiled)
        if reason is None:
            kept.append(column)
        else:
            skipped.append(reason)
    if not kept:
        raise _nothing_left(skipped)
    return kept, skipped


def _nothing_left(skipped: list[str]) -> DriftError:
    return DriftError("no column left to compare: " + "; ".join(skipped))


def _prepare_names(ref_columns: list[Any], ref_empty: bool, cur_columns: list[Any],
                   cur_empty: bool, columns: list[str] | None, policy: DriftPolicy) -> list[Any]:
    """The columns :func:`_prepare` looks at, from the two samples' column names alone."""
    if ref_empty or cur_empty:
        empty = "reference" if ref_empty else "current"
        raise DriftError(f"the {empty} data is empty: nothing to compare")
    named = {**{c: "drift: columns:" for c in policy.columns}}
    for role in ("target", "prediction"):
        if getattr(policy, role):
            named[getattr(policy, role)] = f"drift: {role}:"
    unknown = [f"{c} ({where})" for c, where in named.items() if c not in ref_columns]
    if unknown:
        raise DriftError(
            f"the drift policy names columns the data does not have: {', '.join(unknown)}"
        )
    if columns:
        missing = {
            name: [c for c in columns if c not in names]
            for name, names in (("reference", ref_columns), ("current", cur_columns))
        }
        problems = [
            f"{', '.join(cols)} not in the {name} data" for name, cols in missing.items() if cols
        ]
        if problems:
            raise DriftError("; ".join(problems))
        return list(columns)
    only_ref = [c for c in ref_columns if c not in cur_columns and c not in policy.ignore]
    only_cur = [c for c in cur_columns if c not in ref_columns and c not in policy.ignore]
    if only_ref or only_cur:
        parts = []
        if only_ref:
            parts.append(f"only in the reference: {', '.join(map(str, only_ref))}")
        if only_cur:
            parts.append(f"only in the current: {', '.join(map(str, only_cur))}")
        raise DriftError(
            "the two samples have different columns (" + "; ".join(parts) + "). Compare the "
            "shared ones with --columns, or list the others under drift: ignore: "
            "in readiness.yaml"
        )
    return [c for c in ref_columns if c not in policy.ignore]


def _check_column(column: Any, ref: Any, cur: Any, profiled: bool) -> str | None:
    """Why ``column`` is skipped (None: it is compared); a :class:`DriftError` if it cannot be.

    ``ref``: the reference Series, or its profile (``profiled``); ``cur``: the current Series.
    """
    from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

    ref_dtype = ref.dtype if profiled else ref.dtype.name
    if (str(ref_dtype).startswith("datetime") if profiled else is_datetime64_any_dtype(ref)
        ) or is_datetime64_any_dtype(cur):
        return f"{column}: a date/time column (compare derived features instead)"
    ref_missing = ref.count == 0 if profiled else ref.isna().all()
    if ref_missing or cur.isna().all():
        side = "reference" if ref_missing else "current"
        return f"{column}: every value is missing in the {side} data"
    ref_numeric = ref.numeric if profiled else is_numeric_dtype(ref)
    if ref_numeric != is_numeric_dtype(cur) and not (
        ref_dtype == "bool" or cur.dtype == bool
    ):
        kinds = ["numbers" if n else "text" for n in (ref_numeric, is_numeric_dtype(cur))]
        raise DriftError(
            f"column {column!r} holds {kinds[0]} in the reference but {kinds[1]} in the "
            "current data: fix its type, or leave it out with --columns / drift: ignore:"
        )
    return None


def _sample(frame: Any, size: int | None, seed: int) -> Any:
    if size is None or len(frame) <= size:
        return frame
    return frame.sample(n=size, random_state=seed)


# -- the evidently run -----------------------------------------------------------------------

UNSAFE_NAME_CHARS = set("<>&\"'\\`")


def _unsafe_name(name: Any) -> bool:
    text = str(name)
    return any(ch in UNSAFE_NAME_CHARS or not ch.isprintable() for ch in text)


def report_names(columns: list[Any]) -> dict[Any, str]:
    """Placeholders (``col_3``: the column's position) for names unsafe in evidently's HTML.

    evidently embeds column names raw in the ``<script>`` of its saved report, so a name
    such as ``</script><script>...`` would run when the report is opened. Only the copies
    handed to evidently are renamed; readiness's own results keep the true names.
    """
    taken = {str(c) for c in columns}
    out: dict[Any, str] = {}
    for position, column in enumerate(columns):
        if not _unsafe_name(column):
            continue
        placeholder = f"col_{position}"
        while placeholder in taken:
            placeholder += "_"
        taken.add(placeholder)
        out[column] = placeholder
    return out


def report_values(reference: Any, current: Any, columns: list[Any]) -> dict[Any, dict[str, str]]:
    """Per column, placeholders (``value_1``, ...) for category values unsafe in the HTML.

    evidently embeds category values raw in the ``<script>`` of its saved report too (the
    distributions it plots). A one-to-one relabelling changes no drift statistic: the
    counts per category are the same, and so is evidently's type for the column (the
    number of distinct values and their being text). Text columns are left alone: evidently
    compares them through a classifier on their words and embeds words, not values.
    """
    from readiness.monitoring.engine import infer_kind

    out: dict[Any, dict[str, str]] = {}
    for column in columns:
        ref, cur = reference[column], current[column]
        if not (_holds_text(ref) or _holds_text(cur)) or infer_kind(cur) == "text":
            continue
        values = {v for side in (ref, cur) for v in _categories(side) if isinstance(v, str)}
        unsafe = sorted(v for v in values if _unsafe_name(v))
        if not unsafe:
            continue
        mapping, number = {}, 0
        for value in unsafe:
            number += 1
            while f"value_{number}" in values:
                number += 1
            mapping[value] = f"value_{number}"
        out[column] = mapping
    return out


def _holds_text(series: Any) -> bool:
    return series.dtype.name in ("object", "string", "str", "category")


def _categories(series: Any) -> Any:
    if series.dtype.name == "category":
        return series.cat.categories
    return series.dropna().unique()


def _relabel(frame: Any, mapping: dict[Any, dict[str, str]]) -> Any:
    """A copy of ``frame`` with the category values of ``mapping`` replaced (dtypes kept)."""
    out = frame.copy(deep=False)  # the caller's frame and its columns stay untouched
    for column, values in mapping.items():
        series = frame[column]
        if series.dtype.name == "category":
            out[column] = series.cat.rename_categories(
                {c: values[c] for c in series.cat.categories if c in values}
            )
        else:
            relabelled = series.map(lambda v, m=values: m.get(v, v) if isinstance(v, str) else v)
            out[column] = relabelled.astype(series.dtype)
    return out


def _preset(policy: DriftPolicy, columns: list[str], names: dict[str, str] | None = None) -> Any:
    """evidently's preset for ``columns``; ``names`` maps true names to the report's."""
    from readiness.integrations import evidently

    names = names or {}
    kwargs: dict[str, Any] = {"columns": [names.get(c, c) for c in columns]}
    if policy.max_drift_share is not None:
        kwargs["drift_share"] = policy.max_drift_share
    for key in (
        "method",
        "threshold",
        "num_method",
        "cat_method",
        "num_threshold",
        "cat_threshold",
    ):
        if getattr(policy, key) is not None:
            kwargs[key] = getattr(policy, key)
    methods = {
        names.get(c, c): o.method for c, o in policy.columns.items() if o.method and c in columns
    }
    thresholds = {
        names.get(c, c): o.threshold
        for c, o in policy.columns.items()
        if o.threshold is not None and c in columns
    }
    if methods:
        kwargs["per_column_method"] = methods
    if thresholds:
        kwargs["per_column_threshold"] = thresholds
    return evidently.drift_preset(**kwargs)


def run_report(
    reference: Any,
    current: Any,
    policy: DriftPolicy,
    columns: list[str],
    names: dict[str, str] | None = None,
) -> Any:
    """evidently's Report with DataDriftPreset (current first), tests on for per-column verdicts.

    ``names`` renames columns for evidently (see ``report_names``): the frames given
    must already carry the report's names.
    """
    from readiness.integrations import evidently

    try:
        return evidently.run(_preset(policy, columns, names), reference, current)
    except EvidentlyError as exc:  # ValueError/KeyError/... for unusable data
        raise DriftError(f"evidently could not compute drift: {exc}") from None


def _column_results(snapshot: Any) -> tuple[dict[str, dict[str, Any]], float]:
    """Per column: method, threshold, score, drifted; and the share of drifted columns."""
    out: dict[str, dict[str, Any]] = {}
    share = 0.0
    for result in snapshot.metric_results.values():
        params = result.metric_value_location.metric.params
        kind = params.get("type", "")
        if kind.endswith("ValueDrift"):
            tests = getattr(result, "tests", None) or []
            out[params["column"]] = {
                "method": params.get("method"),
                "threshold": params.get("threshold"),
                "score": float(result.value) if result.value is not None else None,
                "drifted": any(str(t.status).endswith("FAIL") for t in tests),
            }
        elif kind.endswith("DriftedColumnsCount"):
            share = float(result.share.value) if hasattr(result, "share") else 0.0
    return out, share


# -- quality and pictures ----------------------------------------------------------------------


def _histogram(ref: Any, cur: Any, numeric: bool, bins: int = 16) -> dict[str, Any]:
    if numeric:
        return _numeric_histogram(ref.dropna().to_numpy(dtype=float), cur, bins)
    return _category_histogram(ref.astype(str).value_counts(normalize=True), cur)


def _numeric_histogram(r: Any, cur: Any, bins: int = 16) -> dict[str, Any]:
    """Shares of the reference values ``r`` and of ``cur`` over one set of bins."""
    import numpy as np

    c = cur.dropna().to_numpy(dtype=float)
    low, high = float(min(r.min(), c.min())), float(max(r.max(), c.max()))
    if low == high:
        high = low + 1.0
    # equal bins given as a count and a range: numpy's linear-time path (edges as an
    # array would sort every value first), the same counts
    hr = np.histogram(r, bins, (low, high))[0] / max(len(r), 1)
    hc = np.histogram(c, bins, (low, high))[0] / max(len(c), 1)
    return {
        "kind": "numeric",
        "reference": hr.round(4).tolist(),
        "current": hc.round(4).tolist(),
    }


def _category_histogram(shares: Any, cur: Any) -> dict[str, Any]:
    """The reference's eight most frequent values (``shares``, sorted) and ``cur``'s shares
    (``cur``: the values, or their shares by text already)."""
    top = shares.head(8)
    cur_share = cur if isinstance(cur, dict) else cur.astype(str).value_counts(normalize=True)
    return {
        "kind": "categorical",
        "labels": [str(v) for v in top.index],
        "reference": top.round(4).tolist(),
        "current": [round(float(cur_share.get(v, 0.0)), 4) for v in top.index],
    }


def _profile_histogram(profile: Any, cur: Any, numeric: bool) -> dict[str, Any]:
    """The picture of :func:`_histogram` from a column's profile instead of its data."""
    if numeric and profile.values is not None:
        return _numeric_histogram(profile.values, cur)
    return _category_histogram(_profile_shares(profile), cur)


def _profile_shares(profile: Any) -> Any:
    """The reference's shares of each value by text, most frequent first."""
    import pandas as pd

    counts = pd.Series({str(k): n for k, n in profile.category_counts().items()}, dtype=float)
    counts = counts.groupby(level=0).sum().sort_values(ascending=False, kind="stable")
    return counts / max(counts.sum(), 1.0)


def _streamed_histogram(profile: Any, partial: Any, numeric: bool) -> dict[str, Any]:
    """The picture of :func:`_profile_histogram` from a streamed column's merged counts
    (``approximate``: spread from the reference's bins, the file had no statistics)."""
    import numpy as np

    from readiness.monitoring.engine.stream import PICTURE_BINS, current_picture

    if numeric and profile.values is not None:
        found = current_picture(profile, partial)
        if found is None:
            return {}
        span, counts, exact = found
        reference = np.histogram(profile.values, PICTURE_BINS, span)[0]
        picture = {
            "kind": "numeric",
            "reference": (reference / max(profile.values.size, 1)).round(4).tolist(),
            "current": (counts / max(partial.count, 1)).round(4).tolist(),
        }
        return picture if exact else {**picture, "approximate": True}
    if partial.counts is None:
        return {}
    shares: dict[str, float] = {}
    for value, number in partial.counts.items():
        shares[str(value)] = shares.get(str(value), 0.0) + number
    total = max(sum(shares.values()), 1.0)
    return _category_histogram(_profile_shares(profile), {k: n / total for k, n in shares.items()})


def _new_categories(ref: Any, cur: Any, limit: int = 10) -> list[str]:
    return _unseen(set(ref.dropna().astype(str).unique()), cur, limit)


def _unseen(seen: set[str], cur: Any, limit: int = 10) -> list[str]:
    new = [v for v in cur.dropna().astype(str).unique() if v not in seen]
    return sorted(new)[:limit]


# -- column by column ------------------------------------------------------------------------


@dataclass
class _Sample:
    """One sample as the comparison reads it: a DataFrame, a Parquet file read one column
    at a time (never whole), or a version's column profiles."""

    names: list[Any]
    rows: int
    empty: bool
    frame: Any = None
    path: Path | None = None
    profiles: dict[str, Any] | None = None
    what: str = ""

    @classmethod
    def of(cls, frame: Any) -> _Sample:
        return cls(list(frame.columns), len(frame), bool(frame.empty), frame=frame)

    def column(self, name: Any) -> Any:
        """The column's values (a Series), or its profile."""
        if self.profiles is not None:
            return self.profiles[name]
        if self.frame is not None:
            return self.frame[name]
        from readiness.monitoring.engine import parquet

        assert self.path is not None
        try:
            return parquet.read_column(self.path, name)
        except Exception as exc:  # pyarrow raises many unrelated types for unreadable files
            raise DriftError(f"{self.what}: cannot read {self.path} as PARQUET: {exc}") from None

    def frame_of(self, names: list[Any]) -> Any:
        """A DataFrame of ``names`` (for evidently, which judges whole frames)."""
        if self.frame is not None:
            return self.frame[names]
        assert self.path is not None
        return load_frame(self.path, None, None, self.what, names)


def _columnwise(source: Any) -> bool:
    """Whether ``source`` is read column by column (a Parquet path; a DataFrame is in memory,
    CSV has no columns apart)."""
    from readiness.monitoring.engine import parquet

    return parquet.is_parquet(source)


def _sample_of(source: Any, project: Project | None, rev: str | None, what: str,
               columns: list[str] | None, policy: DriftPolicy, by_column: bool) -> _Sample:
    """``source`` as a :class:`_Sample`: a Parquet file's schema only (``by_column``), else
    its frame, read as :func:`load_frame` reads it."""
    if not by_column:
        names = needed_columns(source, columns, policy) if rev is None else None
        return _Sample.of(load_frame(source, project, rev, what, names))
    from readiness.core.fsutil import require_file
    from readiness.monitoring.engine import parquet

    path = Path(source)
    require_file(path, str(path), DriftError)
    try:
        present, rows = parquet.columns(path), parquet.row_count(path)
    except Exception as exc:  # pyarrow raises many unrelated types for unreadable files
        raise DriftError(f"{what}: cannot read {path} as PARQUET: {exc}") from None
    names = needed_columns(path, columns, policy)
    names = present if names is None else names
    return _Sample(names, rows, rows == 0 or not names, path=path, what=what)


@dataclass
class _Compared:
    """:func:`_compare`'s result: per column its drift, in order, and the share drifted."""

    columns: list[ColumnDrift]
    share: float
    kept: list[Any]
    skipped: list[str]  # found while comparing (a Parquet side is checked column by column)
    values: dict[Any, dict[str, str]]  # report_values of the kept columns


def _compare(ref: _Sample, cur: _Sample, wanted: list[Any], policy: DriftPolicy,
             extras: Any, checked: bool) -> _Compared:
    """Every column of ``wanted`` checked (unless ``checked``: by :func:`_prepare` already),
    judged and described by ``extras(column, verdict, ref_values, cur_values)``.

    One column of each sample per core at a time: a Parquet side is read column by column
    and each column freed once described, so its frame is never whole in memory. Errors are
    raised in the order :func:`_prepare`, then the engine would raise them. Columns the
    engine leaves to evidently are judged by it, on a frame of those columns only.
    """
    from readiness.monitoring.engine import EngineError
    from readiness.monitoring.engine.judge import (
        cores,
        evidently_verdicts,
        judge_one,
        not_from_profile,
    )

    profiled = ref.profiles is not None

    def one(column: Any) -> tuple[str, Any, dict[Any, dict[str, str]]]:
        r, c = ref.column(column), cur.column(column)
        if not checked:
            try:
                reason = _check_column(column, r, c, profiled)
            except DriftError as exc:
                return "problem", exc, {}
            if reason is not None:
                return "skipped", reason, {}
        values = {} if profiled else report_values({column: r}, {column: c}, [column])
        try:
            verdict = judge_one(r, c, column, policy)
        except EngineError as exc:  # data evidently refuses too
            return "failed", exc, values
        if verdict is None:
            from readiness.monitoring.engine import infer_kind

            return "evidently", infer_kind(c), values
        return "judged", extras(column, verdict, r, c), values

    threads = max(1, min(cores(), len(wanted)))
    if threads == 1:
        outcomes = [one(c) for c in wanted]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            outcomes = list(pool.map(one, wanted))
    for state, found, _ in outcomes:
        if state == "problem":
            raise found
    skipped = [found for state, found, _ in outcomes if state == "skipped"]
    done = {c: o for c, o in zip(wanted, outcomes, strict=True) if o[0] != "skipped"}
    if not done:
        raise _nothing_left(skipped)
    for state, found, _ in done.values():
        if state == "failed":
            raise DriftError(f"drift cannot be computed: {found}")
    kinds = {c: o[1] for c, o in done.items() if o[0] == "evidently"}
    described = {c: o[1] for c, o in done.items() if o[0] == "judged"}
    if kinds:
        left = list(kinds)
        if profiled:
            raise DriftError(f"drift cannot be computed: {not_from_profile(left)}")
        ref_left, cur_left = ref.frame_of(left), cur.frame_of(left)
        try:
            verdicts = evidently_verdicts(ref_left, cur_left, left, policy, kinds)
        except EvidentlyError as exc:  # the columns evidently judged (text, other methods)
            raise DriftError(f"evidently could not compute drift: {exc}") from None
        for verdict in verdicts:
            column = verdict.column
            described[column] = extras(column, verdict, ref_left[column], cur_left[column])
    columns = [described[c] for c in done]
    share = sum(c.drifted for c in columns) / len(columns)
    values = {c: o[2][c] for c, o in done.items() if c in o[2]}
    return _Compared(columns, share, list(done), skipped, values)


# -- the entry point -----------------------------------------------------------------------------


def drift(
    reference: Any,
    current: Any,
    columns: list[str] | None = None,
    project: Project | None = None,
    policy: DriftPolicy | None = None,
    rev: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    save: bool = True,
    fail_on_drift: bool = False,
    html: bool = False,
    stream: bool | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> DriftResult:
    """Compare ``current`` with ``reference`` column by column, with evidently's tests.

    Parameters
    ----------
    reference, current:
        DataFrames, or CSV/Parquet paths.
    columns:
        Compare only these columns (default: all shared, less ``drift.ignore``).
    project:
        The project whose ``readiness.yaml`` drift policy applies and whose ``reports/``
        receives the evidently HTML and JSON.
    policy:
        A drift policy; default: the project's, else evidently's defaults.
    rev:
        Read ``reference`` (a DVC-tracked path) as it was at this git revision, e.g. the
        training data version of the production model.
    sample:
        Compare at most this many rows of each sample, drawn with ``seed`` (large data).
    save:
        Save the result (the engine's verdicts, as ``--json`` prints them) as JSON under
        ``reports/``.
    html:
        Also run evidently for its full interactive HTML report, saved under ``reports/``
        (seconds to minutes on large data: on request only).
    stream:
        Read ``current`` (a Parquet file) one row group at a time, for a sample larger
        than memory (:mod:`readiness.monitoring.engine.stream`: the tests that allow it).
        None (default): when its data would take more than half the available memory.
    executor, scheduler:
        ``dask``: stream ``current`` on the Dask cluster at ``scheduler``, a
        ``dask.dataframe`` of one partition per row group (its workers read the file at
        the same path); ``local``: threads here.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        # numpy's random_state range: checked before any data is read
        raise DriftError(f"seed must be a whole number from 0 to {2**32 - 1}, got {seed!r}")
    policy = policy or _project_policy(project)
    if executor not in ("local", "dask"):
        raise DriftError(f"unknown executor {executor!r}: local or dask")
    if isinstance(reference, dict):  # a version's stored profiles: only the current is read
        if _streams(current, stream, executor, sample, html):
            if rev is not None:
                raise DriftError("rev= reads reference data at a revision; a profile is a "
                                 "version's own")
            return _drift_streamed(reference, current, columns, project, policy, save,
                                   fail_on_drift, executor, scheduler)
        return _drift_on_profile(reference, current, columns, project, policy, sample, seed,
                                 save, fail_on_drift, html, rev)
    if _streams(current, stream, executor, sample, html):
        from readiness.monitoring.engine import profile_column

        # exact: the verdicts are those on the data; a Parquet reference profiled a column
        # at a time (never whole)
        ref = _sample_of(reference, project, rev, "reference", columns, policy,
                         rev is None and _columnwise(reference))
        profiles = {str(c): profile_column(ref.column(c), name=str(c)) for c in ref.names}
        del ref
        return _drift_streamed(profiles, current, columns, project, policy, save,
                               fail_on_drift, executor, scheduler)
    if html and project is None:
        raise DriftError("html=True saves evidently's report under a project's reports/: "
                         "give project=")
    whole = sample is not None or html  # both need the frames in memory
    ref_file, cur_file = (
        not whole and source_rev is None and _columnwise(source)
        for source, source_rev in ((reference, rev), (current, None))
    )
    sampled = None
    if ref_file or cur_file:
        # a Parquet side is read one column per core at a time, never whole
        ref = _sample_of(reference, project, rev, "reference", columns, policy, ref_file)
        cur = _sample_of(current, project, None, "current", columns, policy, cur_file)
        kept = _prepare_names(ref.names, ref.empty, cur.names, cur.empty, columns, policy)
        skipped: list[str] = []
        rows = {"reference": ref.rows, "current": cur.rows}
    else:
        ref_frame = load_frame(reference, project, rev, "reference",
                               needed_columns(reference, columns, policy) if rev is None else None)
        cur_frame = load_frame(current, project, None, "current",
                               needed_columns(current, columns, policy))
        kept, skipped = _prepare(ref_frame, cur_frame, columns, policy)
        rows = {"reference": len(ref_frame), "current": len(cur_frame)}
        if sample is not None:
            if sample < 1:
                raise DriftError("sample must be a positive number of rows")
            ref_frame = _sample(ref_frame, sample, seed)
            cur_frame = _sample(cur_frame, sample, seed)
            sampled = {"rows": sample, "seed": seed, "reference": len(ref_frame),
                       "current": len(cur_frame)}
        ref, cur = _Sample.of(ref_frame), _Sample.of(cur_frame)

    def extras(column: str, verdict: Any, r: Any, c: Any) -> ColumnDrift:
        categorical = verdict.kind not in ("numerical", "text")
        return _column_drift(
            column, verdict, policy, c,
            missing_reference=round(float(r.isna().mean()), 4),
            new_categories=_new_categories(r, c) if categorical else [],
            histogram=_histogram(r, c, verdict.kind == "numerical"),
        )

    found = _compare(ref, cur, kept, policy, extras, checked=not (ref_file or cur_file))
    names = report_names(found.kept)
    snapshot = None
    if html and project is not None:
        # evidently writes the full report; it gets copies with safe names and values
        ref_in, cur_in = ref.frame[found.kept], cur.frame[found.kept]
        if found.values:
            ref_in, cur_in = _relabel(ref_in, found.values), _relabel(cur_in, found.values)
        if names:
            ref_in, cur_in = ref_in.rename(columns=names), cur_in.rename(columns=names)
        snapshot = run_report(ref_in, cur_in, policy, found.kept, names or None)
    result = _result(policy, found.share, found.columns, rows, sampled, skipped + found.skipped,
                     fail_on_drift)
    result.renamed = {str(k): v for k, v in names.items()}
    result.relabelled = {str(k): v for k, v in found.values.items()}
    return _saved(result, project, save, snapshot)


def _drift_on_profile(
    profiles: dict[str, Any], current: Any, columns: list[str] | None,
    project: Project | None, policy: DriftPolicy, sample: int | None, seed: int, save: bool,
    fail_on_drift: bool, html: bool, rev: str | None,
) -> DriftResult:
    """:func:`drift` against a version's column profiles instead of its training data."""
    if rev is not None:
        raise DriftError("rev= reads reference data at a revision; a profile is a version's own")
    if html:
        raise DriftError(
            "evidently's HTML report needs the reference data itself, not its profile: "
            "compare with the training data (--rev) for --html"
        )
    ref = _Sample(list(profiles), max((p.rows for p in profiles.values()), default=0),
                  not profiles, profiles=profiles)
    cur_file = sample is None and _columnwise(current)
    sampled = None
    if cur_file:
        cur = _sample_of(current, project, None, "current", columns, policy, True)
        kept = _prepare_names(ref.names, ref.empty, cur.names, cur.empty, columns, policy)
        skipped: list[str] = []
        rows = {"reference": ref.rows, "current": cur.rows}
    else:
        cur_frame = load_frame(current, project, None, "current")
        kept, skipped = _prepare(profiles, cur_frame, columns, policy)
        rows = {"reference": ref.rows, "current": len(cur_frame)}
        if sample is not None:
            if sample < 1:
                raise DriftError("sample must be a positive number of rows")
            cur_frame = _sample(cur_frame, sample, seed)
            sampled = {"rows": sample, "seed": seed, "reference": rows["reference"],
                       "current": len(cur_frame)}
        cur = _Sample.of(cur_frame)

    def extras(column: str, verdict: Any, profile: Any, c: Any) -> ColumnDrift:
        categorical = verdict.kind not in ("numerical", "text")
        seen = {str(k) for k in profile.category_counts()} if categorical else set()
        return _column_drift(
            column, verdict, policy, c,
            missing_reference=round(profile.missing / profile.rows, 4) if profile.rows else 0.0,
            new_categories=_unseen(seen, c) if categorical else [],
            histogram=_profile_histogram(profile, c, verdict.kind == "numerical"),
        )

    found = _compare(ref, cur, kept, policy, extras, checked=not cur_file)
    result = _result(policy, found.share, found.columns, rows, sampled, skipped + found.skipped,
                     fail_on_drift)
    return _saved(result, project, save, None)


def _streams(current: Any, stream: bool | None, executor: str, sample: int | None,
             html: bool) -> bool:
    """Whether ``current`` is read row group by row group (see :func:`drift`)."""
    from readiness.monitoring.engine import parquet

    asked = stream is True or executor == "dask"
    if not asked and stream is False:
        return False
    if not parquet.is_parquet(current):
        if asked:
            raise DriftError("streaming reads a Parquet file one row group at a time: give the "
                             "current sample as a .parquet path")
        return False
    if not Path(current).is_file():
        if asked:
            raise DriftError(f"current: {current} does not exist")
        return False
    if not asked:  # automatic: only what would not fit comfortably in memory
        available = _available_memory()
        try:
            size = parquet.memory_size(Path(current))
        except Exception:  # unreadable: reading it whole gives the clear error
            return False
        if available is None or size <= available / 2:
            return False
    if sample is not None:
        raise DriftError("a streamed sample is read whole, row group by row group: drop "
                         "--sample, or compare without streaming")
    if html:
        raise DriftError("evidently's HTML report needs both samples in memory: compare "
                         "without streaming (--html) or drop --html")
    return True


def _available_memory() -> int | None:
    """Bytes of memory available now (Linux), None when unknown."""
    import os

    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return None


def _drift_streamed(
    profiles: dict[str, Any], current: Any, columns: list[str] | None,
    project: Project | None, policy: DriftPolicy, save: bool, fail_on_drift: bool,
    executor: str, scheduler: str | None,
) -> DriftResult:
    """:func:`drift` of a Parquet sample read row group by row group (threads or Dask)."""
    from readiness.monitoring.engine import EngineError, parquet
    from readiness.monitoring.engine.stream import judge_stream

    path = Path(current)
    try:
        present = parquet.columns(path)
        first = parquet.read_group(path, 0, present) if parquet.group_count(path) else None
    except Exception as exc:  # pyarrow raises many unrelated types for unreadable files
        raise DriftError(f"current: cannot read {path} as PARQUET: {exc}") from None
    if first is None or parquet.row_count(path) == 0:
        raise DriftError("the current data is empty: nothing to compare")
    _prepare(profiles, first, columns, policy)  # the columns and their types, before reading
    wanted = needed_columns(path, columns, policy) or present
    streamed = [c for c in wanted if c in profiles]
    skipped: list[str] = []

    def prepare(partials: dict[str, Any]) -> list[str]:
        import pandas as pd

        heads = pd.concat({c: partials[c].head() for c in streamed}, axis=1)
        kept, why = _prepare(profiles, heads, columns, policy)
        skipped.extend(why)
        return kept

    client = None
    if executor == "dask":
        from readiness.jobs.executors import dask_client

        client = dask_client(scheduler)
    try:
        found, share, partials = judge_stream(profiles, path, streamed, policy, client=client,
                                              prepare=prepare)
    except EngineError as exc:  # data evidently refuses too, or a test that needs all values
        raise DriftError(f"drift cannot be computed: {exc}") from None
    finally:
        if client is not None:
            client.close()
    rows = {"reference": max(p.rows for p in profiles.values()),
            "current": parquet.row_count(path)}
    results = []
    for verdict in found:
        column = verdict.column
        profile, partial = profiles[column], partials[column]
        categorical = verdict.kind not in ("numerical", "text")
        seen = {str(k) for k in profile.category_counts()} if categorical else set()
        new = sorted(str(k) for k in (partial.counts or {}) if str(k) not in seen)[:10]
        drift_of = _column_drift(
            column, verdict, policy, None,
            missing_reference=round(profile.missing / profile.rows, 4) if profile.rows else 0.0,
            new_categories=new if categorical else [],
            histogram=_streamed_histogram(profile, partial, verdict.kind == "numerical"),
        )
        drift_of.missing_current = round(partial.missing / partial.rows, 4) if partial.rows \
            else 0.0
        results.append(drift_of)
    result = _result(policy, share, results, rows, None, skipped, fail_on_drift)
    result.streamed = True
    return _saved(result, project, save, None)


def _column_drift(column: str, verdict: Any, policy: DriftPolicy, cur: Any,
                  missing_reference: float, new_categories: list[str],
                  histogram: dict[str, Any]) -> ColumnDrift:
    kind = verdict.kind if verdict.kind in ("numerical", "text") else "categorical"
    role = (
        "target" if column == policy.target
        else "prediction" if column == policy.prediction
        else "feature"
    )
    return ColumnDrift(
        column=column,
        kind=kind,
        method=verdict.method or "-",
        score=verdict.score,
        threshold=verdict.threshold,
        drifted=verdict.drifted,
        role=role,
        missing_reference=missing_reference,
        missing_current=round(float(cur.isna().mean()), 4) if cur is not None else 0.0,
        new_categories=new_categories,
        histogram=histogram,
        score_error=verdict.score_error,
    )


def _result(policy: DriftPolicy, share: float, columns: list[ColumnDrift], rows: dict[str, int],
            sampled: dict[str, Any] | None, skipped: list[str], fail_on_drift: bool
            ) -> DriftResult:
    threshold_share = policy.max_drift_share if policy.max_drift_share is not None else 0.5
    return DriftResult(
        dataset_drift=share >= threshold_share,
        drift_share=share,
        threshold_share=threshold_share,
        columns=columns,
        rows=rows,
        sample=sampled,
        skipped=skipped,
        fail_on_drift=fail_on_drift,
    )


def _saved(result: DriftResult, project: Project | None, save: bool, snapshot: Any
           ) -> DriftResult:
    """``result`` with its JSON (``save``) and evidently's HTML (a snapshot) under reports/."""
    if project is not None and (save or snapshot is not None):
        stamp = audit.now().replace(":", "").replace("-", "").replace(".", "").split("+")[0]
        if snapshot is not None:
            result.report_html = _save_html(
                project, snapshot, stamp, result.renamed, result.relabelled
            )
        if save:
            result.report_json = _save_summary(project, result, stamp)
    return result


def _project_policy(project: Project | None) -> DriftPolicy:
    if project is None or not project.config_path.is_file():
        return DriftPolicy()
    from readiness.core.config import load_config

    return load_config(project).drift or DriftPolicy()


def _renamed_note(renamed: dict[str, str], relabelled: dict[str, dict[str, str]]) -> str:
    """The renamed columns and relabelled values, script-free, for the top of the report."""
    import html

    def row(*cells: str) -> str:
        return "<tr>" + "".join(f"<td><code>{html.escape(c)}</code></td>" for c in cells) + "</tr>"

    parts = []
    if renamed:
        rows = "".join(row(new, repr(old)) for old, new in renamed.items())
        parts.append(
            f"<b>readiness renamed {len(renamed)} column(s) in this report</b> (their names hold "
            "characters that would run as script inside it):"
            f"<table><tr><th>in this report</th><th>column</th></tr>{rows}</table>"
        )
    if relabelled:
        count = sum(len(v) for v in relabelled.values())
        rows = "".join(
            row(renamed.get(column, column), new, repr(old))
            for column, values in relabelled.items()
            for old, new in values.items()
        )
        parts.append(
            f"<b>readiness relabelled {count} category value(s) in this report</b> (they hold "
            "characters that would run as script inside it; the drift statistics are the same):"
            "<table><tr><th>column in this report</th><th>in this report</th><th>value</th></tr>"
            f"{rows}</table>"
        )
    return (
        "<div style='font-family:system-ui,sans-serif;font-size:13px;padding:8px;"
        "background:#fff8c5'>" + "".join(parts) + "</div>"
    )


def _report_path(project: Project, stamp: str, suffix: str) -> Path:
    folder = project.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"drift-{stamp}{suffix}"


def _save_summary(project: Project, result: DriftResult, stamp: str) -> str:
    """The result as ``--json`` prints it, under reports/ (its path relative to the root)."""
    from readiness.core.fsutil import atomic_write_json

    path = _report_path(project, stamp, ".json")
    atomic_write_json(path, result.to_dict())
    return path.relative_to(project.root).as_posix()


def _save_html(
    project: Project,
    snapshot: Any,
    stamp: str,
    renamed: dict[str, str] | None = None,
    relabelled: dict[str, dict[str, str]] | None = None,
) -> str:
    """evidently's full report as HTML under reports/ (its path relative to the root).

    With ``renamed`` columns or ``relabelled`` values, the page opens with the mapping to
    the true names and values.
    """
    path = _report_path(project, stamp, ".html")
    page = snapshot.get_html_str(as_iframe=False)  # what evidently's save_html writes
    if renamed or relabelled:
        page = page.replace("<body>", "<body>" + _renamed_note(renamed or {}, relabelled or {}), 1)
    path.write_text(page, encoding="utf-8")
    return path.relative_to(project.root).as_posix()
