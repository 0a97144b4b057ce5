"""Model versions, promotions and rollbacks."""

from __future__ import annotations

import html
from typing import Any

from readiness.checklist.attestations import Attested
from readiness.registry.versions import Deleted, ModelList, Registration, Rollback
from readiness.render import STYLE, renders, table_html, table_text

MODELS_HEADER = ("model", "version", "stages", "created", "by", "run", "key metrics")


def _model_rows(obj: Any) -> list[list[Any]]:
    return [
        [
            v.name,
            v.version,
            ", ".join(v.stages) or "-",
            v.created_at,
            v.author,
            v.run_id or "-",
            ", ".join(f"{k}={val:.4g}" for k, val in v.metrics.items()) or "-",
        ]
        for v in obj.versions
    ]


@renders("text", ModelList)
def _models_text(obj: Any) -> str:
    notes = [f"! {line}" for line in obj.reconciled]
    if not obj.versions:
        return "\n".join(["no registered models: readiness register NAME", *notes])
    return "\n".join([table_text(MODELS_HEADER, _model_rows(obj)), *notes])


@renders("html", ModelList)
def _models_html(obj: Any) -> str:
    notes = "".join(f"<div style='{STYLE}'>! {html.escape(line)}</div>" for line in obj.reconciled)
    return table_html(MODELS_HEADER, _model_rows(obj)) + notes


@renders("text", Registration)
def _registration_text(obj: Any) -> str:
    metrics = ", ".join(f"{k}={v:.4g}" for k, v in obj.metrics.items()) or "none recorded"
    return (
        f"registered {obj.name} {obj.version} at {obj.commit[:10]} (run {obj.run_id or '-'})\n"
        f"key metrics: {metrics}"
    )


@renders("text", Deleted)
def _deleted_text(obj: Any) -> str:
    removed = ", ".join(obj.removed) or "nothing left to remove"
    return f"deleted {obj.name} {obj.version} ({removed}); the deletion is on record"


@renders("text", Rollback)
def _rollback_text(obj: Any) -> str:
    if obj.drill:
        verdict = "ok" if obj.ok else "FAILED"
        return (
            f"rollback drill of {obj.name}: {verdict} "
            f"({obj.from_version} -> {obj.to_version or '-'}); "
            f"{obj.detail}\nthe real stages were not touched; the drill is on record"
        )
    return f"{obj.name}: production rolled back from {obj.from_version} to {obj.to_version}"


@renders("text", Attested)
def _attested_text(obj: Any) -> str:
    entry = obj.entry
    return f"attested {obj.item}: by {entry['by']} on {entry['date']}, evidence {entry['evidence']}"
