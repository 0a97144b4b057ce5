"""Shared fixtures: isolated project folders, real git repos, the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"

os.environ.setdefault("DVC_NO_ANALYTICS", "1")

# A bound that only stops a hung subprocess, never a speed assertion: a 2-core CI machine
# under load runs several times slower than an idle one, so it is generous.
HANG = float(os.environ.get("READINESS_TEST_HANG", "1500"))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    for name in ("READINESS_RUN_ID", "READINESS_PROJECT", "READINESS_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    # default DVC remotes go under the test's folder, never the user's home
    monkeypatch.setenv("READINESS_REMOTE_HOME", str(tmp_path / "remotes"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A fresh project (template readiness.yaml), the working directory inside it."""
    from readiness.core.project import Project

    root = tmp_path / "proj"
    root.mkdir()
    shutil.copyfile(TEMPLATES / "readiness.yaml", root / "readiness.yaml")
    own_use_case(root)
    monkeypatch.chdir(root)
    return Project(root.resolve())


def own_use_case(root: Path, owner: str = "owner@example.com") -> None:
    """Replace the template's example owner, as a user does before the PoC (it is not locked)."""
    path = root / "readiness.yaml"
    path.write_text(path.read_text().replace("jane.doe@example.com", owner))


@pytest.fixture
def empty_dir(tmp_path, monkeypatch):
    root = tmp_path / "empty"
    root.mkdir()
    monkeypatch.chdir(root)
    return root.resolve()


def git_init(root: Path) -> None:
    """A real git repo with a local identity and one commit."""
    run = lambda *a: subprocess.run(["git", *a], cwd=root, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    run("config", "user.name", "Test User")
    run("config", "user.email", "test@example.com")
    run("add", "-A")
    run("commit", "-q", "-m", "init", "--allow-empty")


def cli(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    """The installed ``readiness`` console script, as a user runs it."""
    exe = Path(sys.executable).with_name("readiness")
    # the venv's dvc/readiness on PATH, for the commands readiness itself starts
    env = {**os.environ, "PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, input=input, timeout=HANG,
        env=env,
    )


GOOD_EVIDENCE = {
    "roc_auc": 0.9,
    "recall": 0.8,
    "latency_p95_ms": 3.0,
    "confusion_matrix": [[50, 5], [10, 40]],
}


def record_all(values: dict, split: str = "holdout") -> None:
    from readiness.evidence.record import make_evidence, record_many

    record_many([make_evidence(k, v, split) for k, v in values.items()], display=False)


def write_notebook(path: Path, parameters: str, *cells: str) -> Path:
    """A small notebook with a cell tagged ``parameters`` (papermill's convention)."""
    import nbformat

    params_cell = nbformat.v4.new_code_cell(parameters)
    params_cell.metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(
        cells=[params_cell, *(nbformat.v4.new_code_cell(c) for c in cells)],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def dvc_project(tmp_path, monkeypatch):
    """``readiness init`` of a fresh folder: git + DVC + a local remote, committed."""
    from readiness.core.project import Project
    from readiness.data.scaffold import init_project

    root = tmp_path / "dvcproj"
    init_project(root)
    own_use_case(root)
    git_init(root)
    monkeypatch.chdir(root)
    # `dvc repro` runs stage commands through the shell: the venv's readiness must be found
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return Project(root.resolve())


def commit_all(root: Path, message: str = "change") -> None:
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=root, check=True, capture_output=True
    )


def dvc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real ``dvc`` command line of this environment."""
    exe = Path(sys.executable).with_name("dvc")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=HANG)


# A screening use case on the breast cancer example data (registry and checklist tests).
SCREENING = """
use_case: {name: screening, owner: head@example.com, business_metric: cost per patient}
criteria:
  technical:
    - {metric: roc_auc, split: holdout, min: 0.95}
    - {metric: recall, split: holdout, min: 0.85}
drift: {target: malignant, max_drift_share: 0.1}
datasets:
  holdout: {path: data/breast_cancer/holdout.csv, columns: {malignant: {type: int, allowed: [0, 1]}}}
"""


def example_project(root):
    """The layout the example notebooks expect: notebooks/ beside data/breast_cancer/."""
    from readiness.examples import breast_cancer

    breast_cancer(root / "data" / "breast_cancer")
    (root / "notebooks").mkdir(exist_ok=True)
    return root / "notebooks"


def copy_examples(root):
    """The example notebooks (they may run each other, e.g. a batch of train.ipynb)."""
    folder = example_project(root)
    for notebook in (REPO / "notebooks").glob("*.ipynb"):
        shutil.copyfile(notebook, folder / notebook.name)
    return folder
