"""Notebook jobs in real kernels: failures, exits, timeouts, parameters, batches, executors."""

from __future__ import annotations

import functools
import json
import operator
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from readiness.core.errors import ConfigError, UsageError
from readiness.evidence.runs import list_runs
from readiness.jobs.batches import batch, expand_grid
from readiness.jobs.notebook import run_notebook

from .conftest import cli, write_notebook

pytestmark = pytest.mark.slow

RECORD = "import readiness\nreadiness.record('roc_auc', 0.8 + C / 100)\nreadiness.record('recall', 0.75)\nreadiness.record('latency_p95_ms', 2.0)"


@pytest.fixture
def work(project):
    """A project whose notebook takes C, records roc_auc, and can be asked to fail."""
    write_notebook(
        project.root / "notebooks" / "work.ipynb",
        "C: float = 1.0\nfail = False\nnap = 0.0",
        "import time\ntime.sleep(nap)",
        "if fail:\n    raise ValueError('asked to fail')",
        RECORD,
    )
    return project


def test_a_notebook_raising_in_its_third_cell(work):
    result = run_notebook("notebooks/work.ipynb", {"fail": True}, project=work)
    assert result.status == "failed" and result.exit_code == 1
    assert result.failure["cell"] == 3
    assert (result.failure["ename"], result.failure["evalue"]) == ("ValueError", "asked to fail")
    executed = nbformat.read(work.root / result.output, as_version=4)
    errors = [
        o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert errors and errors[0]["evalue"] == "asked to fail"
    record = json.loads((work.runs_dir / f"{result.run_id}.json").read_text())
    assert record["status"] == "failed" and record["failure"]["cell"] == 3


@pytest.mark.parametrize(("code", "status"), [("0", "succeeded"), ("1", "failed")])
def test_sys_exit(project, code, status):
    write_notebook(
        project.root / "exit.ipynb", "x = 1", f"import sys\nsys.exit({code})", "never = 1"
    )
    result = run_notebook("exit.ipynb", project=project)
    assert result.status == status


def test_timeout_and_a_dead_kernel(project):
    write_notebook(project.root / "slow.ipynb", "x = 1", "import time\ntime.sleep(30)")
    started = time.perf_counter()
    result = run_notebook("slow.ipynb", project=project, timeout=2)
    assert result.status == "timed_out" and time.perf_counter() - started < 25
    write_notebook(project.root / "die.ipynb", "x = 1", "import os\nos._exit(3)")
    result = run_notebook("die.ipynb", project=project)
    assert result.status == "failed" and result.failure["ename"] == "DeadKernelError"


def test_complex_parameter_types_reach_the_kernel(project):
    write_notebook(
        project.root / "types.ipynb",
        "items = [1]\noptions = {'a': 1}\nmaybe: int | None = None\nflag = False",
        "import readiness\nreadiness.record('echo', {'items': items, 'options': options, "
        "'maybe_is_none': maybe is None, 'flag': flag})",
    )
    params = {"items": [1, 2, 3], "options": {"depth": 4, "name": "x"}, "maybe": None, "flag": True}
    done = cli(
        "run",
        "types.ipynb",
        *functools.reduce(operator.iadd, (["-p", k, json.dumps(v)] for k, v in params.items()), []),
        "--json",
        cwd=project.root,
    )
    assert done.returncode == 0, done.stderr
    echo = json.loads(done.stdout)["evidence"][0]["value"]
    assert echo == {
        "items": [1, 2, 3],
        "options": {"depth": 4, "name": "x"},
        "maybe_is_none": True,
        "flag": True,
    }


def test_parameters_are_checked_before_a_kernel_starts(work):
    with pytest.raises(UsageError, match=r"unknown parameter 'lr'.*C \(float, default 1.0\)"):
        run_notebook("notebooks/work.ipynb", {"lr": 0.1}, project=work)
    with pytest.raises(UsageError, match="must be float"):
        run_notebook("notebooks/work.ipynb", {"C": "high"}, project=work)
    with pytest.raises(UsageError, match="must be bool"):
        run_notebook("notebooks/work.ipynb", {"fail": 1}, project=work)
    assert not list_runs(work), "nothing recorded, nothing ran"
    allowed = run_notebook("notebooks/work.ipynb", {"lr": 0.1}, project=work, allow_extra=True)
    assert allowed.succeeded


def test_bad_input_before_anything_runs(project):
    nb = project.root / "plain.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell("x = 1")],
            metadata={"kernelspec": {"name": "python3", "display_name": "P", "language": "python"}},
        ),
        nb,
    )
    done = cli("run", "plain.ipynb", "-p", "x", "2", cwd=project.root)
    assert done.returncode == 2 and "no cell tagged 'parameters'" in done.stderr
    assert cli("run", "plain.ipynb", cwd=project.root).returncode == 0  # no parameters: fine
    done = cli("run", "plain.ipynb", "--kernel", "cobol", cwd=project.root)
    assert done.returncode == 2 and "installed kernels: python3" in done.stderr
    assert cli("run", "missing.ipynb", cwd=project.root).returncode == 2
    (project.root / "notes.txt").write_text("hello")
    assert cli("run", "notes.txt", cwd=project.root).returncode == 2
    (project.root / "broken.ipynb").write_text("{not json")
    done = cli("run", "broken.ipynb", cwd=project.root)
    assert done.returncode == 2 and "not a readable notebook" in done.stderr


def test_grid_errors():
    assert expand_grid({"C": [1, 2], "seed": [0, 1], "fixed": "x"})[3] == {
        "C": 2,
        "seed": 1,
        "fixed": "x",
    }
    assert expand_grid([{"C": 1}, {"C": 5}]) == [{"C": 1}, {"C": 5}]
    with pytest.raises(ConfigError, match="empty"):
        expand_grid([])
    with pytest.raises(ConfigError, match="no values"):
        expand_grid({"C": []})
    with pytest.raises(ConfigError):
        expand_grid("C")


def test_batch_runs_in_parallel_and_one_failure_stops_nothing(work):
    grid = [*expand_grid({"C": [1.0, 10.0, 5.0], "fail": [False]}), {"C": 20.0, "fail": True}]
    result = batch(work, work.root / "notebooks" / "work.ipynb", grid, workers=2, front_end="quiet")
    statuses = [r.result.status for r in result.runs]
    assert statuses == ["succeeded", "succeeded", "succeeded", "failed"]
    assert result.exit_code == 1
    best = next(r for r in result.runs if r.result.run_id == result.best)
    assert best.result.params["C"] == 10.0  # highest roc_auc: the template's first criterion
    assert [r.passed for r in result.runs] == [
        False,
        True,
        True,
        None,
    ]  # the failed run: no verdict
    records = {r["id"]: r for r in list_runs(work)}
    assert all(records[r.result.run_id]["batch"] == result.batch_id for r in result.runs)
    assert "roc_auc" in result.key_metrics and "*" + result.best in str(result)


def test_batch_on_a_dask_cluster(work):
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = batch(
            work,
            work.root / "notebooks" / "work.ipynb",
            [{"C": 1.0}, {"C": 10.0}],
            executor="dask",
            scheduler=cluster.scheduler_address,
            front_end="quiet",
        )
    assert [r.result.status for r in result.runs] == ["succeeded", "succeeded"]
    assert result.best and result.executor == "dask"
    assert all((work.root / r.result.output).is_file() for r in result.runs)


def test_dask_needs_a_reachable_scheduler(work):
    with pytest.raises(UsageError, match="--scheduler"):
        batch(
            work,
            work.root / "notebooks" / "work.ipynb",
            [{"C": 1.0}],
            executor="dask",
            front_end="quiet",
        )
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        batch(
            work,
            work.root / "notebooks" / "work.ipynb",
            [{"C": 1.0}],
            executor="dask",
            scheduler="tcp://127.0.0.1:9",
            front_end="quiet",
        )
    assert not list_runs(work), "nothing recorded before the scheduler answered"


def _kernels_of(run_ids: set[str]) -> list[int]:
    import psutil

    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            kernel = "ipykernel_launcher" in " ".join(process.info["cmdline"] or [])
            if kernel and process.environ().get("READINESS_RUN_ID") in run_ids:
                found.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_ctrl_c_cancels_cleanly_and_leaves_no_kernel(work):
    (work.root / "grid.yaml").write_text("C: [1.0, 2.0, 3.0, 4.0]\nnap: [60.0]\n")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("readiness")),
            "batch",
            "notebooks/work.ipynb",
            "--grid",
            "grid.yaml",
            "-j",
            "2",
            "--json",
        ],
        cwd=work.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    run_ids: set[str] = set()
    while time.time() < deadline:
        run_ids = {r["id"] for r in list_runs(work)}
        if len(run_ids) == 4 and len(_kernels_of(run_ids)) == 2:
            break
        time.sleep(0.3)
    assert len(_kernels_of(run_ids)) == 2, "two kernels were running"
    process.send_signal(signal.SIGINT)
    stopping = time.time()
    out, err = process.communicate(timeout=90)
    assert time.time() - stopping < 20, "queued runs never start after Ctrl-C"
    assert process.returncode == 130, err[-2000:]
    result = json.loads(out)
    assert result["cancelled"] and {r["status"] for r in result["runs"]} == {"cancelled"}
    assert {r["status"] for r in list_runs(work)} == {"cancelled"}
    time.sleep(1)
    assert _kernels_of(run_ids) == [], "no kernel left behind"


def test_ctrl_c_on_a_single_run(project):
    write_notebook(project.root / "slow.ipynb", "x = 1", "import time\ntime.sleep(60)")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("readiness")), "run", "slow.ipynb"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not (
        (runs := list_runs(project)) and _kernels_of({r["id"] for r in runs})
    ):
        time.sleep(0.3)
    run_ids = {r["id"] for r in list_runs(project)}
    assert _kernels_of(run_ids)
    started = time.time()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130 and time.time() - started < 20
    assert [r["status"] for r in list_runs(project)] == ["cancelled"]
    assert _kernels_of(run_ids) == []


def test_a_kernel_on_another_machine_sends_its_evidence_in_the_notebook(work):
    from readiness.evidence.record import PROJECT_ENV
    from readiness.jobs.notebook import execute_job, finish_job, prepare_job

    spec = prepare_job(work, work.root / "notebooks" / "work.ipynb", {"C": 3.0})
    spec.env[PROJECT_ENV] = str(work.root / "not-on-this-worker")  # as a Dask worker sees it
    outcome = execute_job(spec)
    assert {e["name"] for e in outcome["evidence"]} == {"roc_auc", "recall", "latency_p95_ms"}
    assert not (work.root / "not-on-this-worker").exists()
    result = finish_job(work, spec, outcome)
    record = next(r for r in list_runs(work) if r["id"] == spec.run_id)
    assert result.metrics()["roc_auc"] == pytest.approx(0.83)
    assert [e["name"] for e in record["evidence"]] == ["roc_auc", "recall", "latency_p95_ms"]
    assert all(e["run_id"] == spec.run_id for e in record["evidence"])


def test_failing_right_after_the_parameters_cell_names_cell_2(project):
    write_notebook(project.root / "early.ipynb", "x = 1", "raise RuntimeError('early')")
    result = run_notebook("early.ipynb", {"x": 2}, project=project)
    assert result.failure["cell"] == 2 and result.failure["evalue"] == "early"


def test_a_notebook_without_kernelspec_is_refused_up_front(project):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, project.root / "bare.ipynb")
    done = cli("run", "bare.ipynb", cwd=project.root)
    assert done.returncode == 2 and "names no kernel" in done.stderr
    assert cli("run", "bare.ipynb", "--kernel", "python3", cwd=project.root).returncode == 0
