"""The ``readiness`` command: exit codes 0 READY / 1 not / 2 bad input, JSON, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import GOOD_EVIDENCE, cli, record_all

RELATIVE_ONLY = """
use_case: {name: churn, owner: jane@example.com, business_metric: revenue}
criteria:
  technical:
    - {metric: roc_auc, split: holdout, baseline: 0.78, min_margin: 0.03}
"""


def test_init_then_check_not_ready(empty_dir):
    done = cli("init", "proj", cwd=empty_dir)
    assert done.returncode == 0, done.stderr
    root = empty_dir / "proj"
    assert (root / "readiness.yaml").is_file() and (root / "notebooks" / "poc.ipynb").is_file()
    again = cli("init", "proj", cwd=empty_dir)
    assert "kept" in again.stdout
    done = cli("check", cwd=root)
    assert done.returncode == 1
    assert "NOT_READY" in done.stdout and "no evidence recorded yet" in done.stdout


def test_check_json_shape_and_ready_exit(project):
    record_all(GOOD_EVIDENCE)
    done = cli("check", "--criteria-only", "--json", cwd=project.root)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["verdict"] == "READY"
    assert {c["metric"] for c in data["criteria"]} == {"roc_auc", "recall", "latency_p95_ms"}
    first = data["criteria"][0]
    assert {"metric", "split", "observed", "passed", "required", "margin"} <= set(first)
    assert data["business"]["net_value_per_1000"] > 500
    assert data["amendments"] == []


def test_check_fails_with_exit_1(project):
    record_all({**GOOD_EVIDENCE, "roc_auc": 0.8})
    done = cli("check", cwd=project.root)
    assert done.returncode == 1
    assert "FAIL" in done.stdout


def test_relative_only_criterion_is_refused_with_exit_2_and_the_fix(project, tmp_path):
    path = tmp_path / "relative.yaml"
    path.write_text(RELATIVE_ONLY)
    done = cli("criteria", "declare", "--file", str(path), cwd=project.root)
    assert done.returncode == 2
    assert "'better than today' is not a target" in done.stderr
    assert "min: 0.81" in done.stderr  # the fix, computed from baseline + margin
    assert f"{path}:5:" in done.stderr  # the file the user gave, with line and column
    done = cli("criteria", "validate", "--file", "-", cwd=project.root, input=RELATIVE_ONLY)
    assert done.returncode == 2


def test_amend_flow_from_the_terminal(project):
    record_all(GOOD_EVIDENCE)
    project.config_path.write_text(project.config_path.read_text().replace("max: 50", "max: 40"))
    assert cli("check", cwd=project.root).returncode == 1
    assert cli("criteria", "amend", cwd=project.root).returncode == 2
    done = cli("criteria", "amend", "--reason", "SLO tightened", cwd=project.root)
    assert done.returncode == 0, done.stderr
    data = json.loads(cli("check", "--criteria-only", "--json", cwd=project.root).stdout)
    assert data["verdict"] == "READY" and data["amendments"][0]["reason"] == "SLO tightened"


def test_log_and_bad_input(project):
    done = cli("log", "f1=0.8", "--tag", "model=x", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert cli("log", "note=text", cwd=project.root).returncode == 2
    done = cli("log", "recall=0.7", "--run", "latest", cwd=project.root)
    assert done.returncode == 0, done.stderr
    from readiness.evidence.runs import latest_run_with_evidence, list_runs

    assert len(list_runs(project)) == 1  # --run latest added to the first run
    assert {e["name"] for e in latest_run_with_evidence(project)["evidence"]} == {"f1", "recall"}
    assert cli("log", "novalue", cwd=project.root).returncode == 2
    assert cli("log", "auc=NaN", cwd=project.root).returncode == 2
    assert cli("check", "--run", "nope", cwd=project.root).returncode == 2
    project.config_path.write_text("use_case: [\n")
    done = cli("check", cwd=project.root)
    assert done.returncode == 2 and "readiness.yaml:2:1" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_project_and_unknown_command(empty_dir):
    done = cli("check", cwd=empty_dir)
    assert done.returncode == 2 and "readiness init" in done.stderr
    assert cli("frobnicate", cwd=empty_dir).returncode == 2
    assert cli("-C", "does-not-exist", "check", cwd=empty_dir).returncode == 2


def test_help_per_subcommand(empty_dir):
    top = cli("--help", cwd=empty_dir)
    assert top.returncode == 0
    for name in ("init", "criteria", "log", "check"):
        assert name in top.stdout
        sub = cli(name, "--help", cwd=empty_dir)
        assert sub.returncode == 0 and f"readiness {name}" in sub.stdout


def _run_with_stdout(stdout_fd: int, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        stdout=stdout_fd,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )


HELP_TO_A_GONE_READER = """
import sys
from readiness.cli import run
sys.argv = ["readiness", "--help"]
run()
"""


def test_a_reader_that_went_away_is_a_quiet_exit_0():
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `readiness --help | head -c0`: nobody reads
    try:
        done = _run_with_stdout(write_end, HELP_TO_A_GONE_READER)
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


# A command whose own connection breaks (a socket, a child's pipe) while stdout is fine.
SOCKET_BREAKS = """
import sys
from readiness import cli, commands

def execute(args, ctx):
    raise BrokenPipeError(32, "Broken pipe")

real = commands.all_commands
commands.all_commands = lambda: [
    commands.Command("models", "breaks", lambda parser: None, execute) if c.name == "models"
    else c for c in real()
]
sys.argv = ["readiness", "models"]
cli.run()
"""


def test_a_broken_connection_inside_a_command_is_an_error_not_a_silent_success():
    read_end, write_end = os.pipe()
    try:
        done = _run_with_stdout(write_end, SOCKET_BREAKS)
    finally:
        os.close(write_end)
        os.close(read_end)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "readiness: error: Broken pipe"
