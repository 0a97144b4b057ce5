"""Every evidently call of readiness: the drift preset and its run, errors translated here.

evidently validates data deep inside its metrics and raises whatever they raise
(``ValueError``, ``KeyError``, ``TypeError``, numpy and scipy errors) for data it cannot
use: :func:`run` is the one place that catches them broadly, as
:class:`~readiness.core.errors.EvidentlyError`.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

from readiness.core.errors import EvidentlyError


def drift_preset(**options: Any) -> Any:
    """evidently's ``DataDriftPreset`` with ``options`` (columns, methods, thresholds)."""
    from evidently.presets import DataDriftPreset

    try:
        return DataDriftPreset(**options)
    except (TypeError, ValueError) as exc:  # an option evidently does not accept
        raise EvidentlyError(" ".join(str(exc).split())) from None


def run(preset: Any, reference: Any, current: Any) -> Any:
    """The snapshot of ``Report([preset])`` (tests on) on ``current`` against ``reference``."""
    from evidently import Report

    report = Report([preset], include_tests=True)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")  # evidently's numpy/scipy warnings on edge data
            return report.run(current, reference)
    except Exception as exc:  # evidently's metrics raise many unrelated types for unusable data
        raise EvidentlyError(str(exc)) from None


def is_text_column(values: Any) -> bool:
    """Whether evidently infers ``values`` (a pandas Series) as a text column."""
    from evidently.core.datasets import ColumnType, infer_column_type

    return infer_column_type(values) == ColumnType.Text
