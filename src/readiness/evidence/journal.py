"""Evidence appended to a run as JSON lines, folded into the run record.

Rewriting the whole run record for every ``record()`` made a training loop that logs
per epoch quadratic (1,000 records took 50 s). Instead each piece of evidence is
appended as one line to ``.readiness/runs/<id>.jsonl`` beside the record (O(1), under
the project write lock; the write returns only once the bytes are in the kernel's
page cache, so a killed process loses nothing it acknowledged). Every reader folds the
journal into the record it reads, so readers see the same record as before; the
writers fold it into ``<id>.json`` and remove it whenever they rewrite the record (a
job's end, ``start_run``, the recording process's exit).

Each line carries ``seq``, the item's position in the run's evidence list, which makes
folding idempotent: a process killed between writing the folded record and removing
the journal leaves lines the record already holds, and they are skipped.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
from pathlib import Path
from typing import Any

from readiness.core.errors import EvidenceError
from readiness.core.fsutil import append_text, atomic_write_json, file_lock, read_text_file

SUFFIX = ".jsonl"

# journal -> (its stat key after this process's last append, the next seq): a journal
# nobody else touched since needs no re-reading to continue its numbering.
_tails: dict[Path, tuple[tuple[int, int, int], int]] = {}
# record -> (its stat key, the parsed record): the record is rewritten rarely now.
_heads: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}
# journals this process appended to, with the lock that guards them: folded at exit.
_pending: dict[Path, Path] = {}


def journal_path(record_path: Path) -> Path:
    return record_path.with_suffix(SUFFIX)


def _lines(journal: Path) -> list[dict[str, Any]]:
    """The complete lines of a journal (a line torn by a killed writer is not one)."""
    try:
        text = journal.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for line in text.split("\n")[:-1]:  # the text after the last newline is torn or empty
        with contextlib.suppress(json.JSONDecodeError):
            entry = json.loads(line)
            if isinstance(entry, dict) and isinstance(entry.get("seq"), int):
                found.append(entry)
    return found


def fold(record: dict[str, Any], record_path: Path) -> dict[str, Any]:
    """``record`` with the evidence its journal holds beyond it (in place)."""
    lines = _lines(journal_path(record_path))
    if not lines:
        return record
    evidence = record.setdefault("evidence", [])
    for entry in lines:
        if entry["seq"] >= len(evidence):
            evidence.append(entry["evidence"])
    stamp = str(evidence[-1].get("recorded_at") or "") if evidence else ""
    if stamp > str(record.get("updated_at") or ""):
        record["updated_at"] = stamp  # what list_runs orders runs by
    return record


def _json_int(text: str) -> int | float:
    # Past Python's int-to-str limit (4,300 digits) json.loads raises: read such a
    # number as infinity, which the judge refuses as not finite, instead of failing here.
    try:
        return int(text)
    except ValueError:
        return -math.inf if text.startswith("-") else math.inf


def read_record_file(path: Path) -> dict[str, Any]:
    """A run record file; unreadable, binary, corrupt or non-object JSON is an EvidenceError.

    Never skipped: skipping a corrupt newest record would let the check judge an older run.
    """
    text = read_text_file(path, "run record", error=EvidenceError)
    try:
        record = json.loads(text, parse_int=_json_int)
    except ValueError as exc:  # JSONDecodeError, and numbers json cannot convert
        raise EvidenceError(f"run record {path} is corrupt ({exc}): restore it from git") from None
    if not isinstance(record, dict):
        raise EvidenceError(
            f"run record {path} is corrupt: a JSON {type(record).__name__}, not an object"
        )
    return record


def load_record(record_path: Path) -> dict[str, Any]:
    """The run record as readers see it: the file with its journal folded in."""
    return fold(read_record_file(record_path), record_path)


def head(record_path: Path) -> dict[str, Any]:
    """The record file as written (journal not folded), re-read only when it changed."""
    key = _stat_key(record_path)
    cached = _heads.get(record_path)
    if cached is not None and cached[0] == key:
        return cached[1]
    record = read_record_file(record_path)
    _heads[record_path] = (key, record)
    return record


def _stat_key(path: Path) -> tuple[int, int, int]:
    """Changes whenever another process rewrites, recreates or appends to ``path``."""
    info = path.stat()
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _next_seq(journal: Path, in_record: int) -> int:
    """The seq of the next line; repairs a torn last line (the caller holds the lock)."""
    try:
        key = _stat_key(journal)
    except FileNotFoundError:
        return in_record
    cached = _tails.get(journal)
    if cached is not None and cached[0] == key:
        return max(cached[1], in_record)
    with open(journal, "rb+") as handle:
        data = handle.read()
        end = data.rfind(b"\n") + 1
        if end != len(data):  # a writer died mid-line: that line was never acknowledged
            handle.truncate(end)
    lines = _lines(journal)
    return max([in_record, *(entry["seq"] + 1 for entry in lines)])


def append(record_path: Path, items: list[dict[str, Any]], lock_path: Path) -> None:
    """Append evidence to the run's journal (the caller holds ``lock_path``)."""
    journal = journal_path(record_path)
    seq = _next_seq(journal, len(head(record_path).get("evidence") or []))
    text = "".join(
        json.dumps({"seq": seq + i, "evidence": item}, default=str) + "\n"
        for i, item in enumerate(items)
    )
    append_text(journal, text)
    _tails[journal] = (_stat_key(journal), seq + len(items))
    if not _pending:
        atexit.register(_compact_pending)
    _pending[journal] = lock_path


def compact(record_path: Path) -> dict[str, Any] | None:
    """Fold the journal into the record file and remove it (the caller holds the lock).

    Returns the folded record, or None when there was no journal to fold.
    """
    journal = journal_path(record_path)
    if not journal.exists():
        return None
    record = load_record(record_path)
    write(record_path, record)
    return record


def write(record_path: Path, record: dict[str, Any]) -> None:
    """Write the whole (folded) record and drop its journal (the caller holds the lock)."""
    atomic_write_json(record_path, record)
    journal = journal_path(record_path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(journal)
    _tails.pop(journal, None)
    _pending.pop(journal, None)


def _compact_pending() -> None:
    """At exit: fold what this process journalled, so committed records are complete."""
    for journal, lock_path in list(_pending.items()):
        record_path = journal.with_suffix(".json")
        with contextlib.suppress(Exception), file_lock(lock_path, timeout=5):
            if record_path.is_file():
                compact(record_path)
