"""The few git facts and actions readiness needs, through the git command."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None


def head_commit(root: Path) -> str | None:
    """The commit ``HEAD`` points at, or None when ``root`` is not in a git repo."""
    done = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    commit = done.stdout.strip() if done else ""
    return commit if done and done.returncode == 0 and commit else None


def is_dirty(root: Path) -> bool | None:
    """Whether tracked files have uncommitted changes (None outside git)."""
    done = _git(root, "status", "--porcelain", "--untracked-files=no")
    return bool(done.stdout.strip()) if done and done.returncode == 0 else None


def toplevel(root: Path) -> Path | None:
    """The work tree ``root`` belongs to, or None outside git."""
    done = _git(root, "rev-parse", "--show-toplevel")
    return Path(done.stdout.strip()).resolve() if done and done.returncode == 0 else None


def is_ignored(root: Path, path: Path) -> bool:
    done = _git(root, "check-ignore", "-q", str(path))
    return bool(done and done.returncode == 0)


def is_tracked(root: Path, path: Path) -> bool:
    """Whether git tracks ``path`` (a file, or any file under a folder)."""
    done = _git(root, "ls-files", "--", str(path))
    return bool(done and done.returncode == 0 and done.stdout.strip())


def init(root: Path) -> None:
    done = _git(root, "init", "-q")
    if not done or done.returncode != 0:
        from readiness.errors import ProjectError

        raise ProjectError(f"git init failed in {root}: {done.stderr if done else 'git not found'}")
