"""Evidence: run records, metrics.json, safe concurrent writes, evaluate()."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import readiness
from readiness.core.errors import EvidenceError
from readiness.evidence.runs import latest_run_with_evidence, list_runs

from .conftest import HANG, git_init


def test_record_writes_run_record_and_dvc_metrics(project):
    git_init(project.root)
    evidence = readiness.record("roc_auc", 0.91, split="holdout", model="gbm", n=np.int64(3))
    readiness.record("confusion_matrix", np.array([[5, 1], [2, 7]]))
    run = latest_run_with_evidence(project)
    assert run["id"] == evidence.run_id
    assert len(run["git_commit"]) == 40
    assert [e["name"] for e in run["evidence"]] == ["roc_auc", "confusion_matrix"]
    assert run["evidence"][0]["tags"] == {"model": "gbm", "n": 3}
    assert run["evidence"][1]["value"] == [[5, 1], [2, 7]]
    metrics = json.loads(project.metrics_path.read_text())
    assert metrics == {"holdout": {"roc_auc": 0.91}}  # only numbers go to DVC metrics


def test_runs_are_separate_per_new_run(project):
    first = readiness.record("f1", 0.5).run_id
    readiness.new_run()
    second = readiness.record("f1", 0.7).run_id
    assert first != second
    assert latest_run_with_evidence(project)["id"] == second
    assert len(list_runs(project)) == 2
    assert json.loads(project.metrics_path.read_text())["holdout"]["f1"] == 0.7


def test_run_id_from_environment(project, monkeypatch):
    monkeypatch.setenv("READINESS_RUN_ID", "job-42")
    assert readiness.record("f1", 0.5).run_id == "job-42"
    assert (project.runs_dir / "job-42.json").is_file()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("auc", float("nan"), "finite"),
        ("auc", float("inf"), "finite"),
        ("auc", object(), "must be a number"),
        ("", 0.5, "non-empty metric name"),
    ],
)
def test_bad_evidence_is_refused(project, name, value, message):
    with pytest.raises(EvidenceError, match=message):
        readiness.record(name, value)
    assert not project.metrics_path.exists()


WRITER = """
import sys
from readiness.evidence.record import make_evidence, record_many
worker = int(sys.argv[1])
for i in range(25):
    record_many([make_evidence(f"m{worker}_{i}", i, "holdout")], display=False)
"""


def test_four_processes_recording_at_once_lose_nothing(project):
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(w)], cwd=project.root) for w in range(4)
    ]
    assert all(p.wait(timeout=HANG) == 0 for p in procs)
    metrics = json.loads(project.metrics_path.read_text())["holdout"]
    assert len(metrics) == 100
    runs = list_runs(project)
    assert len(runs) == 4 and all(len(r["evidence"]) == 25 for r in runs)


def test_atomic_write_leaves_no_temp_files(project):
    readiness.record("a", 1.0)
    leftovers = [p.name for p in project.root.rglob("*.tmp")]
    assert leftovers == []


def test_evaluate_binary_classifier(project):
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    model = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    result = readiness.evaluate(
        model, X_test, y_test, split="holdout", latency_samples=20, model="lr"
    )
    assert result.task == "classification"
    m = result.metrics
    assert 0.9 < m["roc_auc"] <= 1 and 0.8 < m["recall"] <= 1
    assert m["latency_p50_ms"] <= m["latency_p95_ms"]
    assert sum(map(sum, m["confusion_matrix"])) == len(y_test)
    run = latest_run_with_evidence(project)
    names = {e["name"] for e in run["evidence"]}
    assert {"accuracy", "roc_auc", "confusion_matrix", "latency_p95_ms", "log_loss"} <= names
    assert all(e["tags"] == {"model": "lr"} for e in run["evidence"])
    assert "text/html" in result._repr_mimebundle_()


def test_evaluate_regressor_and_multiclass(project):
    from sklearn.datasets import load_diabetes, load_iris
    from sklearn.linear_model import LinearRegression
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_diabetes(return_X_y=True)
    reg = readiness.evaluate(LinearRegression().fit(X, y), X, y, latency_samples=0)
    assert (
        reg.task == "regression" and reg.metrics["rmse"] > 0 and "latency_p95_ms" not in reg.metrics
    )
    X, y = load_iris(return_X_y=True)
    clf = readiness.evaluate(
        DecisionTreeClassifier(random_state=0).fit(X, y), X, y, latency_samples=5
    )
    assert clf.metrics["accuracy"] == 1.0 and len(clf.metrics["confusion_matrix"]) == 3


def test_evaluate_bad_input(project):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(EvidenceError, match="fitted model"):
        readiness.evaluate(object(), [[1]], [1])
    with pytest.raises(EvidenceError, match="rows"):
        readiness.evaluate(LogisticRegression(), [[1], [2]], [1])
    with pytest.raises(EvidenceError, match="predict failed"):
        readiness.evaluate(LogisticRegression(), [[1], [2]], [0, 1])


_LOOP = """
import sys, time
import readiness
start = time.perf_counter()
for epoch in range(int(sys.argv[1])):
    readiness.record("loss", float(epoch), split="train", epoch=epoch)
    print(epoch, flush=True)
print(f"elapsed {time.perf_counter() - start:.3f}", flush=True)
"""


def _loop(project, count: int, run_id: str) -> subprocess.Popen:
    env = {**os.environ, "READINESS_RUN_ID": run_id}
    return subprocess.Popen(
        [sys.executable, "-c", _LOOP, str(count)],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_thousand_records_in_a_loop_are_fast_and_complete(project):
    from readiness.evidence.runs import read_run

    readiness.record("warm_up", 1.0)  # the criteria lock is taken once, not per record
    child = _loop(project, 1000, "loop-1")
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    elapsed = float(out.splitlines()[-1].split()[1])
    assert elapsed < 10, f"1,000 records took {elapsed:.1f} s"  # 50 s when each rewrote the run
    record = json.loads((project.runs_dir / "loop-1.json").read_text())  # folded at exit
    assert [e["tags"]["epoch"] for e in record["evidence"]] == list(range(1000))
    assert not (project.runs_dir / "loop-1.jsonl").exists()
    assert read_run(project, "loop-1")["evidence"] == record["evidence"]
    assert json.loads(project.metrics_path.read_text())["train"]["loss"] == 999.0


def test_a_killed_loop_loses_no_acknowledged_record(project):
    import signal

    from readiness.evidence.runs import read_run
    from readiness.jobs.notebook import update_record

    child = _loop(project, 1000, "loop-2")
    acknowledged = 0
    assert child.stdout is not None
    for line in child.stdout:  # each line is printed after its record() returned
        acknowledged = int(line) + 1
        if acknowledged == 300:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert acknowledged == 300 and child.returncode == -signal.SIGKILL
    # a writer killed mid-line leaves a torn line: it was never acknowledged
    with open(project.runs_dir / "loop-2.jsonl", "a") as journal:
        journal.write('{"seq": 100000, "evid')
    epochs = [e["tags"]["epoch"] for e in read_run(project, "loop-2")["evidence"]]
    assert epochs[:300] == list(range(300)) and epochs == list(range(len(epochs)))
    assert json.loads(project.metrics_path.read_text())["train"]["loss"] >= 299.0
    # the run goes on after the kill: numbering continues, the torn line is dropped
    with pytest.MonkeyPatch.context() as env:
        env.setenv("READINESS_RUN_ID", "loop-2")
        readiness.record("after", 1.0)
    update_record(project, "loop-2", status="succeeded")  # folds the journal into the record
    record = json.loads((project.runs_dir / "loop-2.json").read_text())
    assert [e["name"] for e in record["evidence"]] == ["loss"] * len(epochs) + ["after"]
    assert not (project.runs_dir / "loop-2.jsonl").exists()
