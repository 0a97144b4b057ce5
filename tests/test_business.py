"""Net value and break-even: the break-even point really is where net value crosses the target."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.core.errors import EvidenceError
from readiness.criteria.business import (
    Outcomes,
    break_even_precision,
    break_even_recall,
    net_value_per_1000,
)

VALUES = {"tp": 120.0, "fp": -15.0, "fn": -40.0, "tn": 0.0}


def test_net_value_from_sklearn_layout():
    counts = Outcomes.from_matrix([[50, 5], [10, 40]])  # [[tn, fp], [fn, tp]]
    assert (counts.tp, counts.fp, counts.fn, counts.tn) == (40, 5, 10, 50)
    expected = (40 * 120 - 5 * 15 - 10 * 40) / 105 * 1000
    assert net_value_per_1000(counts, VALUES) == pytest.approx(expected)


def test_bad_matrix_is_a_clear_error():
    with pytest.raises(EvidenceError, match="binary confusion matrix"):
        Outcomes.from_matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    with pytest.raises(EvidenceError, match="no counts"):
        Outcomes.from_matrix([[0, 0], [0, 0]])


def _net_at(counts: Outcomes, values, precision=None, recall=None) -> float:
    """Net value per 1,000 of a model with the same data but another precision or recall."""
    positives, negatives = counts.tp + counts.fn, counts.fp + counts.tn
    r = recall if recall is not None else counts.recall
    p = precision if precision is not None else counts.precision
    tp = r * positives
    fp = tp * (1 - p) / p
    other = Outcomes(tp=tp, fp=fp, fn=positives - tp, tn=negatives - fp)
    return net_value_per_1000(other, values)


@settings(max_examples=200, deadline=None)
@given(
    tp=st.integers(1, 500),
    fp=st.integers(0, 500),
    fn=st.integers(0, 500),
    tn=st.integers(1, 500),
    v_tp=st.floats(1, 1000),
    v_fp=st.floats(-1000, -0.1),
    v_fn=st.floats(-1000, 0),
    v_tn=st.floats(0, 10),
    target=st.floats(-100, 1000),
)
def test_break_even_points_hit_the_target(tp, fp, fn, tn, v_tp, v_fp, v_fn, v_tn, target):
    counts = Outcomes(tp=tp, fp=fp, fn=fn, tn=tn)
    values = {"tp": v_tp, "fp": v_fp, "fn": v_fn, "tn": v_tn}
    precision = break_even_precision(counts, values, target)
    if precision is not None and 0 < precision < 1:
        assert _net_at(counts, values, precision=precision) == pytest.approx(
            target, abs=1e-6 * max(1, abs(target)) + 1e-6
        )
    recall = break_even_recall(counts, values, target)
    if recall is not None and 0 < recall < 1:
        assert _net_at(counts, values, recall=recall) == pytest.approx(
            target, abs=1e-6 * max(1, abs(target)) + 1e-6
        )


def test_break_even_direction():
    counts = Outcomes.from_matrix([[890, 70], [10, 30]])
    costly_fp = {"tp": 100.0, "fp": -50.0, "fn": 0.0, "tn": 0.0}
    precision = break_even_precision(counts, costly_fp)
    assert precision == pytest.approx(1 / 3)  # 100 p = 50 (1 - p)
    assert counts.precision < precision  # this model loses money...
    assert net_value_per_1000(counts, costly_fp) < 0
    assert break_even_precision(counts, {"tp": -1.0, "fp": -1.0, "fn": 0.0, "tn": 0.0}) is None
