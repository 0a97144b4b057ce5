"""One answer to "which version is in stage S": readiness's and ``gto show``'s, on real tags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from readiness.core.errors import ReadinessError
from readiness.core.project import Project
from readiness.gate.promotion import promote
from readiness.registry.versions import in_stage, rollback, stage_holders, versions

from . import test_registry as base
from .conftest import SCREENING, git_init

registry_project = base.registry_project  # the fixture of the registry tests, shared

GTO = Path(sys.executable).with_name("gto")


def run(root: Path, *args: str, date: str | None = None) -> str:
    env = dict(os.environ)
    if date:  # a tag dated as another machine (or an earlier day) wrote it
        env["GIT_COMMITTER_DATE"] = date
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, env=env, check=True)
    return done.stdout


def gto_show(root: Path, name: str, stage: str) -> str | None:
    """What plain ``gto show`` says serves ``stage``."""
    rows = json.loads(run(root, str(GTO), "show", name, "--json"))
    return next((r["version"] for r in rows for s in r["stages"] if s["stage"] == stage), None)


@pytest.fixture
def two_versions(tmp_path):
    """A git repository where plain gto registered m v1.0.0 and v1.1.0 (one commit each)."""
    root = tmp_path / "repo"
    root.mkdir()
    git_init(root)
    (root / "readiness.yaml").write_text(SCREENING)
    for version, text in (("v1.0.0", "a"), ("v1.1.0", "b")):
        (root / "model.txt").write_text(text)
        run(root, "git", "add", "-A")
        run(root, "git", "commit", "-q", "-m", version)
        run(root, str(GTO), "register", "m", "--version", version, "HEAD")
    return Project(root)


def stage_tag(root: Path, tag: str, version: str, date: str) -> None:
    """A GTO stage tag as gto writes it (annotated, at the version's commit), dated ``date``."""
    commit = run(root, "git", "rev-list", "-n", "1", f"m@{version}").strip()
    run(root, "git", "tag", "-a", tag, "-m", f"assign {version}", commit, date=date)


def agree(project: Project, stage: str = "production", gto_name: str = "production") -> str:
    """readiness models, in_stage and gto show name the same version; returns it."""
    served = gto_show(project.root, "m", gto_name)
    listed = [v.version for v in versions(project, "m") if stage in v.stages]
    found = in_stage(project, "m", stage)
    assert listed == [served] and found is not None and found.version == served
    assert stage_holders(project, "m", stage)[0] == served
    return served


def test_forced_promotion_of_an_older_version_is_what_every_reader_serves(two_versions):
    root = two_versions.root
    stage_tag(root, "m#production#1", "v1.1.0", "2024-01-01T10:00:00+00:00")
    stage_tag(root, "m#production#2", "v1.0.0", "2024-01-02T10:00:00+00:00")  # forced back
    # GTO's semver-ordered read would say v1.1.0; gto show (by time) says v1.0.0
    assert agree(two_versions) == "v1.0.0"
    done = rollback(two_versions, "m")
    assert (done.from_version, done.to_version) == ("v1.0.0", "v1.1.0")
    assert agree(two_versions) == "v1.1.0"


def test_mixed_simple_and_numbered_tags_agree_and_rollback_moves_production(two_versions):
    root = two_versions.root
    stage_tag(root, "m#production", "v1.1.0", "2024-01-01T10:00:00+00:00")  # simple notation
    stage_tag(root, "m#production#1", "v1.0.0", "2024-01-02T10:00:00+00:00")  # numbered
    assert agree(two_versions) == "v1.0.0"
    done = rollback(two_versions, "m")
    assert (done.from_version, done.to_version) == ("v1.0.0", "v1.1.0")
    assert agree(two_versions) == "v1.1.0"


def test_a_rollback_that_changes_nothing_is_refused_and_not_audited(two_versions):
    from readiness.core import audit

    root = two_versions.root
    stage_tag(root, "m#production", "v1.0.0", "2024-01-01T10:00:00+00:00")
    stage_tag(root, "m#production#1", "v1.1.0", "2099-01-01T10:00:00+00:00")  # clock ahead
    tags = run(root, "git", "tag")
    with pytest.raises(ReadinessError, match=r"did not take effect.*nothing was changed"):
        rollback(two_versions, "m")
    assert run(root, "git", "tag") == tags  # the ineffective unassignment is taken back
    assert agree(two_versions) == "v1.1.0"
    assert not [e for e in audit.read(two_versions) if e["event"] == "model.rolled_back"]


def test_a_mapped_stage_name_is_production(two_versions):
    root = two_versions.root
    config = root / "readiness.yaml"
    config.write_text(SCREENING + "registry: {stages: {production: prod, staging: staging}}\n")
    stage_tag(root, "m#prod#1", "v1.0.0", "2024-01-01T10:00:00+00:00")
    stage_tag(root, "m#prod#2", "v1.1.0", "2024-01-02T10:00:00+00:00")
    assert agree(two_versions, "production", "prod") == "v1.1.0"
    done = rollback(two_versions, "m")
    assert (done.from_version, done.to_version) == ("v1.1.0", "v1.0.0")
    assert gto_show(root, "m", "prod") == "v1.0.0"
    assert "m#prod!#3" in run(root, "git", "tag")
    time.sleep(1.1)  # GTO orders assignments by their tags' times (whole seconds)
    forced = promote(two_versions, "m", "1.1.0", "production", force=True, reason="test")
    assert forced.promoted and forced.previous == "v1.0.0"  # the gate saw prod as production
    assert (
        "m#prod#4" in run(root, "git", "tag") and agree(two_versions, gto_name="prod") == "v1.1.0"
    )


def test_the_stage_mapping_is_validated(two_versions):
    from readiness.core.config import load_config

    config = two_versions.root / "readiness.yaml"
    config.write_text(SCREENING + "registry: {stages: {prodution: prod}}\n")
    with pytest.raises(ReadinessError, match=r"unknown stage.*prodution"):
        load_config(two_versions)


# -- with a real DVC project, skops models and kernels (slow) --------------------------------


@pytest.mark.slow
def test_each_batch_run_keeps_its_model_and_register_takes_the_best(registry_project):
    from readiness.jobs.batches import batch
    from readiness.registry.versions import register

    root = registry_project.root
    grid = [{"C": 1.0, "model_name": "screening"}, {"C": 0.0005, "model_name": "screening"}]
    result = batch(
        registry_project, root / "notebooks" / "retrain.ipynb", grid, workers=1, front_end="quiet"
    )
    assert result.exit_code == 0, [r.result.to_dict() for r in result.runs]
    best, weak = (r.result.run_id for r in result.runs)
    assert result.best == best  # the weak model (the last to finish) misses recall
    files = {
        run: root / "runs" / result.batch_id / run / "models" / "screening.skops"
        for run in (best, weak)
    }
    assert all(f.is_file() for f in files.values())
    assert files[best].read_bytes() != files[weak].read_bytes()
    done = register(registry_project, "screening")
    assert done.run_id == best and done.metrics["recall/holdout"] >= 0.85
    assert (root / "models" / "screening.skops").read_bytes() == files[best].read_bytes()
    forced = register(registry_project, "screening", run_id=weak)  # a run named explicitly
    assert forced.run_id == weak and forced.version == "v1.0.1"
    assert (root / "models" / "screening.skops").read_bytes() == files[weak].read_bytes()


def _weights(model) -> list[float]:
    return [round(float(w), 10) for w in model[-1].coef_.ravel()]


@pytest.mark.slow
def test_forced_older_version_rollback_check_and_drill_all_agree(registry_project):
    import readiness
    from readiness.gate.check import criteria_check
    from readiness.registry.versions import drill, load_model, register

    from .conftest import cli

    root = registry_project.root
    a = _weights(base.train(registry_project, C=1.0))
    run_a = register(registry_project, "screening").run_id
    assert promote(registry_project, "screening", "1.0.0", "production").promoted
    b = _weights(base.train(registry_project, C=0.05))
    run_b = register(registry_project, "screening").run_id
    for version in ("1.0.1", "1.0.0"):  # the newer forced in, then the older forced back
        time.sleep(1.1)  # GTO orders assignments by their tags' times (whole seconds)
        done = promote(registry_project, "screening", version, "production", True, "test")
        assert done.promoted
    models = json.loads(cli("models", "screening", "--json", cwd=root).stdout)["versions"]
    assert [v["version"] for v in models if "production" in v["stages"]] == ["v1.0.0"]
    assert gto_show(root, "screening", "production") == "v1.0.0"
    assert _weights(load_model(registry_project, "screening", stage="production")) == a
    assert criteria_check(registry_project).run_id == run_a  # what serves is what is judged

    back = cli("rollback", "screening", cwd=root)
    assert back.returncode == 0 and "from v1.0.0 to v1.0.1" in back.stdout, back.stdout
    assert gto_show(root, "screening", "production") == "v1.0.1"
    assert in_stage(registry_project, "screening", "production").version == "v1.0.1"
    assert _weights(readiness.load_model("screening", stage="production")) == b

    base.train(registry_project, C=0.5)  # a newer run, not registered: not what serves
    judged = json.loads(cli("check", "--criteria-only", "--json", cwd=root).stdout)
    assert judged["run_id"] == run_b and judged["model"] == "screening v1.0.1 (production)"
    text = cli("check", "--criteria-only", cwd=root).stdout
    assert f"run {run_b}" in text and "model: screening v1.0.1 (production)" in text
    other = criteria_check(registry_project, model="screening@1.0.0")
    assert other.run_id == run_a and other.model == "screening v1.0.0"

    # the drill selects the model's own features although the label is in the holdout
    config = registry_project.config_path
    config.write_text(config.read_text().replace("drift: {target: malignant, ", "drift: {"))
    rehearsal = drill(registry_project, "screening", candidate="1.0.0")
    assert rehearsal.ok, rehearsal.detail
    assert (rehearsal.from_version, rehearsal.to_version) == ("v1.0.0", "v1.0.1")


def test_drill_features_come_from_the_model_or_a_declared_target_or_are_refused():
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from readiness.registry.versions import FeaturesUnknown, features_for

    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1], "label": [0, 0, 1, 1]})
    named = LogisticRegression().fit(frame[["y", "x"]], frame["label"])
    assert list(features_for(named, frame, None, "h.csv").columns) == ["y", "x"]
    bare = LogisticRegression().fit(frame[["x", "y"]].to_numpy(), frame["label"])
    assert list(features_for(bare, frame, "label", "h.csv").columns) == ["x", "y"]
    with pytest.raises(FeaturesUnknown, match=r"h\.csv.*datasets: \{NAME: \{path: \.\.\., target"):
        features_for(bare, frame, None, "h.csv")
    with pytest.raises(ReadinessError, match="lacks the model's feature"):
        features_for(named, frame.drop(columns="x"), None, "h.csv")
