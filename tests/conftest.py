"""Shared fixtures: isolated project folders, real git repos, the real CLI."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from readiness.core.project import Project

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
# The mlflow servers the tests start serve the tracking store and the model registry only:
# no GenAI job runner (six more processes, each importing mlflow, idling beside the suite).
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")

# A bound that only stops a hung subprocess, never a speed assertion: a 2-core CI machine
# under load runs several times slower than an idle one, so it is generous.
HANG = float(os.environ.get("READINESS_TEST_HANG", "1500"))


# The slowest test files (minutes on the 2-core CI machine), in one lane per worker, each
# lane's longest first. Each lane starts one worker's share of the run (xdist's worksteal
# gives each worker a contiguous share and lets an idle one take the end of another's), so
# the long tests start at once, on different workers, and the run ends on short ones.
SLOW_LANES = (
    ("test_demo.py", "test_registry_mlflow.py", "test_repo_pipeline.py", "test_browser.py"),
    ("test_checklist.py", "test_portfolio.py", "test_registry.py", "test_promotion_paired.py"),
)


def pytest_collection_modifyitems(config, items):
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1))
    lanes: list[list[pytest.Item]] = [[] for _ in range(workers)]
    slow = set()
    for number, names in enumerate(SLOW_LANES):
        for name in names:
            found = [item for item in items if item.path.name == name]
            lanes[number % workers].extend(found)
            slow.update(id(item) for item in found)
    rest = [item for item in items if id(item) not in slow]
    ordered: list[pytest.Item] = []
    for number, lane in enumerate(lanes):  # lane k starts at k/workers of the run
        ordered.extend(lane)
        fill = max(0, len(items) * (number + 1) // workers - len(ordered))
        ordered.extend(rest[:fill])
        rest = rest[fill:]
    items[:] = ordered + rest


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


@pytest.fixture(scope="session")
def dvc_template(tmp_path_factory) -> Path:
    """``readiness init`` of a fresh folder (git + DVC + a local remote, committed), once
    per worker: tests use copies (``dvc_project``)."""
    from readiness.data.scaffold import init_project

    root = tmp_path_factory.mktemp("dvc-template") / "dvcproj"
    with building(root.parent) as env:
        init_project(root)
        own_use_case(root)
        git_init(root)
        env.chdir(root)
    return root.resolve()


@pytest.fixture
def dvc_project(dvc_template, tmp_path, monkeypatch):
    """``readiness init`` of a fresh folder: git + DVC + a local remote, committed (a copy of
    ``dvc_template`` with its own remote); the working directory inside it, and the venv's
    commands on PATH (`dvc repro` runs stage commands through the shell)."""
    return use_copy(dvc_template, tmp_path / "dvcproj", monkeypatch)


@contextlib.contextmanager
def building(base: Path) -> Iterator[pytest.MonkeyPatch]:
    """The environment a project shared by tests is built in, in folder ``base`` (before
    any test's own environment exists).

    As a test's: no run or project from the caller, default DVC remotes in ``base``, the
    venv's commands on PATH; ``base`` is the working directory until the caller moves.
    """
    base.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as env:
        for name in ("READINESS_RUN_ID", "READINESS_PROJECT", "READINESS_SOURCE"):
            env.delenv(name, raising=False)
        env.setenv("READINESS_REMOTE_HOME", str(base / "remotes"))
        env.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        env.chdir(base)
        yield env


def copy_project(source: Path, target: Path) -> Path:
    """A copy of the built project ``source`` at ``target``, for a test to change.

    The copy gets its own copy of the local DVC remote of ``.dvc/config.local`` (where
    ``readiness init`` puts it), at the default place for ``target`` under the test's
    READINESS_REMOTE_HOME, so that what one test pushes no other test sees. DVC's
    machine-local state (``.dvc/tmp``: locks, indexes of the old paths) is not copied.
    """
    from readiness.core.project import Project
    from readiness.integrations.dvc import default_remote_dir

    def ignore(folder: str, names: list[str]) -> list[str]:
        return ["tmp"] if Path(folder) == source / ".dvc" else []

    shutil.copytree(source, target, symlinks=True, ignore=ignore)
    local = target / ".dvc" / "config.local"
    if local.is_file():
        text = local.read_text()
        for line in text.splitlines():
            key, _, url = line.partition("=")
            old = Path(url.strip())
            if key.strip() != "url" or not old.is_absolute():
                continue
            new = default_remote_dir(Project(target.resolve()))
            if old.is_dir():
                shutil.copytree(old, new, dirs_exist_ok=True)
            text = text.replace(str(old), str(new))
        local.write_text(text)
    return target.resolve()


def use_copy(source: Path, target: Path, monkeypatch) -> Project:
    """A test's own copy of a built project, as ``dvc_project`` sets one up."""
    from readiness.core.project import Project

    root = copy_project(source, target)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return Project(root)


@pytest.fixture(scope="session")
def registry_template(dvc_template, tmp_path_factory) -> Path:
    """The registry tests' project, built once per worker (tests use copies:
    ``registry_project``): ``readiness init``, the screening criteria, the data tracked."""
    from readiness.core.project import Project
    from readiness.criteria.declaration import declare
    from readiness.data.tracking import track
    from readiness.examples import breast_cancer

    root = tmp_path_factory.mktemp("registry-template") / "dvcproj"
    with building(root.parent) as env:
        copy_project(dvc_template, root)
        env.chdir(root)
        project = Project(root.resolve())
        breast_cancer(root / "data" / "breast_cancer")
        declare(project, SCREENING)
        track(project, ["data/breast_cancer"])
        commit_all(root, "criteria and data")
    return root.resolve()


@pytest.fixture(scope="session")
def production_template(registry_template, tmp_path_factory) -> Path:
    """``registry_template`` with screening v1.0.0 in production, trained by the retraining
    notebook (so its training data is known); built once per worker, used as copies."""
    from readiness.core.project import Project
    from readiness.gate.promotion import promote
    from readiness.registry.versions import register

    root = tmp_path_factory.mktemp("production-template") / "dvcproj"
    with building(root.parent) as env:
        copy_project(registry_template, root)
        env.chdir(root)
        done = cli("run", "notebooks/retrain.ipynb", "-p", "model_name", '"screening"', cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
        project = Project(root.resolve())
        register(project, "screening")
        assert promote(project, "screening", "1.0.0", "production").promoted
    return root.resolve()


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
