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


def rewrite_json_in_place(path: Path, data: Any) -> None:
    """Rewrite a small JSON file in place: cheap enough for every ``record()`` call.

    Replacing a file by rename costs about a millisecond on ext4 (it forces the new
    blocks out). This writes the new text over the old one in one ``write``, padded
    with spaces to the old length, then truncates: a process killed in between
    leaves the new JSON followed by whitespace, still whole and valid. The caller
    holds the lock that serialises writers.
    """
    text = (json.dumps(data, indent=2, sort_keys=False, default=str) + "\n").encode("utf-8")
    try:
        handle = open(path, "r+b", buffering=0)  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        atomic_write_text(path, text.decode("utf-8"))
        return
    with handle:
        old = os.fstat(handle.fileno()).st_size
        handle.write(text + b" " * max(0, old - len(text)))  # unbuffered: one write call
        handle.truncate(len(text))


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
