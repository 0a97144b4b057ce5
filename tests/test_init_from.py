"""readiness init --from OTHER: the retraining notebook, CI, runbook skeleton and schemas."""

from __future__ import annotations

import subprocess

from readiness.data.reuse import CI_FILES
from readiness.gate.reports import CI_TARGETS

from .conftest import cli

SCHEMAS = """
datasets:
  train:
    path: data/train.csv
    min_rows: 10
    columns: {age: {type: int, min: 0}, churned: {type: int, allowed: [0, 1]}}
"""


def _other(tmp_path):
    """An existing use case with its own notebook, CI workflow, runbook, schemas and data."""
    other = tmp_path / "churn"
    assert cli("init", str(other), "--no-data", cwd=tmp_path).returncode == 0
    (other / "notebooks" / "retrain.ipynb").write_text('{"cells": [], "mark": "churn"}')
    (other / ".github" / "workflows").mkdir(parents=True)
    (other / ".github" / "workflows" / "readiness.yml").write_text("name: churn gate\n")
    (other / "docs" / "runbook.md").write_text(
        "# Runbook\n\n## Serving\nOn k8s, namespace churn.\n\n## Rollback\nAsk Ana.\n"
    )
    with open(other / "readiness.yaml", "a") as config:
        config.write(SCHEMAS)
    (other / "data").mkdir()
    (other / "data" / "train.csv").write_text("age,churned\n30,0\n")
    return other


def test_init_from_copies_the_shared_parts_not_the_data_or_criteria(tmp_path):
    other = _other(tmp_path)
    (other / "readiness.yaml").write_text(
        (other / "readiness.yaml").read_text().replace("min: 0.8", "min: 0.77", 1)
    )
    done = cli("init", "fraud", "--from", "churn", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "from    " in done.stdout and "notebooks/retrain.ipynb" in done.stdout
    new = tmp_path / "fraud"
    assert '"mark": "churn"' in (new / "notebooks" / "retrain.ipynb").read_text()
    assert (new / ".github" / "workflows" / "readiness.yml").read_text() == "name: churn gate\n"
    runbook = (new / "docs" / "runbook.md").read_text()
    assert "## Serving" in runbook and "## Rollback" in runbook
    assert "k8s" not in runbook and "Ana" not in runbook and "TODO" in runbook
    config = (new / "readiness.yaml").read_text()
    assert "allowed: [0, 1]" in config or "- 0" in config
    from readiness.core.config import load_config
    from readiness.core.project import Project

    loaded = load_config(Project(new))
    assert loaded.datasets["train"].path == "data/train.csv"
    assert "0.77" not in config  # the criteria are the template's, declared anew
    assert not (new / "data" / "train.csv").exists()  # never the data
    assert not (new / ".readiness" / "criteria.lock").exists()
    # what was reused is in init's first commit
    tracked = subprocess.run(["git", "ls-files"], cwd=new, capture_output=True, text=True).stdout
    assert ".github/workflows/readiness.yml" in tracked and "notebooks/retrain.ipynb" in tracked


def test_init_from_keeps_existing_files_without_force(tmp_path):
    other = _other(tmp_path)
    mine = tmp_path / "mine"
    assert cli("init", str(mine), "--no-data", cwd=tmp_path).returncode == 0
    (mine / "docs" / "runbook.md").write_text("# my own runbook\n")
    done = cli("init", str(mine), "--no-data", "--from", str(other), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (mine / "docs" / "runbook.md").read_text() == "# my own runbook\n"
    assert "datasets" not in (mine / "readiness.yaml").read_text().split("# Optional")[0]


def test_init_from_a_folder_that_is_no_project_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "plain").mkdir()
    for source, expected in (("plain", "not a readiness project"), ("gone", "no such folder")):
        done = cli("init", "new", "--from", source, cwd=tmp_path)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "new").exists()  # refused before anything was written


def test_the_ci_files_reused_are_the_ones_readiness_ci_writes():
    assert set(CI_FILES) == set(CI_TARGETS.values())
