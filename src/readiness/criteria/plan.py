"""Planning the holdout before the PoC: how many rows the gate needs to decide.

For each technical criterion, from its required value ``r`` (the bound, tightened by
baseline + margin), its confidence ``c`` and the value the metric is expected to reach
``p`` (``--expect``, else the baseline), the plan is the smallest holdout whose interval
at ``c`` excludes ``r`` with probability ``power`` when the metric truly is ``p``:

    (z_(1+c)/2 + z_power) * se(n) <= |p - r|

``se(n)`` is the metric's standard error on ``n`` held-out rows:

* accuracy, recall, precision, balanced accuracy, F1: a proportion, ``sqrt(p (1 - p) / m)``
  over the rows it counts (normal approximation): all rows for accuracy, the positives for
  recall, the predicted positives for precision (``prevalence * recall / precision`` of the
  rows; the prevalence when recall is not expected), each class for balanced accuracy, and
  for F1 the mean of positives and predicted positives (an approximation);
* ROC AUC: the Hanley–McNeil (1982) variance with ``prevalence * n`` positives.

The sizes are the ones the gate's bootstrap interval needs in the large-sample limit: the
normal approximation is what the percentile interval tends to. Other metrics (regression
errors, log loss, latency) have no variance known before the data: they are left
unplanned, saying so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from readiness.core import audit
from readiness.core.config import load_config
from readiness.core.errors import CriteriaLockedError, UsageError
from readiness.core.fsutil import atomic_write_json, file_lock
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.core.schema import Criteria, TechnicalCriterion

DEFAULT_CONFIDENCE = 0.95
DEFAULT_POWER = 0.8
MAX_ROWS = 10**9  # beyond it the plan says "no practical holdout decides"
PROPORTIONS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1")
NEEDS_PREVALENCE = ("balanced_accuracy", "precision", "recall", "f1", "roc_auc")
METHODS = {
    "roc_auc": "Hanley-McNeil variance",
    **{name: "normal approximation of a proportion" for name in PROPORTIONS},
}


@dataclass
class PlannedCriterion:
    """The holdout one criterion needs (``rows`` None: not planned, ``note`` says why)."""

    metric: str
    split: str
    direction: str
    required: float
    expected: float | None
    confidence: float
    power: float
    rows: int | None = None
    positives: int | None = None
    method: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Plan(Renderable):
    """The holdout sizes the declared criteria need, per criterion and per split."""

    criteria: list[PlannedCriterion]
    power: float
    prevalence: float | None
    criteria_hash: str = ""
    written: bool = False
    at: str | None = None
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def splits(self) -> dict[str, dict[str, int | None]]:
        """Per split, the largest planned rows and positives (what the holdout must hold)."""
        out: dict[str, dict[str, int | None]] = {}
        for c in self.criteria:
            if c.rows is None:
                continue
            need = out.setdefault(c.split, {"rows": 0, "positives": None})
            need["rows"] = max(need["rows"] or 0, c.rows)
            if c.positives is not None:
                need["positives"] = max(need["positives"] or 0, c.positives)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "power": self.power,
            "prevalence": self.prevalence,
            "criteria_hash": self.criteria_hash,
            "criteria": [c.to_dict() for c in self.criteria],
            "splits": self.splits,
            "written": self.written,
            "at": self.at,
            "reason": self.reason,
            "warnings": self.warnings,
        }


def _z(probability: float) -> float:
    return NormalDist().inv_cdf(probability)


def _proportion_variance(p: float, share: float) -> Callable[[int], float]:
    """Variance of a proportion counted on ``share`` of ``n`` rows."""
    return lambda n: p * (1 - p) / max(share * n, 1e-12)


def auc_variance(auc: float, positives: float, negatives: float) -> float:
    """Hanley & McNeil (1982): the variance of an ROC AUC on these class counts."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    return (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)


def _variance(
    metric: str, p: float, prevalence: float | None, expected: dict[str, float]
) -> tuple[Callable[[int], float] | None, float | None, str]:
    """(variance on n rows, share of rows that are positives, why not) for ``metric``."""
    if metric == "accuracy":
        return _proportion_variance(p, 1.0), None, ""
    if prevalence is None:
        return None, None, f"{metric} depends on the share of positives: give --prevalence P"
    pi = prevalence
    if metric == "recall":
        return _proportion_variance(p, pi), pi, ""
    if metric == "precision":
        recall = expected.get("recall")
        predicted = pi * recall / p if recall is not None and p > 0 else pi
        return _proportion_variance(p, predicted), pi, ""
    if metric == "f1":
        return _proportion_variance(p, pi), pi, ""
    if metric == "balanced_accuracy":
        return (lambda n: p * (1 - p) / 4 * (1 / (pi * n) + 1 / ((1 - pi) * n))), pi, ""
    return (lambda n: auc_variance(p, pi * n, (1 - pi) * n)), pi, ""


def smallest_rows(variance: Callable[[int], float], gap: float, z: float) -> int | None:
    """The smallest n with ``z * sqrt(variance(n)) <= gap`` (variance falls with n)."""
    def enough(n: int) -> bool:
        return z * math.sqrt(max(variance(n), 0.0)) <= gap

    high = 2
    while not enough(high):
        high *= 2
        if high > MAX_ROWS:
            return None
    low = high // 2
    while low + 1 < high:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def plan_criterion(
    criterion: TechnicalCriterion,
    confidence: float,
    power: float,
    expected: dict[str, float],
    prevalence: float | None,
) -> PlannedCriterion:
    """The holdout that lets the gate decide ``criterion`` (see the module docstring)."""
    value = expected.get(criterion.metric, criterion.baseline)
    out = PlannedCriterion(
        metric=criterion.metric,
        split=criterion.split,
        direction=criterion.direction,
        required=criterion.required,
        expected=value,
        confidence=confidence,
        power=power,
        method=METHODS.get(criterion.metric, ""),
    )
    if criterion.metric not in METHODS:
        out.note = "not planned: no variance is known before the data (planned: " \
            "accuracy, balanced_accuracy, f1, precision, recall, roc_auc)"
        return out
    if value is None:
        out.note = f"no expected value: give --expect {criterion.metric}=VALUE (or a baseline)"
        return out
    if not 0 < value < 1:
        out.note = f"expected {criterion.metric} {value:g} must be between 0 and 1"
        return out
    variance, share, why = _variance(criterion.metric, value, prevalence, expected)
    if variance is None:
        out.note = why
        return out
    gap = abs(value - criterion.required)
    if gap == 0:
        out.note = "the expected value equals the required one: no holdout size decides"
        return out
    out.rows = smallest_rows(variance, gap, _z((1 + confidence) / 2) + _z(power))
    if out.rows is None:
        out.note = f"more than {MAX_ROWS:,} rows: the expected value is too close to the bound"
    elif share is not None:
        out.positives = math.ceil(out.rows * share)
    passes = value >= criterion.required if criterion.direction == "min" else \
        value <= criterion.required
    out.note = out.note or ("expected to pass" if passes else "expected to fail")
    return out


def _expectations(items: list[str] | None) -> dict[str, float]:
    out = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not sep or not name.strip() or not math.isfinite(value):
            raise UsageError(f"--expect {item!r}: give METRIC=VALUE, e.g. --expect roc_auc=0.97")
        out[name.strip()] = value
    return out


def make_plan(
    criteria: Criteria,
    expect: list[str] | dict[str, float] | None = None,
    prevalence: float | None = None,
    power: float = DEFAULT_POWER,
) -> Plan:
    """The plan of every technical criterion at its declared confidence (0.95 if none)."""
    from readiness.criteria.declaration import criteria_hash

    if not 0 < power < 1:
        raise UsageError(f"--power {power:g} must be between 0 and 1, e.g. 0.8")
    if prevalence is not None and not 0 < prevalence < 1:
        raise UsageError(f"--prevalence {prevalence:g} must be between 0 and 1, e.g. 0.3")
    expected = expect if isinstance(expect, dict) else _expectations(expect)
    known = {c.metric for c in criteria.technical}
    warnings = [f"--expect {name}: no technical criterion on it" for name in expected
                if name not in known and name != "recall"]
    planned = []
    for criterion in criteria.technical:
        level = criterion.level(criteria)
        item = plan_criterion(criterion, level or DEFAULT_CONFIDENCE, power, expected,
                              prevalence)
        if level is None and item.rows is not None:
            item.note += f"; no confidence declared: planned at {DEFAULT_CONFIDENCE:.0%}"
        planned.append(item)
    if not criteria.technical:
        warnings.append("no technical criteria: nothing to plan")
    return Plan(planned, power, prevalence, criteria_hash(criteria), warnings=warnings)


def plan(
    project: Project,
    expect: list[str] | None = None,
    prevalence: float | None = None,
    power: float = DEFAULT_POWER,
    write: bool = False,
    reason: str | None = None,
) -> Plan:
    """``readiness criteria plan``: the plan of the declared criteria, written to the lock
    with ``write`` (before evidence; after it, only with an amendment ``reason``)."""
    result = make_plan(load_config(project).criteria, expect, prevalence, power)
    if write:
        write_plan(project, result, reason)
    return result


def write_plan(project: Project, result: Plan, reason: str | None = None) -> None:
    """Put ``result`` in the criteria lock (locking the criteria first when needed).

    A plan is declared before evidence, like the criteria: once evidence exists, a new
    plan needs a reason, and the lock's history and the audit log keep it.
    """
    from readiness.criteria.declaration import _commit, read_lock

    config = load_config(project)
    lock = read_lock(project)
    if lock is None or lock.get("hash") is None:
        _commit(project, config, reason, None)  # the plan is locked with its criteria
    with file_lock(project.write_lock_path):
        lock = read_lock(project) or {}
        after = bool(lock.get("first_evidence_at"))
        if after and not (reason and reason.strip()):
            raise CriteriaLockedError(
                f"evidence exists (first {lock['first_evidence_at']}): the holdout plan was "
                'to be declared before it. Say why it changes: readiness criteria plan --write '
                '--reason "why"'
            )
        if lock.get("hash") != result.criteria_hash:
            raise CriteriaLockedError(
                "readiness.yaml criteria differ from the locked ones: declare or amend them "
                "before writing their plan"
            )
        result.written, result.at, result.reason = True, audit.now(), reason
        entry = {**result.to_dict(), "after_evidence": after}
        lock["plan"] = entry  # not in history: that lists the criteria's declarations
        atomic_write_json(project.criteria_lock_path, lock)
        audit.append(project, "criteria.planned", hash=lock["hash"], reason=reason,
                     after_evidence=after, plan=entry)


def written_plan(lock: dict[str, Any] | None) -> dict[str, Any] | None:
    """The plan the lock holds, if any."""
    found = (lock or {}).get("plan")
    return found if isinstance(found, dict) else None


def holdout_shortfalls(
    plan_entry: dict[str, Any], sizes: dict[str, tuple[int | None, int | None]]
) -> list[dict[str, Any]]:
    """Splits whose (rows, positives) are below the plan: one dict per shortfall."""
    out = []
    for split, need in (plan_entry.get("splits") or {}).items():
        rows, positives = sizes.get(split, (None, None))
        wanted_rows, wanted_pos = need.get("rows"), need.get("positives")
        short_rows = rows is not None and wanted_rows and rows < wanted_rows
        short_pos = positives is not None and wanted_pos and positives < wanted_pos
        if short_rows or short_pos:
            out.append({"split": split, "rows": rows, "planned_rows": wanted_rows,
                        "positives": positives, "planned_positives": wanted_pos})
    return out
