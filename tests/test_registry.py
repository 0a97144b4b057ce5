"""The registry with real git, GTO, DVC and skops: gate, rollback, drill, retraining, kills."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import readiness
from readiness.core.errors import ReadinessError
from readiness.gate.promotion import promote
from readiness.registry.models import ModelError, loads
from readiness.registry.versions import drill, in_stage, register, rollback, versions

from .conftest import HANG, cli, commit_all, use_copy

pytestmark = pytest.mark.slow


@pytest.fixture
def registry_project(registry_template, tmp_path, monkeypatch):
    """``readiness init``, the screening criteria, the data tracked: the test's own copy."""
    return use_copy(registry_template, tmp_path / "dvcproj", monkeypatch)


@pytest.fixture
def production_project(production_template, tmp_path, monkeypatch):
    """``registry_project`` with screening v1.0.0 in production, trained by the retraining
    notebook (so its training data is known): the test's own copy."""
    return use_copy(production_template, tmp_path / "dvcproj", monkeypatch)


def train(project, C: float = 1.0, name: str = "screening"):
    """Train in this process, record evidence on the holdout and save the model."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    readiness.new_run()
    data = project.root / "data" / "breast_cancer"
    train_df, holdout = pd.read_csv(data / "train.csv"), pd.read_csv(data / "holdout.csv")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    model.fit(train_df.drop(columns="malignant"), train_df["malignant"])
    readiness.evaluate(
        model, holdout.drop(columns="malignant"), holdout["malignant"], latency_samples=5
    )
    readiness.save_model(model, name)
    return model


def test_register_promote_and_models_come_from_the_tags(registry_project):
    train(registry_project)
    first = register(registry_project, "screening")
    assert first.version == "v1.0.0" and first.metrics["roc_auc/holdout"] > 0.95
    assert promote(registry_project, "screening", "1.0.0", "staging").promoted
    assert promote(registry_project, "screening", "1.0.0", "production").promoted
    with pytest.raises(ReadinessError, match=r"already screening v1\.0\.0: nothing new"):
        register(registry_project, "screening")
    tags = subprocess.run(
        ["git", "tag"], cwd=registry_project.root, capture_output=True, text=True
    ).stdout
    assert "screening@v1.0.0" in tags and "screening#production#" in tags
    before = [v.to_dict() for v in versions(registry_project)]
    shutil.rmtree(registry_project.root / ".readiness")  # local caches gone...
    shutil.rmtree(registry_project.root / ".dvc" / "cache")
    assert [v.to_dict() for v in versions(registry_project)] == before  # ...tags tell it all
    done = cli("models", "screening", "--json", cwd=registry_project.root)
    assert json.loads(done.stdout)["versions"][0]["stages"] == ["production", "staging"]


def test_the_gate_refuses_with_reasons_and_force_is_audited(registry_project):
    from readiness.core import audit

    train(registry_project, C=0.0005)  # a weak model: misses the recall bound
    register(registry_project, "screening")
    refused = promote(registry_project, "screening", "1.0.0", "staging")
    assert not refused.promoted and refused.exit_code == 1
    assert "recall/holdout" in refused.conditions[0]["detail"]
    done = cli("promote", "screening", "1.0.0", "--to", "staging", cwd=registry_project.root)
    assert done.returncode == 1 and "REFUSED" in done.stdout
    with pytest.raises(ReadinessError, match="--force needs --reason"):
        promote(registry_project, "screening", "1.0.0", "staging", force=True)
    forced = promote(
        registry_project, "screening", "1.0.0", "staging", force=True, reason="demo day"
    )
    assert forced.promoted and forced.forced == "demo day"
    event = audit.read(registry_project)[-1]
    assert event["event"] == "model.promoted.forced" and event["reason"] == "demo day"


def test_rollback_drill_and_rollback(registry_project):
    train(registry_project)
    register(registry_project, "screening")
    promote(registry_project, "screening", "1.0.0", "production")
    with pytest.raises(ReadinessError, match="nothing to roll back to"):
        rollback(registry_project, "screening")
    train(registry_project, C=0.5)
    assert register(registry_project, "screening").version == "v1.0.1"
    refused = promote(registry_project, "screening", "1.0.1", "production")
    assert not refused.promoted
    assert any("rollback drill" in c["condition"] and not c["passed"] for c in refused.conditions)
    tags_before = subprocess.run(
        ["git", "tag"], cwd=registry_project.root, capture_output=True, text=True
    ).stdout
    rehearsal = drill(registry_project, "screening")
    assert rehearsal.ok, rehearsal.detail
    assert (rehearsal.from_version, rehearsal.to_version) == ("v1.0.1", "v1.0.0")
    assert (
        subprocess.run(
            ["git", "tag"], cwd=registry_project.root, capture_output=True, text=True
        ).stdout
        == tags_before
    )
    assert promote(registry_project, "screening", "1.0.1", "production").promoted
    assert in_stage(registry_project, "screening", "production").version == "v1.0.1"
    back = cli("rollback", "screening", cwd=registry_project.root)
    assert back.returncode == 0 and "from v1.0.1 to v1.0.0" in back.stdout
    assert in_stage(registry_project, "screening", "production").version == "v1.0.0"
    model = readiness.load_model("screening", stage="production")
    assert hasattr(model, "predict_proba")
    _delete_a_version(registry_project)


def _delete_a_version(project) -> None:
    """`readiness models delete`: refused while production points at it, then the tags go."""
    from readiness.core import audit

    def tags() -> list[str]:
        return subprocess.run(["git", "tag"], cwd=project.root, capture_output=True,
                              text=True).stdout.split()

    refused = cli("models", "delete", "screening@1.0.0", "--yes", cwd=project.root)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "screening v1.0.0 is in production (a stage tag points to it)" in refused.stderr
    unasked = cli("models", "delete", "screening@1.0.1", cwd=project.root)
    assert unasked.returncode == 2 and "add --yes" in unasked.stderr
    before = tags()
    done = cli("models", "delete", "screening@1.0.1", "--yes", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert "deleted screening v1.0.1 (screening@v1.0.1" in done.stdout
    gone = set(before) - set(tags())
    assert "screening@v1.0.1" in gone and any(t.startswith("screening#production") for t in gone)
    assert [v.version for v in versions(project, "screening")] == ["v1.0.0"]
    assert in_stage(project, "screening", "production").version == "v1.0.0"
    event = audit.read(project)[-1]
    assert event["event"] == "model.deleted" and sorted(event["removed"]) == sorted(gone)


def test_skops_files_are_checked_before_loading(registry_project, tmp_path):
    import skops.io

    with pytest.raises(ModelError, match="not a skops model file"):
        loads(b"this is not a model", source="garbage.skops")
    sys.path.insert(0, str(tmp_path))
    (tmp_path / "foreign_module.py").write_text(
        "class Sneaky:\n    def predict(self, X):\n        return X\n"
    )
    import foreign_module

    data = skops.io.dumps(foreign_module.Sneaky())
    with pytest.raises(ModelError, match=r"not trusted: foreign_module\.Sneaky"):
        loads(data, source="foreign.skops")
    assert loads(data, trusted=["foreign_module.Sneaky"]).predict([1]) == [1]
    with pytest.raises(ModelError, match="model name"):
        readiness.save_model(object(), "Bad Name!")


PROMOTE = """
import sys
from pathlib import Path
from readiness.core.project import Project
from readiness.gate.promotion import promote
print(promote(Project(Path('.').resolve()), 'screening', sys.argv[1], 'staging').promoted)
"""


def test_two_promotions_at_once_are_serialized(registry_project):
    for C in (1.0, 0.5):
        train(registry_project, C=C)
        register(registry_project, "screening")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROMOTE, version],
            cwd=registry_project.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for version in ("v1.0.0", "v1.0.1")
    ]
    outs = [p.communicate(timeout=HANG) for p in procs]
    assert [o[0].strip() for o in outs] == ["True", "True"], [o[1][-800:] for o in outs]
    tags = subprocess.run(
        ["git", "tag"], cwd=registry_project.root, capture_output=True, text=True
    ).stdout.split()
    assert sorted(t for t in tags if "#staging#" in t) == [
        "screening#staging#1",
        "screening#staging#2",
    ]


@pytest.mark.parametrize(
    "step",
    [
        "retrain:trained",
        "register:committed",
        "register:tagged",
        "promote:staging:before",
        "promote:production:before",
    ],
)
def test_a_killed_retrain_never_moves_production(production_project, step):
    registry_project = production_project
    # the same rows in reverse order: another model file (saves are byte-reproducible, so an
    # exact copy would give production's file again) with production's metrics, so every
    # step is reached
    import pandas as pd

    train = pd.read_csv(registry_project.root / "data" / "breast_cancer" / "train.csv")
    train[::-1].to_csv(registry_project.root / "data" / "new.csv", index=False)
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("readiness")),
            "retrain",
            "screening",
            "--current",
            "data/new.csv",
            "--force",
        ],
        cwd=registry_project.root,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "READINESS_FAULT_AT": step},
    )
    assert done.returncode == -9, done.stdout[-1500:] + done.stderr[-1500:]
    assert in_stage(registry_project, "screening", "production").version == "v1.0.0"
    listed = cli("models", "screening", cwd=registry_project.root)
    assert listed.returncode == 0
    assert readiness.load_model("screening", stage="production") is not None
    # every tag, the one a kill left behind included, has exactly one audit entry now
    from readiness.core import audit

    tags = subprocess.run(
        ["git", "tag"], cwd=registry_project.root, capture_output=True, text=True
    ).stdout.split()
    logged = [e["tag"] for e in audit.read(registry_project) if e.get("tag")]
    assert sorted(logged) == sorted(tags), listed.stdout
    if step == "register:tagged":
        assert "registration of screening v1.0.1 is now recorded from its intent" in listed.stdout


def test_retrain_runs_the_notebook_that_trained_production_and_says_why_it_failed(
    registry_project,
):
    import nbformat

    root = registry_project.root
    shutil.copyfile(root / "notebooks" / "retrain.ipynb", root / "notebooks" / "screening.ipynb")
    commit_all(root, "the team's own training notebook")
    done = cli("run", "notebooks/screening.ipynb", "-p", "model_name", '"screening"', cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    register(registry_project, "screening")
    assert promote(registry_project, "screening", "1.0.0", "production").promoted
    # the notebook breaks after v1.0.0 (the template would still train): retraining must fail
    notebook = nbformat.read(root / "notebooks" / "screening.ipynb", as_version=4)
    notebook.cells.insert(2, nbformat.v4.new_code_cell('raise ValueError("the new data\\nis bad")'))
    nbformat.write(notebook, root / "notebooks" / "screening.ipynb")
    done = cli("retrain", "screening", "--force", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "notebook notebooks/screening.ipynb, which trained v1.0.0" in done.stdout
    lines = done.stdout.splitlines()
    end = next(line for line in lines if line.strip().startswith("end"))
    assert "training failed: run " in end and end.endswith(
        "failed at cell 3: ValueError: the new data is bad"
    ), done.stdout
    assert "{'" not in done.stdout and "'ename'" not in done.stdout  # no dict's repr
    record = json.loads(next((root / ".readiness" / "runs").glob("retrain-*.json")).read_text())
    trained = next(s for s in record["steps"] if s["step"] == "train")
    assert trained["failure"]["ename"] == "ValueError" and trained["failure"]["cell"] == 3
    assert in_stage(registry_project, "screening", "production").version == "v1.0.0"


def test_retrain_reports_a_refused_data_commit_as_a_failed_step(registry_project):
    from readiness.integrations import git as gitinfo

    root = registry_project.root
    shutil.copyfile(root / "data" / "breast_cancer" / "train.csv", root / "data" / "new.csv")
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'pre-commit: data commits need a review' >&2\nexit 1\n")
    hook.chmod(0o755)
    head = gitinfo.head_commit(root)
    done = cli("retrain", "screening", "--current", "data/new.csv", "--force", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "notebook the template notebooks/retrain.ipynb (nothing is in production)" in done.stdout
    assert (
        "data       failed: data/new.csv is not versioned: "
        "git commit failed: pre-commit: data commits need a review"
    ) in done.stdout
    assert "versioned (md5" not in done.stdout and "train " not in done.stdout  # nothing trained
    assert "end        failed: the new data is not versioned" in done.stdout
    assert gitinfo.head_commit(root) == head
    # without the hook: committed once, then "already committed" (git alone says "nothing to
    # commit" and fails)
    hook.unlink()
    paths = ["data/new.csv.dvc", "data/.gitignore"]
    commit, what = gitinfo.commit_paths(root, paths, "data")
    assert commit and commit != head and what == "committed"
    assert gitinfo.commit_paths(root, paths, "again") == (commit, "already committed")


def test_monitor_nothing_to_do_then_retrain_through_the_gate(production_project):
    from readiness.examples import shifted_sample

    registry_project = production_project
    same = cli(
        "monitor",
        "screening",
        "--current",
        "data/breast_cancer/train.csv",
        "--json",
        cwd=registry_project.root,
    )
    assert same.returncode == 0 and json.loads(same.stdout)["outcome"] == "nothing to do"
    shifted_sample(
        registry_project.root / "data" / "breast_cancer" / "train.csv",
        registry_project.root / "data" / "new.csv",
    )
    done = cli(
        "monitor", "screening", "--current", "data/new.csv", "--json", cwd=registry_project.root
    )
    result = json.loads(done.stdout)
    steps = [s["step"] for s in result["steps"]]
    assert steps[:5] == ["start", "drift", "data", "train", "register"]
    assert result["candidate"] == "v1.0.1" and "versioned" in result["steps"][2]["detail"]
    assert result["steps"][1]["status"] == "drift"
    # the shifted data's candidate is a little worse on the holdout (3 of 64 positives), but
    # the paired test on the same rows finds that within noise: promoted, and the step says so
    # (before paired comparisons the two point values refused it)
    assert done.returncode == 0 and result["outcome"] == "promoted", done.stdout
    step = next(s for s in result["steps"] if s["step"] == "production")
    assert step["status"] == "promoted" and "no regression against production" in step["detail"]
    assert "within noise" in step["detail"]
    assert in_stage(registry_project, "screening", "production").version == "v1.0.1"
    record = json.loads((registry_project.runs_dir / f"{result['run_id']}.json").read_text())
    assert record["kind"] == "retrain" and [s["step"] for s in record["steps"]] == steps
    assert (
        cli("monitor", "screening", "--current", "nope.csv", cwd=registry_project.root).returncode
        == 2
    )
