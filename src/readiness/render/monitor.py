"""The monitor run on the prediction log: text and script-free HTML."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from readiness.monitoring.business_metric import BusinessCorrelation, BusinessLogged
from readiness.monitoring.from_log import MonitorLogResult
from readiness.monitoring.version_quality import VersionQuality
from readiness.render import STYLE, fmt, renders, table_html, table_text

METRIC_HEADER = ("metric", "value", "95% interval", "bound", "breach")


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


def _head(obj: MonitorLogResult) -> list[str]:
    infra = obj.infrastructure
    verdict = "BREACH" if obj.breaches else "no breach"
    lines = [f"{obj.name}: {verdict}, window {_when(obj.since)} .. {_when(obj.until)}"]
    if obj.no_traffic:
        lines.append("no traffic in the window")
        return lines
    lines.append(
        f"requests {infra['requests']} ({infra['predictions']} predictions), error rate "
        f"{fmt(infra['error_rate'])}, latency p50 {fmt(infra['latency_p50_ms'])} ms, "
        f"p95 {fmt(infra['latency_p95_ms'])} ms, cost per 1,000 predictions "
        f"{fmt(obj.cost_per_1000)}"
    )
    return lines


def _metric_rows(v: VersionQuality) -> list[list[Any]]:
    rows = []
    for m in v.metrics:
        span = "-" if m.low is None else f"{fmt(m.low)} .. {fmt(m.high)}"
        word = ">=" if m.direction == "min" else "<="
        judged = m.note or ("BREACH" if m.breach else "no")
        rows.append([m.metric, m.value, span, f"{word} {m.bound:g}", judged])
    return rows


def _version_lines(v: VersionQuality) -> list[str]:
    drift = (
        "-" if v.drift_share is None
        else f"{v.drift_share:.0%} of columns ({', '.join(v.drifted_columns) or 'none'})"
    )
    lines = [
        f"{v.version}: {v.predictions} predictions, {v.labelled_rows} labelled",
        f"  feature drift: {drift} against {v.reference or '-'}",
        f"  prediction drift ({v.prediction_kind or '-'}): {fmt(v.prediction_drift)}"
        + (" DRIFT" if v.prediction_drifted else ""),
        f"  net value per 1,000 predictions: {fmt(v.net_value_per_1000)}"
        + (f" ({v.net_value_note})" if v.net_value_note else ""),
    ]
    return lines


@renders("text", MonitorLogResult)
def monitor_text(obj: MonitorLogResult) -> str:
    lines = _head(obj)
    for v in obj.versions:
        lines += _version_lines(v)
        if v.metrics:
            lines.append(table_text(METRIC_HEADER, _metric_rows(v)))
        lines += [f"  note: {n}" for n in v.notes + v.not_recomputed]
    for found in obj.business:
        lines.append(_business_head(found))
        lines.append(table_text(BUSINESS_HEADER, _business_rows(found)))
        if found.note:
            lines.append(f"  note: {found.note}")
    lines += [f"BREACH {b}" for b in obj.breaches]
    if obj.file:
        lines.append(f"written: {obj.file}")
    if obj.retrain is not None:
        from readiness.render import text

        lines += ["", "retraining on the window's labelled rows:", text(obj.retrain)]
    return "\n".join(lines)


@renders("html", MonitorLogResult)
def monitor_html(obj: MonitorLogResult) -> str:
    parts = [f"<div style='{STYLE}'>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in _head(obj)]
    for v in obj.versions:
        parts += [f"<p>{html.escape(line)}</p>" for line in _version_lines(v)]
        if v.metrics:
            parts.append(table_html(METRIC_HEADER, _metric_rows(v)))
        parts += [f"<p>note: {html.escape(n)}</p>" for n in v.notes + v.not_recomputed]
    for found in obj.business:
        parts.append(f"<p>{html.escape(_business_head(found))}</p>")
        parts.append(table_html(BUSINESS_HEADER, _business_rows(found)))
        if found.note:
            parts.append(f"<p>note: {html.escape(found.note)}</p>")
    parts += [f"<p><b>BREACH</b> {html.escape(b)}</p>" for b in obj.breaches]
    if obj.retrain is not None:
        from readiness.render import html_of

        parts += ["<p>retraining on the window's labelled rows:</p>", html_of(obj.retrain)]
    if obj.timeline is not None:  # the dashboard's pictures of the same window
        from readiness.render.dashboard import charts_html

        parts.append(charts_html(obj.timeline))
    parts.append("</div>")
    return "".join(parts)


# -- the business metric ------------------------------------------------------------------

BUSINESS_HEADER = ("against", "periods", "Pearson r", "Spearman rho")


def _business_rows(found: BusinessCorrelation) -> list[list[Any]]:
    return [[c["figure"], c["periods"], c["pearson"], c["spearman"]] for c in found.correlations]


def _business_head(found: BusinessCorrelation) -> str:
    values = ", ".join(fmt(p["value"]) for p in found.periods)
    return f"business metric {found.metric} over {len(found.periods)} period(s): {values}"


@renders("text", BusinessLogged)
def business_logged_text(obj: BusinessLogged) -> str:
    lines = [
        f"recorded {p.metric} = {fmt(p.value)} for {_when(p.since)} .. {_when(p.until)}"
        + (f" ({p.model})" if p.model else "")
        for p in obj.points
    ]
    return "\n".join([*lines, f"in {obj.file}: readiness monitor correlates it per period"])
