"""readiness monitor NAME on the prediction log: a real served model, real requests over HTTP
from a shifted sample and the plain holdout, real feedback; the figures against a hand
computation from the log's own rows with scikit-learn and pandas."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from .conftest import SCREENING, cli
from .test_serve import Http, add_key, build_served_project, holdout_rows, start

pytestmark = pytest.mark.slow

VALUES = {"tp": 100.0, "fp": -10.0, "fn": -200.0, "tn": 0.0}
SETUP = SCREENING.replace(
    "    - {metric: recall, split: holdout, min: 0.85}\n",
    "    - {metric: recall, split: holdout, min: 0.85}\n"
    "    - {metric: accuracy, split: holdout, min: 0.9}\n"
    "  business:\n"
    "    value_per_outcome: {tp: 100, fp: -10, fn: -200, tn: 0}\n"
    "    min_net_value_per_1000: 0\n",
) + """
  train:
    path: data/breast_cancer/train.csv
    target: malignant
    columns: {malignant: {type: int, allowed: [0, 1]}}
serving: {cost_per_hour: 0.12, poll_seconds: 0.5}
"""
PROBA = "/v1/models/screening:predict_proba"
FEEDBACK = "/v1/models/screening:feedback"


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """v1.0.0 in production, served; shifted traffic with labels, then plain traffic without."""
    import pandas as pd

    from readiness.examples import shifted_sample

    root = tmp_path_factory.mktemp("monlog") / "proj"
    project = build_served_project(root, SETUP, strengths=(1.0,))
    shifted = pd.read_csv(shifted_sample(root / "data/breast_cancer/holdout.csv",
                                         root.parent / "shifted.csv"))
    key = add_key(root)
    with start(project) as server:
        call = Http(server.url, key)
        rows = json.loads(shifted.drop(columns="malignant").to_json(orient="records"))
        labels = shifted["malignant"].tolist()
        for at in range(0, len(rows), 10):
            status, body = call("POST", PROBA, {"rows": rows[at:at + 10]})
            assert status == 200, body
            status, fed = call("POST", FEEDBACK, {"request_id": body["request_id"],
                                                  "labels": labels[at:at + 10]})
            assert status == 200, fed
        plain, _ = holdout_rows(root, 20)
        for at in (0, 10):
            assert call("POST", PROBA, {"rows": plain[at:at + 10]})[0] == 200
        assert call("POST", PROBA, {"rows": [{"mean radius": -1}]})[0] == 422
    yield project


def monitor(project, *args):
    done = cli("monitor", "screening", *args, "--json", cwd=project.root)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def hand_computed(project):
    """accuracy, recall and net value per 1,000 from the log's rows, with sklearn and pandas."""
    import pandas as pd
    from sklearn.metrics import accuracy_score, confusion_matrix, recall_score

    db = project.root / ".readiness" / "serve" / "predictions.db"
    with sqlite3.connect(db) as conn:
        frame = pd.read_sql(
            "SELECT p.outputs, f.labels FROM predictions p JOIN feedback f "
            "ON f.request_id = p.request_id WHERE p.status = 200", conn)
    y = [v for text in frame["labels"] for v in json.loads(text)]
    predicted = [v for text in frame["outputs"] for v in json.loads(text)]
    (tn, fp), (fn, tp) = confusion_matrix(y, predicted, labels=[0, 1])
    net = (tp * VALUES["tp"] + fp * VALUES["fp"] + fn * VALUES["fn"] + tn * VALUES["tn"]) / len(
        y) * 1000
    return len(y), accuracy_score(y, predicted), recall_score(y, predicted), net


def test_the_window_drifts_and_its_figures_equal_the_hand_computation(logged):
    code, out = monitor(logged, "--window", "1h")
    assert code == 1  # the shifted columns drift beyond the policy
    assert set(out["drifted_columns"]) >= {"mean radius", "mean area"}, out["drifted_columns"]
    assert any("feature drift" in b for b in out["breaches"])
    n, accuracy, recall, net = hand_computed(logged)
    assert out["labelled_rows"] == n == 171
    assert out["metrics"]["accuracy"]["value"] == pytest.approx(accuracy, abs=1e-12)
    assert out["metrics"]["recall"]["value"] == pytest.approx(recall, abs=1e-12)
    assert out["net_value_per_1000"] == pytest.approx(net, abs=1e-9)
    for metric in ("accuracy", "recall", "roc_auc"):
        figure = out["metrics"][metric]
        assert figure["low"] <= figure["value"] <= figure["high"], (metric, figure)
        assert figure["direction"] == "min" and figure["breach"] in (True, False)
    again = monitor(logged, "--window", "1h")[1]
    assert again["metrics"] == out["metrics"]  # the seeded bootstrap is reproducible
    other = monitor(logged, "--window", "1h", "--seed", "7")[1]
    assert other["metrics"]["recall"]["low"] != out["metrics"]["recall"]["low"] or \
        other["metrics"]["accuracy"]["low"] != out["metrics"]["accuracy"]["low"]
    for figure in out["metrics"].values():  # a breach is the point value beyond its bound
        assert figure["breach"] == (figure["value"] < figure["bound"])
    assert out["prediction_drift"] is not None
    assert out["versions"][0]["prediction_kind"] == "probability"
    # judged against the profile stored with v1.0.0: the training data was not read
    assert out["versions"][0]["reference"] == (
        "data/breast_cancer/train.csv (profile of v1.0.0)")
    infra = out["infrastructure"]
    assert infra["requests"] == 18 + 2 + 1 and infra["error_rate"] == pytest.approx(1 / 21)
    import numpy as np

    with sqlite3.connect(logged.root / ".readiness" / "serve" / "predictions.db") as conn:
        latency = [r[0] for r in conn.execute("SELECT latency_ms FROM predictions")]
    assert infra["latency_p50_ms"] == pytest.approx(np.percentile(latency, 50))
    assert infra["latency_p95_ms"] == pytest.approx(np.percentile(latency, 95))
    # the file contract, exactly its keys
    written = json.loads((logged.monitor_dir / "screening.json").read_text())
    assert set(written) == {
        "name", "version", "at", "since", "until", "requests", "drift_share", "drifted_columns",
        "prediction_drift", "prediction_drifted", "labelled_rows", "metrics",
        "net_value_per_1000", "min_net_value_per_1000", "breaches"}
    assert {k: written[k] for k in written if k != "at"} == {
        k: other[k] for k in written if k != "at"}  # the last run's (seed 7)
    assert written["version"] == "v1.0.0" and written["min_net_value_per_1000"] == 0
    from readiness.core import audit

    entry = [e for e in audit.read(logged) if e["event"] == "monitor.window"][-1]
    assert entry["name"] == "screening" and entry["requests"] == 21 and entry["breaches"]


def test_too_few_labelled_rows_are_said_not_judged(logged):
    _, out = monitor(logged, "--last", "2")  # the plain requests: no feedback
    assert out["labelled_rows"] == 0 and out["requests"] == 2  # the 422 came after them
    assert all(m["breach"] is None and m["value"] is None for m in out["metrics"].values())
    notes = {m["note"] for m in out["versions"][0]["metrics"].values()}
    assert notes == {"too few labelled rows (0)"}
    assert out["net_value_per_1000"] is None
    done = cli("monitor", "screening", "--last", "2", cwd=logged.root)
    assert "too few labelled rows (0)" in done.stdout


def test_a_window_without_traffic_is_a_finding(logged):
    time.sleep(1.1)
    code, out = monitor(logged, "--window", "1s")
    assert code == 0 and out["requests"] == 0 and out["no_traffic"] and out["breaches"] == []
    done = cli("monitor", "screening", "--window", "1s", cwd=logged.root)
    assert done.returncode == 0 and "no traffic in the window" in done.stdout
    bad = cli("monitor", "screening", "--window", "soon", cwd=logged.root)
    assert bad.returncode == 2 and "--window soon" in bad.stderr


def test_the_business_metric_per_period_correlates_with_the_hand_computed_figures(
    logged, tmp_path
):
    """The labelled requests spread over four past days (in a copy of the project), the
    business metric recorded for each day (three by `readiness log --period`, one in a
    file): per day accuracy, recall and net value, and their correlations with it, equal
    pandas + scikit-learn + scipy on the same rows."""
    import datetime as dt
    import shutil

    import pandas as pd
    from scipy import stats
    from sklearn.metrics import accuracy_score, recall_score

    root = tmp_path / "proj"
    shutil.copytree(logged.root, root, symlinks=True)
    db = root / ".readiness" / "serve" / "predictions.db"
    today = int(time.time() // 86400) * 86400
    days = [today - (4 - k) * 86400 for k in range(4)]
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT p.id FROM predictions p JOIN feedback f ON f.request_id = p.request_id "
            "WHERE p.status = 200 ORDER BY p.id")]
        for i, row_id in enumerate(ids):
            conn.execute("UPDATE predictions SET ts = ? WHERE id = ?",
                         (days[i % 4] + 3600 + i, row_id))
        frame = pd.read_sql(
            "SELECT p.ts, p.outputs, f.labels FROM predictions p JOIN feedback f "
            "ON f.request_id = p.request_id WHERE p.status = 200", conn)
    cost = [41.0, 37.5, 44.0, 35.0]
    stamp = [dt.datetime.fromtimestamp(d, dt.UTC).date().isoformat() for d in days]
    for k in range(3):
        done = cli("log", f"cost={cost[k]}", "--period", stamp[k], "--model", "screening",
                   cwd=root)
        assert done.returncode == 0 and f"recorded cost = {cost[k]:g}" in done.stdout, done.stderr
    pd.DataFrame({"period": [stamp[3], stamp[0], stamp[1]], "cost": [cost[3], None, None],
                  "tickets": [None, 3, 4]}).to_csv(root / "business.csv", index=False)
    done = cli("monitor", "screening", "--window", "7d", "--business", "business.csv",
               "--json", cwd=root)
    assert done.returncode in (0, 1), done.stderr
    found = {b["metric"]: b for b in json.loads(done.stdout)["business"]}
    by_day: dict[str, list[float]] = {"accuracy": [], "recall": [], "net": []}
    for d in days:
        part = frame[(frame["ts"] >= d) & (frame["ts"] < d + 86400)]
        y = [v for text in part["labels"] for v in json.loads(text)]
        predicted = [v for text in part["outputs"] for v in json.loads(text)]
        by_day["accuracy"].append(accuracy_score(y, predicted))
        by_day["recall"].append(recall_score(y, predicted))
        outcome = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        for truth, guess in zip(y, predicted, strict=True):
            outcome[("t" if truth == guess else "f") + ("p" if guess == 1 else "n")] += 1
        by_day["net"].append(sum(VALUES[k] * n for k, n in outcome.items()) / len(y) * 1000)
    periods = found["cost"]["periods"]
    assert [p["value"] for p in periods] == cost
    assert [p["figures"]["labelled_accuracy"] for p in periods] == pytest.approx(
        by_day["accuracy"], abs=1e-12)
    assert [p["figures"]["net_value_per_1000"] for p in periods] == pytest.approx(
        by_day["net"], abs=1e-9)
    against = {c["figure"]: c for c in found["cost"]["correlations"]}
    for figure, hand in (("labelled_accuracy", by_day["accuracy"]),
                         ("labelled_recall", by_day["recall"]),
                         ("net_value_per_1000", by_day["net"])):
        assert against[figure]["periods"] == 4
        if max(hand) == min(hand):  # a constant figure has no correlation
            assert against[figure]["pearson"] is None
            continue
        assert against[figure]["pearson"] == pytest.approx(stats.pearsonr(cost, hand)[0])
        assert against[figure]["spearman"] == pytest.approx(stats.spearmanr(cost, hand)[0])
    assert found["cost"]["note"] == ""
    assert "a correlation needs 3" in found["tickets"]["note"]  # two periods only
    assert all(c["pearson"] is None for c in found["tickets"]["correlations"])
    text = cli("monitor", "screening", "--window", "7d", cwd=root).stdout
    assert "business metric cost over 3 period(s): 41, 37.5, 44" in text, text  # no file
    assert "Pearson r" in text
    bad = cli("log", "cost=1", "--period", "next week", cwd=root)
    assert bad.returncode == 2 and "--period next week" in bad.stderr
    bad = cli("log", "cost=1", "--period", stamp[0], "--run", "latest", cwd=root)
    assert bad.returncode == 2 and "not with --run" in bad.stderr


def test_a_breached_window_retrains_on_its_labelled_rows_through_the_gate(logged):
    """Last in the file: it registers a new version in the shared project."""
    import pandas as pd

    from readiness.registry.versions import in_stage

    done = cli("monitor", "screening", "--window", "1h", "--retrain", "--json", cwd=logged.root)
    out = json.loads(done.stdout)
    assert out["breaches"] and out["retrain"] is not None, done.stderr
    steps = {s["step"]: s for s in out["retrain"]["steps"]}
    assert steps["data"]["status"] == "ok" and steps["train"]["status"] == "succeeded", steps
    assert out["retrain"]["candidate"] == "v1.0.1"
    assert done.returncode == out["retrain"]["exit_code"] in (0, 1)
    written = sorted((logged.root / "production").glob("window-*.csv"))
    assert len(written) == 1
    frame = pd.read_csv(written[0])
    n, *_ = hand_computed(logged)
    assert len(frame) == n and frame["malignant"].isin([0, 1]).all()
    assert "mean radius" in frame.columns and "__label" not in frame.columns
    production = in_stage(logged, "screening", "production").version
    assert production == ("v1.0.1" if out["retrain"]["outcome"] == "promoted" else "v1.0.0")
