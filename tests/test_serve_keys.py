"""API keys of ``readiness serve``: made once, stored hashed, verified in constant time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from readiness import render
from readiness.core import audit
from readiness.serve.keys import (
    KEYS_FILE_ENV,
    ApiKeyError,
    KeyRing,
    add_key,
    ephemeral_key,
    extract_token,
    keys_path,
    list_keys,
    revoke_key,
)

REPO = Path(__file__).resolve().parents[1]


def test_add_list_revoke_round_trip(project):
    first = add_key(project, "web-frontend")
    second = add_key(project, "batch@jobs.example")
    assert first.key.startswith(f"rdy_{first.id}_") and len(first.id) == 8
    assert first.key != second.key

    listed = list_keys(project)
    assert [(k.name, k.id, k.revoked_at) for k in listed.keys] == [
        ("web-frontend", first.id, None),
        ("batch@jobs.example", second.id, None),
    ]
    shown = json.dumps(listed.to_dict()) + str(listed)
    assert first.key not in shown and "digest" not in shown and "salt" not in shown

    revoked = revoke_key(project, "web-frontend")
    assert (revoked.name, revoked.id) == ("web-frontend", first.id)
    after = {k.name: k for k in list_keys(project).keys}
    assert after["web-frontend"].revoked_at == revoked.revoked_at  # kept, marked revoked
    assert after["batch@jobs.example"].revoked_at is None
    assert "1 active API key(s) of 2" in str(list_keys(project))

    stored = json.loads(keys_path(project).read_text())
    assert stored["version"] == 1
    assert set(stored["keys"][0]) == {"id", "name", "created_at", "revoked_at", "salt", "digest"}
    assert len(bytes.fromhex(stored["keys"][0]["salt"])) == 16

    events = [e for e in audit.read(project) if e["event"].startswith("serve.key")]
    assert [(e["event"], e["name"], e["id"]) for e in events] == [
        ("serve.key_added", "web-frontend", first.id),
        ("serve.key_added", "batch@jobs.example", second.id),
        ("serve.key_revoked", "web-frontend", first.id),
    ]
    assert all(set(e) == {"at", "event", "name", "id"} for e in events)


def test_the_file_is_0600_and_git_ignored_and_stays_so(project):
    add_key(project, "a")
    path = keys_path(project)
    assert path == project.state_dir / "serve" / "keys.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (path.parent / ".gitignore").read_text() == "*\n"
    old = os.umask(0)  # a permissive umask must not widen it on rewrite
    try:
        add_key(project, "b")
        revoke_key(project, "a")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_plaintext_key_is_in_no_file_of_the_project(project):
    added = add_key(project, "web")
    secret = added.key.rsplit("_", 1)[-1].encode()
    files = [p for p in project.root.rglob("*") if p.is_file()]
    assert keys_path(project) in files and project.audit_path in files
    for path in files:
        data = path.read_bytes()
        assert added.key.encode() not in data and secret not in data, path


def test_verify_accepts_the_key_and_nothing_else(project):
    added = add_key(project, "web")
    ring = KeyRing.load(keys_path(project))
    assert ring.verify(added.key) == "web"

    prefix, key_id, secret = added.key.split("_", 2)
    wrong_secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert ring.verify(f"{prefix}_{key_id}_{wrong_secret}") is None
    other_id = "0" * 8 if key_id != "0" * 8 else "1" * 8
    assert ring.verify(f"{prefix}_{other_id}_{secret}") is None  # right secret, wrong id
    malformed = [
        None, "", "Bearer", "Bearer " + added.key, "random text", added.key + " ",
        added.key + "\x00", "rdy__" + secret, f"rdy_{key_id.upper()}_{secret}",
        f"xyz_{key_id}_{secret}", added.key + "A" * 10_000, "A" * 1_000_000, "é" * 40,
        123, b"bytes",
    ]
    for token in malformed:
        assert ring.verify(token) is None, repr(token)[:60]


def test_a_revoked_key_stops_working_in_a_running_ring(project):
    added = add_key(project, "web")
    ring = KeyRing.load(keys_path(project), reload_seconds=0)
    assert ring.verify(added.key) == "web"
    revoke_key(project, "web")
    assert ring.verify(added.key) is None
    later = add_key(project, "web")  # the name is free again once revoked
    assert ring.verify(later.key) == "web" and len(ring) == 1


def test_the_file_is_looked_at_at_most_once_per_interval(project):
    added = add_key(project, "web")
    ring = KeyRing.load(keys_path(project), reload_seconds=3600)
    revoke_key(project, "web")
    assert ring.verify(added.key) == "web"  # not looked at yet: the interval has not passed
    ring.refresh(force=True)
    assert ring.verify(added.key) is None


def test_a_ring_before_any_key_and_an_ephemeral_key(project):
    ring = KeyRing.load(keys_path(project), reload_seconds=0)  # no file yet: no keys
    key, entry = ephemeral_key()
    assert ring.verify(key) is None and len(ring) == 0
    ring = KeyRing.load(keys_path(project), extra=[entry], reload_seconds=0)
    assert ring.verify(key) == "contract-test"
    assert not keys_path(project).exists()  # written nowhere
    added = add_key(project, "web")  # the file appears while the ring runs
    assert ring.verify(added.key) == "web" and ring.verify(key) == "contract-test"
    assert KeyRing.load(None, extra=[entry]).verify(key) == "contract-test"


def test_names_are_checked_and_an_active_name_is_unique(project):
    for bad in ["", "a" * 65, "has space", "semi;colon", "slash/x", "ünï"]:
        with pytest.raises(ApiKeyError, match="must be 1-64"):
            add_key(project, bad)
    add_key(project, "a" * 64)
    add_key(project, "web")
    with pytest.raises(ApiKeyError, match="already named 'web': revoke it first"):
        add_key(project, "web")
    assert len(list_keys(project).keys) == 2


def test_revoke_by_id_unknown_and_twice(project):
    added = add_key(project, "web")
    assert revoke_key(project, added.id).name == "web"
    with pytest.raises(ApiKeyError, match="already revoked"):
        revoke_key(project, "web")
    with pytest.raises(ApiKeyError, match="no API key is named 'nope'"):
        revoke_key(project, "nope")


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe", b"[]", b'{"version": 2, "keys": []}',
     b'{"version": 1, "keys": [{"id": "x"}]}'],
)
def test_a_corrupt_file_is_one_line_error_and_a_running_ring_fails_closed(project, content):
    added = add_key(project, "web")
    ring = KeyRing.load(keys_path(project), reload_seconds=0)
    keys_path(project).write_bytes(content)
    for call in (lambda: list_keys(project), lambda: add_key(project, "x"),
                 lambda: revoke_key(project, "web"), lambda: KeyRing.load(keys_path(project))):
        with pytest.raises(ApiKeyError) as info:
            call()
        assert str(keys_path(project)) in str(info.value) and "\n" not in str(info.value)
    assert ring.verify(added.key) is None and ring.error and "keys file" in ring.error
    assert keys_path(project).read_bytes() == content  # a refused add did not overwrite it


def test_a_folder_in_place_of_the_file_is_one_line_error(project):
    keys_path(project).mkdir(parents=True)
    with pytest.raises(ApiKeyError, match="is a folder"):
        list_keys(project)


def test_the_environment_variable_moves_the_file(project, tmp_path, monkeypatch):
    elsewhere = tmp_path / "secrets" / "keys.json"
    monkeypatch.setenv(KEYS_FILE_ENV, str(elsewhere))
    added = add_key(project, "web")
    assert keys_path(project) == elsewhere and elsewhere.is_file()
    assert not (elsewhere.parent / ".gitignore").exists()  # not ours to annotate
    assert not (project.state_dir / "serve").exists()
    assert KeyRing.load(elsewhere).verify(added.key) == "web"


ADDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from readiness.core.project import Project
    from readiness.serve.keys import add_key

    project, prefix = Project(Path(sys.argv[1])), sys.argv[2]
    for i in range(20):
        add_key(project, f"{prefix}-{i}")
    """
)


def test_two_processes_adding_keys_at_once_keep_every_key(project):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", ADDER, str(project.root), prefix], env=env)
        for prefix in ("left", "right")
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    names = sorted(k.name for k in list_keys(project).keys)
    assert names == sorted(f"{p}-{i}" for p in ("left", "right") for i in range(20))


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "expected"),
    [
        ("Bearer KEY", None, "KEY"),
        ("bearer KEY", None, "KEY"),
        ("BEARER   KEY  ", None, "KEY"),
        (None, "KEY", "KEY"),
        (None, "  KEY ", "KEY"),
        ("Bearer A", "B", "A"),
        ("Basic dXNlcjpwYXNz", "B", "B"),  # another scheme: the other header decides
        ("Basic dXNlcjpwYXNz", None, None),
        ("Bearer", None, None),
        ("Bearer   ", None, None),
        ("KEY", None, None),  # no scheme
        ("", "", None),
        (None, None, None),
    ],
)
def test_extract_token(authorization, x_api_key, expected):
    assert extract_token(authorization, x_api_key) == expected


def test_the_new_key_is_alone_on_the_last_line(project):
    added = add_key(project, "web")
    text = render.text(added)
    lines = text.splitlines()
    assert lines[-1] == added.key
    assert "shown this once" in lines[-2] and "salted hash" in lines[-2]
    assert "Authorization: Bearer" in text
    assert added.key not in repr(added)  # a logged object does not leak it
    html = render.html_of(added)
    assert added.key in html and "<script" not in html
