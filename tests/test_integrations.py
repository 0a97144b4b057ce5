"""Each external tool behind one module of readiness.integrations, its errors translated there.

Real git, GTO, skops, papermill and evidently: every failure comes out as one readiness
error (exit 2 at the CLI) with the tool's own reason on one line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from readiness.core.errors import (
    EvidentlyError,
    GitError,
    GTOError,
    NotebookError,
    ReadinessError,
    SkopsError,
)
from readiness.integrations import evidently, git, gto, papermill, skops


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "first",
        ],
        cwd=root,
        check=True,
    )
    return root


def _one_line(error: ReadinessError) -> str:
    text = str(error)
    assert text and "\n" not in text
    return text


def test_a_failing_git_command_is_one_git_error_with_git_s_reason(tmp_path):
    with pytest.raises(GitError) as raised:
        git.run(tmp_path, "rev-parse", "HEAD")
    assert _one_line(raised.value).startswith("git rev-parse failed: fatal: not a git repository")
    assert isinstance(raised.value, ReadinessError)


def test_git_facts_outside_a_repository_are_none_not_errors(tmp_path, repo):
    tmp_path = tmp_path / "plain"
    tmp_path.mkdir()
    assert git.head_commit(tmp_path) is None and git.is_dirty(tmp_path) is None
    assert git.toplevel(tmp_path) is None and git.tracked_files(tmp_path) == []
    assert git.head_commit(repo) == git.output(repo, "rev-parse", "HEAD")
    assert git.is_dirty(repo) is False and git.toplevel(repo) == repo.resolve()


def test_a_commit_that_fails_says_why(repo):
    commit, why = git.commit_paths(repo, ["missing.txt"], "nothing")
    assert commit is None
    assert why == "git add failed: fatal: pathspec 'missing.txt' did not match any files"


def test_gto_errors_are_gto_errors_and_an_unknown_artifact_is_empty(repo):
    assert gto.read("show", str(repo), "nosuch") == []
    with pytest.raises(GTOError, match="version 'bad' cannot be parsed"):
        gto.register(str(repo), "model", "HEAD", version="bad")
    assert gto.is_semver("v1.2.0") and not gto.is_semver("v1.2")
    assert gto.parse_tag("model@v1.0.0")["name"] == "model"
    assert gto.parse_tag("not-a-gto-tag") is None


def test_skops_errors_are_skops_errors():
    with pytest.raises(SkopsError, match=r"^BadZipFile: File is not a zip file$"):
        skops.untrusted_types(b"not a model file")
    with pytest.raises(SkopsError):
        skops.loads(b"not a model file", trusted=[])
    with pytest.raises(SkopsError, match="TypeError"):
        skops.dumps(i for i in range(3))  # a generator cannot be stored


def test_unreadable_notebooks_are_notebook_errors(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json", encoding="utf-8")
    for read in (papermill.read, papermill.load, papermill.inspect):
        with pytest.raises(NotebookError, match="does not appear to be JSON"):
            read(bad)
    with pytest.raises(NotebookError):
        papermill.read(tmp_path / "missing.ipynb")


def test_evidently_failures_are_evidently_errors():
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(EvidentlyError) as raised:
        evidently.run(evidently.drift_preset(columns=["no_such_column"]), frame, frame)
    assert str(raised.value) == "Unexpected feature type unknown."  # evidently's own words
