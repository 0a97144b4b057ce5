"""The monitoring dashboard: inline SVG time series, one self-contained page.

No script, no font, no stylesheet from anywhere: the page opens offline in any browser,
and the same charts show inline in a notebook. Every text that comes from the project
(names, versions, event labels) is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from readiness.monitoring.timeline import DashboardWritten, Series, Timeline
from readiness.render import FAIL, STYLE, fmt, renders

WIDTH, HEIGHT = 760, 170
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 26, 28
LINE, BOUND, EVENT = "#0969da", FAIL, "#8250df"


def _time(ts: float, span: float) -> str:
    when = dt.datetime.fromtimestamp(ts, dt.UTC)
    return when.strftime("%H:%M" if span <= 86_400 else "%m-%d %H:%M")


def _scale(lo: float, hi: float, top: float, bottom: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: bottom - (v - lo) / span * (bottom - top)


def chart(series: Series, timeline: Timeline) -> str:
    """One series as an SVG line chart with its bound, breaches and the registry's events."""
    edges, values = timeline.edges, series.values
    known = [v for v in values if v is not None]
    drawn = [*known, *([series.bound] if series.bound is not None else [])]
    lo = min(0.0, *drawn) if drawn else 0.0
    hi = max(drawn) if drawn else 1.0
    hi = hi if hi > lo else lo + 1.0
    hi += (hi - lo) * 0.08  # headroom above the highest point
    y = _scale(lo, hi, TOP, HEIGHT - BOTTOM)
    start, end = timeline.since, timeline.until
    span = (end - start) or 1.0

    def x(ts: float) -> float:
        return LEFT + (ts - start) / span * (WIDTH - LEFT - RIGHT)

    middles = [(edges[i] + edges[i + 1]) / 2 for i in range(len(values))]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" data-series="{html.escape(series.key)}">',
        f'<title>{html.escape(series.title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}" fill="#f6f8fa" stroke="#d0d7de"/>',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">'
        f"{html.escape(series.title)} <tspan font-weight='normal' fill='#57606a'>"
        f"({html.escape(series.unit)})</tspan></text>",
        f'<text x="{LEFT - 6}" y="{y(hi) + 4:.1f}" font-size="10" text-anchor="end">'
        f"{html.escape(fmt(hi, 3))}</text>",
        f'<text x="{LEFT - 6}" y="{y(lo) + 4:.1f}" font-size="10" text-anchor="end">'
        f"{html.escape(fmt(lo, 3))}</text>",
    ]
    for ts in (start, (start + end) / 2, end):
        parts.append(
            f'<text x="{x(ts):.1f}" y="{HEIGHT - 8}" font-size="10" text-anchor="middle">'
            f"{_time(ts, span)}</text>"
        )
    for number, event in enumerate(timeline.events):
        ex = x(event["at"])
        # labels stack, and near the right edge they read leftwards, so close events stay legible
        right = ex > LEFT + (WIDTH - LEFT - RIGHT) * 0.7
        lx, anchor = (ex - 3, "end") if right else (ex + 3, "start")
        parts.append(
            f'<line class="event" x1="{ex:.1f}" y1="{TOP}" x2="{ex:.1f}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="{EVENT}" stroke-dasharray="2 3"/>'
            f'<text x="{lx:.1f}" y="{TOP + 11 + 11 * (number % 4)}" font-size="10" '
            f'fill="{EVENT}" text-anchor="{anchor}">{html.escape(event["label"])}</text>'
        )
    if series.bound is not None:
        by = y(series.bound)
        parts.append(
            f'<line class="bound" x1="{LEFT}" y1="{by:.1f}" x2="{WIDTH - RIGHT}" y2="{by:.1f}" '
            f'stroke="{BOUND}" stroke-dasharray="6 4"/>'
            f'<text x="{LEFT + 4}" y="{by - 4:.1f}" font-size="10" fill="{BOUND}">'
            f"{series.direction} {html.escape(fmt(series.bound, 4))}"
            f"{' (' + html.escape(series.source) + ')' if series.source else ''}</text>"
        )
    runs: list[list[str]] = [[]]
    for middle, value in zip(middles, values, strict=True):
        if value is None:
            runs.append([])
        else:
            runs[-1].append(f"{x(middle):.1f},{y(value):.1f}")
    for run in runs:
        if len(run) > 1:
            parts.append(
                f'<polyline class="values" points="{" ".join(run)}" fill="none" '
                f'stroke="{LINE}" stroke-width="2"/>'
            )
        for point in run:
            px, py = point.split(",")
            parts.append(f'<circle cx="{px}" cy="{py}" r="2.5" fill="{LINE}"/>')
    for index in series.breaches:
        value = values[index]
        assert value is not None
        parts.append(
            f'<circle class="breach" cx="{x(middles[index]):.1f}" cy="{y(value):.1f}" r="5" '
            f'fill="none" stroke="{BOUND}" stroke-width="2"><title>breach: '
            f"{html.escape(fmt(value, 4))}</title></circle>"
        )
    if not known:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="12" text-anchor="middle" '
            'fill="#57606a">no data in this window</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _summary(timeline: Timeline) -> list[str]:
    span = timeline.until - timeline.since
    serving = next((v for v in reversed(timeline.versions) if v), None)
    lines = [
        f"{timeline.name}: {timeline.requests} requests from "
        f"{dt.datetime.fromtimestamp(timeline.since, dt.UTC):%Y-%m-%d %H:%M} to "
        f"{dt.datetime.fromtimestamp(timeline.until, dt.UTC):%Y-%m-%d %H:%M} UTC "
        f"({span / 3600:.1f} h, {len(timeline.edges) - 1} buckets); serving {serving or '-'}",
    ]
    for event in timeline.events:
        lines.append(
            f"  {dt.datetime.fromtimestamp(event['at'], dt.UTC):%Y-%m-%d %H:%M:%S} {event['label']}"
        )
    breaches = timeline.breaches
    lines.append(
        "breaches: " + (", ".join(f"{k} in {n} bucket(s)" for k, n in breaches.items()) or "none")
    )
    if timeline.monitor:
        found = timeline.monitor.get("breaches") or []
        lines.append(
            f"last monitor run {timeline.monitor.get('at')}: "
            + ("; ".join(map(str, found)) if found else "no breach")
        )
    return lines


@renders("text", Timeline)
def _text(obj: Any) -> str:
    lines = _summary(obj)
    for series in obj.series:
        known = [v for v in series.values if v is not None]
        last = fmt(known[-1], 4) if known else "-"
        bound = ""
        if series.bound is not None:
            bound = f", bound {series.direction} {fmt(series.bound, 4)}"
        lines.append(f"  {series.title}: last {last}{bound}, {len(series.breaches)} breach(es)")
    return "\n".join(lines)


@renders("html", Timeline)
def charts_html(obj: Any) -> str:
    """The charts alone (a notebook shows them inline)."""
    summary = "".join(f"<div>{html.escape(line)}</div>" for line in _summary(obj))
    charts = "".join(f"<div style='margin:8px 0'>{chart(s, obj)}</div>" for s in obj.series)
    return f"<div style='{STYLE}'>{summary}{charts}</div>"


def page(obj: Timeline, sections: str = "") -> str:
    """The self-contained dashboard page ``readiness dashboard`` writes.

    ``sections``: more script-free HTML after the charts (the portfolio's use cases).
    """
    title = html.escape(f"readiness dashboard: {obj.name}")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        "</head><body style='font-family:system-ui,sans-serif;margin:16px'>"
        f"<h1 style='font-size:18px'>{title}</h1>{charts_html(obj)}{sections}</body></html>\n"
    )


@renders("text", DashboardWritten)
def _written_text(obj: Any) -> str:
    return f"{_text(obj.timeline)}\nwrote {obj.path} (one page, no external resources)"
