"""What a newcomer trips over: hints, warnings, init per task, CI, modes, placeholders."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from readiness.core.errors import ConfigError, UsageError

from .conftest import TEMPLATES, cli, git_init, own_use_case, record_all

USE_CASE = "use_case: {name: sales, owner: head@example.com, business_metric: revenue}\n"


def _config(*criteria: str) -> str:
    return USE_CASE + "criteria:\n  technical:\n" + "".join(f"    - {c}\n" for c in criteria)


def _validate(text: str):
    from readiness.core import yamlio
    from readiness.core.schema import validate

    return validate(yamlio.parse(text, "readiness.yaml").data)


# -- 7: metric directions, hints, did-you-mean -------------------------------------------


def test_relative_hint_follows_the_metric_direction():
    with pytest.raises(ConfigError) as lower:
        _validate(_config("{metric: rmse, split: holdout, baseline: 70, min_margin: 5}"))
    assert "max: 65" in str(lower.value) and "min: 75" not in str(lower.value)
    with pytest.raises(ConfigError) as higher:
        _validate(_config("{metric: roc_auc, split: holdout, baseline: 0.7, min_margin: 0.05}"))
    assert "min: 0.75" in str(higher.value) and "max:" not in str(higher.value).split("For")[1]
    with pytest.raises(ConfigError) as unknown:
        _validate(_config("{metric: gain, split: holdout, baseline: 7, min_margin: 1}"))
    assert "min: 8" in str(unknown.value) and "max: 6" in str(unknown.value)


@pytest.mark.parametrize(("typo", "meant"), [("maxx", "max"), ("minimum", "min")])
def test_misspelt_keys_get_a_did_you_mean(typo, meant):
    with pytest.raises(ConfigError) as info:
        _validate(_config(f"{{metric: rmse, split: holdout, {typo}: 3}}"))
    assert f"did you mean {meant!r}" in str(info.value)


def test_metric_table_knows_directions_and_recorded_names():
    from readiness.core import metric_info
    from readiness.evidence.metrics import EVALUATED_METRICS

    assert EVALUATED_METRICS == metric_info.EVALUATED_METRICS
    for name in ("rmse", "mae", "mape", "log_loss", "brier", "latency_p95_ms", "latency_x"):
        assert metric_info.direction(name) == "lower", name
    assert metric_info.direction("roc_auc") == "higher"
    assert metric_info.suggest("f1_macro") == "f1"


# -- 9d: a bound against the direction, names evaluate never records ------------------------


def test_criteria_warn_about_direction_and_unrecorded_names(project):
    path = project.root / "c.yaml"
    path.write_text(
        _config(
            "{metric: rmse, split: holdout, min: 3}",
            "{metric: f1_macro, split: holdout, min: 0.8}",
            "{metric: accuracy, split: holdout, min: 0.8}",
        )
    )
    done = cli("criteria", "validate", "--file", "c.yaml", "--json", cwd=project.root)
    assert done.returncode == 0, done.stderr
    warnings = json.loads(done.stdout)["warnings"]
    assert len(warnings) == 2
    assert "rmse is lower-is-better" in warnings[0] and "max: 3" in warnings[0]
    assert "'f1_macro'" in warnings[1] and "did you mean 'f1'" in warnings[1]
    # a name the project's runs record is not "unknown"
    from readiness.core.metric_info import criteria_warnings

    config = _validate(_config("{metric: f1_macro, split: holdout, min: 0.8}"))
    assert criteria_warnings(config.criteria, recorded=["f1_macro"]) == []


# -- 9d: equal declarations, placeholders ---------------------------------------------------


def test_declaring_the_current_criteria_again_is_a_no_op(project):
    from readiness.core.errors import CriteriaLockedError
    from readiness.criteria import declaration as criteria

    a = "{metric: roc_auc, split: holdout, min: 0.8}"
    b = "{metric: recall, split: holdout, min: 0.6}"
    criteria.declare(project, _config(a, b))
    record_all({"roc_auc": 0.85, "recall": 0.7})
    amended = _config(a.replace("0.8", "0.82"), b)
    assert criteria.declare(project, amended, amend="tighter").event == "amended"
    # the same criteria, listed in another order, without --amend: nothing to do
    again = _config(b, a.replace("0.8", "0.82"))
    assert criteria.declare(project, again).event == "unchanged"
    with pytest.raises(CriteriaLockedError):
        criteria.declare(project, _config(a, b))  # a real change still needs a reason


def test_the_templates_example_use_case_is_never_locked(tmp_path, monkeypatch):
    from readiness.core.project import Project
    from readiness.criteria import declaration as criteria

    root = tmp_path / "p"
    root.mkdir()
    shutil.copyfile(TEMPLATES / "readiness.yaml", root / "readiness.yaml")
    monkeypatch.chdir(root)
    project = Project(root)
    with pytest.raises(ConfigError, match=r"example use case.*jane\.doe@example\.com"):
        record_all({"roc_auc": 0.9})
    assert not project.criteria_lock_path.exists()
    assert not list(project.root.glob(".readiness/runs/*.json"))
    body = (root / "readiness.yaml").read_text()
    with pytest.raises(ConfigError, match="example use case"):
        criteria.declare(project, body)
    own_use_case(root)
    assert criteria.declare(project, (root / "readiness.yaml").read_text()).event == "declared"


# -- 9d: file modes -----------------------------------------------------------------------


def test_writes_respect_the_umask_and_secrets_stay_private(tmp_path):
    from readiness.core.fsutil import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "readiness.yaml", "a: 1\n")
        atomic_write_text(tmp_path / "key", "secret\n", secret=True)
        os.umask(0o027)
        atomic_write_text(tmp_path / "card.md", "# card\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "readiness.yaml").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "card.md").stat().st_mode) == 0o640


# -- 8, 9c, 6b, 13: init ----------------------------------------------------------------------


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_init_task_lays_out_matching_templates_and_commits_them(empty_dir, task):
    done = cli("init", "p", "--task", task, "--no-data", cwd=empty_dir)
    assert done.returncode == 0, done.stderr
    root = empty_dir / "p"
    assert (root / "readiness.yaml").read_text() == (
        TEMPLATES / f"readiness-{task}.yaml"
    ).read_text()
    poc = (root / "notebooks" / "poc.ipynb").read_text()
    assert ("load_diabetes" if task == "regression" else "load_wine") in poc
    config = _validate((root / "readiness.yaml").read_text())
    if task == "regression":
        assert {c.metric: c.direction for c in config.criteria.technical}["rmse"] == "max"
        assert config.criteria.business.value_per_outcome is None
    from readiness.core.metric_info import criteria_warnings

    assert criteria_warnings(config.criteria) == []


def test_init_commits_what_it_wrote(empty_dir):
    done = cli("init", "p", "--json", cwd=empty_dir)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    root = empty_dir / "p"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    assert result["commit"] == head.stdout.strip()
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout
    assert {"readiness.yaml", "notebooks/poc.ipynb", ".gitignore", ".dvc/config"} <= set(
        tracked.split()
    )
    assert ".dvc/config.local" not in tracked.split()
    # drift HTML is ignored, its JSON is not; the .gitignore says what to do with runs/
    ignored = lambda p: subprocess.run(["git", "check-ignore", "-q", p], cwd=root).returncode == 0  # noqa: E731
    assert ignored("reports/drift-20260101.html") and not ignored("reports/drift-20260101.json")
    assert (
        "runs/" in (root / ".gitignore").read_text()
        and "readiness track runs" in (root / ".gitignore").read_text()
    )


def test_init_in_an_existing_repo_keeps_its_gitignore_and_says_nothing_is_committed(empty_dir):
    (empty_dir / ".gitignore").write_text("*.tmp\n.readiness/write.lock\n")
    git_init(empty_dir)
    done = cli("init", ".", "--json", cwd=empty_dir)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    text = (empty_dir / ".gitignore").read_text()
    assert text.startswith("*.tmp\n") and ".readiness/registry.lock" in text
    assert text.count(".readiness/write.lock") == 1
    assert any(u.startswith(".gitignore") for u in result["updated"])
    assert result["commit"] is None and "not committed" in result["not_committed"]


# -- 8: multiclass evidence ---------------------------------------------------------------


def test_multiclass_evaluation_gives_each_class_and_names_the_average(project):
    from sklearn.datasets import load_wine
    from sklearn.tree import DecisionTreeClassifier

    import readiness
    from readiness.evidence.runs import latest_run_with_evidence
    from readiness.render import html_of

    X, y = load_wine(return_X_y=True, as_frame=True)
    model = DecisionTreeClassifier(random_state=0, max_depth=2).fit(X[::2], y[::2])
    result = readiness.evaluate(model, X[1::2], y[1::2], latency_samples=0)
    assert result.average == "macro"
    assert set(result.metrics["per_class"]) == {"0", "1", "2"}
    assert set(result.metrics["per_class"]["1"]) == {"precision", "recall", "f1", "support"}
    assert "macro averages over 3 classes" in str(result) and "support" in str(result)
    assert "macro averages" in html_of(result)
    run = latest_run_with_evidence(project)
    tags = {e["name"]: e.get("tags", {}) for e in run["evidence"]}
    assert tags["f1"].get("average") == "macro" and "per_class" in tags


# -- 9: version, check table, declare --file, notebook check, types ------------------------


def test_version_flag(empty_dir):
    from readiness import __version__

    done = cli("--version", cwd=empty_dir)
    assert done.returncode == 0 and done.stdout.strip() == f"readiness {__version__}"


def test_check_table_labels_headroom_and_margin_over_baseline(project):
    record_all({"roc_auc": 0.9, "recall": 0.8, "latency_p95_ms": 3.0})
    done = cli("check", "--criteria-only", cwd=project.root)
    header = next(line for line in done.stdout.splitlines() if line.startswith("metric"))
    assert "to required" in header and "over baseline" in header
    row = next(line for line in done.stdout.splitlines() if line.startswith("roc_auc"))
    assert "+0.05" in row and "+0.12" in row  # 0.9 - 0.85 required; 0.9 - 0.78 baseline
    latency = next(line for line in done.stdout.splitlines() if line.startswith("latency"))
    assert "+47" in latency  # 3 ms inside a 50 ms bound


def test_declare_file_of_datasets_only_says_what_it_saved(project):
    (project.root / "d.yaml").write_text(
        "datasets:\n  train: {path: data/train.csv, columns: {age: {type: int}}}\n"
    )
    done = cli("criteria", "declare", "--file", "d.yaml", cwd=project.root)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert "Saved to" in first and "datasets (train)" in first and "unchanged" in first


def test_notebook_check_before_any_model_summarises_the_checklist(project):
    from IPython.core.interactiveshell import InteractiveShell

    from readiness.render import html_of

    record_all({"roc_auc": 0.9, "recall": 0.8, "latency_p95_ms": 3.0})
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "readiness")
    result = shell.run_line_magic("readiness", "check")
    text = str(result)
    lines = [line for line in text.splitlines() if "checklist" in line]
    assert len(lines) == 1 and "no model is registered yet" in lines[0]
    assert "missing]" not in text and "roc_auc" in text
    assert "no model is registered yet" in html_of(result) and "<details" not in html_of(result)
    full = shell.run_line_magic("readiness", "check --full")
    assert "[missing ]" in str(full)
    assert "[missing ]" in cli("check", cwd=project.root).stdout  # the CLI lists every item


def test_schema_rule_messages_name_readiness_types(tmp_path):
    import pandas as pd

    from readiness.core.schema import DatasetSchema
    from readiness.data.validation import validate_frame

    schema = DatasetSchema.model_validate({"columns": {"b": {"type": "float"}}})
    result = validate_frame(pd.DataFrame({"b": ["x", "y"]}), schema)
    assert [f.rule for f in result.failures] == ["type float"]


# -- 9c: CI and attestations --------------------------------------------------------------


def _dvc_files(root: Path, shared: str | None, local: str | None) -> None:
    (root / ".dvc").mkdir(parents=True, exist_ok=True)
    if shared:
        (root / ".dvc" / "config").write_text(
            f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {shared}\n"
        )
    if local:
        (root / ".dvc" / "config.local").write_text(
            f"[core]\n    remote = local\n['remote \"local\"']\n    url = {local}\n"
        )


def test_ci_workflow_follows_the_project_and_names_what_is_missing(project):
    _dvc_files(project.root, None, "/home/me/remote")
    done = cli("ci", "github", "--json", cwd=project.root)
    assert done.returncode == 0, done.stderr
    missing = json.loads(done.stdout)["missing"]
    assert any("no lock file" in m for m in missing)
    assert any("no shared DVC remote" in m and "config.local" in m for m in missing)
    text = (project.root / ".github" / "workflows" / "readiness.yml").read_text()
    assert "requirements.txt" not in text and "run: dvc pull" not in text
    assert "readiness validate" in text and "readiness check" in text  # the CI probe's needs

    (project.root / "requirements.txt").write_text("scikit-learn\n")
    _dvc_files(project.root, "s3://bucket/data", None)
    (project.root / ".dvc" / "config.local").unlink()
    done = cli("ci", "gitlab", "--json", cwd=project.root)
    assert json.loads(done.stdout)["missing"] == []
    text = (project.root / ".gitlab-ci.yml").read_text()
    assert "pip install -r requirements.txt" in text and "- dvc pull" in text
    import yaml

    assert yaml.safe_load(text)["readiness"]["script"]
    assert yaml.safe_load((project.root / ".github" / "workflows" / "readiness.yml").read_text())


def test_attest_evidence_must_be_a_url(project):
    from readiness.checklist.attestations import attest

    with pytest.raises(UsageError, match="not a URL"):
        attest(project, "operational.runbook", "owner@example.com", "see the wiki")
    done = attest(project, "operational.runbook", "owner@example.com", "https://wiki.example.com/r")
    assert done.entry["evidence"] == "https://wiki.example.com/r"


# -- 8: the regression PoC, end to end -------------------------------------------------------


@pytest.mark.slow
def test_regression_poc_runs_with_a_kernel_and_check_judges_it(empty_dir):
    import nbformat
    from nbclient import NotebookClient

    assert cli("init", ".", "--task", "regression", "--no-data", cwd=empty_dir).returncode == 0
    own_use_case(empty_dir)
    path = empty_dir / "notebooks" / "poc.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    done = cli("check", "--criteria-only", "--json", cwd=empty_dir)
    verdict = json.loads(done.stdout)
    judged = {c["metric"]: c for c in verdict["criteria"]}
    assert set(judged) == {"rmse", "r2", "latency_p95_ms"}
    assert all(c["observed"] is not None for c in judged.values())
    assert judged["rmse"]["direction"] == "max" and judged["rmse"]["passed"]
    assert done.returncode == 0 and verdict["verdict"] == "READY", done.stdout
