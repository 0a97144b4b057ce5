"""The request schema of a served model: its features, and the rules each value must keep.

The features are the model's own (``feature_names_in_``), else the columns of its training
dataset but the label. Each feature's rules come from the ``datasets:`` of readiness.yaml
(the training dataset first); a feature no dataset declares gets its type from the
declared data file when one is readable (a numeric column takes numbers, a text column
text). Rows are checked here, in plain Python, because a request of one row must not pay
for a DataFrame validation library; every broken rule is reported with the row index,
the field and the rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.errors import ReadinessError

MAX_PROBLEMS = 100  # a 10,000-row request of garbage gets the first hundred, and the count
INFERRED_FROM_ROWS = 1000  # rows of a declared data file read to type the undeclared features


class FeaturesError(ReadinessError):
    """The served model's features or their rules cannot be established."""


@dataclass(frozen=True)
class FieldRule:
    """What one feature's value must be (readiness.yaml's column rules, in JSON terms)."""

    name: str
    type: str | None = None  # int, float, number, str, bool, datetime, category; None: any scalar
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None
    nullable: bool = False
    source: str = ""  # where the rule was declared or inferred

    def problem(self, value: Any) -> str | None:
        """The rule ``value`` breaks, in words, or None."""
        if value is None:
            return None if self.nullable else "required: null is not allowed"
        kind = self.type
        if isinstance(value, (dict, list)):
            return f"type {kind or 'scalar'}: got {_json_type(value)}"
        if kind in ("int", "float", "number"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"type {kind}: got {_json_type(value)}"
            if isinstance(value, float) and not math.isfinite(value):
                return f"type {kind}: got a non-finite number"
            if kind == "int" and isinstance(value, float) and not value.is_integer():
                return f"type int: got {value!r}"
        elif kind in ("str", "category"):
            if not isinstance(value, str):
                return f"type {kind}: got {_json_type(value)}"
        elif kind == "bool":
            if not isinstance(value, bool):
                return f"type bool: got {_json_type(value)}"
        elif kind == "datetime" and not (isinstance(value, str) and _is_datetime(value)):
            return "type datetime: expected an ISO 8601 date or time text"
        if self.min is not None and _number(value) and value < self.min:
            return f"min {self.min:g}: got {value!r}"
        if self.max is not None and _number(value) and value > self.max:
            return f"max {self.max:g}: got {value!r}"
        if self.allowed is not None and value not in self.allowed:
            more = ", ..." if len(self.allowed) > 10 else ""
            shown = ", ".join(map(repr, self.allowed[:10])) + more
            return f"allowed [{shown}]: got {value!r}"
        return None

    def json_schema(self) -> dict[str, Any]:
        types = {
            "int": "integer",
            "float": "number",
            "number": "number",
            "str": "string",
            "category": "string",
            "bool": "boolean",
            "datetime": "string",
        }
        out: dict[str, Any] = {}
        if self.type in types:
            out["type"] = [types[self.type], "null"] if self.nullable else types[self.type]
        if self.type == "datetime":
            out["format"] = "date-time"
        if self.min is not None:
            out["minimum"] = self.min
        if self.max is not None:
            out["maximum"] = self.max
        if self.allowed is not None:
            out["enum"] = list(self.allowed)
        return out


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a text"
    return type(value).__name__


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_datetime(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Problem:
    """One broken rule: row index, field, rule."""

    row: int
    field: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "rule": self.rule}


@dataclass
class RequestSchema:
    """The features a served model predicts from, in its order, and their rules."""

    features: list[str]
    rules: dict[str, FieldRule] = field(default_factory=dict)
    strict: bool = False  # refuse fields that are not features (the dataset's ``strict:``)
    sources: list[str] = field(default_factory=list)
    label_rule: FieldRule | None = None  # what feedback labels must be (the dataset's target)

    def problems(self, rows: Any, max_rows: int) -> tuple[list[Problem], int]:
        """The broken rules of ``rows`` (the first :data:`MAX_PROBLEMS`) and their count."""
        if not isinstance(rows, list):
            return [Problem(-1, "rows", "rows must be a list of objects, one per row")], 1
        if not rows:
            return [Problem(-1, "rows", "rows is empty: send at least one row")], 1
        if len(rows) > max_rows:
            return [Problem(-1, "rows", f"at most {max_rows} rows per request: got {len(rows)}")], 1
        found: list[Problem] = []
        count = 0
        features, rules, known = self.features, self.rules, set(self.features)
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                count += 1
                if len(found) < MAX_PROBLEMS:
                    found.append(Problem(index, "", f"a row is an object: got {_json_type(row)}"))
                continue
            for name in features:
                if name not in row:
                    reason: str | None = "missing"
                else:
                    rule = rules.get(name)
                    reason = rule.problem(row[name]) if rule else _scalar_problem(row[name])
                if reason:
                    count += 1
                    if len(found) < MAX_PROBLEMS:
                        found.append(Problem(index, name, reason))
            if self.strict and len(row) > len(features):
                for name in row:
                    if name not in known:
                        count += 1
                        if len(found) < MAX_PROBLEMS:
                            found.append(Problem(index, str(name), "unknown field (strict schema)"))
        return found, count

    def frame(self, rows: list[dict[str, Any]]) -> Any:
        """Checked rows as the DataFrame the model predicts from (its columns, its order)."""
        import pandas as pd

        return pd.DataFrame.from_records(rows, columns=self.features)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of one row (what ``GET /v1/models/NAME`` shows clients)."""
        props = {n: (self.rules[n].json_schema() if n in self.rules else {}) for n in self.features}
        return {
            "type": "object",
            "required": list(self.features),
            "properties": props,
            "additionalProperties": not self.strict,
        }


def _scalar_problem(value: Any) -> str | None:
    return f"type scalar: got {_json_type(value)}" if isinstance(value, (dict, list)) else None


# -- building the schema -------------------------------------------------------------------------


def model_features(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else None


def _ordered_datasets(config: Any, training_path: str | None) -> list[tuple[str, Any]]:
    """Declared datasets, the model's training data first, then names that say train."""
    items = list(config.datasets.items()) if config is not None else []

    def rank(item: tuple[str, Any]) -> int:
        name, schema = item
        if training_path and schema.path and Path(schema.path) == Path(training_path):
            return 0
        return 1 if "train" in (name + (schema.path or "")).lower() else 2

    return sorted(items, key=rank)


def build_schema(
    model: Any,
    config: Any,
    root: Path,
    training_path: str | None = None,
    model_label: str = "the model",
) -> RequestSchema:
    """The request schema of ``model`` from readiness.yaml's datasets (``config``)."""
    datasets = _ordered_datasets(config, training_path)
    features = model_features(model)
    if features is None:
        features = _features_from_datasets(datasets)
    if not features:
        raise FeaturesError(
            f"{model_label} records no feature names (feature_names_in_: fit it on a DataFrame) "
            "and no declared dataset names its columns: declare datasets: {NAME: {path: ..., "
            "columns: {...}, target: LABEL}} in readiness.yaml"
        )
    rules: dict[str, FieldRule] = {}
    sources: list[str] = []
    strict = False
    for name, schema in datasets:
        declared = [f for f in features if f in schema.columns and f not in rules]
        for feature in declared:
            rules[feature] = _declared_rule(feature, schema.columns[feature], f"datasets.{name}")
        if declared:
            sources.append(f"datasets.{name} ({len(declared)} feature(s))")
            strict = strict or schema.strict
    undeclared = [f for f in features if f not in rules]
    if undeclared:
        inferred, where = _inferred_rules(undeclared, datasets, root)
        rules.update(inferred)
        if inferred:
            sources.append(f"types inferred from {where} ({len(inferred)} feature(s))")
    return RequestSchema(
        features=features,
        rules=rules,
        strict=strict,
        sources=sources,
        label_rule=_label_rule(datasets),
    )


def _label_rule(datasets: Sequence[tuple[str, Any]]) -> FieldRule | None:
    for name, schema in datasets:
        if schema.target is not None and schema.target in schema.columns:
            rule = _declared_rule(schema.target, schema.columns[schema.target], f"datasets.{name}")
            return dataclasses.replace(rule, nullable=False)
    return None


def _features_from_datasets(datasets: Sequence[tuple[str, Any]]) -> list[str] | None:
    for _name, schema in datasets:
        if schema.target is not None:
            return [c for c in schema.columns if c != schema.target]
    return None


def _declared_rule(name: str, column: Any, source: str) -> FieldRule:
    allowed = tuple(column.allowed) if column.allowed is not None else None
    return FieldRule(
        name=name,
        type=column.type,
        min=column.min,
        max=column.max,
        allowed=allowed,
        nullable=column.max_missing > 0,
        source=source,
    )


def _inferred_rules(
    features: list[str], datasets: Sequence[tuple[str, Any]], root: Path
) -> tuple[dict[str, FieldRule], str]:
    """Types of undeclared features from the first readable declared data file holding them."""
    from readiness.data.validation import DataValidationError, read_table

    for _name, schema in datasets:
        if not schema.path:
            continue
        path = root / schema.path
        if not path.is_file():
            continue
        try:
            sample = read_table(path).head(INFERRED_FROM_ROWS)
        except DataValidationError:
            continue
        present = [f for f in features if f in sample.columns]
        if not present:
            continue
        return {f: _rule_of_column(f, sample[f], schema.path) for f in present}, schema.path
    return {}, ""


def _rule_of_column(name: str, column: Any, source: str) -> FieldRule:
    kind = column.dtype.kind
    nullable = bool(column.isna().any())
    if kind == "b":
        type_ = "bool"
    elif kind in "iuf":
        type_ = "number"
    elif kind == "M":
        type_ = "datetime"
    else:
        type_ = "str"
    return FieldRule(name=name, type=type_, nullable=nullable, source=f"inferred from {source}")
