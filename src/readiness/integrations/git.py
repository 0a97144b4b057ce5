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


def _reason(done: subprocess.CompletedProcess[str] | None, what: str) -> str:
    """git's own last line of complaint (a hook's message included), after ``what`` failed."""
    if done is None:
        return f"{what} failed: git not found"
    lines = [line.strip() for line in (done.stderr or done.stdout or "").splitlines()]
    lines = [line for line in lines if line]
    return f"{what} failed: {lines[-1]}" if lines else f"{what} failed (exit {done.returncode})"


def commit_paths(root: Path, paths: list[str], message: str) -> tuple[str | None, str]:
    """Stage ``paths`` and commit them: (the new commit, or None, and what happened).

    Every git exit code is checked: a failed add or commit (a refusing hook, no identity)
    gives None and git's message. Paths already committed as they are give the current
    commit and "already committed" (git itself would refuse with "nothing to commit").
    """
    added = _git(root, "add", "--", *paths)
    if not added or added.returncode != 0:
        return None, _reason(added, "git add")
    staged = _git(root, "diff", "--cached", "--quiet", "--", *paths)
    if staged is not None and staged.returncode == 0 and head_commit(root):
        return head_commit(root), "already committed"
    done = _git(root, "commit", "-q", "-m", message, "--", *paths)
    if not done or done.returncode != 0:
        return None, _reason(done, "git commit")
    return head_commit(root), "committed"
