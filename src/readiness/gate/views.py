"""The text and HTML of the gate's own results (promotion, retraining, files written).

The gate sits above ``readiness.render``, so it registers its result types here rather
than the render package importing upwards; ``readiness.gate`` imports this module, so
the renderers are registered whenever a gate result can exist.
"""

from __future__ import annotations

import html
from typing import Any

from readiness.gate.portfolio import Portfolio
from readiness.gate.promotion import Promotion
from readiness.gate.reports import Written
from readiness.gate.retrain import RetrainResult
from readiness.render import CELL, FAIL, PASS, STYLE, badge, md, renders, table_text


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


# -- the portfolio ----------------------------------------------------------------------

PORTFOLIO_HEADER = (
    "attention", "use case", "owner", "verdict", "score", "production", "monitor", "drift",
    "net/1000", "expiring", "drill",
)


def _day(at: Any) -> str:
    return str(at)[:10] if at else "-"


def _portfolio_cells(row: Any) -> list[str]:
    production = ", ".join(
        f"{p['name']} {p['version']} since {_day(p['since'])}" for p in row.production
    )
    monitor = "-"
    if row.monitor is not None:
        breaches = len(row.monitor["breaches"])
        monitor = f"{_day(row.monitor['at'])} " + (f"{breaches} BREACH" if breaches else "ok")
    drill = "-"
    if row.drill is not None:
        drill = f"{_day(row.drill['at'])} {'ok' if row.drill.get('ok') else 'FAILED'}"
    drift = row.monitor.get("drift_share") if row.monitor else None
    return [
        row.attention.upper() if row.rank < 3 else row.attention,
        row.use_case,
        row.owner or "-",
        row.verdict or "ERROR",
        "-" if row.score is None else f"{row.score:.2f}",
        production or "-",
        monitor,
        "-" if drift is None else f"{drift:.2f}",
        "-" if row.net_value_per_1000 is None else f"{row.net_value_per_1000:,.1f}",
        str(len(row.expiring)) if row.expiring else "-",
        drill,
    ]


def _portfolio_head(obj: Any) -> str:
    at_risk = len(obj.at_risk)
    unreadable = sum(1 for r in obj.rows if r.error)
    head = f"portfolio: {len(obj.rows)} use case(s)"
    if at_risk:
        head += f", {at_risk} with a production model NOT_READY or breaching"
    if unreadable:
        head += f", {unreadable} that cannot be read"
    return head + (f" ({obj.source})" if obj.source else "")


def _portfolio_details(obj: Any) -> list[tuple[str, list[str]]]:
    """Per use case needing attention: what to look at (failing items, breaches, expiry)."""
    out = []
    for row in obj.rows:
        lines = list(row.reasons)
        if row.failing and row.verdict != "READY":
            lines.append("failing: " + ", ".join(row.failing))
        if lines:
            out.append((row.use_case, lines))
    return out


@renders("text", Portfolio)
def _portfolio_text(obj: Any) -> str:
    table = table_text(PORTFOLIO_HEADER, map(_portfolio_cells, obj.rows))
    lines = [_portfolio_head(obj), "", table]
    for use_case, reasons in _portfolio_details(obj):
        lines.append(f"\n{use_case}:")
        lines += [f"  - {r}" for r in reasons]
    if obj.html_file:
        lines.append(f"\nwrote {obj.html_file}")
    return "\n".join(lines)


@renders("html", Portfolio)
def _portfolio_html(obj: Any) -> str:
    ok = not obj.at_risk and not any(r.error for r in obj.rows)
    head = f"{badge(ok, 'all fine' if ok else 'attention')} {html.escape(_portfolio_head(obj))}"
    details = "".join(
        f"<li><b>{html.escape(name)}</b><ul>"
        + "".join(f"<li>{html.escape(r)}</li>" for r in reasons)
        + "</ul></li>"
        for name, reasons in _portfolio_details(obj)
    )
    return (
        f"<div style='{STYLE}'><p>{head}</p>"
        f"{portfolio_table_html(obj.rows)}"
        + (f"<ul>{details}</ul>" if details else "")
        + "</div>"
    )


def portfolio_table_html(rows: list[Any]) -> str:
    """The portfolio's table, its attention cell coloured (the widget shows it too)."""
    head = "".join(f'<th style="{CELL}">{html.escape(h)}</th>' for h in PORTFOLIO_HEADER)
    body = ""
    for row in rows:
        cells = _portfolio_cells(row)
        color = FAIL if row.rank < 3 else "#9a6700" if row.rank == 3 else PASS
        first = f"<b style='color:{color}'>{html.escape(cells[0])}</b>"
        body += (
            f'<tr><td style="{CELL}">{first}</td>'
            + "".join(f'<td style="{CELL}">{html.escape(c)}</td>' for c in cells[1:])
            + "</tr>"
        )
    return f'<table style="{STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@renders("md", Portfolio)
def _portfolio_md(obj: Any) -> str:
    lines = [
        f"### {md(_portfolio_head(obj))}",
        "",
        "| " + " | ".join(PORTFOLIO_HEADER) + " |",
        "|" + "---|" * len(PORTFOLIO_HEADER),
    ]
    lines += ["| " + " | ".join(md(c) for c in _portfolio_cells(r)) + " |" for r in obj.rows]
    for use_case, reasons in _portfolio_details(obj):
        lines += ["", f"**{md(use_case)}**", ""] + [f"- {md(r)}" for r in reasons]
    return "\n".join(lines)
