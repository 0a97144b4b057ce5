"""API keys and the deployment files of ``readiness serve``."""

from __future__ import annotations

import html
from typing import Any

from readiness.render import STYLE, renders, table_html, table_text
from readiness.serve.export import Exported
from readiness.serve.keys import AddedKey, KeyList, RevokedKey

KEYS_HEADER = ("name", "id", "created", "revoked")


@renders("text", AddedKey)
def _added_text(obj: Any) -> str:
    # the key alone on the last line, so `... | tail -n 1` captures it
    return "\n".join([
        f"added API key {obj.name} (id {obj.id}) to {obj.path or 'the keys file'}",
        "send it as 'Authorization: Bearer KEY' (or 'X-API-Key: KEY')",
        "the key is shown this once: only a salted hash of it is stored",
        obj.key,
    ])


@renders("html", AddedKey)
def _added_html(obj: Any) -> str:
    lines = _added_text(obj).splitlines()
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines[:-1])
    return f"<div style='{STYLE}'>{body}<pre>{html.escape(lines[-1])}</pre></div>"


def _key_rows(obj: Any) -> list[list[Any]]:
    return [[k.name, k.id, k.created_at, k.revoked_at or "-"] for k in obj.keys]


@renders("text", KeyList)
def _keys_text(obj: Any) -> str:
    if not obj.keys:
        return f"no API keys in {obj.path or 'the keys file'}: readiness serve keys add NAME"
    active = sum(k.revoked_at is None for k in obj.keys)
    head = f"{active} active API key(s) of {len(obj.keys)} in {obj.path}"
    return head + "\n" + table_text(KEYS_HEADER, _key_rows(obj))


@renders("html", KeyList)
def _keys_html(obj: Any) -> str:
    if not obj.keys:
        return f"<div style='{STYLE}'>{html.escape(_keys_text(obj))}</div>"
    return table_html(KEYS_HEADER, _key_rows(obj))


@renders("text", RevokedKey)
def _revoked_text(obj: Any) -> str:
    return (
        f"revoked API key {obj.name} (id {obj.id}) at {obj.revoked_at}: running servers "
        "refuse it within seconds"
    )


@renders("text", Exported)
def _exported_text(obj: Any) -> str:
    lines = [f"wrote the {obj.kind} files of {obj.name}:"]
    lines += [f"  {path}" for path in obj.files]
    if obj.commands:
        lines.append("next:")
        lines += [f"  {command}" for command in obj.commands]
    lines += [f"! {note}" for note in obj.notes]
    return "\n".join(lines)
