"""Break-even precision and recall carry bootstrap intervals, like the net value."""

from __future__ import annotations

import numpy as np
import pytest

import readiness
from readiness.criteria import business
from readiness.criteria.declaration import declare
from readiness.evidence.verdict import check

VALUES = {"tp": 120.0, "fp": -15.0, "fn": -40.0, "tn": 0.0}


@pytest.mark.parametrize("values", [VALUES, {"tp": 10.0, "fp": 5.0, "fn": -1.0, "tn": 0.0},
                                    {"tp": 1.0, "fp": -1.0, "fn": -1.0, "tn": -1.0}])
@pytest.mark.parametrize("target", [0.0, 500.0])
def test_the_vectorised_break_even_is_the_scalar_one(values, target):
    rng = np.random.default_rng(4)
    confusion = rng.integers(0, 60, size=(300, 2, 2)).astype(float)
    found = business.break_even_arrays(confusion, values, target)
    for r in range(len(confusion)):
        (tn, fp), (fn, tp) = confusion[r]
        counts = business.Outcomes(tp=tp, fp=fp, fn=fn, tn=tn)
        for name, scalar in (("precision", business.break_even_precision),
                             ("recall", business.break_even_recall)):
            want = scalar(counts, values, target)
            got = found[name][r]
            assert (np.isnan(got) if want is None else got == pytest.approx(want)), (name, r)


BUSINESS = """
use_case: {name: screening, owner: head@example.com, business_metric: euros}
criteria:
  business:
    value_per_outcome: {tp: 120, fp: -15, fn: -40, tn: 0}
    min_net_value_per_1000: 500
"""


def test_evaluate_records_them_and_the_check_shows_them(project):
    from sklearn.linear_model import LogisticRegression

    declare(project, BUSINESS)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] + rng.normal(size=400) > 0.3).astype(int)
    result = readiness.evaluate(LogisticRegression().fit(X, y), X, y, latency_samples=0,
                                resamples=300)
    net = result.intervals["net_value_per_1000"]
    assert net["min_net_value"] == 500.0
    assert set(net["break_even"]) == {"break_even_precision", "break_even_recall",
                                      "required_precision", "required_recall"}
    low, high = net["break_even"]["break_even_precision"]
    verdict = check(project)
    b = verdict.business
    assert low <= b.break_even_precision <= high
    assert b.break_even_intervals["break_even_precision"] == [low, high]
    low, high = b.break_even_intervals["break_even_recall"]
    assert f"[{low:.3f}, {high:.3f}]" in str(verdict)  # precision: "any", no interval shown
    assert "break_even_intervals" in verdict.to_dict()["business"]
