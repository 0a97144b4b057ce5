"""The readiness checklist part of the scorecard (text, script-free HTML, markdown)."""

from __future__ import annotations

import html
from typing import Any

from readiness.render import FAIL, PASS, STYLE, md

MARKS = {"automated": "pass", "attested": "attested", "failed": "FAILED", "missing": "missing"}
COLORS = {"automated": PASS, "attested": "#9a6700", "failed": FAIL, "missing": FAIL}


def by_category(obj: Any) -> list[tuple[str, float, list[Any]]]:
    out = []
    for category, score in obj.score["categories"].items():
        out.append((category, score, [i for i in obj.checklist if i.category == category]))
    return out


def summary_line(obj: Any) -> str:
    """The checklist in one line: how many items are done, and where to see them all."""
    counts = {status: 0 for status in MARKS}
    for item in obj.checklist:
        counts[item.status] = counts.get(item.status, 0) + 1
    done = counts["automated"] + counts["attested"]
    return (
        f"readiness checklist: {done} of {len(obj.checklist)} items done "
        f"({counts['failed']} failed, {counts['missing']} missing), overall "
        f"{obj.score['overall']:.2f}; no model is registered yet, so most items wait for one "
        "(readiness register NAME). Every item: readiness check in a terminal, "
        "or %readiness check --full"
    )


def checklist_text(obj: Any) -> list[str]:
    if obj.checklist is None:
        return []
    if getattr(obj, "checklist_summary", False):
        return ["", summary_line(obj)]
    lines = ["", f"readiness checklist: overall {obj.score['overall']:.2f} (the lowest category)"]
    for category, score, items in by_category(obj):
        lines.append(f"  {category:<12} {score:.2f}")
        for item in items:
            lines.append(f"    [{MARKS[item.status]:<8}] {item.id}: {item.detail}")
            if item.next_step and item.status in ("failed", "missing"):
                lines.append(f"               next: {item.next_step}")
    return lines


def _bar(score: float) -> str:
    color = PASS if score >= 1 else "#9a6700" if score >= 0.5 else FAIL
    return (
        f"<span style='display:inline-block;width:120px;height:10px;background:#eee'>"
        f"<span style='display:inline-block;width:{int(score * 120)}px;height:10px;"
        f"background:{color}'></span></span>"
    )


def checklist_html(obj: Any) -> str:
    if obj.checklist is None:
        return ""
    if getattr(obj, "checklist_summary", False):
        rest = summary_line(obj).removeprefix("readiness checklist: ")
        return f"<div style='{STYLE}'><b>Readiness checklist</b>: {html.escape(rest)}</div>"
    parts = [
        f"<div style='{STYLE}'><b>Readiness checklist</b>: overall "
        f"{obj.score['overall']:.2f} (the lowest category)</div>"
    ]
    for category, score, items in by_category(obj):
        parts.append(
            f"<details style='{STYLE}'><summary>{html.escape(category)} {score:.2f} {_bar(score)}"
            f"</summary>{items_html(items)}</details>"
        )
    return "".join(parts)


def items_html(items: list[Any]) -> str:
    """Checklist items as a list: status, id, detail and, when not done, the next step."""
    rows = "".join(
        f"<li><b style='color:{COLORS[i.status]}'>{MARKS[i.status]}</b> "
        f"{html.escape(i.id)}: {html.escape(i.detail)}"
        + (
            f"<br><i>next: {html.escape(i.next_step)}</i>"
            if i.status in ("failed", "missing")
            else ""
        )
        + "</li>"
        for i in items
    )
    return f"<ul style='{STYLE}margin:4px 0'>{rows}</ul>"


def checklist_markdown(obj: Any) -> list[str]:
    if obj.checklist is None:
        return []
    lines = [
        "",
        f"### Readiness checklist: overall {obj.score['overall']:.2f}",
        "",
        "| category | score |",
        "|---|---|",
    ]
    lines += [f"| {md(c)} | {s:.2f} |" for c, s, _ in by_category(obj)]
    lines += ["", "| item | status | detail | next step |", "|---|---|---|---|"]
    for item in obj.checklist:
        next_step = item.next_step if item.status in ("failed", "missing") else ""
        lines.append(
            f"| `{item.id}` | {MARKS[item.status]} | {md(item.detail)} | {md(next_step)} |"
        )
    return lines
