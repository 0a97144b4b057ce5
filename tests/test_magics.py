"""``%readiness`` / ``%%readiness`` through a real IPython InteractiveShell."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from readiness.evidence.verdict import CheckResult

CRITERIA_CELL = """use_case: {name: churn, owner: jane@example.com, business_metric: revenue}
criteria:
  technical:
    - {metric: roc_auc, split: holdout, min: 0.85}
"""


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "readiness")
    return ip


def run(shell, code):
    result = shell.run_cell(code, silent=False, store_history=False)
    return result


def test_declare_show_log_check(shell, empty_dir, capsys):
    declared = run(shell, "%%readiness criteria\n" + CRITERIA_CELL)
    assert declared.success, declared.error_in_exec
    assert declared.result is not None and declared.result.event == "declared"
    assert (empty_dir / "readiness.yaml").is_file()
    shown = shell.run_line_magic("readiness", "criteria")
    assert shown.event == "locked"
    assert shell.run_line_magic("readiness", "log roc_auc=0.9 --split holdout") is None
    result = shell.run_line_magic("readiness", "check")
    assert isinstance(result, CheckResult) and result.criteria_passed
    assert result.checklist is not None and not result.passed  # the checklist is not done
    run(shell, "r = %readiness check --criteria-only")
    assert shell.user_ns["r"].verdict == "READY"
    bundle = result._repr_mimebundle_()
    assert {"text/plain", "text/html", "application/json"} <= set(bundle)
    assert "<script" not in bundle["text/html"]


def test_amend_in_a_cell(shell, empty_dir):
    run(shell, "%%readiness criteria\n" + CRITERIA_CELL)
    shell.run_line_magic("readiness", "log roc_auc=0.9")
    refused = run(shell, "%%readiness criteria\n" + CRITERIA_CELL.replace("0.85", "0.88"))
    assert not refused.success
    assert "--amend" in str(refused.error_in_exec)
    amended = run(
        shell,
        '%%readiness criteria --amend "raised after review"\n'
        + CRITERIA_CELL.replace("0.85", "0.88"),
    )
    assert amended.success, amended.error_in_exec
    assert (
        shell.run_line_magic("readiness", "check").amendments[0]["reason"] == "raised after review"
    )


def test_errors_are_one_line_and_fail_the_cell(shell, empty_dir, capsys):
    result = run(
        shell,
        "%%readiness criteria\ncriteria:\n  technical:\n    - {metric: auc, split: train, min: 0.8}\n",
    )
    assert not result.success
    out = capsys.readouterr()
    shown = out.out + out.err
    assert "ReadinessError:" in shown and "training data" in shown
    assert "Traceback" not in shown
    assert not run(shell, "%readiness nonsense").success
    assert not run(shell, "%readiness check --run 'unclosed").success


def test_help(shell, capsys):
    doc = shell.find_line_magic("readiness").__doc__
    for name in ("init", "criteria", "log", "check"):
        assert f"  {name}" in doc
    assert shell.run_line_magic("readiness", "check --help") is None
    assert "--run RUN_ID" in capsys.readouterr().out
