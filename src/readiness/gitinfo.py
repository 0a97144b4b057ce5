"""The git commit a piece of state was produced at (None outside a repository)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def head_commit(root: Path) -> str | None:
    """The commit ``HEAD`` points at, or None when ``root`` is not in a git repo."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def is_dirty(root: Path) -> bool | None:
    """Whether the work tree has uncommitted changes (None outside git)."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(done.stdout.strip()) if done.returncode == 0 else None
