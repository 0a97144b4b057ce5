"""Example and template notebooks executed end to end in a real kernel (nbclient)."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

import readiness
from readiness.core.project import Project
from readiness.core.results import EVIDENCE_MIME
from readiness.evidence.runs import latest_run_with_evidence

from .conftest import (
    HANG,
    REPO,
    TEMPLATES,
    cli,
    copy_examples,
    example_project,
    own_use_case,
    write_notebook,
)

CELL_CRITERIA = "use_case: {name: job, owner: o@example.com, business_metric: m}\ncriteria: {technical: [{metric: roc_auc, split: holdout, min: 0.9}]}"

pytestmark = pytest.mark.slow


def execute(path, cwd):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    nbformat.write(notebook, path)
    return notebook


# notebooks with a test of their own below are executed there
DEDICATED = {"02-notebook-widgets.ipynb"}


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb") if p.name not in DEDICATED)
)
def test_example_notebooks_run(name, empty_dir):
    path = copy_examples(empty_dir) / name
    execute(path, path.parent)


def outputs(cell):
    return [o for o in cell.get("outputs", []) if "data" in o]


def test_widget_notebook_shows_widgets_with_html_fallbacks(empty_dir):
    """In a kernel, results come as widgets; each output also carries its HTML."""
    path = copy_examples(empty_dir) / "02-notebook-widgets.ipynb"
    notebook = execute(path, path.parent)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    shown = {}
    for first_line in (
        "form = criteria_form()",
        "result = %readiness check",
        "from readiness.examples",
        "sweep = readiness.batch(",
    ):
        (cell,) = [c for c in code if c.source.startswith(first_line)]
        (output,) = outputs(cell)
        view = output["data"]["application/vnd.jupyter.widget-view+json"]
        assert view["model_id"] in state  # the widget's state was kept with the notebook
        assert "<script" not in output["data"]["text/html"]
        shown[first_line] = output["data"]["text/html"]
    assert "breast-cancer-screening" in shown["form = criteria_form()"]
    assert "Readiness checklist" in shown["result = %readiness check"]
    assert (
        "mean radius" in shown["from readiness.examples"]
        and "<svg" in shown["from readiness.examples"]
    )
    # the batch display was updated when it finished: counts and the results table
    assert "3/3 done" in shown["sweep = readiness.batch("]
    assert shown["sweep = readiness.batch("].count("<tr>") >= 4
    bars = [m["state"] for m in state.values() if m["model_name"] == "IntProgressModel"]
    assert any(b["value"] == b["max"] == 3 for b in bars)
    saved = Project(path.parent).config_path.read_text()
    assert "breast-cancer-screening" in saved and "max_drift_share: 0.3" in saved
    assert not any(o.get("name") == "stderr" for c in notebook.cells for o in c.get("outputs", []))
    # exported without its widget state (what most viewers have), nbconvert shows the HTML
    from nbconvert import HTMLExporter

    notebook.metadata.pop("widgets")
    page, _ = HTMLExporter().from_notebook_node(notebook)
    assert "application/vnd.jupyter.widget-view+json" not in page
    for marker in (
        "The criteria form needs a widget front end",
        "Readiness checklist",
        "DATASET DRIFT",
        "3/3 done",
    ):
        assert marker in page, marker


def test_a_job_kernel_keeps_results_as_html(empty_dir):
    """papermill output (a job) has no widget manager: no widget views, only HTML."""
    folder = copy_examples(empty_dir)
    write_notebook(
        folder / "job.ipynb",
        "x = 1",
        "%load_ext readiness",
        "%%readiness criteria\n" + CELL_CRITERIA,
        "%readiness log roc_auc=0.97 --split holdout",
        "%readiness check --criteria-only",
    )
    assert (
        cli(
            "run", "notebooks/job.ipynb", "--output", "runs/job-out.ipynb", cwd=empty_dir
        ).returncode
        == 0
    )
    executed = nbformat.read(empty_dir / "runs" / "job-out.ipynb", as_version=4)
    datas = [o["data"] for c in executed.cells for o in outputs(c)]
    assert any("READY" in d.get("text/html", "") for d in datas)
    assert not any("application/vnd.jupyter.widget-view+json" in d for d in datas)


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
    # evaluate's intervals travel in the notebook too, the same as in the run record
    shown = {e.name: e.interval for e in evidence}
    assert shown["roc_auc"] and shown["roc_auc"]["low"] <= shown["roc_auc"]["high"]
    assert {e["name"]: e.get("interval") for e in run["evidence"]} == shown
    assert any(
        EVIDENCE_MIME in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    assert cli("check", "--criteria-only", cwd=path.parent).returncode == 0


def test_template_notebook_runs_in_an_initialised_project(empty_dir):
    assert cli("init", ".", cwd=empty_dir).returncode == 0
    own_use_case(empty_dir)  # the template's example owner is never locked
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
        timeout=HANG,
        kernel_name="python3",
        resources={"metadata": {"path": str(empty_dir)}},
    )
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert "no absolute bound" in str(info.value)
    assert notebook.cells[2].get("execution_count") is None
