"""Planning the holdout: sizes from known formulas, decided at the stated rate, locked, checked."""

from __future__ import annotations

import json
import math
import time
from statistics import NormalDist

import numpy as np
import pytest

from readiness.core.errors import CriteriaLockedError, UsageError
from readiness.core.schema import Criteria
from readiness.criteria.declaration import declare, read_lock
from readiness.criteria.plan import auc_variance, make_plan, plan
from readiness.evidence.intervals import classification_resamples, interval
from readiness.evidence.verdict import PLAN_SHORT, check

from .conftest import cli, record_all

Z = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.8)


def _criteria(*technical: dict, confidence: float | None = 0.95) -> Criteria:
    return Criteria.model_validate({"confidence": confidence, "technical": list(technical)})


def test_the_sizes_are_the_textbook_formulas():
    planned = make_plan(
        _criteria({"metric": "accuracy", "split": "holdout", "min": 0.8},
                  {"metric": "recall", "split": "holdout", "min": 0.7}),
        {"accuracy": 0.85, "recall": 0.8}, prevalence=0.25,
    )
    accuracy, recall = planned.criteria
    assert accuracy.rows == math.ceil(Z**2 * 0.85 * 0.15 / 0.05**2)
    positives = Z**2 * 0.8 * 0.2 / 0.1**2  # recall counts positives only
    assert recall.rows == math.ceil(positives / 0.25) and recall.positives >= positives
    assert planned.splits == {"holdout": {"rows": max(accuracy.rows, recall.rows),
                                          "positives": recall.positives}}


def test_hanley_mcneil_variance_and_an_auc_plan():
    # Hanley & McNeil 1982, table: AUC 0.8 on 50 + 50 cases has a standard error of ~0.044
    assert math.sqrt(auc_variance(0.8, 50, 50)) == pytest.approx(0.0442, abs=5e-4)
    item = make_plan(_criteria({"metric": "roc_auc", "split": "holdout", "min": 0.85}),
                     {"roc_auc": 0.9}, prevalence=0.3).criteria[0]
    n = item.rows
    assert Z * math.sqrt(auc_variance(0.9, 0.3 * n, 0.7 * n)) <= 0.05
    assert Z * math.sqrt(auc_variance(0.9, 0.3 * (n - 1), 0.7 * (n - 1))) > 0.05  # smallest


def test_what_cannot_be_planned_says_why_and_the_baseline_is_the_default():
    planned = make_plan(
        _criteria(
            {"metric": "roc_auc", "split": "holdout", "min": 0.85, "baseline": 0.8,
             "min_margin": 0.02},
            {"metric": "recall", "split": "holdout", "min": 0.7},
            {"metric": "latency_p95_ms", "split": "holdout", "max": 50},
            {"metric": "accuracy", "split": "holdout", "min": 0.9},
        ),
        ["accuracy=0.9"],
    )
    auc, recall, latency, accuracy = planned.criteria
    assert auc.expected == 0.8 and "--prevalence" in auc.note and auc.rows is None
    assert "--expect recall=VALUE" in recall.note
    assert latency.rows is None and latency.expected is None
    assert "no holdout size decides" in accuracy.note
    with pytest.raises(UsageError, match="METRIC=VALUE"):
        make_plan(_criteria({"metric": "recall", "split": "holdout", "min": 0.7}), ["recall"])
    with pytest.raises(UsageError, match="--power"):
        make_plan(_criteria({"metric": "recall", "split": "holdout", "min": 0.7}), power=1.5)


def _decided(rng, n, truth, required, draw, metric, resamples=200):
    """Whether the gate's interval (stratified bootstrap, 95%) lies wholly past ``required``."""
    y, predicted, scores = draw(rng, n)
    values = classification_resamples(y, predicted, scores, seed=int(rng.integers(1 << 30)),
                                      resamples=resamples)[metric]
    low, high = interval(values, 0.95)
    return low >= required if truth >= required else high < required


def _recall_holdout(prevalence, recall):
    def draw(rng, n):
        y = (rng.random(n) < prevalence).astype(int)
        hit = rng.random(n) < recall
        predicted = np.where(y == 1, hit, rng.random(n) < 0.1).astype(int)
        return y, predicted, None
    return draw


def _auc_holdout(prevalence, auc):
    shift = math.sqrt(2) * NormalDist().inv_cdf(auc)  # binormal: AUC = Phi(shift / sqrt 2)

    def draw(rng, n):
        y = (rng.random(n) < prevalence).astype(int)
        score = rng.normal(size=n) + shift * y
        p = 1 / (1 + np.exp(-score))
        return y, (p > 0.5).astype(int), np.c_[1 - p, p]
    return draw


@pytest.mark.parametrize(
    "metric, truth, required, draw",
    [
        ("recall", 0.8, 0.7, _recall_holdout(0.3, 0.8)),  # expected to pass
        ("recall", 0.6, 0.7, _recall_holdout(0.3, 0.6)),  # expected to fail
        ("roc_auc", 0.9, 0.85, _auc_holdout(0.3, 0.9)),
    ],
)
def test_the_planned_holdout_makes_the_gate_decide_at_the_stated_rate(
    metric, truth, required, draw
):
    """200 simulated holdouts of the planned size from a population with the expected value:
    the gate decides in about 80 % of them. The binomial standard error of 200 draws is
    0.028; the tolerance (0.1, over 3 standard errors) also covers the normal approximation."""
    start = time.perf_counter()
    item = make_plan(_criteria({"metric": metric, "split": "holdout", "min": required}),
                     {metric: truth}, prevalence=0.3).criteria[0]
    rng = np.random.default_rng(11)
    decided = [_decided(rng, item.rows, truth, required, draw, metric) for _ in range(200)]
    assert np.mean(decided) == pytest.approx(0.8, abs=0.1)
    # half the planned rows decide clearly less often: the plan is not just any large size
    rng = np.random.default_rng(12)
    half = [_decided(rng, item.rows // 2, truth, required, draw, metric) for _ in range(200)]
    assert np.mean(half) < np.mean(decided) - 0.1
    assert time.perf_counter() - start < 120  # a hang guard, not a speed target


PLANNED = """
use_case: {name: screening, owner: head@example.com, business_metric: cost per patient}
criteria:
  confidence: 0.95
  technical:
    - {metric: roc_auc, split: holdout, min: 0.85}
    - {metric: recall, split: holdout, min: 0.7}
"""


def test_write_locks_the_plan_before_evidence_and_check_flags_a_smaller_holdout(project):
    declare(project, PLANNED)
    written = plan(project, ["roc_auc=0.9", "recall=0.8"], prevalence=0.3, write=True)
    lock = read_lock(project)
    assert lock["plan"]["splits"] == written.splits and lock["plan"]["criteria_hash"] == lock["hash"]
    need = written.splits["holdout"]
    # a 105-row holdout with 50 positives: below the plan
    record_all({"roc_auc": 0.9, "recall": 0.8, "confusion_matrix": [[50, 5], [10, 40]]})
    result = check(project)
    assert result.below_plan == [
        {"split": "holdout", "rows": 105, "planned_rows": need["rows"], "positives": 50,
         "planned_positives": need["positives"], "planned_at": written.at}
    ]
    assert any(f.startswith(PLAN_SHORT) and f"(the plan needs {need['rows']:,})" in f
               for f in result.flags)
    assert PLAN_SHORT in str(result)
    # declared before evidence: a new plan now needs a reason, and keeps it
    with pytest.raises(CriteriaLockedError, match="before it"):
        plan(project, ["roc_auc=0.92", "recall=0.8"], prevalence=0.3, write=True)
    again = plan(project, ["roc_auc=0.95", "recall=0.9"], prevalence=0.3, write=True,
                 reason="the pilot showed a stronger model")
    stored = read_lock(project)["plan"]
    assert stored["reason"] == again.reason and stored["after_evidence"] is True
    # a lost lock is rebuilt from the audit log with its plan
    project.criteria_lock_path.unlink()
    from readiness.criteria.declaration import _rebuilt_lock

    assert _rebuilt_lock(project, None)["plan"]["splits"] == again.splits


def test_a_large_enough_holdout_is_not_flagged(project):
    declare(project, PLANNED)
    plan(project, ["roc_auc=0.9", "recall=0.8"], prevalence=0.3, write=True)
    record_all({"confusion_matrix": [[5000, 100], [400, 2000]]})
    assert check(project).below_plan == []


def test_the_cli_plans_writes_and_refuses_bad_input(project):
    declare(project, PLANNED)
    root = project.root
    shown = cli("criteria", "plan", "--expect", "roc_auc=0.9", "--expect", "recall=0.8",
                "--prevalence", "0.3", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert "Hanley-McNeil" in shown.stdout and "held-out rows" in shown.stdout
    assert "not written" in shown.stdout and "plan" not in read_lock(project)
    done = cli("criteria", "plan", "--expect", "roc_auc=0.9", "--prevalence", "0.3",
               "--write", "--json", cwd=root)
    assert done.returncode == 0 and json.loads(done.stdout)["written"] is True
    assert read_lock(project)["plan"]["criteria"][0]["rows"] > 0
    bad = cli("criteria", "plan", "--expect", "roc_auc", cwd=root)
    assert bad.returncode == 2 and "METRIC=VALUE" in bad.stderr
    misplaced = cli("criteria", "show", "--expect", "roc_auc=0.9", cwd=root)
    assert misplaced.returncode == 2 and "are for plan" in misplaced.stderr


def test_the_criteria_form_shows_the_plan_of_its_criteria(project):
    from readiness.widgets import criteria_form

    form = criteria_form(project)  # the template: roc_auc (baseline 0.78), recall, latency
    form.expected.value = "roc_auc=0.9, recall=0.8"
    form.prevalence.value = "0.3"
    shown = form.plan_holdout()
    assert [c.rows is not None for c in shown.criteria] == [True, True, False]
    assert "held-out rows" in form.plan_view.value and "Hanley-McNeil" in form.plan_view.value
    form.prevalence.value = "lots"
    assert form.plan_holdout() is None and "not a number" in form.plan_view.value


def test_a_plan_for_amended_criteria_is_flagged_as_stale(project):
    declare(project, PLANNED)
    plan(project, ["roc_auc=0.9", "recall=0.8"], prevalence=0.3, write=True)
    record_all({"confusion_matrix": [[5000, 100], [400, 2000]]})
    assert not any("plan was made for criteria" in f for f in check(project).flags)
    declare(project, PLANNED.replace("min: 0.85", "min: 0.9"), amend="stricter AUC")
    assert any("plan was made for criteria that have changed" in f for f in check(project).flags)
