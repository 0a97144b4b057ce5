"""Jobs as papermill runs them: kernel aliases, error markers, injection without a
parameters cell, papermill's options, progress off a terminal, Ctrl-C at any moment,
and the best run of a batch. Most need no kernel; the few that do are marked slow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from readiness.core.errors import UsageError
from readiness.evidence.runs import list_runs
from readiness.jobs.batches import BatchRun, _judge
from readiness.jobs.notebook import RunResult, input_cell_number
from readiness.jobs.parameters import check_kernel, check_parameters

from .conftest import cli, write_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _notebook(path: Path, *cells: str, markdown_first: bool = False) -> Path:
    """A notebook without a parameters cell (code cells, optionally a heading first)."""
    made = [nbformat.v4.new_code_cell(c) for c in cells]
    if markdown_first:
        made.insert(0, nbformat.v4.new_markdown_cell("# a heading"))
    notebook = nbformat.v4.new_notebook(cells=made, metadata={"kernelspec": KERNELSPEC})
    nbformat.write(notebook, path)
    return path


def _papermill_failure(source: Path, output: Path, params: dict | None) -> tuple[object, int]:
    """What papermill does around a run whose last cell raises, without a kernel: its own
    load / parameterize / remove_error_markers / raise_for_execution_errors functions."""
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors, remove_error_markers
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(source))
    if params:
        nb = parameterize_notebook(nb, params)
    nb = remove_error_markers(nb)
    nb.cells[-1].outputs = [
        nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[])
    ]
    with pytest.raises(PapermillExecutionError) as caught:
        raise_for_execution_errors(nb, str(output))
    return nbformat.read(output, as_version=4), caught.value.cell_index


def test_the_failing_cell_is_numbered_in_the_input_file_despite_old_error_markers(tmp_path):
    path = _notebook(
        tmp_path / "nb.ipynb", "y = 1", "raise ValueError('boom')", markdown_first=True
    )
    source = nbformat.read(path, as_version=4)
    first, index = _papermill_failure(path, tmp_path / "first.ipynb", {"x": 1})
    assert input_cell_number(source.cells, first.cells, index) == 3  # heading, y = 1, raise
    # the executed notebook, error markers and injected cell included, run again as input
    tags = [c.metadata.get("tags", []) for c in first.cells]
    assert ["papermill-error-cell-tag"] in tags and ["injected-parameters"] in tags
    again, index = _papermill_failure(tmp_path / "first.ipynb", tmp_path / "again.ipynb", {"x": 2})
    raising = next(i for i, c in enumerate(first.cells) if "raise" in c.source) + 1
    assert raising == 6  # marker, injected, heading, y = 1, marker, raise
    assert input_cell_number(first.cells, again.cells, index) == raising
    # and without parameters (the old injected cell then runs as it is)
    again, index = _papermill_failure(tmp_path / "first.ipynb", tmp_path / "plain.ipynb", None)
    assert input_cell_number(first.cells, again.cells, index) == raising


def test_papermill_kernel_aliases_are_accepted(tmp_path):
    node = nbformat.read(_notebook(tmp_path / "nb.ipynb", "x = 1"), as_version=4)
    assert check_kernel(node, "python") == "python3"  # jupyter_client's alias
    assert check_kernel(node, "Python3") == "python3"  # matched case-insensitively
    with pytest.raises(UsageError, match="no kernel named 'cobol'"):
        check_kernel(node, "cobol")


def test_allow_extra_injects_into_a_notebook_without_parameters_cell(tmp_path):
    path = _notebook(tmp_path / "plain.ipynb", "print(x)")
    with pytest.raises(UsageError, match="--allow-extra to inject them as the first cell"):
        check_parameters(path, {"x": 1})
    assert check_parameters(path, {"x": 1}, allow_extra=True) == {}


def test_prepare_only_writes_the_parameterized_notebook_and_records_nothing(project):
    write_notebook(project.root / "nb.ipynb", "C: float = 1.0", "print(C)")
    done = cli(
        "run", "nb.ipynb", "-p", "C", "0.5", "--prepare-only", "--report-mode", "--output",
        "out.ipynb", "--start-timeout", "5", cwd=project.root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "prepared" in done.stdout
    out = nbformat.read(project.root / "out.ipynb", as_version=4)
    injected = [c for c in out.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "C = 0.5" in injected[0].source
    assert all(c.metadata["jupyter"]["source_hidden"] for c in out.cells if c.cell_type == "code")
    assert all(c.get("execution_count") is None for c in out.cells if c.cell_type == "code")
    (project.root / "grid.yaml").write_text("C: [0.1, 0.2]\n")
    done = cli("batch", "nb.ipynb", "--grid", "grid.yaml", "--prepare-only", cwd=project.root)
    assert done.returncode == 0, done.stderr
    written = sorted((project.root / "runs").rglob("nb-*.ipynb"))
    assert [p.name for p in written] == ["nb-001.ipynb", "nb-002.ipynb"]
    assert "C = 0.2" in nbformat.read(written[1], as_version=4).cells[1].source
    assert list_runs(project) == []
    bad = cli("run", "nb.ipynb", "--start-timeout", "0", cwd=project.root)
    assert bad.returncode == 2 and "--start-timeout must be a positive" in bad.stderr


def _run(run_id: str, roc_auc: float, recall: float) -> BatchRun:
    evidence = [
        {"name": "roc_auc", "value": roc_auc, "split": "holdout"},
        {"name": "recall", "value": recall, "split": "holdout"},
        {"name": "latency_p95_ms", "value": 2.0, "split": "holdout"},
    ]
    result = RunResult(run_id, "succeeded", "nb.ipynb", "out.ipynb", 1.0, evidence=evidence)
    return BatchRun(result)


def test_the_best_run_meets_every_criterion_and_a_tie_is_said(project):
    # the template's criteria: roc_auc >= 0.85, recall >= 0.7, latency_p95_ms <= 50
    runs = [_run("a", 0.99, 0.5), _run("b", 0.9, 0.8), _run("c", 0.9, 0.9), _run("d", 0.88, 0.9)]
    _, best, reason = _judge(project, runs)
    assert best == "b", reason  # "a" has the highest roc_auc but fails recall
    assert "among the 3 of 4 runs that meet every criterion" in reason
    assert "tied with c: the first in the grid is taken" in reason
    runs = [_run("a", 0.99, 0.5), _run("b", 0.8, 0.9)]
    _, best, reason = _judge(project, runs)
    assert best is None
    assert reason.startswith("no run meets every criterion") and "recall/holdout" in reason


# -- with a real kernel, through the real command line (not a terminal: a CI log) ----------


@pytest.mark.slow
def test_progress_lines_off_a_terminal_and_papermill_options(project):
    _notebook(project.root / "plain.ipynb", "print('hello', x)", "y = x * 2")
    done = cli(
        "run", "plain.ipynb", "-k", "python", "--allow-extra", "-p", "x", "21", "--log-output",
        cwd=project.root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "plain: injected parameters done" in done.stderr
    cells = [line for line in lines if line.startswith("plain: cell ")]
    assert [c.split(" done")[0] for c in cells] == ["plain: cell 1/2", "plain: cell 2/2"]
    assert "hello 21" in done.stderr  # --log-output
    (record,) = list_runs(project)
    executed = nbformat.read(project.root / record["output"], as_version=4)
    assert executed.cells[0].metadata["tags"] == ["injected-parameters"]  # as papermill does
    assert "x = 21" in executed.cells[0].source

    write_notebook(project.root / "nb.ipynb", "C: float = 1.0", "print(C)")
    (project.root / "grid.yaml").write_text("C: [0.1, 0.2]\n")
    done = cli("batch", "nb.ipynb", "--grid", "grid.yaml", "-j", "2", cwd=project.root)
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert [p.split("]")[0] + "]" for p in progress] == ["[1/2]", "[2/2]"]
    assert all("succeeded in" in p for p in progress)


def _slow_starting_kernel(root: Path) -> dict[str, str]:
    """A kernelspec whose kernel never answers: every moment is 'kernel start-up'."""
    spec = root / "jupyter" / "kernels" / "slowstart"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", "import time; time.sleep(120)", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "slow start", "language": "python"})
    )
    return {**os.environ, "JUPYTER_PATH": str(root / "jupyter")}


def _status(project) -> str | None:
    runs = list_runs(project)
    return runs[0].get("status") if runs else None


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["record written", "kernel starting"])
def test_ctrl_c_cancels_the_run_at_any_moment(project, moment):
    env = _slow_starting_kernel(project.root)
    _notebook(project.root / "nb.ipynb", "x = 1")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("readiness")), "run", "nb.ipynb", "-k", "slowstart"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wanted = {"record written": ("queued", "running"), "kernel starting": ("running",)}[moment]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _status(project) not in wanted:
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    assert _status(project) in wanted
    process.send_signal(signal.SIGINT)
    stopping = time.monotonic()
    _, err = process.communicate(timeout=60)
    took = time.monotonic() - stopping
    assert process.returncode == 130, err[-2000:]
    assert took < 20, f"stopped {took:.1f} s after Ctrl-C"  # the kernel's start-up wait is 60 s
    (record,) = list_runs(project)
    assert record["status"] == "cancelled"
    assert record["failure"] == {"ename": "KeyboardInterrupt", "evalue": "cancelled"}
