"""This repository's own DVC pipeline: `dvc repro` executes the example notebooks."""

from __future__ import annotations

import shutil

import pytest

from .conftest import REPO, cli, commit_all, dvc, git_init

pytestmark = pytest.mark.slow

# What the root dvc.yaml reads; copied so the test never touches the checkout.
PIPELINE_FILES = [
    "dvc.yaml",
    "params.yaml",
    "readiness.yaml",
    "notebooks",
    "src/readiness/examples.py",
    ".dvc/config",
    ".dvcignore",
]


def test_dvc_repro_of_the_repository_pipeline(tmp_path, monkeypatch):
    import os
    import sys
    from pathlib import Path

    root = tmp_path / "clone"
    for name in PIPELINE_FILES:
        source, target = REPO / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
    git_init(root)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = dvc("repro", cwd=root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (root / "data" / "breast_cancer" / "train.csv").is_file()
    assert (root / "runs" / "poc.ipynb").is_file()
    assert cli("check", "--criteria-only", cwd=root).returncode == 0
    assert cli("validate", cwd=root).returncode == 0
    commit_all(root, "repro")
    assert "up to date" in dvc("status", cwd=root).stdout
    # the stage's run reproduces: its input folder is a stage output, restored by hash
    import json

    runs = [json.loads(p.read_text()) for p in (root / ".readiness" / "runs").glob("*.json")]
    run_id = next(r["id"] for r in runs if r.get("notebook"))
    done = cli("reproduce", run_id, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restored data/breast_cancer" in done.stdout
