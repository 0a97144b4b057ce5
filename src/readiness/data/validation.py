"""Data quality checks: a dataset against the schema declared in ``readiness.yaml``.

The checks run on pandera (a maintained, widely used DataFrame validation library
with lazy validation that reports every failure, not just the first); this module
only translates our YAML schema into a pandera schema and its failures into a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.config import load_config
from readiness.core.errors import ReadinessError
from readiness.core.fsutil import require_file
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.core.schema import ColumnSchema, DatasetSchema

READERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


class DataValidationError(ReadinessError):
    """The data cannot be validated at all (missing file, unreadable, no schema)."""


@dataclass
class Failure:
    column: str
    rule: str
    failing: int
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ValidationResult(Renderable):
    """Whether a file satisfies its dataset schema, and every failing column and rule."""

    dataset: str
    path: str
    rows: int
    columns: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> int:
        return 0 if self.valid else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "path": self.path,
            "valid": self.valid,
            "rows": self.rows,
            "columns": self.columns,
            "failures": [f.to_dict() for f in self.failures],
        }


def read_table(path: Path) -> Any:
    """A CSV, TSV or Parquet file as a DataFrame; clear errors for what cannot be read."""
    import pandas as pd

    kind = READERS.get(path.suffix.lower())
    require_file(path, str(path), DataValidationError)
    if kind is None:
        raise DataValidationError(
            f"{path.name}: unsupported format {path.suffix or '(none)'}; use CSV, TSV or Parquet"
        )
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if kind == "tsv" else ",")
    except Exception as exc:  # pandas/pyarrow raise many parser error types
        raise DataValidationError(f"cannot read {path} as {kind.upper()}: {exc}") from None


_DTYPES = {
    "int": "int64",
    "float": "float64",
    "str": "str",
    "bool": "bool",
    "datetime": "datetime64[ns]",
    "category": "category",
}


def _readiness_type(dtype: str) -> str:
    """The type as readiness.yaml spells it (``float``), not pandas' dtype (``float64``)."""
    names = {v: k for k, v in _DTYPES.items()}
    names["Int64"] = "int"
    bare = dtype.strip().strip("'\"")
    return names.get(bare, bare)


def _column(name: str, rule: ColumnSchema) -> Any:
    import pandera.pandas as pa

    checks = []
    if rule.min is not None:
        checks.append(pa.Check.ge(rule.min, name=f"min {rule.min:g}"))
    if rule.max is not None:
        checks.append(pa.Check.le(rule.max, name=f"max {rule.max:g}"))
    if rule.allowed is not None:
        checks.append(pa.Check.isin(rule.allowed, name=f"allowed {rule.allowed}"))
    if rule.type == "number":
        checks.append(
            pa.Check(
                lambda s: s.dtype.kind in "iuf",
                element_wise=False,
                name="type number",
            )
        )
    dtype = _DTYPES.get(rule.type or "")
    if dtype == "int64" and rule.max_missing > 0:
        dtype = "Int64"  # pandas' nullable integer: missing values allowed
    return pa.Column(
        dtype,
        checks=checks,
        nullable=rule.max_missing > 0,
        unique=rule.unique,
        coerce=dtype is not None,
        required=True,
        name=name,
    )


def to_pandera(schema: DatasetSchema) -> tuple[Any, dict[str, str]]:
    """The pandera schema, and a map from table-level check names to their column."""
    import pandera.pandas as pa

    checks, owners = [], {}
    for name, rule in schema.columns.items():
        if 0 < rule.max_missing < 1:
            check_name = f"max_missing {rule.max_missing:g} ({name})"  # unique per column
            owners[check_name] = name
            checks.append(
                pa.Check(
                    lambda df, col=name, share=rule.max_missing: (
                        col not in df or float(df[col].isna().mean()) <= share
                    ),
                    name=check_name,
                )
            )
    if schema.min_rows is not None:
        checks.append(
            pa.Check(lambda df, n=schema.min_rows: len(df) >= n, name=f"min_rows {schema.min_rows}")
        )
    columns = {name: _column(name, rule) for name, rule in schema.columns.items()}
    # One key column is checked by the column itself; a table check would report it twice.
    single_key = len(schema.unique) == 1 and schema.columns[schema.unique[0]].unique
    frame = pa.DataFrameSchema(
        columns,
        checks=checks,
        strict=schema.strict,
        unique=None if single_key or not schema.unique else schema.unique,
        report_duplicates="all",
    )
    return frame, owners


def _example(value: Any) -> str:
    """A failing value as a person reads it (pandas turns integers with gaps into floats)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_BUILTIN_NAMES = {
    "greater_than_or_equal_to": "min",
    "less_than_or_equal_to": "max",
    "isin": "allowed",
}


def _failures(errors: Any, owners: dict[str, str], frame: Any) -> list[Failure]:
    cases = errors.failure_cases
    grouped: dict[tuple[str, str], Failure] = {}
    rows_seen: dict[tuple[str, str], set[Any]] = {}
    for row in cases.itertuples(index=False):
        check = str(row.check)
        column = row.column if isinstance(row.column, str) else owners.get(check, "(table)")
        if check.startswith("column_in_dataframe"):
            check = "column missing"
            column = str(row.failure_case)
        elif check.startswith("column_in_schema"):
            check, column = "column not declared (strict)", str(row.failure_case)
        elif check == "not_nullable":
            check = "missing values (max_missing 0)"
        elif check.startswith("multiple_fields_uniqueness") or check == "field_uniqueness":
            check = "unique"
        elif check.startswith("coerce_dtype") or check.startswith("dtype"):
            check = f"type {_readiness_type(check.split('(', 1)[-1].rstrip(')'))}"
        else:
            base, _, rest = check.partition("(")
            if base in _BUILTIN_NAMES:
                check = f"{_BUILTIN_NAMES[base]} {rest.rstrip(')')}"
        if isinstance(row.failure_case, str) and row.failure_case.startswith("TypeError("):
            continue  # a value check on a column whose type already failed: noise
        if check.startswith("max_missing"):
            check = check.split(" (")[0]
        key = (str(column), check)
        failure = grouped.setdefault(key, Failure(column=str(column), rule=check, failing=0))
        seen = rows_seen.setdefault(key, set())
        where = (row.index, str(row.failure_case))  # pandera may report one value twice
        if where in seen:
            continue
        seen.add(where)
        failure.failing += 1
        example = _example(row.failure_case)
        if (
            len(failure.examples) < 3
            and check != "column missing"
            and example not in failure.examples
        ):
            failure.examples.append(example)
    for f in grouped.values():  # table-level checks report "False": say what was measured
        if f.rule.startswith("min_rows"):
            f.failing, f.examples = 1, [f"{len(frame)} rows"]
        elif f.rule.startswith("max_missing") and f.column in frame:
            f.failing = int(frame[f.column].isna().sum())
            f.examples = [f"{frame[f.column].isna().mean():.1%} missing"]
    return list(grouped.values())


def validate_frame(
    frame: Any, schema: DatasetSchema, dataset: str = "", path: str = ""
) -> ValidationResult:
    """Check a DataFrame against a dataset schema (every failure, not just the first)."""
    import pandera.errors

    pandera_schema, owners = to_pandera(schema)
    result = ValidationResult(
        dataset=dataset, path=path, rows=len(frame), columns=len(frame.columns)
    )
    try:
        pandera_schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        result.failures = _failures(errors, owners, frame)
    return result


def schema_for(
    project: Project, path: Path, dataset: str | None = None
) -> tuple[str, DatasetSchema] | None:
    """The dataset schema that applies to ``path``: by name, or by its declared path."""
    datasets = load_config(project).datasets
    if dataset is not None:
        if dataset not in datasets:
            known = ", ".join(datasets) or "none declared"
            raise DataValidationError(
                f"no dataset {dataset!r} in readiness.yaml (declared: {known})"
            )
        return dataset, datasets[dataset]
    for name, schema in datasets.items():
        if schema.path and (project.root / schema.path).resolve() == path.resolve():
            return name, schema
    return None


def validate(
    project: Project, path: str | Path, dataset: str | None = None, cwd: Path | None = None
) -> ValidationResult:
    """Validate the file at ``path`` against its declared dataset schema.

    Parameters
    ----------
    project:
        The project whose ``readiness.yaml`` declares the ``datasets``.
    path:
        A CSV, TSV or Parquet file.
    dataset:
        The dataset name; by default the dataset whose ``path`` is this file.
    """
    file = Path(path) if Path(path).is_absolute() else (cwd or Path.cwd()) / path
    found = schema_for(project, file, dataset)
    if found is None:
        raise DataValidationError(
            f"no dataset in readiness.yaml declares path {path}: add one under datasets: "
            "(with path:), or name it with --dataset"
        )
    name, schema = found
    frame = read_table(file)
    return validate_frame(frame, schema, dataset=name, path=str(path))


def validate_declared(project: Project) -> list[ValidationResult]:
    """Validate every declared dataset that names its file."""
    results = []
    for name, schema in load_config(project).datasets.items():
        if schema.path:
            frame = read_table(project.root / schema.path)
            results.append(validate_frame(frame, schema, dataset=name, path=schema.path))
    return results


@dataclass
class ValidationReport(Renderable):
    """One or more datasets validated together (``readiness validate``)."""

    results: list[ValidationResult]

    @property
    def valid(self) -> bool:
        return all(r.valid for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.valid else 1

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "datasets": [r.to_dict() for r in self.results]}


def validate_inputs(project: Project, paths: list[str]) -> list[ValidationResult]:
    """Validate every declared dataset among ``paths`` (files, or folders holding them).

    Jobs call this before a kernel starts, so a model is never trained on data that
    breaks its declared schema. Inputs without a schema are not checked.
    """
    if not project.config_path.is_file():
        return []
    datasets = load_config(project).datasets
    results = []
    for path in paths:
        given = (project.root / path).resolve()
        for name, schema in datasets.items():
            if not schema.path:
                continue
            file = (project.root / schema.path).resolve()
            if not (file == given or (given.is_dir() and file.is_relative_to(given))):
                continue
            require_file(file, f"input {schema.path} (dataset {name})", DataValidationError)
            result = validate_frame(read_table(file), schema, dataset=name, path=schema.path)
            if not result.valid:
                rules = "; ".join(
                    f"{f.column}: {f.rule} ({f.failing} failing)" for f in result.failures
                )
                raise DataValidationError(f"input {schema.path} breaks the {name} schema: {rules}")
            results.append(result)
    return results
