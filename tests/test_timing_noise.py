"""Timing judged on repeated measurements: the median recorded, the spread is the noise."""

from __future__ import annotations

import time

import numpy as np

import readiness
from readiness.core.schema import TechnicalCriterion
from readiness.evidence.metrics import TIMING_METHOD, measure_latency_repeated
from readiness.evidence.record import make_evidence, record_many
from readiness.evidence.verdict import TIMING_NOISE, judge_technical
from readiness.gate.regression import timing
from readiness.registry.versions import ModelVersion


class _Jittery:
    """A deterministic model whose predict takes 1 ms, and 6 ms on every third call."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, X):
        self.calls += 1
        time.sleep(0.006 if self.calls % 3 == 0 else 0.001)
        return np.zeros(len(X))


def test_repeats_record_the_median_and_their_spread():
    values, spreads = measure_latency_repeated(_Jittery(), np.zeros((20, 2)), 20, repeats=3)
    p95 = spreads["latency_p95_ms"]
    assert p95["repeats"] == 3 and len(p95["values"]) == 3 and p95["method"] == TIMING_METHOD
    assert p95["low"] <= values["latency_p95_ms"] == float(np.median(p95["values"])) <= p95["high"]
    assert values["latency_p95_ms"] >= 5.0  # the slow calls are in the p95


def test_evaluate_records_the_spread_with_the_latency(project):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, 60)
    result = readiness.evaluate(LogisticRegression().fit(X, y), X, y, latency_samples=10,
                                latency_repeats=4, resamples=50)
    assert result.timing["latency_p95_ms"]["repeats"] == 4
    run = readiness.evidence.runs.read_run(project, result.run_id)
    stored = next(e for e in run["evidence"] if e["name"] == "latency_p95_ms")
    assert stored["interval"]["method"] == TIMING_METHOD and len(stored["interval"]["values"]) == 4
    assert "timing" in result.to_dict()


def _latency(value, low, high):
    item = make_evidence("latency_p95_ms", value, "holdout")
    item.interval = {"value": value, "low": low, "high": high, "values": [low, value, high],
                     "repeats": 3, "samples": 200, "method": TIMING_METHOD}
    return item


def test_a_bound_inside_the_spread_is_timing_noise_judged_on_the_median():
    criterion = TechnicalCriterion(metric="latency_p95_ms", split="holdout", max=20)
    noisy = judge_technical(criterion, {("latency_p95_ms", "holdout"): _latency(12, 9.5, 30.6)},
                            confidence=0.95)
    assert noisy.passed and noisy.spread == [9.5, 30.6] and TIMING_NOISE in noisy.reason
    assert noisy.to_dict()["spread"] == [9.5, 30.6]
    slow = judge_technical(criterion, {("latency_p95_ms", "holdout"): _latency(25, 21, 31)})
    assert not slow.passed and TIMING_NOISE not in slow.reason
    plain = judge_technical(criterion, {("latency_p95_ms", "holdout"): make_evidence(
        "latency_p95_ms", 12, "holdout")})
    assert plain.passed and "spread" not in plain.to_dict()


def _version(project, version, value, low, high):
    readiness.new_run()
    [item] = record_many([_latency(value, low, high)], display=False)
    return ModelVersion("m", version, "abc", "2026-01-01", "me", run_id=item.run_id,
                        metrics={"latency_p95_ms/holdout": value})


def test_a_slower_median_within_both_spreads_is_not_a_regression(project):
    criterion = TechnicalCriterion(metric="latency_p95_ms", split="holdout", max=50)
    production = _version(project, "v1", 9.5, 8.0, 30.6)
    noisy = _version(project, "v2", 14.0, 9.0, 25.0)
    found = timing(project, criterion, noisy, production, 14.0, 9.5)
    assert not found.worse and found.within_noise and found.method == "timing spread"
    assert "within noise" in found.describe("v1")
    slower = _version(project, "v3", 60.0, 45.0, 80.0)
    found = timing(project, criterion, slower, production, 60.0, 9.5)
    assert found.worse and not found.within_noise
    unrepeated = ModelVersion("m", "v4", "abc", "2026-01-01", "me", run_id=None)
    found = timing(project, criterion, unrepeated, production, 14.0, 9.5)
    assert found.worse and found.method == "point values" and "no repeated timings" in found.note
