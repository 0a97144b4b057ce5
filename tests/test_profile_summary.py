"""Summarised reference profiles (quantiles for a large numeric column): the normed
Wasserstein score against the summary stays within the bound the summary states, so the
verdict is the exact one's wherever the exact score is farther than that from the threshold
(the exact engine's verdicts are evidently's: tests/test_drift_parity.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from readiness.core.schema import DriftPolicy
from readiness.monitoring.engine import EngineError, judge_column, judge_frame, profile_frame
from readiness.monitoring.engine.profile import ColumnProfile, profile_column, summarise

GENERATORS = {
    "normal": lambda rng, n: rng.normal(size=n),
    "lognormal": lambda rng, n: rng.lognormal(size=n),
    "uniform": lambda rng, n: rng.uniform(size=n),
    "bimodal": lambda rng, n: np.where(rng.random(n) < 0.3, rng.normal(-3, 1, n),
                                       rng.normal(2, 0.5, n)),
    "integers": lambda rng, n: rng.integers(0, 5000, n),
    "float32": lambda rng, n: rng.normal(size=n).astype(np.float32),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_scores_stay_within_the_stated_bound_and_verdicts_agree(name):
    rng = np.random.default_rng(sorted(GENERATORS).index(name))
    make = GENERATORS[name]
    reference = pd.Series(make(rng, 40_000))
    exact = profile_column(reference)
    summary = summarise(exact, points=2_000)
    bound = summary.extra["score_error"]
    assert not summary.exact and summary.values.size == 2_000 and 0 < bound < 0.01
    assert summary.count == exact.count and summary.std == exact.std
    agreed = 0
    for shift in (0.0, 0.02, 0.05, 0.08, 0.1, 0.12, 0.2, 0.5):
        for size in (3_000, 30_000):
            values = make(rng, size)
            current = pd.Series(values + shift * float(reference.std()), dtype=values.dtype) \
                if values.dtype.kind == "f" else pd.Series(values + int(shift * 1443))
            a, b = judge_column(exact, current), judge_column(summary, current)
            assert a.method == b.method == "Wasserstein distance (normed)"
            assert abs(a.score - b.score) <= bound + 1e-12, (shift, size, a.score, b.score)
            assert b.score_error == bound and a.score_error is None
            if abs(a.score - a.threshold) > bound:
                assert a.drifted == b.drifted, (shift, size, a.score, b.score)
                agreed += 1
    assert agreed >= 12  # nearly every case is farther from 0.1 than the bound


def test_profile_frame_summarises_only_large_numeric_columns_and_round_trips():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "wide": rng.normal(size=5_000),
        "few": rng.integers(0, 4, 5_000),  # few distinct values: counts are exact and small
        "plan": rng.choice(["a", "b", "c"], 5_000),
    })
    profiles = profile_frame(frame, exact_rows=2_000, points=500)
    assert not profiles["wide"].exact and profiles["few"].exact and profiles["plan"].exact
    back = ColumnProfile.from_dict(profiles["wide"].to_dict())
    assert not back.exact and back.extra == profiles["wide"].extra
    assert np.array_equal(back.values, profiles["wide"].values)
    assert all(p.exact for p in profile_frame(frame, exact_rows=10_000).values())
    current = frame.assign(wide=frame["wide"] + 1.0)
    verdicts, share = judge_frame(profiles, current, list(frame.columns))
    exact, exact_share = judge_frame(frame, current, list(frame.columns))
    assert [v.drifted for v in verdicts] == [v.drifted for v in exact] and share == exact_share


def test_a_test_other_than_wasserstein_on_a_summary_is_refused():
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=5_000)})
    profiles = profile_frame(reference, exact_rows=2_000, points=500)
    with pytest.raises(EngineError, match="summarised"):
        judge_frame(profiles, reference, ["x"], DriftPolicy(num_method="ks"))
    from readiness.monitoring.drift import DriftError, drift

    with pytest.raises(DriftError, match="summarised"):
        drift(profiles, reference, policy=DriftPolicy(num_method="ks"), save=False)
    result = drift(profiles, reference.assign(x=reference["x"] + 0.5), save=False)
    assert result.columns[0].drifted and result.columns[0].score_error is not None
    from readiness import render

    assert "judged against a summarised profile" in render.text(result)
