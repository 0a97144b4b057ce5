"""File writes that never leave a half-written file, and an inter-process lock."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A reader sees the old content or the new one, never a partial file, even when
    the process dies mid-write.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


@contextlib.contextmanager
def file_lock(path: Path, timeout: float | None = None, what: str = "") -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if absent) while inside.

    Serializes read-modify-write cycles on shared files (``metrics.json``, the
    criteria lock, DVC writes) between kernels, jobs and the CLI. Waits for the
    lock; with ``timeout`` (seconds), gives up with a :class:`ReadinessError`.
    """
    import fcntl
    import time

    from readiness.errors import ReadinessError

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if timeout is None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ReadinessError(
                            f"waited {timeout:g}s for {what or path} held by another process"
                        ) from None
                    time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def require_file(
    path: Path, label: str, error: type[Exception] | None = None, hint: str = ""
) -> Path:
    """``path`` when it is a file; else one error saying whether it is missing or a folder.

    ``label`` names it in the message (``"grid file grid.yaml"``); ``error`` is the
    :class:`ReadinessError` subclass to raise (default ``UsageError``); ``hint`` follows
    "does not exist".
    """
    from readiness.errors import UsageError

    if path.is_file():
        return path
    kind = error or UsageError
    if path.is_dir():
        raise kind(f"{label} is a directory, not a file")
    raise kind(f"{label} does not exist{hint}")


def require_dir(path: Path, label: str, error: type[Exception] | None = None) -> Path:
    """``path`` when it is a folder; else one error saying whether it is missing or a file."""
    from readiness.errors import UsageError

    if path.is_dir():
        return path
    kind = error or UsageError
    if path.exists():
        raise kind(f"{label} is not a directory")
    raise kind(f"{label} does not exist")
