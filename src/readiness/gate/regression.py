"""No regression against production: the candidate and production on the same held-out rows.

Both versions are loaded (through DVC, at their tagged commits) and predict the split's
declared dataset; a paired bootstrap of each criterion metric's difference
(:func:`readiness.evidence.intervals.paired_difference`) tells a regression from noise: the
candidate regresses only when the whole interval of the difference is on the worse side
of zero. A worse point value inside the interval is "within noise" and passes. Timing is
judged on the spread of its repeated measurements. When the paired data cannot be had (no
dataset declared for the split, no label column, a model that does not load or predict),
the check falls back to comparing the two recorded point values, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from readiness.core.errors import ReadinessError
from readiness.core.project import Project
from readiness.core.schema import Config, TechnicalCriterion
from readiness.registry.versions import ModelVersion

TIMING = ("latency_p50_ms", "latency_p95_ms")


@dataclass
class Comparison:
    """One criterion's metric, candidate vs production."""

    metric: str
    split: str
    candidate: float
    production: float
    worse: bool
    method: str  # "paired bootstrap", "timing spread" or "point values"
    within_noise: bool = False
    low: float | None = None  # interval of candidate - production
    high: float | None = None
    confidence: float | None = None
    n: int | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.metric}/{self.split}"

    def describe(self, production: str) -> str:
        shown = f"{self.key}: {self.candidate:.4g} vs {self.production:.4g} in production " \
            f"({production})"
        if self.low is not None and self.high is not None:
            shown += (f", difference {self.candidate - self.production:+.4g} "
                      f"[{self.low:+.4g}, {self.high:+.4g}]")
            shown += f" at {self.confidence:.0%}" if self.confidence else ""
            shown += f", n={self.n}" if self.n else ""
        if self.within_noise:
            shown += ": within noise"
        if self.note:
            shown += f" ({self.note})"
        return shown

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "key": self.key}


@dataclass
class RegressionCheck:
    """Every criterion metric compared, and whether the paired data was available."""

    comparisons: list[Comparison] = field(default_factory=list)
    paired: bool = False
    fallback: str = ""  # why the comparison is on point values

    @property
    def worse(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.worse]

    def detail(self, production: str) -> str:
        worse = self.worse
        shown = [c.describe(production) for c in worse] or [
            c.describe(production) for c in self.comparisons if c.within_noise
        ]
        head = "; ".join(shown) or f"vs {production}"
        if self.fallback:
            head += f" (point values compared: {self.fallback})"
        return head


def _worse(direction: str, difference: float) -> bool:
    return difference < 0 if direction == "min" else difference > 0


def _point(criterion: TechnicalCriterion, new: float, old: float, note: str = "") -> Comparison:
    return Comparison(criterion.metric, criterion.split, new, old,
                      worse=_worse(criterion.direction, new - old), method="point values",
                      note=note)


def _holdout(project: Project, config: Config, split: str) -> tuple[Any, str, str]:
    """The split's rows (the dataset named like it, else the declared holdout), label, path."""
    from readiness.data.validation import read_table
    from readiness.registry.versions import sample_frame

    dataset = config.datasets.get(split)
    if dataset is not None and dataset.path:
        target = dataset.target or (config.drift.target if config.drift else None)
        if target is None:
            raise ReadinessError(f"dataset {split} declares no target column")
        return read_table(project.root / str(dataset.path)), target, str(dataset.path)
    if split != "holdout":
        raise ReadinessError(f"no dataset named {split} is declared")
    frame, target, where = sample_frame(project, None, rows=2**62)
    if target is None:
        raise ReadinessError(f"{where}: readiness.yaml declares no label column")
    return frame, target, where


def _predictions(model: Any, frame: Any, target: str, where: str) -> tuple[Any, Any]:
    from readiness.evidence.metrics import model_scores
    from readiness.registry.versions import features_for

    features = features_for(model, frame, target, where)
    try:
        return model.predict(features), model_scores(model, features)
    except Exception as exc:  # the model's own failure on these rows: no paired data
        raise ReadinessError(f"{type(exc).__name__}: {exc}") from None


def _paired(
    project: Project, config: Config, candidate: ModelVersion, current: ModelVersion,
    split: str, level: float,
) -> tuple[dict[str, dict[str, Any]], int]:
    """Each metric's paired difference (candidate - production) on ``split``'s rows."""
    from sklearn.base import is_classifier

    from readiness.evidence.intervals import paired_difference
    from readiness.registry.models import project_trusted_types
    from readiness.registry.versions import load_model

    frame, target, where = _holdout(project, config, split)
    if target not in frame.columns:
        raise ReadinessError(f"{where} has no label column {target}")
    trusted = project_trusted_types(project)
    models = [load_model(project, v.name, version=v.version, trusted=trusted)
              for v in (candidate, current)]
    (pa, sa), (pb, sb) = (_predictions(m, frame, target, where) for m in models)
    classify = all(is_classifier(m) for m in models)
    return paired_difference(
        frame[target].to_numpy(), pa, pb, sa, sb,
        task="classification" if classify else "regression",
        probabilities=all(hasattr(m, "predict_proba") for m in models),
        seed=0, level=level,
    ), len(frame)


def compare(
    project: Project, config: Config, candidate: ModelVersion, current: ModelVersion
) -> RegressionCheck:
    """Criterion by criterion: is the candidate worse than production beyond noise?"""
    out = RegressionCheck()
    paired: dict[tuple[str, float], dict[str, dict[str, Any]]] = {}  # (split, level) ->
    why: dict[str, str] = {}
    for criterion in config.criteria.technical:
        key = f"{criterion.metric}/{criterion.split}"
        new, old = candidate.metrics.get(key), current.metrics.get(key)
        if new is None or old is None:
            continue
        if criterion.metric in TIMING:
            out.comparisons.append(timing(project, criterion, candidate, current, new, old))
            continue
        level = criterion.level(config.criteria) or 0.95
        at = (criterion.split, level)
        if at not in paired and criterion.split not in why:
            try:
                paired[at], _ = _paired(project, config, candidate, current,
                                        criterion.split, level)
            except ReadinessError as exc:
                why[criterion.split] = str(exc)
        found = paired.get(at, {}).get(criterion.metric)
        if found is None or found["low"] is None:
            reason = why.get(criterion.split) or f"{criterion.metric} is not recomputed"
            out.comparisons.append(_point(criterion, new, old))
            out.fallback = "; ".join(filter(None, [out.fallback, f"{key}: {reason}"]))
            continue
        out.paired = True
        difference, low, high = found["difference"], found["low"], found["high"]
        beyond = high < 0 if criterion.direction == "min" else low > 0
        out.comparisons.append(Comparison(
            criterion.metric, criterion.split, found["a"], found["b"], worse=beyond,
            method="paired bootstrap", within_noise=_worse(criterion.direction, difference)
            and not beyond, low=low, high=high, confidence=found["confidence"], n=found["n"],
            note="both versions recomputed on today's rows",
        ))
    return out


def timing(
    project: Project, criterion: TechnicalCriterion, candidate: ModelVersion,
    current: ModelVersion, new: float, old: float,
) -> Comparison:
    """Latency: worse only beyond the spread of both versions' repeated measurements."""
    spreads = [_spread(project, v, criterion.metric, criterion.split) for v in (candidate, current)]
    if any(s is None for s in spreads):
        return _point(criterion, new, old, "no repeated timings recorded")
    (lo_a, hi_a), (lo_b, hi_b) = spreads  # type: ignore[misc]
    low, high = lo_a - hi_b, hi_a - lo_b  # the differences the two spreads allow
    beyond = high < 0 if criterion.direction == "min" else low > 0
    return Comparison(criterion.metric, criterion.split, new, old, worse=beyond,
                      method="timing spread", within_noise=_worse(criterion.direction, new - old)
                      and not beyond, low=low, high=high,
                      note="the spread of repeated timings")


def _spread(project: Project, version: ModelVersion, metric: str,
            split: str) -> tuple[float, float] | None:
    """(lowest, highest) of a run's repeated timing measurements, if it recorded them."""
    from readiness.evidence.record import latest_values
    from readiness.evidence.runs import read_run
    from readiness.evidence.verdict import timing_spread

    if not version.run_id:
        return None
    try:
        evidence = latest_values(read_run(project, version.run_id)).get((metric, split))
    except ReadinessError:
        return None
    spread = timing_spread(evidence)
    return None if spread is None else (spread[0], spread[1])
