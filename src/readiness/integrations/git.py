"""Every git command readiness runs, through :func:`run`: one exit-code check, one error.

:func:`run` raises :class:`~readiness.core.errors.GitError` naming the command and git's
stderr line when git fails (or cannot start); the helpers below answer None / False
outside a git repository instead, where that is a fact rather than a failure.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from readiness.core.errors import GitError

TIMEOUT_S = 600  # a clone of a large repository


def _reason(done: subprocess.CompletedProcess[str]) -> str:
    """git's own explanation: the last line of stderr (or stdout, where commit writes it)."""
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[-1] if text else f"exit code {done.returncode}"


def _command(args: tuple[str, ...]) -> str:
    """The subcommand, for messages (its paths and commit messages would not fit one line)."""
    return next((a for a in args if not a.startswith("-")), "")


def run(
    root: Path, *args: str, check: bool = True, timeout: float = TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run ``git ARGS`` in ``root``; a failure (``check``) or a git that cannot start raises."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=timeout
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"git {_command(args)}: {exc}") from None
    if check and done.returncode != 0:
        raise GitError(f"git {_command(args)} failed: {_reason(done)}")
    return done


def output(root: Path, *args: str) -> str:
    """The stripped stdout of ``git ARGS``, which must succeed."""
    return run(root, *args).stdout.strip()


def _ok(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """``git ARGS`` when it succeeds; None when it fails (not a repository, no such ref)."""
    try:
        done = run(root, *args, check=False, timeout=60)
    except GitError:
        return None
    return done if done.returncode == 0 else None


def head_commit(root: Path) -> str | None:
    """The commit ``HEAD`` points at, or None when ``root`` is not in a git repo."""
    done = _ok(root, "rev-parse", "--verify", "--quiet", "HEAD")
    return (done.stdout.strip() or None) if done else None


def is_dirty(root: Path) -> bool | None:
    """Whether tracked files have uncommitted changes (None outside git)."""
    done = _ok(root, "status", "--porcelain", "--untracked-files=no")
    return bool(done.stdout.strip()) if done else None


def toplevel(root: Path) -> Path | None:
    """The work tree ``root`` belongs to, or None outside git."""
    done = _ok(root, "rev-parse", "--show-toplevel")
    return Path(done.stdout.strip()).resolve() if done else None


def is_ignored(root: Path, path: Path) -> bool:
    return _ok(root, "check-ignore", "-q", str(path)) is not None


def is_tracked(root: Path, path: Path) -> bool:
    """Whether git tracks ``path`` (a file, or any file under a folder)."""
    done = _ok(root, "ls-files", "--", str(path))
    return bool(done and done.stdout.strip())


def tracked_files(root: Path) -> list[str]:
    """Every file git tracks under ``root`` (none outside git)."""
    done = _ok(root, "ls-files")
    return done.stdout.split() if done else []


def show(root: Path, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit``, or None when it is not there."""
    done = _ok(root, "show", f"{commit}:{path}")
    return done.stdout if done else None


def has_staged_changes(root: Path, paths: list[str]) -> bool:
    """Whether the index holds changes to ``paths`` that are not committed yet."""
    return run(root, "diff", "--cached", "--quiet", "--", *paths, check=False).returncode != 0


def tag_refs(root: Path) -> list[str]:
    """``name<TAB>peeled commit<TAB>object`` per tag, oldest first (none outside git)."""
    done = _ok(
        root,
        "for-each-ref",
        "--sort=creatordate",
        "--format=%(refname:short)%09%(*objectname)%09%(objectname)",
        "refs/tags",
    )
    return done.stdout.splitlines() if done else []


def newest_tag_time(root: Path) -> int | None:
    """The unix time of the newest annotated tag, or None (no tags, not a repository)."""
    done = _ok(root, "for-each-ref", "--sort=-taggerdate", "--count=1",
               "--format=%(taggerdate:unix)", "refs/tags")
    newest = done.stdout.strip() if done else ""
    return int(newest) if newest.isdigit() else None


def init(root: Path) -> None:
    from readiness.core.errors import ProjectError

    done = run(root, "init", "-q", check=False)
    if done.returncode != 0:
        raise ProjectError(f"git init failed in {root}: {_reason(done)}")


def clone(source: Path, folder: Path, *options: str) -> None:
    """``git clone --quiet --shared OPTIONS source`` into ``folder`` (objects shared, no copy)."""
    run(folder, "clone", "--quiet", "--shared", *options, str(source), ".")


def has_registered_version(root: Path) -> bool:
    """Whether any GTO registration tag (``NAME@vX.Y.Z``) exists: a cheap "any model yet?"."""
    done = _ok(root, "tag", "--list", "*@v*")
    return bool(done and done.stdout.strip())


def commit_paths(root: Path, paths: list[str], message: str) -> tuple[str | None, str]:
    """Stage ``paths`` and commit them: (the new commit, or None, and what happened).

    Every git exit code is checked: a failed add or commit (a refusing hook, no identity)
    gives None and git's message. Paths already committed as they are give the current
    commit and "already committed" (git itself would refuse with "nothing to commit").
    """
    try:
        run(root, "add", "--", *paths)
        staged = run(root, "diff", "--cached", "--quiet", "--", *paths, check=False)
        if staged.returncode == 0 and head_commit(root):
            return head_commit(root), "already committed"
        run(root, "commit", "-q", "-m", message, "--", *paths)
    except GitError as exc:
        return None, str(exc)
    return head_commit(root), "committed"
