"""evidently's column-type inference (``evidently.core.datasets.infer_column_type``), reproduced.

evidently infers each column's type from the *current* sample alone (the report's data
definition is the current dataset's): the type decides the family of tests, the reference
then only supplies values. The rules, in evidently 0.7's order:

- a ``float*`` dtype is numerical;
- an ``int*`` dtype is categorical with at most 10 distinct values, else numerical
  (``uint*`` and the nullable ``Int64``/``Float64``/``boolean`` are *unknown*: evidently
  cannot judge them);
- ``string``/``str`` is text when it has more distinct values than half its non-missing
  count, else categorical;
- ``object`` holding strings (first and last non-missing value) follows the same rule;
  lists and tuples are a list column; anything else, or nothing but missing values, unknown;
- ``bool`` and ``category`` are categorical; ``datetime*`` is a date/time column.
"""

from __future__ import annotations

from typing import Any

NUMERICAL = "numerical"
CATEGORICAL = "categorical"
TEXT = "text"
DATETIME = "datetime"
LIST = "list"
UNKNOWN = "unknown"

# evidently.core.datasets.INTEGER_CARDINALITY_LIMIT
INTEGER_CARDINALITY_LIMIT = 10

# the short names evidently's drift options use for the column families
OPTION_KIND = {NUMERICAL: "num", CATEGORICAL: "cat", TEXT: "text"}


def infer_kind(series: Any) -> str:
    """The type evidently infers for ``series`` (a pandas Series).

    Returns one of ``numerical``, ``categorical``, ``text``, ``datetime``, ``list``,
    ``unknown``.
    """
    name = series.dtype.name
    if name.startswith("float"):
        return NUMERICAL
    if name.startswith("int"):
        return CATEGORICAL if series.nunique() <= INTEGER_CARDINALITY_LIMIT else NUMERICAL
    if name in ("string", "str"):
        return _text_or_categorical(series)
    if name == "object":
        values = series.dropna()
        if values.count() == 0:
            return UNKNOWN
        first, last = values.iloc[0], values.iloc[-1]
        if isinstance(first, str) and isinstance(last, str):
            return _text_or_categorical(series)
        if isinstance(first, (list, tuple)) and isinstance(last, (list, tuple)):
            return LIST
        return UNKNOWN
    if name in ("bool", "category"):
        return CATEGORICAL
    if name.startswith("datetime"):
        return DATETIME
    return UNKNOWN


def _text_or_categorical(series: Any) -> str:
    return TEXT if series.nunique() > series.count() * 0.5 else CATEGORICAL
