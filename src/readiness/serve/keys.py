"""API keys for ``readiness serve``: made once, stored as salted hashes, checked in constant time.

A key reads ``rdy_<id>_<secret>``: ``id`` (8 hex characters) finds the stored entry without
trying every hash, ``secret`` (``secrets.token_urlsafe(32)``, 256 random bits) is the part
that proves it. The store is one JSON file, machine-local (``.readiness/serve/keys.json``,
git-ignored, mode 0600, or ``READINESS_API_KEYS_FILE``, e.g. a mounted Kubernetes Secret);
it holds each key's salt and digest, never the key. Revoking keeps the entry (with
``revoked_at``) so the audit trail stays whole. A running server's :class:`KeyRing` re-reads
the file when it changes, so ``keys add`` and ``keys revoke`` take effect without a restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import ReadinessError
from readiness.core.fsutil import atomic_write_json, atomic_write_text, file_lock
from readiness.core.project import Project
from readiness.core.results import Renderable

KEYS_FILE_ENV = "READINESS_API_KEYS_FILE"
VERSION = 1
PREFIX = "rdy"
NAME_RULE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_ID = re.compile(r"[0-9a-f]{8}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,128}")
MAX_TOKEN = 256  # longer header values are refused before any parsing or hashing
MAX_FILE_BYTES = 10_000_000
RELOAD_SECONDS = 1.0


class ApiKeyError(ReadinessError):
    """The API keys file cannot be read or written, or a key command was given a bad name."""


# -- hashing ------------------------------------------------------------------------

def digest_of(salt: bytes, secret: str) -> str:
    """sha256(salt + secret) as hex.

    A fast hash is sound here: the secret is 256 random bits, not a password, so there is
    nothing to guess that a slow hash (bcrypt, scrypt) would make costlier, and checking a
    request stays a microsecond. The salt makes equal secrets (there are none) and
    precomputed tables useless.
    """
    return hashlib.sha256(salt + secret.encode("utf-8")).hexdigest()


_DUMMY_SALT = secrets.token_bytes(16)
_DUMMY_DIGEST = digest_of(_DUMMY_SALT, secrets.token_urlsafe(32))


def _new_entry(name: str) -> tuple[str, dict[str, Any]]:
    key_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    entry = {
        "id": key_id,
        "name": name,
        "created_at": audit.now(),
        "revoked_at": None,
        "salt": salt.hex(),
        "digest": digest_of(salt, secret),
    }
    return f"{PREFIX}_{key_id}_{secret}", entry


def ephemeral_key(name: str = "contract-test") -> tuple[str, dict[str, Any]]:
    """A fresh plaintext key and its stored entry, written nowhere.

    For a server that must accept one key for its lifetime only (the contract test):
    pass the entry to ``KeyRing.load(path, extra=[entry])``.
    """
    return _new_entry(check_key_name(name))


def parse_token(token: Any) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed key, else None (never an exception)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    key_id, secret = parts[1], parts[2]
    if not _ID.fullmatch(key_id) or not _SECRET.fullmatch(secret):
        return None
    return key_id, secret


def extract_token(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a request carries: ``Authorization: Bearer KEY`` (any case), else ``X-API-Key``."""
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None


# -- the file -----------------------------------------------------------------------

def keys_path(project: Project) -> Path:
    """``$READINESS_API_KEYS_FILE`` when set, else ``.readiness/serve/keys.json``."""
    env = os.environ.get(KEYS_FILE_ENV)
    if env:
        return Path(env).expanduser()
    return project.state_dir / "serve" / "keys.json"


def check_key_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RULE.fullmatch(name):
        raise ApiKeyError(
            f"key name {name!r} must be 1-64 letters, digits or - _ . @ (e.g. web-frontend)"
        )
    return name


def _check_entry(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    try:
        bytes.fromhex(entry["salt"])
        return (
            isinstance(entry["id"], str)
            and isinstance(entry["name"], str)
            and isinstance(entry["digest"], str)
            and len(entry["digest"]) == 64
        )
    except (KeyError, TypeError, ValueError):
        return False


def read_entries(path: Path) -> list[dict[str, Any]]:
    """The stored entries of ``path`` (none when it does not exist); one error if unreadable."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ApiKeyError(f"API keys file {path} is larger than 10 MB: not a keys file")
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except IsADirectoryError:
        raise ApiKeyError(f"API keys file {path} is a folder, not a file") from None
    except OSError as exc:
        raise ApiKeyError(f"cannot read the API keys file {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiKeyError(
            f"API keys file {path} is not valid JSON: restore it, or move it away and add keys "
            "again (readiness serve keys add NAME)"
        ) from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ApiKeyError(f"API keys file {path} is not a version {VERSION} keys file")
    entries = data.get("keys")
    if not isinstance(entries, list) or not all(_check_entry(e) for e in entries):
        raise ApiKeyError(f"API keys file {path} has malformed entries: restore it from a copy")
    return entries


def _write_entries(project: Project, path: Path, entries: list[dict[str, Any]]) -> None:
    if path == project.state_dir / "serve" / "keys.json":
        ignore = path.parent / ".gitignore"  # machine-local: never committed, even by `add -A`
        if not ignore.is_file():
            atomic_write_text(ignore, "*\n")
    atomic_write_json(path, {"version": VERSION, "keys": entries}, secret=True)  # 0600


@contextlib.contextmanager
def _editing(project: Project) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """The keys file's entries to change in place, written back when the block ends well.

    The inter-process lock spans the read and the write, so two ``keys add`` at once
    both land; a block that raises (a refused name) writes nothing.
    """
    path = keys_path(project)
    with file_lock(path.with_name(path.name + ".lock"), timeout=30, what="the API keys file"):
        entries = read_entries(path)
        yield path, entries
        _write_entries(project, path, entries)


# -- the commands -------------------------------------------------------------------

@dataclass
class AddedKey(Renderable):
    """A new key: ``key`` is the plaintext, shown this once and stored nowhere."""

    name: str
    id: str
    created_at: str
    key: str = field(repr=False)
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "created_at": self.created_at,
            "path": self.path,
            "key": self.key,
        }


@dataclass
class KeyInfo:
    """What ``keys list`` shows of a key (never its salt, digest or plaintext)."""

    name: str
    id: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass
class KeyList(Renderable):
    keys: list[KeyInfo]
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "keys": [dict(k.__dict__) for k in self.keys]}


@dataclass
class RevokedKey(Renderable):
    name: str
    id: str
    revoked_at: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def add_key(project: Project, name: str) -> AddedKey:
    """Make a key named ``name``; only its salted hash is stored.

    Raises
    ------
    ApiKeyError
        The name breaks the naming rule, an active key already has it, or the file
        cannot be read or written.
    """
    check_key_name(name)
    with _editing(project) as (path, entries):
        if any(e["name"] == name and e.get("revoked_at") is None for e in entries):
            raise ApiKeyError(
                f"an active key is already named {name!r}: revoke it first "
                f"(readiness serve keys revoke {name}) or choose another name"
            )
        taken = {e["id"] for e in entries}
        key, entry = _new_entry(name)
        while entry["id"] in taken:  # 1 in 4 billion per key: cheap to rule out
            key, entry = _new_entry(name)
        entries.append(entry)
    audit.append(project, "serve.key_added", name=name, id=entry["id"])
    return AddedKey(name, entry["id"], entry["created_at"], key, str(path))


def list_keys(project: Project) -> KeyList:
    """Every key, active and revoked, oldest first."""
    path = keys_path(project)
    keys = [
        KeyInfo(e["name"], e["id"], e.get("created_at", ""), e.get("revoked_at"))
        for e in read_entries(path)
    ]
    return KeyList(keys, str(path))


def revoke_key(project: Project, name_or_id: str) -> RevokedKey:
    """Revoke the active key with this name (or id); the entry stays, marked revoked.

    Raises
    ------
    ApiKeyError
        No key has that name or id, or it is already revoked.
    """
    with _editing(project) as (_, entries):
        active = [e for e in entries if e.get("revoked_at") is None]
        match = next((e for e in active if e["name"] == name_or_id), None) or next(
            (e for e in active if e["id"] == name_or_id), None
        )
        if match is None:
            known = [e for e in entries if name_or_id in (e["name"], e["id"])]
            if known:
                raise ApiKeyError(f"key {name_or_id!r} is already revoked")
            raise ApiKeyError(
                f"no API key is named {name_or_id!r} (nor has that id): readiness serve keys list"
            )
        match["revoked_at"] = audit.now()
    audit.append(project, "serve.key_revoked", name=match["name"], id=match["id"])
    return RevokedKey(match["name"], match["id"], match["revoked_at"])


# -- the server's view --------------------------------------------------------------

@dataclass(frozen=True)
class _Stored:
    name: str
    salt: bytes
    digest: str
    revoked: bool


def _index(entries: list[dict[str, Any]]) -> dict[str, _Stored]:
    return {
        e["id"]: _Stored(
            e["name"], bytes.fromhex(e["salt"]), e["digest"], e.get("revoked_at") is not None
        )
        for e in entries
    }


class KeyRing:
    """The keys a server accepts, re-read from their file when it changes.

    ``verify`` is safe to call from several threads; the file is looked at (one
    ``os.stat``) at most once per ``reload_seconds``. A file that becomes unreadable
    while serving fails closed: its keys stop verifying (``error`` says why) until it
    is readable again; the ``extra`` entries keep working.
    """

    def __init__(
        self,
        path: Path | None,
        extra: list[dict[str, Any]] | None = None,
        reload_seconds: float = RELOAD_SECONDS,
    ) -> None:
        self.path = path
        self.reload_seconds = reload_seconds
        self.error: str | None = None
        self._extra = _index(list(extra or []))
        self._keys: dict[str, _Stored] = {}
        self._signature: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        path: Path | None,
        extra: list[dict[str, Any]] | None = None,
        reload_seconds: float = RELOAD_SECONDS,
    ) -> KeyRing:
        """The ring of ``path``'s keys (+ ``extra`` entries); an unreadable file is an error.

        Raises
        ------
        ApiKeyError
            The file exists but is not a readable keys file (a missing file is no keys).
        """
        if extra and not all(_check_entry(e) for e in extra):
            raise ApiKeyError("extra API key entries are malformed")
        ring = cls(path, extra, reload_seconds)
        if path is not None:
            ring._keys = _index(read_entries(path))
            ring._signature = ring._stat()
            ring._checked = time.monotonic()
        return ring

    def __len__(self) -> int:
        return sum(not k.revoked for k in {**self._keys, **self._extra}.values())

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path) if self.path is not None else None
        except OSError:
            return None
        return None if st is None else (st.st_mtime_ns, st.st_size, st.st_ino)

    def refresh(self, force: bool = False) -> None:
        """Re-read the file if it changed (at most once per ``reload_seconds``)."""
        if self.path is None:
            return
        now = time.monotonic()
        if not force and now - self._checked < self.reload_seconds:
            return
        if not self._lock.acquire(blocking=force):
            return  # another thread is looking already
        try:
            self._checked = now
            signature = self._stat()
            if signature == self._signature and not force:
                return
            try:
                self._keys, self.error = _index(read_entries(self.path)), None
            except ApiKeyError as exc:
                self._keys, self.error = {}, str(exc)  # fail closed
            self._signature = signature
        finally:
            self._lock.release()

    def verify(self, token: str | None) -> str | None:
        """The name of the key ``token`` is, when it is a valid, active key; else None."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        self.refresh()
        key_id, secret = parsed
        stored = self._extra.get(key_id) or self._keys.get(key_id)
        if stored is None:
            # the same work as a known id, so response times do not tell ids apart
            hmac.compare_digest(digest_of(_DUMMY_SALT, secret), _DUMMY_DIGEST)
            return None
        matches = hmac.compare_digest(digest_of(stored.salt, secret), stored.digest)
        return stored.name if matches and not stored.revoked else None
