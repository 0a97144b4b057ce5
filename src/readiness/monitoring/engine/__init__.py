"""A numpy/scipy drift engine with evidently's verdicts (evidently 0.7's default tests).

``judge_frame(reference, current, columns, policy)`` gives per column what
``Report([DataDriftPreset(...)], include_tests=True)`` gives (method, score, threshold,
drifted) and the share of drifted columns, without importing evidently; the reference may
be the data or its column profiles (``profile_frame``). Text columns and methods the
engine lacks go to evidently for those columns only. ``tests/test_drift_parity.py`` holds
it to evidently's results.
"""

from __future__ import annotations

from readiness.monitoring.engine.columns import infer_kind
from readiness.monitoring.engine.judge import (
    ColumnVerdict,
    EngineError,
    NotInEngine,
    dataset_drift,
    evidently_verdicts,
    implemented,
    judge_column,
    judge_frame,
    preset_options,
    resolve_method,
    resolve_threshold,
)
from readiness.monitoring.engine.profile import ColumnProfile, profile_column, profile_frame

__all__ = [
    "ColumnProfile",
    "ColumnVerdict",
    "EngineError",
    "NotInEngine",
    "dataset_drift",
    "evidently_verdicts",
    "implemented",
    "infer_kind",
    "judge_column",
    "judge_frame",
    "preset_options",
    "profile_column",
    "profile_frame",
    "resolve_method",
    "resolve_threshold",
]
