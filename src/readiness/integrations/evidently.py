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


def column_drift(
    reference: Any, current: Any, options: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Per column of ``DataDriftPreset(**options)`` run on the two frames: its verdict.

    Each column maps to ``method`` (as the report names it), ``threshold``, ``score`` and
    ``drifted`` (its value-drift test failed). The drift engine's way to evidently for the
    columns it does not judge itself.
    """
    return value_drift(run(drift_preset(**options), reference, current))


def value_drift(snapshot: Any) -> dict[str, dict[str, Any]]:
    """The per-column ``ValueDrift`` results of a drift preset's snapshot."""
    out: dict[str, dict[str, Any]] = {}
    for result in snapshot.metric_results.values():
        params = result.metric_value_location.metric.params
        if not str(params.get("type", "")).endswith("ValueDrift"):
            continue
        tests = getattr(result, "tests", None) or []
        out[params["column"]] = {
            "method": params.get("method"),
            "threshold": params.get("threshold"),
            "score": float(result.value) if result.value is not None else None,
            "drifted": any(str(t.status).endswith("FAIL") for t in tests),
        }
    return out
