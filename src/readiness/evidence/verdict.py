"""``readiness check``: the success criteria against the latest evidence, and a verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from readiness.core import numbers
from readiness.core.config import load_config
from readiness.core.errors import EvidenceError
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.core.schema import BusinessCriteria, Criteria, TechnicalCriterion
from readiness.criteria import business
from readiness.criteria.declaration import amendments, criteria_hash, lock_problem, read_lock
from readiness.evidence.record import Evidence, latest_values
from readiness.evidence.runs import latest_run_with_evidence, read_run


@dataclass
class CriterionResult:
    """One technical criterion judged against the evidence."""

    metric: str
    split: str
    direction: str
    threshold: float
    required: float
    observed: float | None
    passed: bool
    baseline: float | None = None
    min_margin: float | None = None
    margin: float | None = None
    changed_after_results: bool = False
    reason: str = ""
    # with ``confidence:`` declared: judged on the interval [low, high] of n held-out rows
    confidence: float | None = None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    inconclusive: bool = False  # the interval straddles the required value (or is missing)
    n_needed: int | None = None  # the holdout size that would likely settle it (an estimate)
    # timing: [lowest, highest] of the repeated measurements whose median is ``observed``
    spread: list[float] | None = None

    @property
    def headroom(self) -> float | None:
        """How far the observed value is inside the required bound (negative: it misses)."""
        if self.observed is None:
            return None
        gap = self.observed - self.required
        return gap if self.direction == "min" else -gap

    @property
    def status(self) -> str:
        """pass, fail or inconclusive (which does not pass: the check is NOT_READY)."""
        return "pass" if self.passed else "inconclusive" if self.inconclusive else "fail"

    def to_dict(self) -> dict[str, Any]:
        out = {**self.__dict__, "headroom": self.headroom}
        if self.spread is None:
            out.pop("spread")
        if self.confidence is None:  # judged on the point value: the fields of before
            for key in _INTERVAL_KEYS:
                out.pop(key)
        else:
            out["status"] = self.status
        return out


_INTERVAL_KEYS = ("confidence", "low", "high", "n", "inconclusive", "n_needed")
INCONCLUSIVE = "inconclusive: the holdout is too small to tell"
# judged on their point value even with confidence: declared (no bootstrap over rows applies
# to timing): the median of repeated measurements, their spread shown beside it
POINT_ONLY = ("latency_p50_ms", "latency_p95_ms")
TIMING_NOISE = "within timing noise"


@dataclass
class BusinessResult:
    """The business criteria judged against the recorded confusion matrix and latency."""

    split: str
    passed: bool
    net_value_per_1000: float | None = None
    min_net_value_per_1000: float | None = None
    break_even_precision: float | None = None
    break_even_recall: float | None = None
    required_precision: float | None = None
    required_recall: float | None = None
    observed_precision: float | None = None
    observed_recall: float | None = None
    latency_p95_ms: float | None = None
    max_latency_ms: float | None = None
    latency_spread: list[float] | None = None  # lowest, highest repeated p95 measurement
    # break_even_precision/recall, required_precision/recall -> [low, high] (None: unreachable)
    break_even_intervals: dict[str, list[float] | None] | None = None
    decision_rule: str | None = None
    reviews: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # with ``confidence:``: the net value's interval, and whether it straddles the minimum
    confidence: float | None = None
    net_value_low: float | None = None
    net_value_high: float | None = None
    n: int | None = None
    inconclusive: bool = False
    n_needed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("latency_spread", "break_even_intervals"):
            if out[key] is None:
                out.pop(key)
        if self.confidence is None:
            for key in ("confidence", "net_value_low", "net_value_high", "n", "inconclusive",
                        "n_needed"):
                out.pop(key)
        return out


@dataclass
class CheckResult(Renderable):
    """The verdict: READY only when every success criterion passes."""

    use_case: str
    verdict: str
    criteria: list[CriterionResult]
    business: BusinessResult | None
    run_id: str | None
    evidence_at: str | None
    amendments: list[dict[str, Any]]
    flags: list[str]
    lock_hash: str | None
    checklist: list[Any] | None = None  # the readiness checklist's items, when judged
    score: dict[str, Any] | None = None
    unamended_change: bool = False  # readiness.yaml edited after evidence, no amendment
    lock_missing: bool = False  # the criteria lock is gone while criteria were locked
    # the checklist as one line (a notebook's check before any model is registered)
    checklist_summary: bool = False
    model: str | None = None  # the registered version(s) whose run this judged, e.g. "m v1.0.0"
    serving: dict[str, Any] | None = None  # cost per 1,000 predictions from the prediction log
    # splits whose holdout is smaller than the plan written in the criteria lock
    below_plan: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict == "READY"

    @property
    def criteria_passed(self) -> bool:
        """The success criteria alone (the checklist aside)."""
        return (
            self.run_id is not None
            and all(c.passed for c in self.criteria)
            and (self.business is None or self.business.passed)
            and not self.unamended_change
            and not self.lock_missing
        )

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "use_case": self.use_case,
            "run_id": self.run_id,
            "model": self.model,
            "evidence_at": self.evidence_at,
            "criteria": [c.to_dict() for c in self.criteria],
            "business": self.business.to_dict() if self.business else None,
            "amendments": [
                {k: a.get(k) for k in ("at", "reason", "hash", "previous_hash", "git_commit")}
                for a in self.amendments
            ],
            "flags": self.flags,
            "lock_hash": self.lock_hash,
            "criteria_passed": self.criteria_passed,
            "below_plan": self.below_plan,
            **(
                {"score": self.score, "checklist": [i.to_dict() for i in self.checklist]}
                if self.checklist is not None
                else {}
            ),
        }


def _number(evidence: Evidence | None) -> tuple[float | None, str | None]:
    """The evidence as a finite float; else None and, for a non-finite number, why.

    Records written before the finite-number rule, or by hand, may hold NaN, infinity
    or a 400-digit integer: the judge reads them as failures, never as passes.
    """
    if evidence is None or isinstance(evidence.value, bool):
        return None, None
    if not isinstance(evidence.value, (int, float)):
        return None, None
    reason = numbers.problem(evidence.value)
    return (None, reason) if reason else (float(evidence.value), None)


def _not_finite(name: str, split: str, reason: str) -> str:
    return f"{name} on {split} is recorded as {reason}, not a finite number: a failure"


def judge_technical(
    criterion: TechnicalCriterion,
    values: dict[tuple[str, str], Evidence],
    confidence: float | None = None,
) -> CriterionResult:
    """Compare one criterion with the observed value of its metric on its split.

    With ``confidence`` (the criteria's level for it), the recorded interval at that level
    decides: a ``min`` passes when its lower end reaches the required value, a ``max`` when
    its upper end does, it fails when the whole interval misses, and it is inconclusive
    (not passed) when the interval straddles the required value or none was recorded.
    """
    evidence = values.get((criterion.metric, criterion.split))
    observed, bad = _number(evidence)
    result = CriterionResult(
        metric=criterion.metric,
        split=criterion.split,
        direction=criterion.direction,
        threshold=criterion.bound,
        required=criterion.required,
        observed=observed,
        passed=False,
        baseline=criterion.baseline,
        min_margin=criterion.min_margin,
    )
    if bad:
        result.reason = _not_finite(criterion.metric, criterion.split, bad)
        return result
    if observed is None:
        result.reason = f"no numeric evidence for {criterion.metric} on {criterion.split}"
        return result
    higher_is_better = criterion.direction == "min"
    if criterion.baseline is not None:
        gain = observed - criterion.baseline
        result.margin = gain if higher_is_better else -gain
    # written so that a NaN anywhere compares false, i.e. fails
    result.passed = math.isfinite(result.required) and (
        observed >= result.required if higher_is_better else observed <= result.required
    )
    word = ">=" if higher_is_better else "<="
    result.reason = (
        f"{observed:.4g} {word} {result.required:.4g}"
        if result.passed
        else (f"{observed:.4g} misses {word} {result.required:.4g}")
    )
    if criterion.metric in POINT_ONLY:
        result.spread = timing_spread(evidence)
        result.reason += _timing_note(result.spread, result.required, confidence)
        result.confidence = confidence
    elif confidence is not None:
        _judge_interval(result, evidence, confidence)
    return result


def timing_spread(evidence: Evidence | None) -> list[float] | None:
    """[lowest, highest] of a timing's repeated measurements, when evaluate recorded them."""
    iv = evidence.interval if evidence is not None else None
    if not isinstance(iv, dict) or iv.get("method") != "repeated timing":
        return None
    low, high = iv.get("low"), iv.get("high")
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in (low, high)):
        return None
    return [float(low), float(high)]  # type: ignore[arg-type]


def _timing_note(spread: list[float] | None, required: float, confidence: float | None) -> str:
    """How a timing was judged: the median of repeats, and whether the bound is in its noise."""
    if spread is None:
        return " (timing: judged on its point value)" if confidence is not None else ""
    low, high = spread
    note = f" (timing: the median of repeated measurements, spread {low:.4g} to {high:.4g} ms"
    if low <= required <= high:
        note += f"; the bound is {TIMING_NOISE}: judged on the median"
    return note + ")"


def _usable_interval(evidence: Evidence | None, confidence: float) -> tuple[Any, str]:
    """The evidence's (low, high, n) at ``confidence``, or why there is none to judge on."""
    iv = evidence.interval if evidence is not None else None
    name = f"{evidence.name} on {evidence.split}" if evidence is not None else "it"
    if not isinstance(iv, dict):
        return None, (
            f"no confidence interval recorded for {name} (evidence from before intervals, or "
            "recorded by hand): re-running readiness.evaluate records it"
        )
    try:
        low, high, n, level = (float(iv["low"]), float(iv["high"]), int(iv["n"]),
                               float(iv["confidence"]))
    except (KeyError, TypeError, ValueError):
        return None, f"the interval recorded for {name} is malformed: re-run readiness.evaluate"
    if not all(map(math.isfinite, (low, high))) or low > high or n < 1:
        return None, f"the interval recorded for {name} is malformed: re-run readiness.evaluate"
    if abs(level - confidence) > 1e-9:
        return None, (
            f"the interval of {name} was recorded at {level:.0%} and the criteria ask for "
            f"{confidence:.0%}: re-running readiness.evaluate records it at the declared level"
        )
    return (low, high, n), ""


def _judge_interval(result: CriterionResult, evidence: Evidence | None, confidence: float) -> None:
    """Re-judge a criterion on its interval (``result`` holds the point judgement)."""
    from readiness.evidence.intervals import holdout_needed

    result.confidence = confidence
    found, why = _usable_interval(evidence, confidence)
    if found is None:
        result.passed, result.inconclusive = False, True
        result.reason = f"inconclusive: {why}"
        return
    result.low, result.high, result.n = found
    low, high, n = found
    required = result.required
    clears = low >= required if result.direction == "min" else high <= required
    misses = high < required if result.direction == "min" else low > required
    word = ">=" if result.direction == "min" else "<="
    shown = f"{result.observed:.4g} [{low:.4g}, {high:.4g}] at {confidence:.0%}, n={n}"
    result.passed = clears and math.isfinite(required)
    if result.passed:
        result.reason = f"{shown}: the whole interval {word} {required:.4g}"
    elif misses:
        result.reason = f"{shown}: the whole interval misses {word} {required:.4g}"
    else:
        result.inconclusive = True
        observed = result.observed if result.observed is not None else (low + high) / 2
        result.n_needed = holdout_needed(n, observed, required, low, high)
        settle = (
            f"about {result.n_needed:,} held-out rows would likely settle it (an estimate)"
            if result.n_needed
            else "the observed value sits on the bound: no holdout size settles it"
        )
        result.reason = f"{INCONCLUSIVE} ({shown} straddles {required:.4g}; {settle})"


def judge_business(
    spec: BusinessCriteria,
    values: dict[tuple[str, str], Evidence],
    confidence: float | None = None,
) -> BusinessResult:
    """Net value per 1,000 predictions, break-even performance and latency.

    With ``confidence``, the net value passes when its recorded interval's lower end reaches
    the minimum (inconclusive when the interval straddles it); latency stays a point value.
    """
    out = BusinessResult(
        split=spec.split,
        passed=True,
        min_net_value_per_1000=spec.min_net_value_per_1000,
        max_latency_ms=spec.max_latency_ms,
        decision_rule=spec.decision_rule,
        reviews=[d.isoformat() for d in spec.reviews],
    )
    if spec.value_per_outcome is not None:
        matrix = values.get(("confusion_matrix", spec.split))
        if matrix is None:
            out.problems.append(
                f"no confusion_matrix recorded on {spec.split}: use readiness.evaluate"
            )
        else:
            try:
                counts = business.Outcomes.from_matrix(matrix.value)
            except EvidenceError as exc:
                out.problems.append(str(exc))
            else:
                target = spec.min_net_value_per_1000 or 0.0
                net = business.net_value_per_1000(counts, spec.value_per_outcome)
                out.net_value_per_1000 = net if math.isfinite(net) else None
                out.break_even_precision = business.break_even_precision(
                    counts, spec.value_per_outcome
                )
                out.break_even_recall = business.break_even_recall(counts, spec.value_per_outcome)
                out.required_precision = business.break_even_precision(
                    counts, spec.value_per_outcome, target
                )
                out.required_recall = business.break_even_recall(
                    counts, spec.value_per_outcome, target
                )
                out.observed_precision, out.observed_recall = counts.precision, counts.recall
                out.break_even_intervals = _break_even_intervals(
                    values.get(("net_value_per_1000", spec.split)), spec, target)
                if not math.isfinite(net):
                    out.problems.append(
                        f"net value per 1,000 predictions is {net} (the counts and "
                        "value_per_outcome overflow): not a finite number, a failure"
                    )
                elif confidence is not None:
                    _judge_net_interval(out, values, spec, confidence, net, target)
                elif not net >= target:  # NaN never passes
                    out.problems.append(
                        f"net value {out.net_value_per_1000:.1f} per 1,000 predictions is below "
                        f"{target:g}"
                    )
    if spec.max_latency_ms is not None:
        out.latency_p95_ms, bad = _number(values.get(("latency_p95_ms", spec.split)))
        out.latency_spread = timing_spread(values.get(("latency_p95_ms", spec.split)))
        if bad:
            out.problems.append(_not_finite("latency_p95_ms", spec.split, bad))
        elif out.latency_p95_ms is None:
            out.problems.append(
                f"no latency_p95_ms recorded on {spec.split}: use readiness.evaluate"
            )
        elif not out.latency_p95_ms <= spec.max_latency_ms:  # NaN never passes
            out.problems.append(
                f"p95 latency {out.latency_p95_ms:.2f} ms exceeds {spec.max_latency_ms:g} ms"
            )
    out.passed = not out.problems
    return out


def _break_even_intervals(
    evidence: Evidence | None, spec: BusinessCriteria, target: float
) -> dict[str, list[float] | None] | None:
    """The break-even intervals evaluate recorded with the net value, when they were
    recorded with the declared values per outcome (and minimum, for ``required_*``)."""
    iv = evidence.interval if evidence is not None else None
    if not isinstance(iv, dict) or not isinstance(iv.get("break_even"), dict):
        return None
    if iv.get("value_per_outcome") != spec.value_per_outcome:
        return None
    found = dict(iv["break_even"])
    if iv.get("min_net_value") != target:
        found = {k: v for k, v in found.items() if not k.startswith("required_")}
    return found


def _judge_net_interval(
    out: BusinessResult,
    values: dict[tuple[str, str], Evidence],
    spec: BusinessCriteria,
    confidence: float,
    net: float,
    target: float,
) -> None:
    """The net value judged on its interval: a problem unless the whole interval clears."""
    from readiness.evidence.intervals import holdout_needed

    out.confidence = confidence
    evidence = values.get(("net_value_per_1000", spec.split))
    found, why = _usable_interval(evidence, confidence)
    if found is not None and evidence is not None and \
            (evidence.interval or {}).get("value_per_outcome") != spec.value_per_outcome:
        found, why = None, (
            "the net value's interval was recorded with other values per outcome: re-running "
            "readiness.evaluate records it with the declared ones"
        )
    if found is None:
        out.inconclusive = True
        out.problems.append(f"net value per 1,000 predictions is inconclusive: {why}")
        return
    low, high, n = found
    out.net_value_low, out.net_value_high, out.n = low, high, n
    shown = f"net value {net:.1f} [{low:.1f}, {high:.1f}] at {confidence:.0%}, n={n}"
    if low >= target:
        return
    if high < target:
        out.problems.append(f"{shown}: the whole interval is below {target:g}")
        return
    out.inconclusive = True
    out.n_needed = holdout_needed(n, net, target, low, high)
    settle = (f"about {out.n_needed:,} held-out rows would likely settle it (an estimate)"
              if out.n_needed else "the observed value sits on the minimum")
    out.problems.append(f"{INCONCLUSIVE} ({shown} straddles {target:g}; {settle})")


def _changed_keys(lock: dict[str, Any] | None, current: Criteria) -> set[tuple[str, str]]:
    """(metric, split) of technical criteria that differ from those in force at first evidence."""
    before = (lock or {}).get("criteria_at_first_evidence")
    if not before:
        return set()
    old = {(c["metric"], c["split"]): c for c in before.get("technical", [])}
    return {
        (item.metric, item.split)
        for item in current.technical
        if old.get((item.metric, item.split)) != item.model_dump(mode="json")
    }


def check(project: Project, run_id: str | None = None) -> CheckResult:
    """Judge the declared criteria against the evidence of one run (default: the latest).

    Parameters
    ----------
    project:
        The project whose ``readiness.yaml`` and evidence are read.
    run_id:
        A run to judge; by default the latest run holding evidence.
    """
    config = load_config(project)
    lock = read_lock(project)
    run = read_run(project, run_id) if run_id else latest_run_with_evidence(project)
    values = latest_values(run) if run else {}
    flags: list[str] = []
    if run is None:
        flags.append(
            "no evidence recorded yet: record metrics with readiness.evaluate or readiness.record"
        )
    unrecorded_change = bool(
        lock
        and lock.get("hash")
        and lock.get("first_evidence_at")
        and lock["hash"] != criteria_hash(config.criteria)
    )
    if unrecorded_change:
        flags.append(
            "readiness.yaml criteria differ from the locked criteria with no amendment on record: "
            'run readiness criteria amend --reason "why"'
        )
    missing = lock_problem(project, lock)
    if missing:
        flags.append(missing)
    elif lock and lock.get("rebuilt_from_audit_log"):
        flags.append(
            f"the criteria lock was rebuilt from the audit log on {lock['rebuilt_from_audit_log']} "
            "(the lock file had been lost)"
        )
    if lock and any(
        h.get("event") == "declared" and h.get("after_evidence") for h in lock.get("history", [])
    ):
        flags.append("criteria were first declared after evidence had been recorded")
    changed = _changed_keys(lock, config.criteria)
    results = []
    for criterion in config.criteria.technical:
        result = judge_technical(criterion, values, criterion.level(config.criteria))
        result.changed_after_results = (criterion.metric, criterion.split) in changed
        results.append(result)
    if changed:
        names = ", ".join(f"{m} on {s}" for m, s in sorted(changed))
        flags.append(f"criteria changed after results were recorded: {names}")
    spec = config.criteria.business
    business_result = (
        judge_business(spec, values, spec.confidence or config.criteria.confidence)
        if spec
        else None
    )
    unsure = [f"{r.metric} on {r.split}" for r in results if r.inconclusive]
    if business_result is not None and business_result.inconclusive:
        unsure.append("the net value per 1,000 predictions")
    if unsure:
        flags.append(
            f"{INCONCLUSIVE}: {', '.join(unsure)} (inconclusive does not pass: NOT_READY)"
        )
    below_plan = _below_plan(lock, values) if run is not None else []
    flags += [_plan_flag(item) for item in below_plan]
    flags += _stale_plan(lock)
    passed = (
        run is not None
        and all(r.passed for r in results)
        and (business_result is None or business_result.passed)
        and not unrecorded_change
        and not missing
    )
    return CheckResult(
        use_case=config.use_case.name,
        verdict="READY" if passed else "NOT_READY",
        criteria=results,
        business=business_result,
        run_id=run.get("id") if run else None,
        evidence_at=run.get("updated_at") if run else None,
        amendments=amendments(lock),
        flags=flags,
        lock_hash=(lock or {}).get("hash"),
        unamended_change=unrecorded_change,
        lock_missing=bool(missing),
        below_plan=below_plan,
    )


PLAN_SHORT = "holdout smaller than planned"


def holdout_sizes(
    values: dict[tuple[str, str], Evidence],
) -> dict[str, tuple[int | None, int | None]]:
    """Per split, the held-out rows the evidence was measured on, and the positives.

    Rows come from the intervals' ``n`` (else the confusion matrix), positives from a 2 x 2
    confusion matrix (its second row: the true positives' class).
    """
    out: dict[str, tuple[int | None, int | None]] = {}
    for (name, split), evidence in values.items():
        rows, positives = out.get(split, (None, None))
        iv = evidence.interval
        if isinstance(iv, dict) and isinstance(iv.get("n"), int):
            rows = max(rows or 0, iv["n"])
        if name == "confusion_matrix":
            try:
                counts = business.Outcomes.from_matrix(evidence.value)
            except EvidenceError:  # not 2 x 2: rows only, from the intervals
                counts = None
            if counts is not None:
                positives = int(counts.tp + counts.fn)
                rows = rows or int(counts.tp + counts.fn + counts.fp + counts.tn)
        out[split] = (rows, positives)
    return out


def _below_plan(
    lock: dict[str, Any] | None, values: dict[tuple[str, str], Evidence]
) -> list[dict[str, Any]]:
    from readiness.criteria.plan import holdout_shortfalls, written_plan

    declared = written_plan(lock)
    if declared is None:
        return []
    found = holdout_shortfalls(declared, holdout_sizes(values))
    for item in found:
        item["planned_at"] = declared.get("at")
    return found


def _stale_plan(lock: dict[str, Any] | None) -> list[str]:
    """A flag when the lock's plan was made for criteria that have changed since."""
    from readiness.criteria.plan import written_plan

    declared = written_plan(lock)
    if declared is None or not lock or declared.get("criteria_hash") == lock.get("hash"):
        return []
    return ["the holdout plan was made for criteria that have changed since: readiness "
            'criteria plan --write --reason "why" plans the criteria in force']


def _plan_flag(item: dict[str, Any]) -> str:
    parts = []
    if item["rows"] is not None and item["planned_rows"] and item["rows"] < item["planned_rows"]:
        parts.append(f"{item['rows']:,} rows (the plan needs {item['planned_rows']:,})")
    if item["positives"] is not None and item["planned_positives"] and \
            item["positives"] < item["planned_positives"]:
        parts.append(f"{item['positives']:,} positives (the plan needs "
                     f"{item['planned_positives']:,})")
    return (f"{PLAN_SHORT}: {item['split']} has {' and '.join(parts)} (plan written "
            f"{item.get('planned_at')}): the gate may not be able to decide")


