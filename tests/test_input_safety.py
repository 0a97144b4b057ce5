"""Inputs that must be refused before anything runs or is written: parameter names that
are code, run ids that are paths, corrupt run records, notebook outputs onto project
state or outside it, bad --cwd, invalid versions, expiries, credentials in remote URLs."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from readiness.core.errors import ReadinessError, UsageError

from .conftest import GOOD_EVIDENCE, cli, record_all, write_notebook

CODE_NAME = 'x=1;import os;os.system("touch PWNED");y'


@pytest.fixture
def nb(project):
    return write_notebook(project.root / "nb.ipynb", "x = 0", "print(x)")


def _no_run_recorded(project) -> bool:
    return not project.runs_dir.is_dir() or not any(project.runs_dir.iterdir())


# -- 3b: parameter names ------------------------------------------------------------------


def test_a_parameter_name_that_is_code_is_refused_before_any_kernel(project, nb):
    done = cli("run", "nb.ipynb", "--allow-extra", "-p", CODE_NAME, "1", cwd=project.root)
    assert done.returncode == 2, done.stderr
    assert "not a Python identifier" in done.stderr and "Traceback" not in done.stderr
    assert not (project.root / "PWNED").exists()
    done = cli("run", "nb.ipynb", "--allow-extra", "-p", "class", "1", cwd=project.root)
    assert done.returncode == 2 and "'class' is not a Python identifier" in done.stderr
    (project.root / "params.yml").write_text(json.dumps({CODE_NAME: 1}))
    done = cli("run", "nb.ipynb", "--allow-extra", "--params-file", "params.yml", cwd=project.root)
    assert done.returncode == 2 and "not a Python identifier" in done.stderr
    assert not (project.root / "PWNED").exists() and _no_run_recorded(project)


def test_a_grid_key_that_is_code_is_refused_before_any_kernel(project, nb):
    (project.root / "grid.yaml").write_text(json.dumps({"x": [1, 2], CODE_NAME: [1]}))
    done = cli("batch", "nb.ipynb", "--grid", "grid.yaml", "--allow-extra", cwd=project.root)
    assert done.returncode == 2, done.stderr
    assert "not a Python identifier" in done.stderr
    assert not (project.root / "PWNED").exists() and _no_run_recorded(project)


@pytest.mark.parametrize("name", ["1x", "a b", "", "import", 3, None])
def test_parameter_names_must_be_identifiers(project, nb, name):
    from readiness.jobs.parameters import check_parameters

    with pytest.raises(UsageError, match="not a Python identifier"):
        check_parameters(nb, {name: 1}, allow_extra=True)
    check_parameters(nb, {"x": 1, "extra_1": 2}, allow_extra=True)  # identifiers pass


# -- 3f: run ids and run records -----------------------------------------------------------


def test_run_ids_that_are_paths_are_refused(project, tmp_path, monkeypatch):
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"id": "x", "evidence": [], "status": "succeeded"}))
    done = cli("log", "f1=0.5", "--run", "../../outside", cwd=project.root)
    assert done.returncode == 2 and "is not a run id" in done.stderr
    assert json.loads(outside.read_text())["evidence"] == []  # not written into
    done = cli("check", "--criteria-only", "--run", str(tmp_path / "outside"), cwd=project.root)
    assert done.returncode == 2 and "is not a run id" in done.stderr
    monkeypatch.setenv("READINESS_RUN_ID", "../../outside")
    done = cli("log", "f1=0.5", cwd=project.root)
    assert (
        done.returncode == 2 and "READINESS_RUN_ID '../../outside' is not a run id" in done.stderr
    )
    assert json.loads(outside.read_text())["evidence"] == []
    monkeypatch.setenv("READINESS_RUN_ID", "nightly-2026-11-26")  # a chosen id still works
    assert cli("log", "f1=0.5", cwd=project.root).returncode == 0
    assert (project.runs_dir / "nightly-2026-11-26.json").is_file()


@pytest.mark.parametrize("text", ['{"id": "x", "evidence": [', "[]", "\xff\xfe"])
def test_a_corrupt_newest_run_record_is_an_error_not_skipped(project, text):
    record_all(GOOD_EVIDENCE)  # an older run that passes the criteria
    assert cli("check", "--criteria-only", cwd=project.root).returncode == 0
    older = next(project.runs_dir.glob("*.json"))
    before = older.read_text()
    newest = project.runs_dir / "29990101T000000000-abcdef.json"
    newest.write_bytes(text.encode("latin-1"))
    done = cli("check", "--criteria-only", cwd=project.root)
    assert done.returncode == 2, done.stdout
    assert newest.name in done.stderr and "corrupt" in done.stderr
    assert "Traceback" not in done.stderr
    done = cli("log", "recall=0.1", "--run", "latest", cwd=project.root)
    assert done.returncode == 2 and newest.name in done.stderr
    assert older.read_text() == before  # the older run was not written into


# -- 3f and 5: where an executed notebook goes, what it reads, where it runs ------------------


def test_run_output_onto_readiness_files_is_refused(project, nb):
    from readiness.jobs.notebook import prepare_job

    lock = project.criteria_lock_path
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("{}\n")
    before = project.config_path.read_text()
    done = cli("run", "nb.ipynb", "--output", "readiness.yaml", cwd=project.root)
    assert done.returncode == 2 and "readiness's own files" in done.stderr, done.stderr
    assert project.config_path.read_text() == before
    for output in (".readiness/criteria.lock", "dvc.yaml", "dvc.lock", "params.yaml"):
        with pytest.raises(UsageError, match="readiness's own files"):
            prepare_job(project, nb, output=project.root / output)
    with pytest.raises(UsageError, match="own files"):  # the job's own metrics file too
        prepare_job(project, nb, output=project.root / "m.json", metrics_file="m.json")
    assert lock.read_text() == "{}\n" and _no_run_recorded(project)


def test_outputs_inputs_and_cwd_are_checked_before_anything_runs(project, nb, tmp_path):
    from readiness.jobs.notebook import prepare_job

    done = cli("run", "nb.ipynb", "--output", "../elsewhere.ipynb", cwd=project.root)
    assert done.returncode == 2 and "outside the project" in done.stderr
    with pytest.raises(UsageError, match="outside the project"):
        prepare_job(project, nb, output=tmp_path / "abs.ipynb")
    (project.root / "runs").mkdir()
    with pytest.raises(UsageError, match="is a directory"):
        prepare_job(project, nb, output=project.root / "runs")
    done = cli("run", "nb.ipynb", "--input", "/etc/passwd", cwd=project.root)
    assert done.returncode == 2 and "--input /etc/passwd is outside the project" in done.stderr
    with pytest.raises(UsageError, match="outside the project"):
        prepare_job(project, nb, inputs=["../x.csv"])
    done = cli("run", "nb.ipynb", "--cwd", "nowhere", cwd=project.root)
    assert done.returncode == 2 and "--cwd" in done.stderr and "does not exist" in done.stderr
    with pytest.raises(UsageError, match="is not a directory"):
        prepare_job(project, nb, cwd=nb)
    (project.root / "g.yaml").write_text("x: [1, 2]\n")
    batch = ("batch", "nb.ipynb", "--grid", "g.yaml")
    done = cli(*batch, "--output-dir", ".readiness", cwd=project.root)
    assert done.returncode == 2 and "readiness's own files" in done.stderr
    assert _no_run_recorded(project)


def test_a_directory_where_a_file_is_expected_says_so(project, nb):
    (project.root / "folder.ipynb").mkdir()
    (project.root / "grid").mkdir()
    cases = [
        ("run", "folder.ipynb"),
        ("run", "nb.ipynb", "--params-file", "grid"),
        ("batch", "nb.ipynb", "--grid", "grid"),
        ("criteria", "validate", "--file", "grid"),
    ]
    for args in cases:
        done = cli(*args, cwd=project.root)
        assert done.returncode == 2, args
        assert "is a directory, not a file" in done.stderr, (args, done.stderr)
    done = cli("run", "missing.ipynb", cwd=project.root)
    assert done.returncode == 2 and "does not exist" in done.stderr


# -- 5: attest and register ----------------------------------------------------------------


def test_attest_refuses_an_expiry_before_its_date(project):
    args = ("attest", "security.pentest", "--by", "a@example.com", "--evidence", "https://x.org")
    before = project.config_path.read_text()
    done = cli(*args, "--date", "2024-03-10", "--expires", "2024-03-01", cwd=project.root)
    assert done.returncode == 2 and "--expires 2024-03-01 is before" in done.stderr
    assert project.config_path.read_text() == before
    done = cli(*args, "--date", "2024-03-10", "--expires", "2024-03-10", cwd=project.root)
    assert done.returncode == 0, done.stderr


def _head(root) -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    return done.stdout


@pytest.mark.slow
def test_register_with_an_invalid_version_commits_nothing(dvc_project):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    import readiness

    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    readiness.save_model(model, "m")  # not committed yet: register commits its pointer
    before = _head(dvc_project.root)
    for bad in ("banana", "1.0", "v1.0.0.0"):
        done = cli("register", "m", "--version", bad, cwd=dvc_project.root)
        assert done.returncode == 2, done.stderr
        assert _head(dvc_project.root) == before, f"register --version {bad} left a commit behind"
        assert "not a semantic version" in done.stderr
    done = cli("register", "m", "--version", "1.2.0", cwd=dvc_project.root)
    assert done.returncode == 0, done.stderr
    assert "v1.2.0" in done.stdout


# -- 3f: credentials in a remote URL -------------------------------------------------------


@pytest.mark.slow
def test_init_keeps_remote_credentials_out_of_the_committed_config(tmp_path):
    url = "https://alice:s3cr3t-pw@dvc.example.com/store"
    done = cli("init", "proj", "--remote", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "s3cr3t-pw" not in done.stdout + done.stderr
    root = tmp_path / "proj"
    shared = (root / ".dvc" / "config").read_text()
    assert "s3cr3t-pw" not in shared and "alice" not in shared
    assert "url = https://dvc.example.com/store" in shared
    local = (root / ".dvc" / "config.local").read_text()
    assert "password = s3cr3t-pw" in local and "user = alice" in local
    ignored = subprocess.run(
        ["git", "check-ignore", ".dvc/config.local"], cwd=root, capture_output=True
    )
    assert ignored.returncode == 0, "config.local must never be committed"
    done = cli("init", "other", "--remote", "s3://AKIA:secretkey@bucket/x", cwd=tmp_path)
    assert done.returncode == 2 and "secretkey" not in done.stdout + done.stderr


def test_split_credentials():
    from readiness.integrations.dvc import mask_url, split_credentials

    assert split_credentials("https://a%40b:p%3Aw@h.org/x") == (
        "https://h.org/x",
        {"user": "a@b", "password": "p:w", "auth": "basic"},
    )
    assert split_credentials("ssh://bob@host/path") == ("ssh://bob@host/path", {})
    assert split_credentials("/data/a:b@c") == ("/data/a:b@c", {})
    assert mask_url("https://u:secret@h/x") == "https://u:***@h/x"
    with pytest.raises(ReadinessError, match=r"s3://AK:\*\*\*@bucket"):
        split_credentials("s3://AK:SECRET@bucket/x")


def test_run_ids_are_checked_in_one_place(project):
    from readiness.evidence.runs import new_run_id, run_path

    assert run_path(project, new_run_id()).parent == project.runs_dir
    for bad in ("../x", "/abs", "a/b", ".hidden", "", "x" * 200):
        with pytest.raises(ReadinessError, match="is not a run id"):
            run_path(project, bad)
    assert os.path.basename(run_path(project, "job-42")) == "job-42.json"
