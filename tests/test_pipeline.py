"""Notebook stages under DVC: dvc repro, dvc exp, reproduce, lineage, validation."""

from __future__ import annotations

import json

import pytest

from readiness.data.lineage import lineage
from readiness.data.pipeline import add_stage
from readiness.data.tracking import track
from readiness.evidence.runs import list_runs
from readiness.integrations.dvc import DataError
from readiness.jobs.reproduce import reproduce

from .conftest import cli, commit_all, dvc, write_notebook

pytestmark = pytest.mark.slow

# Reads the data, records a metric that depends on the data and on a parameter.
BODY = (
    "import pandas as pd, readiness\n"
    "frame = pd.read_csv(data)\n"
    "readiness.record('score', float(frame['x'].mean()) * scale)\n"
    "readiness.record('latency_p95_ms', 1.0)\n"
)


def make_stage_project(project, data_tracked: bool = True):
    root = project.root
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_text("x\n1\n2\n3\n")
    write_notebook(
        root / "notebooks" / "score.ipynb", "data = '../data/train.csv'\nscale = 1.0", BODY
    )
    if data_tracked:
        track(project, ["data/train.csv"])
    else:
        (root / ".gitignore").write_text((root / ".gitignore").read_text() + "data/\n")
    return root


def test_stage_reproduces_with_dvc_repro_and_experiments(dvc_project):
    root = make_stage_project(dvc_project)
    stage = add_stage(dvc_project, "notebooks/score.ipynb", "score", deps=["data/train.csv"])
    assert stage.params == {"data": "../data/train.csv", "scale": 1.0}
    assert "${score.scale}" in (root / "dvc.yaml").read_text()
    commit_all(root, "stage")
    done = dvc("repro", cwd=root)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads((root / "metrics" / "score.json").read_text())["holdout"]["score"] == 2.0
    assert (root / "runs" / "score.ipynb").is_file()
    assert (root / "notebooks" / "score.ipynb").is_file()  # input never overwritten
    commit_all(root, "repro")
    done = dvc("exp", "run", "-S", "score.scale=10", cwd=root)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    shown = dvc("exp", "show", "--json", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert '"score": 20.0' in shown.stdout.replace("20,", "20.0,") or "20.0" in shown.stdout
    text = str(lineage(dvc_project))
    assert "stage score (data=../data/train.csv, scale=10)" in text
    assert "<- data/train.csv" in text and "-> metrics/score.json" in text and "score=20" in text


def test_stage_bad_input_leaves_files_alone(dvc_project):
    root = make_stage_project(dvc_project)
    add_stage(dvc_project, "notebooks/score.ipynb", "score")
    dvc_yaml, params = (root / "dvc.yaml").read_text(), (root / "params.yaml").read_text()
    with pytest.raises(DataError, match="already exists"):
        add_stage(dvc_project, "notebooks/score.ipynb", "score", params={"scale": 3.0})
    assert (root / "dvc.yaml").read_text() == dvc_yaml
    assert (root / "params.yaml").read_text() == params
    with pytest.raises(DataError, match="does not exist"):
        add_stage(dvc_project, "notebooks/nope.ipynb", "other")
    assert cli("pipeline", "add", "notebooks/nope.ipynb", "--name", "x", cwd=root).returncode == 2
    assert (root / "dvc.yaml").read_text() == dvc_yaml


def test_reproduce_restores_the_recorded_data_version(dvc_project):
    root = make_stage_project(dvc_project)
    commit_all(root, "data v1")
    done = cli("run", "notebooks/score.ipynb", "--input", "data/train.csv", "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    # the data changes and is re-tracked: the run still reproduces on its own version
    (root / "data" / "train.csv").write_text("x\n10\n20\n")
    track(dvc_project, ["data/train.csv"])
    commit_all(root, "data v2")
    result = reproduce(dvc_project, run_id)
    assert result.reproducible, str(result)
    assert list(result.restored) == ["data/train.csv"]
    statuses = {m.metric: m.status for m in result.metrics}
    assert statuses == {"score": "same", "latency_p95_ms": "timing"}
    assert (root / "data" / "train.csv").read_text() == "x\n10\n20\n", "checkout left alone"


def test_reproduce_reports_unversioned_data_that_changed(dvc_project):
    root = make_stage_project(dvc_project, data_tracked=False)
    commit_all(root, "code only")
    done = cli("run", "notebooks/score.ipynb", "--input", "data/train.csv", "--json", cwd=root)
    run_id = json.loads(done.stdout)["run_id"]
    (root / "data" / "train.csv").write_text("x\n5\n5\n")
    done = cli("reproduce", run_id, cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT reproducible" in done.stdout and "DIFFERENT" in done.stdout
    assert "not versioned by git or DVC" in done.stdout


def test_reproduce_bad_input(dvc_project):
    assert cli("reproduce", "no-such-run", cwd=dvc_project.root).returncode == 2
    import readiness

    run_id = readiness.record("auc", 0.9).run_id
    done = cli("reproduce", run_id, cwd=dvc_project.root)
    assert done.returncode == 2 and "recorded interactively" in done.stderr


SCHEMA = """
datasets:
  customers:
    path: data/customers.csv
    min_rows: 3
    unique: [id]
    columns:
      id: {type: str}
      age: {type: int, min: 18, max: 120}
      plan: {type: str, allowed: [basic, pro]}
      tenure: {type: float, min: 0, max_missing: 0.4}
"""


def test_validate_reports_each_failing_column_and_rule(project):
    from readiness.criteria.declaration import declare

    declare(project, SCHEMA)
    data = project.root / "data"
    data.mkdir()
    (data / "customers.csv").write_text(
        "id,age,plan,tenure\na,30,basic,1.0\nb,40,pro,\nc,50,pro,2.5\n"
    )
    done = cli("validate", "data/customers.csv", cwd=project.root)
    assert done.returncode == 0, done.stdout + done.stderr
    (data / "customers.csv").write_text(
        "id,age,plan,tenure\na,30,basic,\na,200,gold,\nc,50,pro,-1\n"
    )
    done = cli("validate", "--json", cwd=project.root)
    assert done.returncode == 1
    failures = {
        (f["column"], f["rule"].split()[0])
        for f in json.loads(done.stdout)["datasets"][0]["failures"]
    }
    assert {
        ("id", "unique"),
        ("age", "max"),
        ("plan", "allowed"),
        ("tenure", "min"),
        ("tenure", "max_missing"),
    } <= failures
    (data / "bad.parquet").write_text("not parquet")
    assert (
        cli("validate", "data/bad.parquet", "--dataset", "customers", cwd=project.root).returncode
        == 2
    )
    assert (
        cli("validate", "data/missing.csv", "--dataset", "customers", cwd=project.root).returncode
        == 2
    )
    assert (
        cli("validate", "data/customers.csv", "--dataset", "nope", cwd=project.root).returncode == 2
    )
    (data / "other.csv").write_text("a\n1\n")
    done = cli("validate", "data/other.csv", cwd=project.root)
    assert done.returncode == 2 and "no dataset" in done.stderr


def test_run_records_params_and_reads_evidence_back(dvc_project):
    root = make_stage_project(dvc_project)
    done = cli("run", "notebooks/score.ipynb", "-p", "scale", "2", "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and result["params"] == {"scale": 2}
    assert {e["name"]: e["value"] for e in result["evidence"]}["score"] == 4.0
    record = next(r for r in list_runs(dvc_project) if r["id"] == result["run_id"])
    assert record["data_versions"]["data/train.csv"]["md5"]
    write_notebook(root / "notebooks" / "fail.ipynb", "x = 1", "raise ValueError('boom')")
    done = cli("run", "notebooks/fail.ipynb", "--json", cwd=root)
    assert done.returncode == 1
    failure = json.loads(done.stdout)["failure"]
    assert failure["ename"] == "ValueError" and failure["evalue"] == "boom"


def test_a_job_refuses_inputs_that_break_their_schema(dvc_project):
    from readiness.criteria.declaration import declare

    root = make_stage_project(dvc_project)
    declare(
        dvc_project,
        "datasets:\n  train:\n    path: data/train.csv\n    columns: {x: {type: int, max: 2}}\n",
    )
    done = cli("run", "notebooks/score.ipynb", "--input", "data/train.csv", cwd=root)
    assert done.returncode == 2
    assert "breaks the train schema" in done.stderr and "x: max 2" in done.stderr
    assert not list((root / "runs").glob("score-*.ipynb")), "no kernel started"
    done = cli("run", "notebooks/score.ipynb", "--input", "data", cwd=root)  # a folder input
    assert done.returncode == 2 and "breaks the train schema" in done.stderr


def test_list_parameters_come_from_params_yaml(dvc_project):
    root = make_stage_project(dvc_project)
    write_notebook(
        root / "notebooks" / "layers.ipynb",
        "layers = [8, 4]\nscale = 1.0",
        "import readiness\nreadiness.record('depth', len(layers) * scale)",
    )
    stage = add_stage(dvc_project, "notebooks/layers.ipynb", "layers")
    assert "--params-file params.yaml --params-key layers" in stage.cmd
    commit_all(root, "stage")
    done = dvc("repro", "layers", cwd=root)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads((root / "metrics" / "layers.json").read_text())["holdout"]["depth"] == 2.0


def test_a_stage_whose_output_is_a_saved_model(dvc_project):
    root = make_stage_project(dvc_project)
    write_notebook(
        root / "notebooks" / "fit.ipynb",
        "scale = 1.0",
        "import readiness\nfrom sklearn.dummy import DummyClassifier\n"
        "model = DummyClassifier().fit([[0], [1]], [0, 1])\n"
        "readiness.record('score', scale)\nreadiness.save_model(model, 'dummy')",
    )
    add_stage(dvc_project, "notebooks/fit.ipynb", "fit", outs=["models/dummy.skops"])
    commit_all(root, "stage")
    done = dvc("repro", "fit", cwd=root)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert not (root / "models" / "dummy.skops.dvc").exists()  # dvc.lock versions it
    assert "dummy" in (root / "dvc.yaml").read_text()  # declared as an artifact for GTO
