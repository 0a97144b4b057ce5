"""A machine-local memo of slow, pure results, keyed by what they depend on.

Probes that would redo expensive work on every ``readiness check`` (a drift report over
two unchanged files, say) keep their answer in ``.readiness/cache/<name>.json``, keyed
by a digest of their inputs (file contents by sha256, settings, readiness's version).
The cache is git-ignored and disposable: a missing, stale or corrupt file only means the
work is done again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from readiness.core.project import Project

T = TypeVar("T")
MAX_ENTRIES = 256  # per cache file; the oldest entries go first
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (read in chunks: holdouts may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def key_of(parts: dict[str, Any]) -> str:
    from readiness import __version__

    canonical = json.dumps({**parts, "readiness": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def cache_path(project: Project, name: str) -> Path:
    return project.state_dir / "cache" / f"{name}.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def memo(project: Project, name: str, parts: dict[str, Any], compute: Callable[[], T]) -> T:
    """``compute()``'s JSON-able result, reused while ``parts`` are unchanged."""
    from readiness.core.fsutil import atomic_write_json, file_lock

    path = cache_path(project, name)
    key = key_of(parts)
    entries = _read(path)
    if key in entries:
        return entries[key]
    value = compute()
    try:
        ignore = path.parent / ".gitignore"  # ignored even in projects made before the cache
        if not ignore.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            ignore.write_text("*\n", encoding="utf-8")
        with file_lock(path.with_suffix(".lock")):
            entries = _read(path)
            entries.pop(key, None)
            entries[key] = value
            while len(entries) > MAX_ENTRIES:
                entries.pop(next(iter(entries)))
            atomic_write_json(path, entries)
    except OSError:
        pass  # a cache that cannot be written costs time, never a result
    return value
