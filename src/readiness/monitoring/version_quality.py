"""What the labelled rows of a window say about one model version: its figures and breaches.

``readiness monitor`` judges each version of a window with :func:`judge_quality`, the
dashboard each time bucket, the business-metric correlation each recorded period: the same
function, so the three agree on the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from readiness.monitoring.quality import MetricCheck


@dataclass
class VersionQuality:
    """What the window says about one model version."""

    version: str
    predictions: int
    reference: str | None = None  # the training data drift compares with
    drift_share: float | None = None
    drift_threshold: float | None = None
    dataset_drift: bool | None = None
    drifted_columns: list[str] = field(default_factory=list)
    drift_report: str | None = None
    prediction_drift: float | None = None
    prediction_drifted: bool | None = None
    prediction_kind: str | None = None  # probability | label
    labelled_rows: int = 0
    metrics: list[MetricCheck] = field(default_factory=list)
    not_recomputed: list[str] = field(default_factory=list)
    net_value_per_1000: float | None = None
    net_value_note: str = ""
    notes: list[str] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["metrics"] = {m.metric: {**m.contract(), "note": m.note} for m in self.metrics}
        return out


def judge_quality(
    config: Any, rows: Any, min_labelled: int, seed: int, out: VersionQuality
) -> None:
    """The labelled metrics and net value of ``rows`` into ``out`` (with their breaches)."""
    import numpy as np

    from readiness.monitoring.quality import labelled_metrics, net_value

    labelled = rows[rows["__label"].notna()]
    out.labelled_rows = len(labelled)
    y = np.asarray(labelled["__label"].to_list())
    predicted = np.asarray(labelled["__output"].to_list())
    has_proba = len(labelled) and labelled["__proba"].map(lambda p: isinstance(p, list)).all()
    proba = np.asarray(labelled["__proba"].to_list(), dtype=float) if has_proba else None
    classes = np.unique(np.concatenate([y, predicted])) if len(labelled) else None
    out.metrics, out.not_recomputed, points = labelled_metrics(
        config.criteria.technical, y, predicted, proba, classes, min_labelled, seed
    )
    for m in out.metrics:
        if m.breach:
            word = "below" if m.direction == "min" else "above"
            out.breaches.append(f"{m.metric} {m.value:.4g} {word} its bound {m.bound:g}")
    spec = config.criteria.business
    if spec is None or spec.value_per_outcome is None:
        out.net_value_note = "no value_per_outcome declared"
        return
    if points is None:
        out.net_value_note = f"too few labelled rows ({out.labelled_rows})"
        return
    out.net_value_per_1000, out.net_value_note = net_value(points, spec.value_per_outcome)
    minimum = spec.min_net_value_per_1000
    if minimum is not None and out.net_value_per_1000 is not None and \
            out.net_value_per_1000 < minimum:
        out.breaches.append(
            f"net value {out.net_value_per_1000:.1f} per 1,000 predictions below {minimum:g}"
        )
