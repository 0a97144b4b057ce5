"""Bootstrap confidence intervals: exact per resample, reproducible, covering, and judged."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import readiness
from readiness.core.errors import ConfigError
from readiness.core.schema import Criteria, TechnicalCriterion, validate
from readiness.evidence.intervals import (
    classification_resamples,
    holdout_needed,
    interval,
    regression_resamples,
)
from readiness.evidence.record import Evidence
from readiness.evidence.verdict import INCONCLUSIVE, judge_business, judge_technical

# -- the vectorised resamples are the metrics of the drawn rows ----------------------------------


def _stratified_rows(seed, y, predicted, own_score, resamples):
    """The rows classification_resamples draws: per true class, in its score order."""
    rng = np.random.default_rng(seed)
    labels = np.unique(np.r_[y, predicted])
    codes = np.searchsorted(labels, y)
    strata = []
    for c in range(len(labels)):
        rows = np.flatnonzero(codes == c)
        strata.append(rows[np.argsort(own_score(c)[rows], kind="stable")])
    return np.concatenate(
        [s[rng.integers(0, len(s), (resamples, len(s)))] for s in strata], axis=1
    )


@pytest.mark.parametrize("classes", [2, 3])
def test_each_stratified_resample_equals_scikit_learn_on_its_rows(classes):
    from sklearn import metrics

    rng = np.random.default_rng(3)
    n, resamples = 150, 30
    y = (rng.random(n) < 0.3).astype(int) if classes == 2 else rng.integers(0, 3, n)
    predicted = np.where(rng.random(n) < 0.7, y, rng.integers(0, classes, n))
    if classes == 2:  # rounded scores: ties for the AUC's rank formula
        score = np.round(np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1), 1)
        proba = np.c_[1 - score, score]
    else:
        proba = np.round(rng.dirichlet(np.ones(3), n), 1)
    worth = {"tp": 10.0, "fp": -2.0, "fn": -5.0, "tn": 0.0} if classes == 2 else None
    out = classification_resamples(y, predicted, proba, True, seed=7, resamples=resamples,
                                   value_per_outcome=worth)
    rows = _stratified_rows(7, y, predicted,
                            lambda c: proba[:, -1] if classes == 2 else proba[:, c], resamples)
    kwargs = (dict(average="binary", pos_label=1) if classes == 2 else dict(average="macro"))
    for b in range(resamples):
        r = rows[b]
        yy, pp = y[r], predicted[r]
        assert np.bincount(yy, minlength=classes).tolist() == np.bincount(
            y, minlength=classes).tolist()  # stratified: the class counts of the holdout
        expected = {
            "accuracy": metrics.accuracy_score(yy, pp),
            "balanced_accuracy": metrics.balanced_accuracy_score(yy, pp),
            "precision": metrics.precision_score(yy, pp, zero_division=0, **kwargs),
            "recall": metrics.recall_score(yy, pp, zero_division=0, **kwargs),
            "f1": metrics.f1_score(yy, pp, zero_division=0, **kwargs),
        }
        if classes == 2:
            expected["roc_auc"] = metrics.roc_auc_score(yy, proba[r, 1])
            expected["brier"] = metrics.brier_score_loss(yy, proba[r, 1])
            expected["log_loss"] = metrics.log_loss(yy, proba[r], labels=[0, 1])
            _tn, fp, fn, tp = metrics.confusion_matrix(yy, pp).ravel()
            expected["net_value_per_1000"] = (10 * tp - 2 * fp - 5 * fn) / n * 1000
        else:
            expected["roc_auc"] = np.mean(
                [metrics.roc_auc_score(yy == c, proba[r, c]) for c in range(3)]
            )
        for metric, value in expected.items():
            assert out[metric][b] == pytest.approx(value, abs=1e-9), (b, metric)


def test_each_regression_resample_equals_scikit_learn_on_its_rows():
    from sklearn import metrics

    rng = np.random.default_rng(1)
    y = rng.normal(5, 2, 100)
    predicted = y + rng.normal(0, 1, 100)
    out = regression_resamples(y, predicted, seed=1, resamples=20)
    drawn = np.random.default_rng(1).integers(0, 100, (20, 100))
    for b in range(20):
        r = drawn[b]
        assert out["rmse"][b] == pytest.approx(
            math.sqrt(metrics.mean_squared_error(y[r], predicted[r])), abs=1e-9)
        assert out["mae"][b] == pytest.approx(metrics.mean_absolute_error(y[r], predicted[r]))
        assert out["r2"][b] == pytest.approx(metrics.r2_score(y[r], predicted[r]), abs=1e-9)
        assert out["mape"][b] == pytest.approx(
            metrics.mean_absolute_percentage_error(y[r], predicted[r]), abs=1e-9)


def test_large_holdouts_drawn_as_cell_counts_give_the_row_bootstraps_intervals(monkeypatch):
    """Above ROW_LIMIT rows, multinomial cell counts replace row draws: same intervals.

    Both are 1,000-resample Monte Carlo estimates (different draws): their ends agree within
    a fifth of the interval's width (the quantile noise of 1,000 resamples is ~5 % of it).
    """
    from readiness.evidence import intervals

    rng = np.random.default_rng(0)
    n = 30_000
    y = (rng.random(n) < 0.3).astype(int)
    score = 1 / (1 + np.exp(-(1.6 * (2 * y - 1) + 0.8 + rng.normal(0, 1.5, n))))
    predicted = (score > 0.5).astype(int)
    worth = {"tp": 120.0, "fp": -15.0, "fn": -40.0, "tn": 0.0}
    args = (y, predicted, np.c_[1 - score, score], True)
    cells = classification_resamples(*args, seed=1, value_per_outcome=worth)
    monkeypatch.setattr(intervals, "ROW_LIMIT", 10**9)
    rows = classification_resamples(*args, seed=2, value_per_outcome=worth)
    assert set(cells) == set(rows)
    for metric in rows:
        low, high = interval(rows[metric])
        c_low, c_high = interval(cells[metric])
        width = high - low
        # <=: a break-even point reachable at any precision is 0.0 in every resample (width 0)
        assert abs(c_low - low) <= width / 5 and abs(c_high - high) <= width / 5, metric


# -- coverage: 95 % intervals hold the population's value about 95 % of the time ---------------

HOLDOUTS = 400
HOLDOUT_ROWS = 400
# The coverage of HOLDOUTS independent intervals is binomial: its standard deviation at 0.95 is
# sqrt(0.95 * 0.05 / 400) = 0.011. The tolerance is 3.5 of them (0.038): a correct 95 %
# interval falls outside it with probability ~5e-4 per metric, while a 90 % or a 99 % one
# (coverage 0.90 / 0.99) falls outside it almost surely. (The percentile bootstrap runs about
# a point short of 95 % on holdouts this small; the tolerance leaves room for that.)
TOLERANCE = 3.5 * math.sqrt(0.95 * 0.05 / HOLDOUTS)


def test_95_percent_intervals_cover_the_population_value_95_percent_of_the_time():
    from sklearn import metrics

    rng = np.random.default_rng(0)
    population = 200_000
    y = (rng.random(population) < 0.3).astype(int)
    # a fixed scoring rule; its classes are not equally easy (recall 0.94, specificity 0.70)
    score = 1 / (1 + np.exp(-(1.6 * (2 * y - 1) + 0.8 + rng.normal(0, 1.5, population))))
    predicted = (score > 0.5).astype(int)
    truth = {
        "accuracy": metrics.accuracy_score(y, predicted),
        "recall": metrics.recall_score(y, predicted),
        "roc_auc": metrics.roc_auc_score(y, score),
    }
    hits = dict.fromkeys(truth, 0)
    for m in range(HOLDOUTS):
        rows = rng.integers(0, population, HOLDOUT_ROWS)
        resampled = classification_resamples(
            y[rows], predicted[rows], np.c_[1 - score[rows], score[rows]], seed=m
        )
        for metric, true in truth.items():
            low, high = interval(resampled[metric], 0.95)
            hits[metric] += low <= true <= high
    coverage = {metric: count / HOLDOUTS for metric, count in hits.items()}
    for metric, rate in coverage.items():
        assert abs(rate - 0.95) <= TOLERANCE, (metric, rate, coverage)


# -- evaluate: intervals travel with the evidence, reproducibly ----------------------------------


def _breast_cancer(test_size=0.3):
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=0, stratify=y
    )
    return LogisticRegression(max_iter=5000).fit(X_train, y_train), X_test, y_test


def test_evaluate_records_reproducible_intervals_in_the_run_and_plain_numbers_in_metrics_json(
    project,
):
    from readiness.evidence.runs import latest_run_with_evidence

    model, X, y = _breast_cancer()
    first = readiness.evaluate(model, X, y, latency_samples=5)
    assert len(y) == 171
    auc = first.intervals["roc_auc"]
    assert set(auc) >= {"value", "low", "high", "confidence", "n", "method", "seed",
                        "resamples"}
    assert auc["low"] <= auc["value"] <= auc["high"] and auc["low"] < auc["high"]
    assert (auc["n"], auc["confidence"], auc["resamples"], auc["seed"]) == (171, 0.95, 1000, 0)
    assert "stratified" in auc["method"]
    # every recorded metric but latency has one; the template declares value per outcome
    assert {"accuracy", "recall", "precision", "f1", "log_loss", "brier", "net_value_per_1000"
            } <= set(first.intervals)
    assert "latency_p95_ms" not in first.intervals
    run = latest_run_with_evidence(project)
    recorded = {e["name"]: e.get("interval") for e in run["evidence"]}
    assert recorded["roc_auc"] == auc and recorded["confusion_matrix"] is None
    # metrics.json stays DVC's plain {split: {metric: number}}
    metrics = json.loads(project.metrics_path.read_text())
    assert all(isinstance(v, (int, float)) for v in metrics["holdout"].values())
    # recomputing gives the same numbers; another seed other ones
    assert readiness.evaluate(model, X, y, latency_samples=0).intervals == first.intervals
    other = readiness.evaluate(model, X, y, latency_samples=0, interval_seed=1).intervals
    assert other["roc_auc"]["low"] != auc["low"]
    assert readiness.evaluate(model, X, y, latency_samples=0, resamples=0).intervals == {}


def test_evaluate_intervals_of_a_regressor_and_at_a_chosen_level(project):
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression

    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X[:300], y[:300])
    wide = readiness.evaluate(model, X[300:], y[300:], latency_samples=0, confidence=0.99)
    narrow = readiness.evaluate(model, X[300:], y[300:], latency_samples=0, confidence=0.8)
    assert set(wide.intervals) == {"rmse", "mae", "r2", "mape"}
    for name in wide.intervals:
        assert wide.intervals[name]["low"] < narrow.intervals[name]["low"]
        assert narrow.intervals[name]["high"] < wide.intervals[name]["high"]
    assert "percentile" in wide.intervals["rmse"]["method"]
    from readiness.render import text

    assert "interval" in text(wide) and "[" in text(wide)  # the table shows the intervals


def test_an_interval_survives_the_round_trip_through_a_record():
    item = Evidence("roc_auc", 0.96, "holdout", interval={"low": 0.93, "high": 0.98})
    assert Evidence.from_dict(item.to_dict()).interval == {"low": 0.93, "high": 0.98}
    assert "interval" not in Evidence("roc_auc", 0.96, "holdout").to_dict()  # old records


# -- criteria: confidence, and the verdicts it gives ---------------------------------------------


def _criterion(**kw):
    return TechnicalCriterion(**{"metric": "roc_auc", "split": "holdout", **kw})


def _evidence(value, low, high, n=171, confidence=0.95, name="roc_auc"):
    iv = {"value": value, "low": low, "high": high, "confidence": confidence, "n": n,
          "method": "stratified percentile bootstrap", "seed": 0, "resamples": 1000}
    return {(name, "holdout"): Evidence(name, value, "holdout", interval=iv)}


@pytest.mark.parametrize(
    "bound, low, high, status",
    [
        ({"min": 0.90}, 0.93, 0.98, "pass"),
        ({"min": 0.99}, 0.93, 0.98, "fail"),
        ({"min": 0.95}, 0.93, 0.98, "inconclusive"),
        ({"max": 0.99}, 0.93, 0.98, "pass"),
        ({"max": 0.90}, 0.93, 0.98, "fail"),
        ({"max": 0.95}, 0.93, 0.98, "inconclusive"),
    ],
)
def test_a_criterion_at_a_confidence_is_judged_on_its_interval(bound, low, high, status):
    judged = judge_technical(_criterion(**bound), _evidence(0.96, low, high), 0.95)
    assert judged.status == status
    assert judged.passed is (status == "pass")
    assert (judged.low, judged.high, judged.n, judged.confidence) == (low, high, 171, 0.95)
    if status == "inconclusive":
        assert judged.reason.startswith(INCONCLUSIVE)
        # half-width 0.025, 0.01 from the bound: 171 * 2.5^2 = 1,069 rows
        assert judged.n_needed == math.ceil(171 * (0.025 / 0.01) ** 2)
        assert "1,069 held-out rows" in judged.reason
    # without confidence: the point value decides, as before
    point = judge_technical(_criterion(**bound), _evidence(0.96, low, high))
    assert point.confidence is None and "status" not in point.to_dict()
    assert point.passed is (bound["min"] <= 0.96 if "min" in bound else bound["max"] >= 0.96)


def test_the_margin_over_baseline_is_judged_on_the_lower_end():
    criterion = _criterion(min=0.80, baseline=0.92, min_margin=0.02)  # required 0.94
    assert judge_technical(criterion, _evidence(0.96, 0.95, 0.98), 0.95).passed
    judged = judge_technical(criterion, _evidence(0.96, 0.93, 0.98), 0.95)
    assert judged.inconclusive and judged.margin == pytest.approx(0.04)


def test_missing_or_other_level_intervals_are_inconclusive_not_a_crash():
    old = {("roc_auc", "holdout"): Evidence("roc_auc", 0.96, "holdout")}
    judged = judge_technical(_criterion(min=0.9), old, 0.95)
    assert judged.status == "inconclusive" and not judged.passed
    assert "no confidence interval recorded" in judged.reason
    assert "re-running readiness.evaluate records it" in judged.reason
    other = judge_technical(_criterion(min=0.9), _evidence(0.96, 0.95, 0.97, confidence=0.9),
                            0.95)
    assert other.inconclusive and "recorded at 90%" in other.reason
    # latency has no interval over rows: its point value decides
    latency = judge_technical(
        TechnicalCriterion(metric="latency_p95_ms", split="holdout", max=50),
        {("latency_p95_ms", "holdout"): Evidence("latency_p95_ms", 3.0, "holdout")}, 0.95)
    assert latency.passed and "point value" in latency.reason


def test_holdout_needed_is_the_square_law_estimate():
    assert holdout_needed(100, 0.96, 0.95, 0.94, 0.98) == 400
    assert holdout_needed(100, 0.95, 0.95, 0.94, 0.98) is None  # on the bound: none settles it


def test_confidence_for_all_with_a_per_criterion_override():
    criteria = Criteria.model_validate({
        "confidence": 0.95,
        "technical": [
            {"metric": "roc_auc", "split": "holdout", "min": 0.9},
            {"metric": "recall", "split": "holdout", "min": 0.8, "confidence": 0.8},
        ],
    })
    assert [c.level(criteria) for c in criteria.technical] == [0.95, 0.8]
    plain = Criteria.model_validate({"technical": [{"metric": "f1", "split": "holdout",
                                                    "min": 0.5}]})
    assert plain.technical[0].level(plain) is None
    # criteria without confidence dump (and hash, and lock) exactly as before
    assert "confidence" not in json.dumps(plain.model_dump(mode="json"))


@pytest.mark.parametrize("where", ["criteria", "criterion", "business"])
@pytest.mark.parametrize("value", [0, 1, 1.5, -0.1])
def test_a_bad_confidence_is_a_one_line_error(where, value):
    technical = {"metric": "roc_auc", "split": "holdout", "min": 0.9}
    criteria: dict = {"technical": [technical]}
    if where == "criteria":
        criteria["confidence"] = value
    elif where == "criterion":
        technical["confidence"] = value
    else:
        criteria["business"] = {"max_latency_ms": 50, "confidence": value}
    data = {"use_case": {"name": "u", "owner": "o", "business_metric": "m"},
            "criteria": criteria}
    with pytest.raises(ConfigError) as caught:
        validate(data)
    message = str(caught.value)
    assert "\n" not in message and "confidence" in message and "between 0 and 1" in message


def test_the_net_value_at_a_confidence():
    from readiness.core.schema import BusinessCriteria

    worth = {"tp": 120.0, "fp": -15.0, "fn": -40.0, "tn": 0.0}
    spec = BusinessCriteria(value_per_outcome=worth, min_net_value_per_1000=500)
    matrix = [[100, 10], [10, 51]]  # net value (51*120 - 150 - 400) / 171 * 1000 = 32,573
    net = (51 * 120 - 150 - 400) / 171 * 1000

    def values(low, high, recorded_worth=worth):
        out = _evidence(net, low, high, name="net_value_per_1000")
        out[("net_value_per_1000", "holdout")].interval["value_per_outcome"] = recorded_worth
        out[("confusion_matrix", "holdout")] = Evidence("confusion_matrix", matrix, "holdout")
        return out

    assert judge_business(spec, values(600, 40_000), 0.95).passed
    unsure = judge_business(spec, values(-100, 40_000), 0.95)
    assert not unsure.passed and unsure.inconclusive and unsure.n_needed
    assert INCONCLUSIVE in unsure.problems[0]
    below = judge_business(spec, values(-900, 400), 0.95)
    assert not below.passed and not below.inconclusive
    stale = judge_business(spec, values(600, 40_000, {**worth, "tp": 1.0}), 0.95)
    assert stale.inconclusive and "other values per outcome" in stale.problems[0]
    assert judge_business(spec, values(-100, 40_000)).passed  # point value, as before


def test_check_with_confidence_on_171_rows_shows_value_interval_and_verdict(project):
    from sklearn.metrics import roc_auc_score

    from readiness.evidence.verdict import check
    from readiness.render import html_of, markdown, text

    model, X, y = _breast_cancer()
    observed = roc_auc_score(y, model.predict_proba(X)[:, 1])
    path = project.root / "readiness.yaml"
    body = path.read_text().replace("criteria:\n", "criteria:\n  confidence: 0.95\n", 1)
    # a bound just under the observed ROC AUC: on 171 rows the interval straddles it
    path.write_text(body.replace("min: 0.85", f"min: {observed - 0.002:.4f}"))
    readiness.evaluate(model, X, y, latency_samples=5)
    result = check(project)
    auc = next(c for c in result.criteria if c.metric == "roc_auc")
    assert auc.confidence == 0.95 and auc.n == 171 and auc.observed == pytest.approx(observed)
    assert auc.status == "inconclusive" and auc.n_needed > 171
    assert result.verdict == "NOT_READY" and result.exit_code == 1
    assert any(INCONCLUSIVE in flag for flag in result.flags)
    assert result.to_dict()["criteria"][0]["status"] == "inconclusive"
    shown = f"[{auc.low:.4g}, {auc.high:.4g}] 95% n=171"
    out = text(result)
    assert "interval" in out and shown in out and "inconclusive" in out
    assert f"{auc.n_needed:,} held-out rows" in out
    for rendered in (markdown(result), html_of(result)):
        assert shown in rendered and "inconclusive" in rendered
    assert "n=171" in text(result).split("business criteria")[1]  # the net value's interval


def test_the_declaration_says_how_sure_the_check_must_be(project):
    from readiness.criteria.declaration import show
    from readiness.render import text

    assert "bootstrap intervals" not in text(show(project))  # the template declares none
    path = project.root / "readiness.yaml"
    body = path.read_text().replace("criteria:\n", "criteria:\n  confidence: 0.95\n", 1)
    path.write_text(body.replace("      min: 0.70\n", "      min: 0.70\n      confidence: 0.9\n"))
    shown = text(show(project))
    assert "judged on 95% bootstrap intervals" in shown and "recall on holdout at 90%" in shown
