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
        from readiness.core.errors import ProjectError

        raise ProjectError(f"git init failed in {root}: {done.stderr if done else 'git not found'}")


def has_registered_version(root: Path) -> bool:
    """Whether any GTO registration tag (``NAME@vX.Y.Z``) exists: a cheap "any model yet?"."""
    done = _git(root, "tag", "--list", "*@v*")
    return bool(done and done.returncode == 0 and done.stdout.strip())


def commit_paths(root: Path, paths: list[str], message: str) -> tuple[str | None, str]:
    """Stage ``paths`` and commit them: (the new commit, or None, and what happened)."""
    added = _git(root, "add", "--", *paths)
    if not added or added.returncode != 0:
        return None, f"git add failed: {(added.stderr if added else 'git not found').strip()}"
    done = _git(root, "commit", "-q", "-m", message, "--", *paths)
    if not done or done.returncode != 0:
        reason = (done.stderr or done.stdout).strip() if done else "git not found"
        return None, reason.splitlines()[-1] if reason else "git commit failed"
    return head_commit(root), "committed"
