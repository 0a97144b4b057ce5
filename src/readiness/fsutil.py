"""File writes that never leave a half-written file, and an inter-process lock."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _umask() -> int:
    """The process umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode(path: Path, secret: bool = False) -> int:
    """The mode a new version of ``path`` gets: 0600 for secrets; else the file's own
    mode when it exists, or what the umask gives a new file (as ``open`` would)."""
    if secret:
        return 0o600
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def atomic_write_text(path: Path, text: str, secret: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A reader sees the old content or the new one, never a partial file, even when
    the process dies mid-write. The file's mode follows the umask (the temporary
    file is 0600); ``secret`` keeps it 0600 (API keys, credentials).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(path, secret)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, data: Any, secret: bool = False) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write_text(path, text, secret=secret)


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
