"""Data versioning with real git + DVC repositories: init, track, push/pull, one writer."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import readiness
from readiness.core.project import Project
from readiness.data.scaffold import init_project
from readiness.data.tracking import track
from readiness.integrations.dvc import DataError, data_versions

from .conftest import HANG, cli, commit_all, dvc, git_init

pytestmark = pytest.mark.slow


def test_init_makes_git_dvc_and_a_local_remote_outside_the_tree(tmp_path):
    root = tmp_path / "fresh"
    result = init_project(root)
    assert (root / ".git").is_dir() and (root / ".dvc").is_dir()
    assert result.version_control["git"] == "initialised"
    local = (root / ".dvc" / "config.local").read_text()
    remote = tmp_path / "remotes"
    assert str(remote) in local  # machine-local, outside the work tree
    assert "remote" not in (root / ".dvc" / "config").read_text()
    again = init_project(root)
    assert again.version_control["remote"].endswith("(kept)")


def test_init_inside_a_larger_git_repository_and_a_shared_remote(tmp_path):
    outer = tmp_path / "mono"
    outer.mkdir()
    git_init(outer)
    result = init_project(outer / "projects" / "churn")
    assert "sub-project" in result.version_control["dvc"]
    assert not (outer / "projects" / "churn" / ".git").exists()
    shared = tmp_path / "shared-remote"
    init_project(outer / "projects" / "churn", remote=str(shared))
    done = dvc("remote", "default", cwd=outer / "projects" / "churn")
    assert done.stdout.strip() == "storage", "the shared remote is the default, not the local one"


def test_existing_dvc_project_keeps_its_remote(tmp_path):
    root = tmp_path / "existing"
    root.mkdir()
    git_init(root)
    assert dvc("init", "-q", cwd=root).returncode == 0
    store = tmp_path / "their-remote"
    assert dvc("remote", "add", "-d", "theirs", str(store), cwd=root).returncode == 0
    result = init_project(root)
    assert result.version_control == {"remote": "theirs (kept)"}
    (root / "data.csv").write_text("a,b\n1,2\n")
    tracked = track(Project(root.resolve()), ["data.csv"], cwd=root)
    assert tracked.remote == "theirs" and tracked.items[0].pushed
    assert any(store.rglob("*")), "pushed to the project's own remote"


def test_track_push_delete_cache_pull_gives_identical_bytes(dvc_project, tmp_path):
    root = dvc_project.root
    data = root / "data"
    data.mkdir()
    payload = bytes(range(256)) * 4000
    (data / "train.bin").write_bytes(payload)
    (data / "holdout.csv").write_text("x,y\n1,0\n2,1\n")
    result = track(dvc_project, ["data/train.bin", "data/holdout.csv"], cwd=root)
    assert [i.changed for i in result.items] == [True, True]
    assert all(i.pushed for i in result.items)
    assert result.items[0].md5 and result.items[0].size == len(payload)

    started = time.perf_counter()
    again = track(dvc_project, ["data/train.bin", "data/holdout.csv"], cwd=root)
    assert [i.changed for i in again.items] == [False, False]
    assert time.perf_counter() - started < 0.5  # no DVC import, no hashing

    import shutil

    shutil.rmtree(root / ".dvc" / "cache")
    (data / "train.bin").unlink()
    done = dvc("pull", "-q", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (data / "train.bin").read_bytes() == payload


def test_changed_data_is_tracked_as_a_new_version(dvc_project):
    path = dvc_project.root / "d.csv"
    path.write_text("a\n1\n")
    first = track(dvc_project, ["d.csv"]).items[0]
    path.write_text("a\n2\n")
    second = track(dvc_project, ["d.csv"]).items[0]
    assert second.changed and second.md5 != first.md5
    assert data_versions(dvc_project)["d.csv"]["md5"] == second.md5


WRITER = """
import sys
from pathlib import Path
from readiness.core.project import Project
from readiness.data.tracking import track
name = sys.argv[1]
Path(name).write_text(name * 1000)
print(track(Project(Path('.').resolve()), [name]).items[0].md5)
"""


def test_four_processes_tracking_at_once_all_succeed(dvc_project):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"file{i}.txt"],
            cwd=dvc_project.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=HANG) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-500:] for o in outputs]
    versions = data_versions(dvc_project)
    assert all(f"file{i}.txt" in versions for i in range(4))


def test_bad_input_is_refused_and_writes_nothing(dvc_project, tmp_path):
    root = dvc_project.root
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n")
    with pytest.raises(DataError, match="outside the project"):
        track(dvc_project, [str(outside)])
    with pytest.raises(DataError, match="does not exist"):
        track(dvc_project, ["missing.csv"])
    (root / "in_git.csv").write_text("a\n1\n")
    commit_all(root)
    (root / "fine.csv").write_text("a\n1\n")
    with pytest.raises(DataError, match=r"git rm -r --cached in_git\.csv"):
        track(dvc_project, ["fine.csv", "in_git.csv"])
    assert not (root / "fine.csv.dvc").exists(), "a refused batch tracks nothing"
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "x.csv").write_text("a\n")
    with pytest.raises(DataError, match="not a git repository"):
        track(Project(plain), ["x.csv"], cwd=plain)


def test_unreachable_remote_is_a_clear_error_and_data_stays_cached(tmp_path):
    root = tmp_path / "p"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    init_project(root, remote=str(blocker / "remote"))  # a path under a file: unwritable
    git_init(root)
    (root / "x.csv").write_text("a\n1\n")
    done = cli("track", "x.csv", cwd=root)
    assert done.returncode == 2
    assert "pushing to remote 'storage' failed" in done.stderr and "Traceback" not in done.stderr
    md5 = data_versions(Project(root.resolve()))["x.csv"]["md5"]
    assert (root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).is_file()


def test_evidence_names_data_versions_and_commit(dvc_project):
    (dvc_project.root / "train.csv").write_text("a\n1\n")
    md5 = track(dvc_project, ["train.csv"]).items[0].md5
    commit_all(dvc_project.root, "track data")
    evidence = readiness.record("roc_auc", 0.9)
    assert evidence.data == {"train.csv": md5}
    assert evidence.git_commit and len(evidence.git_commit) == 40


def test_a_locked_repository_fails_at_once_inside_a_stage_of_it(dvc_project, monkeypatch):
    """Inside a stage `dvc repro` runs (DVC_ROOT is the project), its lock cannot clear while
    the stage runs: no waiting. Elsewhere, a locked repository is waited for."""
    from dvc.lock import make_lock

    from readiness.integrations import dvc as dvcstore

    tmp = dvc_project.root / ".dvc" / "tmp"
    tmp.mkdir(exist_ok=True)
    lock = make_lock(str(tmp / "lock"), tmp_dir=str(tmp))  # DVC's own repository lock
    lock.lock()
    try:
        monkeypatch.setenv("DVC_ROOT", str(dvc_project.root))
        monkeypatch.setenv("DVC_STAGE", "poc")
        with pytest.raises(DataError, match="dvc command running stage poc, which this process"):
            dvcstore.read(dvc_project, lambda repo: repo.status(), wait=HANG)
        monkeypatch.setenv("DVC_ROOT", str(dvc_project.root.parent))  # another repository's
        with pytest.raises(DataError, match="stayed locked for 0s"):
            dvcstore.read(dvc_project, lambda repo: repo.status(), wait=0)
    finally:
        lock.unlock()
