"""Example and template notebooks executed end to end in a real kernel (nbclient)."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

import readiness
from readiness.evidence import latest_run_with_evidence
from readiness.project import Project
from readiness.results import EVIDENCE_MIME

from .conftest import REPO, TEMPLATES, cli

pytestmark = pytest.mark.slow


def example_project(root):
    """The layout the example notebooks expect: notebooks/ beside data/breast_cancer/."""
    from readiness.examples import breast_cancer

    breast_cancer(root / "data" / "breast_cancer")
    (root / "notebooks").mkdir(exist_ok=True)
    return root / "notebooks"


def execute(path, cwd):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    nbformat.write(notebook, path)
    return notebook


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")))
def test_example_notebooks_run(name, empty_dir):
    path = example_project(empty_dir) / name
    shutil.copyfile(REPO / "notebooks" / name, path)
    execute(path, path.parent)


def test_criteria_first_notebook_evidence_reads_back(empty_dir):
    path = example_project(empty_dir) / "poc.ipynb"
    shutil.copyfile(REPO / "notebooks" / "01-criteria-first-poc.ipynb", path)
    notebook = execute(path, path.parent)
    evidence = readiness.read_notebook_evidence(path)
    names = {e.name for e in evidence}
    assert {"roc_auc", "recall", "latency_p95_ms", "confusion_matrix", "calibration_slope"} <= names
    # the notebook carries the same evidence as the run record the kernel wrote
    # no git and no readiness.yaml above: the notebook's folder is the project
    run = latest_run_with_evidence(Project(path.parent))
    assert {e["name"] for e in run["evidence"]} == names
    assert any(
        EVIDENCE_MIME in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    assert cli("check", "--criteria-only", cwd=path.parent).returncode == 0


def test_template_notebook_runs_in_an_initialised_project(empty_dir):
    assert cli("init", ".", cwd=empty_dir).returncode == 0
    path = empty_dir / "notebooks" / "poc.ipynb"
    execute(path, path.parent)
    assert (TEMPLATES / "poc.ipynb").read_bytes() != path.read_bytes()  # outputs were written
    assert readiness.read_notebook_evidence(path)
    assert cli("check", "--criteria-only", cwd=empty_dir).returncode == 0


def test_a_failing_criteria_cell_stops_execution(empty_dir):
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%load_ext readiness"),
            nbformat.v4.new_code_cell(
                "%%readiness criteria\ncriteria:\n  technical:\n    - {metric: auc, split: holdout, baseline: 0.8, min_margin: 0.1}"
            ),
            nbformat.v4.new_code_cell("reached = True"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(empty_dir)}},
    )
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert "no absolute bound" in str(info.value)
    assert notebook.cells[2].get("execution_count") is None
