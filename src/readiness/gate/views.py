"""The text and HTML of the gate's own results (promotion, retraining, files written).

The gate sits above ``readiness.render``, so it registers its result types here rather
than the render package importing upwards; ``readiness.gate`` imports this module, so
the renderers are registered whenever a gate result can exist.
"""

from __future__ import annotations

import html
from typing import Any

from readiness.gate.promotion import Promotion
from readiness.gate.reports import Written
from readiness.gate.retrain import RetrainResult
from readiness.render import STYLE, badge, renders


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


@renders("text", Promotion)
def _promotion_text(obj: Any) -> str:
    return "\n".join(_promotion_lines(obj))


@renders("html", Promotion)
def _promotion_html(obj: Any) -> str:
    lines = _promotion_lines(obj)
    items = "".join(f"<li>{html.escape(x.strip())}</li>" for x in lines[1:])
    label = "promoted" if obj.promoted else "refused"
    head = f"{badge(obj.promoted, label)} {html.escape(lines[0])}"
    return f"<div style='{STYLE}'>{head}<ul>{items}</ul></div>"


@renders("text", RetrainResult)
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


@renders("text", Written)
def _written_text(obj: Any) -> str:
    lines = [f"wrote the {obj.what}: " + ", ".join(obj.paths)]
    missing = getattr(obj, "missing", [])
    if missing:
        lines.append("it will not pass until:" if "CI" in obj.what else "still missing:")
        lines += [f"  - {m}" for m in missing]
    return "\n".join(lines)
