"""The paired no-regression check: both versions on the same held-out rows, real git+DVC+GTO."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from readiness.evidence.intervals import paired_difference
from readiness.gate.promotion import gate, promote
from readiness.registry.versions import register

from .conftest import commit_all
from .test_registry import registry_project, train  # noqa: F401  (the fixture)

# -- the paired difference itself -----------------------------------------------------------------


def _two_models(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    s1 = np.clip(y * 0.4 + rng.random(n) * 0.6, 0, 1)
    s2 = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1)
    return y, s1, s2


def test_the_paired_difference_is_the_metrics_difference_and_reproducible():
    y, s1, s2 = _two_models()
    p1, p2 = (s1 > 0.5).astype(int), (s2 > 0.5).astype(int)
    out = paired_difference(y, p1, p2, np.c_[1 - s1, s1], np.c_[1 - s2, s2], seed=3,
                            resamples=300)
    assert out["roc_auc"]["difference"] == pytest.approx(
        metrics.roc_auc_score(y, s1) - metrics.roc_auc_score(y, s2))
    assert out["recall"]["difference"] == pytest.approx(
        metrics.recall_score(y, p1) - metrics.recall_score(y, p2))
    assert out["log_loss"]["difference"] == pytest.approx(
        metrics.log_loss(y, np.c_[1 - s1, s1]) - metrics.log_loss(y, np.c_[1 - s2, s2]))
    for item in out.values():
        assert item["low"] <= item["difference"] <= item["high"]
    again = paired_difference(y, p1, p2, np.c_[1 - s1, s1], np.c_[1 - s2, s2], seed=3,
                              resamples=300)
    assert again == out
    same = paired_difference(y, p1, p1, np.c_[1 - s1, s1], np.c_[1 - s1, s1], resamples=100)
    assert all(v["low"] == v["high"] == 0 for v in same.values())  # pairing cancels the rows


def test_pairing_is_tighter_than_two_independent_intervals():
    """Two close models on the same rows: the paired interval is far narrower than the
    difference of two unpaired intervals would suggest (the rows' difficulty cancels)."""
    from readiness.evidence.intervals import classification_resamples, interval

    y, s1, _ = _two_models(n=400, seed=5)
    s2 = np.clip(s1 + np.random.default_rng(6).normal(0, 0.03, len(y)), 0, 1)
    out = paired_difference(y, s1 > 0.5, s2 > 0.5, np.c_[1 - s1, s1], np.c_[1 - s2, s2])
    widths = []
    for s in (s1, s2):
        low, high = interval(classification_resamples(y, s > 0.5, np.c_[1 - s, s])["roc_auc"])
        widths.append(high - low)
    unpaired = np.hypot(*widths)  # the width of the difference of independent estimates
    assert out["roc_auc"]["high"] - out["roc_auc"]["low"] < 0.5 * unpaired


def test_a_regression_paired_difference():
    rng = np.random.default_rng(2)
    y = rng.normal(size=200) + 5
    out = paired_difference(y, y + rng.normal(size=200) * 0.5, y + rng.normal(size=200),
                            task="regression", resamples=300)
    assert out["rmse"]["high"] < 0 and out["mae"]["high"] < 0  # a clearly better model
    assert set(out) == {"rmse", "mae", "r2", "mape"}


# -- in the promotion gate --------------------------------------------------------------------------


def _regression(project, version):
    conditions = gate(project, "screening", version, "production")
    return next(c for c in conditions if c["condition"] == "no regression against production")


@pytest.mark.slow
def test_noise_is_not_a_regression_a_real_one_is_and_no_paired_data_falls_back(
    registry_project,  # noqa: F811
):
    project = registry_project
    train(project)
    register(project, "screening")
    assert promote(project, "screening", "1.0.0", "production").promoted
    # C=5: a slightly lower AUC and recall, within the paired interval: not a regression
    train(project, C=5.0)
    register(project, "screening")
    noise = _regression(project, "v1.0.1")
    assert noise["passed"], noise["detail"]
    assert "within noise" in noise["detail"] and "difference" in noise["detail"]
    auc = next(c for c in noise["comparisons"] if c["metric"] == "roc_auc")
    assert auc["method"] == "paired bootstrap" and auc["within_noise"] and auc["n"] == 171
    assert auc["candidate"] < auc["production"] and auc["low"] < 0 <= auc["high"]
    # C=0.01: its AUC is lower on the same rows beyond the interval: a regression
    train(project, C=0.01)
    register(project, "screening")
    worse = _regression(project, "v1.0.2")
    assert not worse["passed"] and "roc_auc/holdout" in worse["detail"]
    auc = next(c for c in worse["comparisons"] if c["metric"] == "roc_auc")
    assert auc["worse"] and auc["high"] < 0 and not auc["within_noise"]
    # no holdout dataset declared: the recorded point values, saying so
    path = project.config_path
    path.write_text(path.read_text().split("datasets:")[0])
    commit_all(project.root, "no datasets")
    point = _regression(project, "v1.0.1")
    assert not point["passed"] and "point values compared" in point["detail"]
    assert {c["method"] for c in point["comparisons"]} == {"point values"}
