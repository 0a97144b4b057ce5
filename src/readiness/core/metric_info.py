"""What readiness knows about metric names: which way is better, and what evaluate records.

One table, read by the criteria hints (``min:`` or ``max:``), the warning for a bound
that contradicts a metric's direction, and the "did you mean" for names that
``readiness.evaluate`` never records. Kept free of heavy imports: ``schema`` uses it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class MetricInfo:
    direction: Direction
    tasks: tuple[str, ...]  # the tasks evaluate() records it for


_CLS = ("binary", "multiclass")
_ALL = ("binary", "multiclass", "regression")

# name -> what it is; the order is the order evaluate() records them in
METRICS: dict[str, MetricInfo] = {
    "roc_auc": MetricInfo("higher", _CLS),
    "recall": MetricInfo("higher", _CLS),
    "precision": MetricInfo("higher", _CLS),
    "f1": MetricInfo("higher", _CLS),
    "accuracy": MetricInfo("higher", _CLS),
    "balanced_accuracy": MetricInfo("higher", _CLS),
    "log_loss": MetricInfo("lower", ("binary",)),
    "brier": MetricInfo("lower", ("binary",)),
    "rmse": MetricInfo("lower", ("regression",)),
    "mae": MetricInfo("lower", ("regression",)),
    "r2": MetricInfo("higher", ("regression",)),
    "mape": MetricInfo("lower", ("regression",)),
    "latency_p50_ms": MetricInfo("lower", _ALL),
    "latency_p95_ms": MetricInfo("lower", _ALL),
}

EVALUATED_METRICS: tuple[str, ...] = tuple(METRICS)

# Common spellings of the same numbers (scikit-learn's scorer names, other tools' habits).
ALIASES: dict[str, str] = {
    "auc": "roc_auc",
    "rocauc": "roc_auc",
    "roc_auc_score": "roc_auc",
    "f1_score": "f1",
    "f1_macro": "f1",
    "f1_binary": "f1",
    "precision_macro": "precision",
    "recall_macro": "recall",
    "acc": "accuracy",
    "accuracy_score": "accuracy",
    "logloss": "log_loss",
    "neg_log_loss": "log_loss",
    "brier_score": "brier",
    "brier_score_loss": "brier",
    "root_mean_squared_error": "rmse",
    "neg_root_mean_squared_error": "rmse",
    "mean_absolute_error": "mae",
    "neg_mean_absolute_error": "mae",
    "r2_score": "r2",
    "r_squared": "r2",
    "mean_absolute_percentage_error": "mape",
    "latency_ms": "latency_p95_ms",
    "latency_p95": "latency_p95_ms",
    "p95_latency_ms": "latency_p95_ms",
    "latency_p50": "latency_p50_ms",
}

# Known lower-is-better names evaluate does not record (a user records them).
_LOWER = {"mse", "msle", "rmsle", "smape", "wape", "error_rate", "hinge_loss", "max_error"}
_LOWER_SUFFIXES = ("_loss", "_error", "_ms", "_seconds", "_latency")
_HIGHER = {"average_precision", "pr_auc", "mcc", "cohen_kappa", "specificity", "auprc"}


def direction(name: str) -> Direction | None:
    """Which way is better for ``name``, when readiness knows it (None otherwise)."""
    key = name.strip().lower()
    if key in METRICS:
        return METRICS[key].direction
    if key in ALIASES:
        return METRICS[ALIASES[key]].direction
    if key in _LOWER or key.startswith("latency_") or key.endswith(_LOWER_SUFFIXES):
        return "lower"
    if key in _HIGHER or key.startswith(("f1_", "precision_", "recall_", "accuracy_")):
        return "higher"
    return None


def suggest(name: str, choices: Any = None) -> str | None:
    """The recorded name ``name`` most likely means (``f1`` for ``f1_macro``), if any."""
    names = list(choices if choices is not None else EVALUATED_METRICS)
    key = name.strip().lower()
    if key in ALIASES and ALIASES[key] in names:
        return ALIASES[key]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if close:
        return close[0]
    for suffix in ("_macro", "_micro", "_weighted", "_score", "_binary"):
        if key.endswith(suffix) and key.removesuffix(suffix) in names:
            return key.removesuffix(suffix)
    return None


def bound_word(name: str) -> str:
    """``min`` or ``max``: the bound a criterion on ``name`` takes (``min`` when unknown)."""
    return "max" if direction(name) == "lower" else "min"


def criteria_warnings(criteria: Any, recorded: Any = ()) -> list[str]:
    """Warnings about technical criteria that are valid but probably not meant.

    A ``min:`` on a lower-is-better metric (or ``max:`` on a higher-is-better one),
    and a metric name that evaluate() never records and no run has recorded.
    """
    out: list[str] = []
    known = set(EVALUATED_METRICS) | set(recorded)
    for c in getattr(criteria, "technical", ()):
        better = direction(c.metric)
        if better == "lower" and c.min is not None:
            out.append(
                f"criterion {c.metric!r}: {c.metric} is lower-is-better, but the bound is "
                f"min: {c.min:g} (did you mean max: {c.min:g}?)"
            )
        elif better == "higher" and c.max is not None:
            out.append(
                f"criterion {c.metric!r}: {c.metric} is higher-is-better, but the bound is "
                f"max: {c.max:g} (did you mean min: {c.max:g}?)"
            )
        if c.metric not in known:
            guess = suggest(c.metric, sorted(known))
            out.append(
                f"criterion {c.metric!r}: readiness.evaluate never records {c.metric!r}"
                + (f" (did you mean {guess!r}?)" if guess else "")
                + f"; record it yourself with readiness.record({c.metric!r}, value) "
                "or use a recorded name"
            )
    return out


