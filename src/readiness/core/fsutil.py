"""Every file readiness reads or writes goes through here, so failures are one line.

Reads name the file and why it cannot be read (missing, a folder, not UTF-8 text, too
large); writes never leave a half-written file, and an ``OSError`` (read-only file
system, disk full, a parent that is not a folder) becomes a :class:`FileError` naming
the file. Plus an inter-process lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from readiness.core.errors import FileError, ReadinessError


def _reason(exc: OSError) -> str:
    """``No space left on device`` rather than ``[Errno 28] ...: '/long/path'``."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and exc.filename:
        # mkdir of a folder whose name a regular file holds
        blocker = Path(exc.filename)
        while blocker != blocker.parent and not blocker.exists():
            blocker = blocker.parent
        if blocker.exists() and not blocker.is_dir():
            return f"{blocker} is a file, not a folder"
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename and exc.strerror:
        reason += f" ({exc.filename})"
    return reason


def read_text_file(
    path: Path,
    what: str = "file",
    *,
    error: type[ReadinessError] = FileError,
    max_bytes: int | None = None,
) -> str:
    """The UTF-8 text of ``path``; any failure is one ``error`` naming ``what`` and the path.

    ``max_bytes`` refuses larger files before reading them (YAML documents, for example).
    """
    path = Path(path)
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise error(
                f"{what} {path} is larger than {max_bytes // 1_000_000} MB: "
                "too large to be read as configuration"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a folder, not a file") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {_reason(exc)}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{what} {path} is not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x}): "
            "a binary file, or text to save as UTF-8"
        ) from None


def write_error(path: Path, exc: OSError) -> FileError:
    """The one-line error for a failed write of ``path``."""
    return FileError(f"cannot write {path}: {_reason(exc)}")


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = file_mode(path, secret)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


def append_text(path: Path, text: str) -> None:
    """Append ``text`` to ``path`` (created with its folder if absent)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise write_error(path, exc) from None


def atomic_write_json(path: Path, data: Any, secret: bool = False) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write_text(path, text, secret=secret)


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

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 (closed below, after the lock is released)
    except OSError as exc:
        raise write_error(path, exc) from None
    with handle:
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
    from readiness.core.errors import UsageError

    if path.is_file():
        return path
    kind = error or UsageError
    if path.is_dir():
        raise kind(f"{label} is a directory, not a file")
    raise kind(f"{label} does not exist{hint}")


def require_dir(path: Path, label: str, error: type[Exception] | None = None) -> Path:
    """``path`` when it is a folder; else one error saying whether it is missing or a file."""
    from readiness.core.errors import UsageError

    if path.is_dir():
        return path
    kind = error or UsageError
    if path.exists():
        raise kind(f"{label} is not a directory")
    raise kind(f"{label} does not exist")
