"""Model versions, promotions and rollbacks."""

from __future__ import annotations

import html
from typing import Any

from readiness.render import STYLE, badge, renders, table_html, table_text

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


@renders("text", "ModelList")
def _models_text(obj: Any) -> str:
    notes = [f"! {line}" for line in obj.reconciled]
    if not obj.versions:
        return "\n".join(["no registered models: readiness register NAME", *notes])
    return "\n".join([table_text(MODELS_HEADER, _model_rows(obj)), *notes])


@renders("html", "ModelList")
def _models_html(obj: Any) -> str:
    notes = "".join(f"<div style='{STYLE}'>! {html.escape(line)}</div>" for line in obj.reconciled)
    return table_html(MODELS_HEADER, _model_rows(obj)) + notes


@renders("text", "Registration")
def _registration_text(obj: Any) -> str:
    metrics = ", ".join(f"{k}={v:.4g}" for k, v in obj.metrics.items()) or "none recorded"
    return (
        f"registered {obj.name} {obj.version} at {obj.commit[:10]} (run {obj.run_id or '-'})\n"
        f"key metrics: {metrics}"
    )


def _promotion_lines(obj: Any) -> list[str]:
    head = (
        f"{obj.name} {obj.version} -> {obj.stage}: "
        + ("PROMOTED" if obj.promoted else "REFUSED")
        + (f" (forced: {obj.forced})" if obj.forced else "")
        + (f"; {obj.stage} was {obj.previous}" if obj.previous and obj.promoted else "")
    )
    return [head] + [
        f"  [{'pass' if c['passed'] else 'FAIL'}] {c['condition']}: {c['detail']}"
        for c in obj.conditions
    ]


@renders("text", "Promotion")
def _promotion_text(obj: Any) -> str:
    return "\n".join(_promotion_lines(obj))


@renders("html", "Promotion")
def _promotion_html(obj: Any) -> str:
    lines = _promotion_lines(obj)
    items = "".join(f"<li>{html.escape(x.strip())}</li>" for x in lines[1:])
    label = "promoted" if obj.promoted else "refused"
    head = f"{badge(obj.promoted, label)} {html.escape(lines[0])}"
    return f"<div style='{STYLE}'>{head}<ul>{items}</ul></div>"


@renders("text", "Rollback")
def _rollback_text(obj: Any) -> str:
    if obj.drill:
        verdict = "ok" if obj.ok else "FAILED"
        return (
            f"rollback drill of {obj.name}: {verdict} "
            f"({obj.from_version} -> {obj.to_version or '-'}); "
            f"{obj.detail}\nthe real stages were not touched; the drill is on record"
        )
    return f"{obj.name}: production rolled back from {obj.from_version} to {obj.to_version}"


@renders("text", "RetrainResult")
def _retrain_text(obj: Any) -> str:
    lines = [
        f"{obj.name}: {obj.outcome.upper()} (production {obj.production_before or '-'} -> "
        f"{obj.production_after or '-'}; record {obj.run_id})"
    ]
    for step in obj.steps:
        detail = _one_line(step.get("detail"))
        lines.append(f"  {step['step']:<10} {step['status']}{f': {detail}' if detail else ''}")
    return "\n".join(lines)


def _one_line(detail: Any) -> str:
    """A step's detail as one readable line: git's or a notebook's messages can span several."""
    if isinstance(detail, dict):  # a structured detail: its values, never a dict's repr
        detail = "; ".join(f"{k}: {v}" for k, v in detail.items() if v not in (None, ""))
    return " ".join(str(detail or "").split())


@renders("text", "Written")
def _written_text(obj: Any) -> str:
    lines = [f"wrote the {obj.what}: " + ", ".join(obj.paths)]
    missing = getattr(obj, "missing", [])
    if missing:
        lines.append("it will not pass until:" if "CI" in obj.what else "still missing:")
        lines += [f"  - {m}" for m in missing]
    return "\n".join(lines)


@renders("text", "Attested")
def _attested_text(obj: Any) -> str:
    entry = obj.entry
    return f"attested {obj.item}: by {entry['by']} on {entry['date']}, evidence {entry['evidence']}"
