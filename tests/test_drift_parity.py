"""The drift engine against evidently itself: same methods, verdicts, scores and dataset verdict.

Every case runs evidently 0.7's ``Report([DataDriftPreset(...)], include_tests=True)`` the
way ``readiness drift`` runs it (``monitoring.drift._preset`` through
``integrations.evidently.run``) and the engine on the same frames, and requires identical
method names, thresholds and drifted flags per column, scores equal within 1e-9 relative,
the same share of drifted columns and the same dataset verdict (evidently's own test on
the share). evidently is imported once, by the first report.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from readiness.core.errors import EvidentlyError
from readiness.core.schema import DriftPolicy
from readiness.integrations.evidently import run
from readiness.monitoring.drift import _column_results, _prepare, _preset
from readiness.monitoring.engine import (
    ColumnProfile,
    EngineError,
    NotInEngine,
    dataset_drift,
    infer_kind,
    judge_column,
    judge_frame,
    profile_column,
    profile_frame,
)

RELATIVE = 1e-9


def evidently_drift(ref, cur, policy, columns):
    """evidently's per-column results, share, and its dataset verdict (the share's test)."""
    snapshot = run(_preset(policy, columns), ref, cur)
    verdicts, share = _column_results(snapshot)
    dataset = None
    for result in snapshot.metric_results.values():
        params = result.metric_value_location.metric.params
        if str(params.get("type", "")).endswith("DriftedColumnsCount"):
            tests = getattr(result.share, "tests", None) or getattr(result, "tests", None) or []
            dataset = any(str(t.status).endswith("FAIL") for t in tests)
    return verdicts, share, dataset


def same_score(a, b):
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= RELATIVE * max(abs(a), abs(b))


def assert_parity(ref, cur, policy=None, columns=None, by_evidently=(), profiles=False):
    """The engine's verdicts equal evidently's; ``by_evidently``: columns left to evidently."""
    policy = policy or DriftPolicy()
    columns = list(columns or ref.columns)
    expected, share, dataset = evidently_drift(ref, cur, policy, columns)
    reference = profile_frame(ref, columns) if profiles else ref
    verdicts, got_share = judge_frame(reference, cur, columns, policy)
    assert [v.column for v in verdicts] == columns
    for verdict in verdicts:
        want = expected[verdict.column]
        where = f"{verdict.column}: engine {verdict} / evidently {want}"
        assert verdict.method == want["method"], where
        assert verdict.threshold == pytest.approx(want["threshold"], rel=1e-12), where
        assert verdict.drifted == want["drifted"], where
        assert same_score(verdict.score, want["score"]), where
        wanted_engine = "evidently" if verdict.column in by_evidently else "numpy"
        assert verdict.engine == wanted_engine, where
    assert got_share == pytest.approx(share, rel=1e-12)
    assert dataset is not None
    assert dataset_drift(got_share, policy) == dataset
    return verdicts


def mixed(rng, n, shift=0.0, nan=0.0, new_category=False):
    """One frame of every column family evidently tells apart."""
    cats = ["a", "b", "c", "d"] + (["new"] if new_category else [])
    p = np.array([0.4, 0.3, 0.2, 0.1] + ([0.0] if new_category else []))
    if new_category:
        p = np.array([0.35, 0.3, 0.2, 0.1, 0.05])
    frame = pd.DataFrame(
        {
            "normal": rng.normal(shift, 1.0, n),
            "skewed": rng.exponential(1.0 + shift, n),
            "few_floats": rng.choice([0.0, 1.0, 2.5], n).astype(float),
            "two_floats": rng.choice([0.0, 1.0], n, p=[0.7 - shift / 10, 0.3 + shift / 10]),
            "int_few": rng.integers(0, 4, n),
            "int_ten": rng.integers(0, 10, n),
            "int_many": rng.integers(0, 500, n),
            "cat": pd.Series(rng.choice(cats, n, p=p / p.sum()), dtype=object),
            "binary": rng.choice(["yes", "no"], n, p=[0.5 + shift / 10, 0.5 - shift / 10]),
            "flag": rng.random(n) < 0.3 + shift / 10,
            "category": pd.Categorical(rng.choice(["x", "y", "z"], n), categories=["x", "y", "z", "w"]),
        }
    )
    if nan:
        for column in ("normal", "skewed", "few_floats", "cat"):
            frame.loc[rng.random(n) < nan, column] = np.nan
    return frame


# -- the two size regimes -----------------------------------------------------------------------


@pytest.mark.parametrize("n_ref,n_cur", [(400, 300), (3000, 2500)])
@pytest.mark.parametrize("shift", [0.0, 0.6])
def test_both_regimes_every_column_family(n_ref, n_cur, shift):
    rng = np.random.default_rng(n_ref + int(shift * 10))
    verdicts = assert_parity(mixed(rng, n_ref), mixed(rng, n_cur, shift=shift))
    methods = {v.column: v.method for v in verdicts}
    if n_ref <= 1000:
        assert methods["normal"] == "K-S p_value"
        assert methods["cat"] == "chi-square p_value"
        assert methods["binary"] == "Z-test p_value"
        assert methods["few_floats"] == "chi-square p_value"
    else:
        assert methods["normal"] == "Wasserstein distance (normed)"
        assert methods["cat"] == "Jensen-Shannon distance"
        assert methods["few_floats"] == "Jensen-Shannon distance"


def test_reference_size_is_counted_after_missing_values_are_dropped():
    # 1,100 rows of which 200 missing: evidently's "<= 1000" rule sees 900 values
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=1100)})
    ref.loc[:199, "x"] = np.nan
    cur = pd.DataFrame({"x": rng.normal(0.2, size=800)})
    assert [v.method for v in assert_parity(ref, cur)] == ["K-S p_value"]


def test_missing_values_in_either_sample_and_infinities():
    rng = np.random.default_rng(7)
    ref, cur = mixed(rng, 700, nan=0.1), mixed(rng, 600, shift=0.3, nan=0.3)
    ref.loc[:5, "normal"] = np.inf
    cur.loc[:3, "skewed"] = -np.inf
    assert_parity(ref, cur)
    big_ref, big_cur = mixed(rng, 2000, nan=0.2), mixed(rng, 1500, nan=0.05, shift=0.2)
    big_ref.loc[:9, "normal"] = -np.inf
    assert_parity(big_ref, big_cur)


@pytest.mark.parametrize("n", [300, 2000])
def test_a_category_only_in_the_current_sample(n):
    rng = np.random.default_rng(n)
    verdicts = assert_parity(mixed(rng, n), mixed(rng, n, new_category=True))
    cat = next(v for v in verdicts if v.column == "cat")
    assert cat.drifted


@pytest.mark.parametrize("n", [50, 1500])
def test_constant_columns(n):
    ref = pd.DataFrame(
        {
            "same": np.full(n, 3.0),
            "moved": np.full(n, 1.0),
            "word": ["a"] * n,
            "int_same": np.full(n, 7),
            "varied": np.linspace(0, 1, n),
        }
    )
    cur = pd.DataFrame(
        {
            "same": np.full(n, 3.0),
            "moved": np.full(n, 2.0),
            "word": ["a"] * n,
            "int_same": np.full(n, 7),
            "varied": np.full(n, 0.5),
        }
    )
    verdicts = {v.column: v for v in assert_parity(ref, cur)}
    assert not verdicts["same"].drifted and verdicts["moved"].drifted


def test_a_column_all_missing_in_one_sample_is_skipped_as_drift_skips_it():
    rng = np.random.default_rng(11)
    ref, cur = mixed(rng, 500), mixed(rng, 400)
    ref["empty_ref"] = np.nan
    cur["empty_ref"] = rng.normal(size=400)
    ref["empty_cur"] = rng.normal(size=500)
    cur["empty_cur"] = np.nan
    kept, skipped = _prepare(ref, cur, None, DriftPolicy())
    assert len(skipped) == 2 and "empty_ref" not in kept and "empty_cur" not in kept
    assert_parity(ref, cur, columns=kept)


@pytest.mark.parametrize("n_ref,n_cur", [(12, 8), (25, 29), (5, 3)])
def test_tiny_samples(n_ref, n_cur):
    rng = np.random.default_rng(n_ref * 100 + n_cur)
    ref, cur = mixed(rng, n_ref), mixed(rng, n_cur, shift=0.5)
    # strings of 3 rows are text to evidently (more distinct values than half the rows)
    columns = [c for c in ref.columns if cur[c].nunique() and infer_kind(cur[c]) != "text"]
    assert_parity(ref, cur, columns=columns)


# -- policies -------------------------------------------------------------------------------------


def test_policy_names_an_implemented_method_and_thresholds():
    rng = np.random.default_rng(13)
    ref, cur = mixed(rng, 600), mixed(rng, 500, shift=0.4)
    policy = DriftPolicy(
        cat_method="jensenshannon",
        num_threshold=0.01,
        threshold=0.2,
        max_drift_share=0.3,
        columns={"normal": {"method": "wasserstein", "threshold": 0.05}, "int_many": {"method": "ks"}},
    )
    verdicts = {v.column: v for v in assert_parity(ref, cur, policy=policy)}
    assert verdicts["cat"].method == "jensenshannon" and verdicts["cat"].threshold == 0.2
    assert verdicts["normal"].method == "wasserstein" and verdicts["normal"].threshold == 0.05
    assert verdicts["skewed"].threshold == 0.01


def test_jensen_shannon_on_binned_numbers_integers_and_float32():
    # evidently bins a numerical column of more than 20 distinct reference values (Sturges)
    rng = np.random.default_rng(17)
    n = 4000

    def frame(shift):
        return pd.DataFrame(
            {
                "normal": rng.normal(shift, 1, n),
                "ints": rng.integers(0, 40, n) + int(shift * 5),
                "narrow_ints": rng.integers(0, 25, n),
                "f32": rng.normal(shift, 2, n).astype(np.float32),
            }
        )

    assert_parity(frame(0.0), frame(0.3), policy=DriftPolicy(method="jensenshannon"))


def test_methods_the_engine_lacks_go_to_evidently_for_those_columns_only():
    rng = np.random.default_rng(19)
    ref, cur = mixed(rng, 800), mixed(rng, 700, shift=0.3)
    policy = DriftPolicy(num_method="psi", columns={"cat": {"method": "hellinger"}})
    numeric = {"normal", "skewed", "few_floats", "two_floats", "int_many"}
    verdicts = assert_parity(ref, cur, policy=policy, by_evidently=numeric | {"cat"})
    assert {v.column for v in verdicts if v.engine == "numpy"} == set(ref.columns) - numeric - {
        "cat"
    }
    anderson = DriftPolicy(columns={"normal": {"method": "anderson"}})
    assert_parity(ref, cur, policy=anderson, by_evidently={"normal"})


def test_text_columns_go_to_evidently():
    rng = np.random.default_rng(23)
    words = np.array(["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog"])

    def frame(n):
        text = [" ".join(rng.choice(words, 6)) + f" {i}" for i in range(n)]
        return pd.DataFrame({"note": text, "x": rng.normal(size=n)})

    verdicts = assert_parity(frame(200), frame(150), by_evidently={"note"})
    assert verdicts[0].kind == "text"
    with pytest.raises(EngineError, match="note"):
        judge_frame(profile_frame(frame(50)), frame(40), ["note", "x"])


def test_the_type_is_the_current_sample_s():
    # an integer column of 50 distinct reference values but 8 in the current: categorical
    rng = np.random.default_rng(29)
    ref = pd.DataFrame({"n": rng.integers(0, 50, 600), "m": rng.integers(0, 8, 600)})
    cur = pd.DataFrame({"n": rng.integers(0, 8, 500), "m": rng.integers(0, 60, 500)})
    kinds = {v.column: v.kind for v in assert_parity(ref, cur)}
    assert kinds == {"n": "categorical", "m": "numerical"}


def _edge_cases():
    rng = np.random.default_rng(37)
    n = 500

    def pair(make):
        return pd.DataFrame({"x": make(0)}), pd.DataFrame({"x": make(1)})

    ints = pd.DataFrame({"x": rng.integers(0, 50, n)})
    floats = pd.DataFrame({"x": rng.integers(0, 50, n).astype(float)})
    floats.loc[:10, "x"] = np.nan
    objects = pd.Series(rng.choice(["a", "b", None], n), dtype=object)
    categories = pd.Categorical(rng.choice(["a", "b", None], n))
    return {
        "int32": (*pair(lambda s: rng.integers(0, 30 + 5 * s, n).astype(np.int32)), None),
        "float32": (*pair(lambda s: rng.normal(s / 4, 1, n).astype(np.float32)), None),
        "float32 large": (*pair(lambda s: rng.normal(s / 9, 1, 3000).astype(np.float32)), None),
        "string dtype": (
            *pair(lambda s: pd.Series(rng.choice(list("abcd")[: 3 + s], n), dtype="string")),
            None,
        ),
        "object with None": (pd.DataFrame({"x": objects}), pd.DataFrame({"x": objects[::-1]}), None),
        "category with NaN": (
            pd.DataFrame({"x": categories}),
            pd.DataFrame({"x": categories[::-1]}),
            None,
        ),
        "bool one value now": (
            pd.DataFrame({"x": rng.random(n) < 0.5}),
            pd.DataFrame({"x": np.ones(n, bool)}),
            None,
        ),
        "int reference, float current": (ints, floats, None),
        "int reference, float current, large": (
            pd.DataFrame({"x": rng.integers(0, 50, 3000)}),
            floats,
            None,
        ),
        "tiny spread": (*pair(lambda s: rng.normal(s * 1e-5, 1e-5, 3000)), None),
        "negative zero": (
            pd.DataFrame({"x": rng.choice([0.0, -0.0, 1.0], n)}),
            pd.DataFrame({"x": rng.choice([0.0, 1.0, 2.0], n)}),
            None,
        ),
        "K-S on large samples": (*pair(lambda s: rng.normal(s / 50, 1, 20000)), DriftPolicy(method="ks")),
        "Z-test on three values": (
            *pair(lambda s: rng.choice(list("abc"), n)),
            DriftPolicy(cat_method="z"),
        ),
        "Wasserstein on few values": (
            *pair(lambda s: rng.integers(0, 3 + s, 100).astype(float)),
            DriftPolicy(num_method="wasserstein"),
        ),
        "Jensen-Shannon small": (
            *pair(lambda s: rng.choice(list("abcd")[: 3 + s], 100)),
            DriftPolicy(cat_method="jensenshannon", cat_threshold=1),
        ),
        "target and prediction names": (
            pd.DataFrame({"target": rng.integers(0, 2, n), "prediction": rng.random(n)}),
            pd.DataFrame({"target": rng.integers(0, 2, n), "prediction": rng.random(n)}),
            None,
        ),
    }


EDGE_CASES = _edge_cases()


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_cases(case):
    ref, cur, policy = EDGE_CASES[case]
    assert_parity(ref, cur, policy=policy)


def test_what_evidently_refuses_the_engine_refuses_with_its_message():
    rng = np.random.default_rng(43)
    numbers = pd.DataFrame({"x": rng.normal(size=300)})
    words = pd.DataFrame({"x": rng.choice(["a", "b"], 300)})
    cases = [
        (pd.DataFrame({"x": pd.array(rng.integers(0, 9, 300), dtype="Int64")}), None),
        (pd.DataFrame({"x": rng.integers(0, 99, 300).astype(np.uint8)}), None),
        (numbers, DriftPolicy(method="chisquare")),
        (words, DriftPolicy(method="ks")),
    ]
    for frame, policy in cases:
        policy = policy or DriftPolicy()
        with pytest.raises(EvidentlyError) as theirs:
            evidently_drift(frame, frame, policy, ["x"])
        with pytest.raises(EvidentlyError) as ours:
            judge_frame(frame, frame, ["x"], policy)
        assert str(ours.value) == str(theirs.value)


# -- profiles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [300, 2500])
def test_profiles_judge_as_the_reference_data_does_and_survive_json(n):
    rng = np.random.default_rng(31 + n)
    ref, cur = mixed(rng, n, nan=0.1), mixed(rng, n, shift=0.4, nan=0.1)
    from_data, share = judge_frame(ref, cur, list(ref.columns))
    assert_parity(ref, cur, profiles=True)
    stored = json.loads(json.dumps({c: p.to_dict() for c, p in profile_frame(ref).items()}))
    profiles = {c: ColumnProfile.from_dict(d) for c, d in stored.items()}
    from_json, json_share = judge_frame(profiles, cur, list(ref.columns), workers=1)
    assert [v.to_dict() for v in from_json] == [v.to_dict() for v in from_data]
    assert json_share == share


def test_judge_column_refuses_what_evidently_refuses():
    profile = profile_column(pd.Series([np.inf, np.nan], name="x"))
    with pytest.raises(EngineError, match="empty column 'x'"):
        judge_column(profile, pd.Series([1.0, 2.0]))
    with pytest.raises(EngineError, match="current dataset"):
        judge_column(profile_column(pd.Series([1.0, 2.0], name="x")), pd.Series([np.nan, np.inf]))
    with pytest.raises(NotInEngine):
        judge_column(profile_column(pd.Series([1.0, 2.0], name="x")), pd.Series([1.0]), "psi")


# -- random frames --------------------------------------------------------------------------------

FAMILIES = ("normal", "ints", "few_ints", "floats_few", "strings", "binary", "bool", "category")


def random_column(rng, family, n, shift):
    if family == "normal":
        values = rng.normal(shift, rng.uniform(0.1, 5), n)
    elif family == "ints":
        values = rng.integers(0, rng.integers(12, 200), n) + int(shift * 3)
    elif family == "few_ints":
        values = rng.integers(0, rng.integers(1, 11), n)
    elif family == "floats_few":
        values = rng.choice(rng.normal(size=rng.integers(1, 7)), n)
    elif family == "strings":
        k = int(rng.integers(2, 8))
        values = rng.choice([f"v{i}" for i in range(k)], n)
    elif family == "binary":
        values = rng.choice(["on", "off"], n, p=[0.5 + shift / 4, 0.5 - shift / 4])
    elif family == "bool":
        values = rng.random(n) < 0.5 + shift / 4
    else:
        return pd.Categorical(rng.choice(["p", "q", "r"], n))
    series = pd.Series(values)
    if family in ("normal", "floats_few", "strings") and rng.random() < 0.5:
        series = series.astype(object if family == "strings" else float)
        series[rng.random(n) < rng.uniform(0, 0.3)] = np.nan
    return series


def random_case(seed):
    rng = np.random.default_rng(1000 + seed)
    n_ref = int(rng.choice([int(rng.integers(5, 60)), int(rng.integers(200, 1200)), 1600]))
    n_cur = int(rng.integers(5, 1500))
    families = rng.choice(FAMILIES, int(rng.integers(2, 7)))
    ref, cur = {}, {}
    for i, family in enumerate(families):
        name = "target" if i == 0 else f"{family}_{i}"
        ref[name] = random_column(rng, family, n_ref, 0.0)
        cur[name] = random_column(rng, family, n_cur, float(rng.choice([0.0, 0.5])))
    return pd.DataFrame(ref), pd.DataFrame(cur), rng


RANDOM_POLICIES = [
    {},
    {},
    {"cat_method": "jensenshannon"},
    {"num_method": "wasserstein", "num_threshold": 0.2},
    {"num_method": "ks", "cat_method": "chisquare", "threshold": 0.01},
    {"method": "jensenshannon", "threshold": 0.05},
]


def test_random_mixed_frames():
    checked = 0
    for seed in range(30):
        ref, cur, rng = random_case(seed)
        columns, _ = _prepare(ref, cur, None, DriftPolicy())
        options = RANDOM_POLICIES[seed % len(RANDOM_POLICIES)]
        policy = DriftPolicy(max_drift_share=float(rng.choice([0.25, 0.5, 1.0])), **options)
        assert_parity(ref, cur, policy=policy, columns=columns)
        checked += len(columns)
    assert checked > 60


# -- size -------------------------------------------------------------------------------------------


def test_a_million_rows():
    rng = np.random.default_rng(41)
    n = 1_000_000

    def frame(shift):
        return pd.DataFrame(
            {
                "amount": rng.lognormal(shift, 1.0, n),
                "items": rng.integers(0, 6, n),
                "country": rng.choice(["fr", "de", "es", "it", "pl"], n),
            }
        )

    ref, cur = frame(0.0), frame(0.05)
    started = time.perf_counter()
    verdicts, _ = judge_frame(ref, cur, list(ref.columns))
    engine = time.perf_counter() - started
    assert [v.method for v in verdicts] == ["Wasserstein distance (normed)"] + [
        "Jensen-Shannon distance"
    ] * 2
    assert_parity(ref, cur)
    assert engine < 60  # a hang guard, not a speed claim


def test_importing_the_engine_does_not_import_evidently():
    code = "import sys, readiness.monitoring.engine; print('evidently' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_drift_without_a_saved_report_runs_no_evidently():
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from readiness.monitoring.drift import drift\n"
        "rng = np.random.default_rng(0)\n"
        "ref = pd.DataFrame({'x': rng.normal(size=300), 'c': rng.choice(['a', 'b', 'c'], 300)})\n"
        "cur = pd.DataFrame({'x': rng.normal(1, size=300), 'c': rng.choice(['a', 'b'], 300)})\n"
        "result = drift(ref, cur, save=False)\n"
        "print(result.drifted_columns, 'evidently' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['x', 'c'] False"
