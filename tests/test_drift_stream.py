"""A current Parquet sample read row group by row group (on threads, or a real Dask cluster):
the verdicts of the in-memory engine, Wasserstein within its stated bound, clear errors for
the tests that need every value, and no more than a few row groups held at a time."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, wasserstein_distance

from readiness.core.schema import DriftPolicy
from readiness.monitoring.drift import DriftError, drift, needed_columns
from readiness.monitoring.engine import EngineError, judge_frame, profile_frame
from readiness.monitoring.engine.groups import run_groups
from readiness.monitoring.engine.profile import summarise
from readiness.monitoring.engine.stream import (
    RAW_LIMIT,
    Partial,
    grid_of,
    judge_stream,
    stream_partials,
    wasserstein_binned,
)
from tests.conftest import cli


def frames(rows: int = 60_000, ref_rows: int = 3_000, seed: int = 0):
    """A reference and a shifted current of every column family the engine streams."""
    rng = np.random.default_rng(seed)

    def frame(n: int, shift: float) -> pd.DataFrame:
        data = pd.DataFrame({
            "num": rng.normal(shift, 1.0 + shift, n),
            "same": rng.normal(0.0, 1.0, n),
            "f32": rng.normal(shift, 1.0, n).astype(np.float32),
            "wide_int": rng.integers(0, 1000 + int(shift * 100), n),
            "few_int": rng.integers(0, 4 + (shift > 0), n),
            "flag": rng.random(n) < 0.3 + shift / 2,
            "plan": rng.choice(["basic", "pro", "team"] + (["new"] if shift else []), n),
            "colour": pd.Categorical(rng.choice(["red", "blue"], n)),
            "binary_num": rng.choice([0.0, 1.0], n),
        })
        data.loc[data.index[::11], "num"] = np.nan
        data.loc[data.index[::13], "plan"] = None
        return data

    return frame(ref_rows, 0.0), frame(rows, 0.2)


def write(frame: pd.DataFrame, path: Path, group: int = 7_000) -> Path:
    frame.to_parquet(path, row_group_size=group)
    return path


def verdicts(found):
    return [(v.column, v.method, v.threshold, v.drifted) for v in found]


@pytest.mark.parametrize("shift, spread, integer, outside", [
    (0.0, 1.0, False, False),
    (0.3, 1.5, False, False),
    (0.0, 1.0, True, False),
    (5.0, 0.2, False, True),
])
def test_binned_wasserstein_is_within_its_bound_of_scipys(shift, spread, integer, outside):
    rng = np.random.default_rng(1)
    ref = rng.normal(0.0, 1.0, 4_000)
    cur = rng.normal(shift, spread, 50_000)
    if integer:
        ref, cur = np.round(ref * 3), np.round(cur * 3)
    ref.sort()
    grid = np.unique(ref)
    partial = Partial(dtype="float64", numeric=True)
    for chunk in np.array_split(cur, 7):
        partial.add(pd.Series(chunk), 0, grid)
    found, bound = wasserstein_binned(ref, grid, partial.bins, partial.offsets, partial.edges)
    exact = wasserstein_distance(ref, cur)
    assert abs(found - exact) <= bound + 1e-12 * exact
    if outside or integer:  # no crossing inside a bin: exact
        assert bound == pytest.approx(0.0, abs=1e-12 * exact) or abs(found - exact) < 1e-9
    assert bound < 1e-3 * max(exact, 1e-3) + 1e-3


def test_a_streamed_sample_has_the_in_memory_verdicts(tmp_path):
    ref, cur = frames()
    path = write(cur, tmp_path / "current.parquet")
    profiles = profile_frame(ref)
    columns = list(ref.columns)
    in_memory, share = judge_frame(profiles, cur, columns)
    streamed, streamed_share, partials = judge_stream(profiles, path, columns, workers=2)
    assert verdicts(streamed) == verdicts(in_memory)
    assert streamed_share == share
    for a, b in zip(in_memory, streamed, strict=True):
        if b.score_error is None:  # counts: exact
            assert b.score == pytest.approx(a.score, rel=1e-9, abs=1e-12), a.column
        else:  # Wasserstein from bins: within the bound given
            assert abs(b.score - a.score) <= b.score_error + 1e-12, a.column
    assert {v.column for v in streamed if v.score_error is not None} == {"num", "same", "f32",
                                                                         "wide_int"}
    assert partials["num"].missing == cur["num"].isna().sum()
    assert partials["plan"].rows == len(cur)


def test_drift_streams_with_the_checks_and_extras_of_drift(tmp_path):
    ref, cur = frames()
    cur["gone"] = np.nan  # every value missing in the current: skipped, as in memory
    ref["gone"] = 1.0
    path = write(cur, tmp_path / "current.parquet")
    whole = drift(ref, cur, save=False)
    streamed = drift(ref, path, save=False, stream=True)
    assert streamed.streamed and not whole.streamed
    assert [(c.column, c.method, c.drifted) for c in streamed.columns] == \
        [(c.column, c.method, c.drifted) for c in whole.columns]
    assert streamed.skipped == whole.skipped
    assert streamed.dataset_drift == whole.dataset_drift
    plan = {c.column: c for c in streamed.columns}["plan"]
    assert plan.new_categories == ["new"]
    assert plan.missing_current == pytest.approx(cur["plan"].isna().mean(), abs=1e-4)
    assert streamed.rows == {"reference": len(ref), "current": len(cur)}
    assert "streamed sample" in str(streamed)
    assert all(c.histogram for c in streamed.columns)


def test_a_streamed_result_has_the_in_memory_pictures(small_reference):
    from readiness.render.drift import distribution_svg

    ref, cur, path = small_reference
    cur = cur.replace([np.inf], np.nan)  # the picture of the values the tests read
    whole = {c.column: c.histogram for c in drift(profile_frame(ref), cur, save=False).columns}
    streamed = {c.column: c.histogram for c in drift(ref, path, save=False, stream=True).columns}
    # 'num' holds inf: its statistics give no range, so its picture is spread from the
    # reference's bins, and says so
    approximate = streamed.pop("num")
    assert approximate.pop("approximate") is True
    assert np.allclose(approximate["current"], whole["num"]["current"], atol=0.01)
    assert approximate["reference"] == whole["num"]["reference"]
    for column, picture in streamed.items():  # from the file's statistics, or counted
        assert picture == whole[column], column
    assert "<svg" in distribution_svg(streamed["same"])


def test_a_summarised_profile_adds_its_own_bound(tmp_path):
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 50_000)})
    cur = pd.DataFrame({"x": rng.normal(0.1, 1, 80_000)})
    path = write(cur, tmp_path / "current.parquet", group=10_000)
    profiles = {"x": summarise(profile_frame(ref)["x"], 2_000)}
    exact, _ = judge_frame(profile_frame(ref), cur, ["x"])
    found, _, _ = judge_stream(profiles, path, ["x"])
    assert found[0].score_error > profiles["x"].extra["score_error"]
    assert abs(found[0].score - exact[0].score) <= found[0].score_error
    assert found[0].drifted == exact[0].drifted
    with pytest.raises(EngineError, match=r"'x': its profile is summarised .* not ks"):
        judge_stream(profiles, path, ["x"], DriftPolicy(method="ks"))


def test_a_small_current_is_kept_whole_and_judged_exactly(tmp_path):
    ref, cur = frames(rows=RAW_LIMIT - 10, ref_rows=500)  # small reference: K-S and chi-square
    path = write(cur, tmp_path / "current.parquet", group=1_000)
    profiles = profile_frame(ref)
    in_memory, _ = judge_frame(profiles, cur, list(ref.columns))
    streamed, _, _ = judge_stream(profiles, path, list(ref.columns))
    assert [(v.column, v.method, v.score) for v in streamed] == \
        [(v.column, v.method, v.score) for v in in_memory]


@pytest.fixture(scope="module")
def small_reference(tmp_path_factory):
    """A reference of 500 rows (K-S, chi-square) and a current of 20,000 in groups of 3,000:
    more than the values kept whole, so every numeric column streams from its bins."""
    ref, cur = frames(rows=20_000, ref_rows=500, seed=7)
    cur.loc[cur.index[:40], "num"] = np.inf  # infinite: dropped, as missing values are
    path = write(cur, tmp_path_factory.mktemp("ks") / "current.parquet", group=3_000)
    return ref, cur, path


def test_ks_streams_with_scipys_p_value(small_reference):
    ref, cur, path = small_reference
    profiles = profile_frame(ref)
    columns = list(ref.columns)
    in_memory, share = judge_frame(profiles, cur, columns)
    streamed, streamed_share, partials = judge_stream(profiles, path, columns, workers=2)
    assert all(p.raw is None for c, p in partials.items() if p.numeric)
    assert verdicts(streamed) == verdicts(in_memory) and streamed_share == share
    ks = [v.column for v in streamed if v.method == "K-S p_value"]
    assert ks == ["num", "same", "f32", "wide_int"]  # ties, float32, values beyond the ref's
    for a, b in zip(in_memory, streamed, strict=True):
        assert b.score_error is None and b.score == pytest.approx(a.score, rel=1e-9), a.column
    num = cur["num"].to_numpy()
    scipy_p = ks_2samp(ref["num"].dropna(), num[np.isfinite(num)]).pvalue
    assert {v.column: v.score for v in streamed}["num"] == pytest.approx(scipy_p, rel=1e-9)


def test_jensenshannon_on_sturges_bins_streams_exactly(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from readiness.monitoring.engine import stream

    passes = []
    second = stream.stream_histograms
    monkeypatch.setattr(stream, "stream_histograms",
                        lambda path, edges, *a: passes.append(sorted(edges)) or
                        second(path, edges, *a))
    policy = DriftPolicy(method="jensenshannon")
    ref, cur = frames(rows=20_000, ref_rows=3_000, seed=8)
    path = write(cur, tmp_path / "current.parquet", group=3_000)
    profiles = profile_frame(ref)
    in_memory, _ = judge_frame(profiles, cur, list(ref.columns), policy)
    streamed, _, partials = judge_stream(profiles, path, list(ref.columns), policy, workers=2)
    assert partials["num"].raw is None
    assert verdicts(streamed) == verdicts(in_memory)
    for a, b in zip(in_memory, streamed, strict=True):
        assert b.score == pytest.approx(a.score, rel=1e-9, abs=1e-15), a.column
    assert passes == []  # pandas wrote NaN as null: the statistics gave the edges
    # NaN written as NaN (the statistics count it as a value) and inf (their range is
    # infinite): the edges come from the first pass, the counts from a second, as exact
    values = cur["num"].to_numpy().copy()
    values[:3] = np.inf
    pq.write_table(pa.table({"num": pa.array(values)}), tmp_path / "nan.parquet",
                   row_group_size=3_000)
    (expected,), _ = judge_frame(profiles, pd.DataFrame({"num": values}), ["num"], policy)
    (found,), _, _ = judge_stream(profiles, tmp_path / "nan.parquet", ["num"], policy)
    assert passes == [["num"]]
    assert found.score == pytest.approx(expected.score, rel=1e-9)
    assert drift(ref, path, save=False, stream=True, policy=policy).streamed


def test_jensenshannon_on_value_counts_streams_for_a_current_of_many_values(tmp_path):
    # a column of few values in the reference and many in the current, too many to count:
    # its values on the reference's ones come from the bins, the others only matter together
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({"x": rng.integers(0, 10, 3_000).astype(float)})
    cur = pd.DataFrame({"x": np.where(rng.random(RAW_LIMIT + 5_000) < 0.7,
                                      rng.integers(0, 10, RAW_LIMIT + 5_000),
                                      rng.normal(5, 3, RAW_LIMIT + 5_000))})
    path = write(cur, tmp_path / "current.parquet", group=3_000)
    profiles = profile_frame(ref)
    policy = DriftPolicy(method="jensenshannon")
    (expected,), _ = judge_frame(profiles, cur, ["x"], policy)
    (found,), _, partials = judge_stream(profiles, path, ["x"], policy)
    assert partials["x"].counts is None and partials["x"].raw is None
    assert (found.method, found.drifted) == (expected.method, expected.drifted)
    assert found.score == pytest.approx(expected.score, rel=1e-9)


def test_bad_streaming_requests_are_clear(tmp_path):
    ref, cur = frames(rows=2_000)
    csv = tmp_path / "current.csv"
    cur.to_csv(csv, index=False)
    with pytest.raises(DriftError, match=r"a \.parquet path"):
        drift(ref, csv, save=False, stream=True)
    path = write(cur, tmp_path / "current.parquet")
    with pytest.raises(DriftError, match="drop --sample"):
        drift(ref, path, save=False, stream=True, sample=100)
    with pytest.raises(DriftError, match="unknown executor"):
        drift(ref, path, save=False, executor="spark")


def test_a_sample_larger_than_half_the_memory_streams_by_itself(tmp_path, monkeypatch):
    from readiness.monitoring import drift as module

    ref, cur = frames(rows=5_000)
    path = write(cur, tmp_path / "current.parquet")
    assert not drift(ref, path, save=False).streamed
    monkeypatch.setattr(module, "_available_memory", lambda: 1_000)  # a tiny machine
    assert drift(ref, path, save=False).streamed
    assert not drift(ref, path, save=False, stream=False).streamed


def test_streaming_holds_a_few_row_groups_not_the_sample(tmp_path):
    rng = np.random.default_rng(5)
    rows, group = 4_000_000, 20_000
    write(pd.DataFrame({"x": rng.normal(0, 1, rows)}), tmp_path / "big.parquet", group=group)
    profiles = profile_frame(pd.DataFrame({"x": rng.normal(0, 1, 5_000)}))
    tracemalloc.start()
    try:
        stream_partials(tmp_path / "big.parquet", {"x": grid_of(profiles["x"])}, workers=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the column alone is 32 MB; a window of 4 groups of 160 KB (and their temporaries) is held
    assert peak < rows * 8 / 4


def test_drift_reads_only_the_columns_it_compares(tmp_path):
    ref, cur = frames(rows=2_000)
    path = write(cur, tmp_path / "current.parquet")
    policy = DriftPolicy(ignore=["colour"], target="flag")
    # the compared ones and the policy's target, in the file's order
    assert needed_columns(path, ["num", "plan"], policy) == ["num", "flag", "plan"]
    assert "colour" not in needed_columns(path, None, policy)
    assert needed_columns(path, None, DriftPolicy()) is None  # everything: read whole
    found = drift(ref, path, columns=["num", "plan"], policy=policy, save=False)
    assert sorted(c.column for c in found.columns) == ["num", "plan"]


def unreadable(frame, group, spec):
    raise FileNotFoundError(f"no such file (group {group})")  # as on a worker without it


def test_a_dask_cluster_gives_the_threads_verdicts(small_reference):
    distributed = pytest.importorskip("distributed")
    ref, _, path = small_reference  # K-S and chi-square; Jensen-Shannon on Sturges bins too
    binned = DriftPolicy(method="jensenshannon")
    local = [drift(ref, path, save=False, stream=True, policy=p) for p in (None, binned)]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_cluster = [drift(ref, path, save=False, executor="dask", policy=p,
                            scheduler=cluster.scheduler_address) for p in (None, binned)]
        with distributed.Client(cluster) as client, \
                pytest.raises(EngineError, match=r"a Dask worker cannot read .* same path"):
            run_groups(path, unreadable, {"num": None}, print, client=client)
    for here, there in zip(local, on_cluster, strict=True):
        assert there.streamed
        assert [(c.column, c.method, c.score, c.drifted, c.histogram) for c in there.columns] \
            == [(c.column, c.method, c.score, c.drifted, c.histogram) for c in here.columns]
        assert there.columns[0].missing_current == here.columns[0].missing_current


@pytest.mark.slow
def test_the_cli_streams_against_a_profile_file(project, tmp_path):
    ref, cur = frames(rows=20_000)
    write(cur, project.root / "current.parquet")
    profiles = profile_frame(ref)
    (project.root / "ref.profile.json").write_text(json.dumps({
        "schema": 1, "reference": "train.csv", "rows": len(ref),
        "columns": [p.to_dict() for p in profiles.values()],
    }))
    done = cli("drift", "--profile", "ref.profile.json", "current.parquet", "--stream",
               "--json", cwd=project.root)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["streamed"] is True
    expected, _ = judge_frame(profiles, cur, list(ref.columns))
    assert [(c["column"], c["drifted"]) for c in out["columns"]] == \
        [(v.column, v.drifted) for v in expected]
    refused = cli("drift", "--profile", "ref.profile.json", "current.parquet", "--executor",
                  "dask", cwd=project.root)
    assert refused.returncode == 2
    assert "needs --scheduler" in refused.stderr
