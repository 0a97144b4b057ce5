"""Drift reports."""

from __future__ import annotations

import html
from typing import Any

from readiness.monitoring.drift import DriftResult
from readiness.render import (
    CELL,
    STYLE,
    badge,
    cell_html,
    renders,
    table_text,
)

# -- drift ---------------------------------------------------------------------------------

DRIFT_HEADER = (
    "column",
    "kind",
    "method",
    "score",
    "threshold",
    "drifted",
    "missing",
    "new values",
)


def drifted_first(obj: Any) -> list[Any]:
    return sorted(obj.columns, key=lambda c: (not c.drifted, c.column))


def _drift_rows(obj: Any, html_cells: bool, columns: list[Any] | None = None) -> list[list[Any]]:
    rows = []
    for c in drifted_first(obj) if columns is None else columns:
        drifted: Any = (not c.drifted) if html_cells else ("DRIFT" if c.drifted else "no")
        missing = f"{c.missing_current:.1%}" + (
            f" (ref {c.missing_reference:.1%})" if c.missing_reference != c.missing_current else ""
        )
        name = c.column + ("" if c.role == "feature" else f" [{c.role}]")
        rows.append(
            [
                name,
                c.kind,
                c.method,
                c.score,
                c.threshold,
                drifted,
                missing,
                ", ".join(c.new_categories) or "-",
            ]
        )
    return rows


def _drift_summary(obj: Any, hint: bool = True) -> list[str]:
    """The summary lines; ``hint``: without a report, say how to get one."""
    verdict = "DATASET DRIFT" if obj.dataset_drift else "no dataset drift"
    lines = [
        f"{verdict}: {len(obj.drifted_columns)} of {len(obj.columns)} columns drifted "
        f"(share {obj.drift_share:.2f}; drift when >= {obj.threshold_share:g})",
        f"rows: reference {obj.rows['reference']}, current {obj.rows['current']}",
    ]
    if obj.sample:
        sample = obj.sample
        lines.append(
            f"sampled: {sample['reference']} and {sample['current']} rows (seed {sample['seed']})"
        )
    lines += [f"skipped {s}" for s in obj.skipped]
    bounded = [c for c in obj.columns if c.score_error is not None]
    if bounded:
        worst = max(bounded, key=lambda c: c.score_error or 0.0)
        streamed = " or a streamed sample's bins" if obj.streamed else ""
        lines.append(
            f"{len(bounded)} column(s) judged against a summarised profile{streamed}: each score "
            f"within "
            f"{worst.score_error:.2g} of the exact one (largest: {worst.column})"
        )
    if obj.renamed and obj.report_html:
        pairs = ", ".join(f"{old!r} as {new}" for old, new in obj.renamed.items())
        lines.append(
            f"{len(obj.renamed)} column(s) renamed in the evidently report (their names would run "
            f"as script inside it): {pairs}"
        )
    relabelled = getattr(obj, "relabelled", {})
    if relabelled and obj.report_html:
        count = sum(len(v) for v in relabelled.values())
        where = ", ".join(f"{len(v)} in {c!r}" for c, v in relabelled.items())
        lines.append(
            f"{count} category value(s) relabelled value_N in the evidently report (they would "
            f"run as script inside it; the statistics are the same): {where}; the mapping heads "
            "the report"
        )
    if obj.report_json:
        lines.append(f"saved: {obj.report_json}")
    if obj.report_html:
        lines.append(f"full evidently report: {obj.report_html}")
    elif obj.report_json and hint:
        lines.append("evidently's interactive report: add --html")
    return lines


@renders("text", DriftResult)
def _drift_text(obj: Any) -> str:
    return "\n".join([*_drift_summary(obj), table_text(DRIFT_HEADER, _drift_rows(obj, False))])


def distribution_svg(histogram: dict[str, Any], width: int = 120, height: int = 28) -> str:
    """Reference (grey) and current (orange) distributions as a tiny script-free SVG."""
    ref, cur = histogram.get("reference") or [], histogram.get("current") or []
    if not ref:
        return ""
    top = max([*ref, *cur, 1e-9])
    step = width / len(ref)
    bars = []
    for i, (r, c) in enumerate(zip(ref, cur, strict=False)):
        x = i * step
        for value, color, offset in ((r, "#9ca3af", 0.0), (c, "#f97316", step / 2)):
            h = value / top * (height - 2)
            bar_width = max(step / 2 - 0.5, 0.5)
            bars.append(
                f'<rect x="{x + offset:.1f}" y="{height - h:.1f}" width="{bar_width:.1f}" '
                f'height="{h:.1f}" fill="{color}"/>'
            )
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
    return svg + "".join(bars) + "</svg>"


@renders("html", DriftResult)
def _drift_html(obj: Any) -> str:
    return drift_head_html(obj) + drift_table_html(obj)


def drift_head_html(obj: Any, hint: bool = True) -> str:
    """The dataset verdict, the counts and the link to evidently's full report.

    ``hint``: without a report, say how to get one (a widget's button says it).
    """
    import os
    from pathlib import Path

    summary = _drift_summary(obj, hint=hint)
    if obj.report_html:
        summary = summary[:-1]  # the link below says it
    head = "<br>".join(html.escape(x) for x in summary)
    link = ""
    if obj.report_html:
        # notebooks resolve links from their own folder; the path is relative to the project
        from readiness.core.project import find_root

        target = os.path.relpath(find_root() / obj.report_html, Path.cwd())
        anchor = (
            f"<a href='{html.escape(target)}' target='_blank'>{html.escape(obj.report_html)}</a>"
        )
        link = f"<br>full evidently report: {anchor}"
    label = "dataset drift" if obj.dataset_drift else "no dataset drift"
    return f"<div style='{STYLE}'>{badge(not obj.dataset_drift, label)}<br>{head}{link}</div>"


def drift_table_html(obj: Any, columns: list[Any] | None = None, picture_width: int = 120) -> str:
    """The column table with a distribution picture per column, in ``columns`` order."""
    columns = drifted_first(obj) if columns is None else columns
    header = [*DRIFT_HEADER, "distribution (grey: reference, orange: current)"]
    rows = _drift_rows(obj, True, columns)
    cell = CELL + ";white-space:nowrap"  # a method name or a p-value reads on one line
    body = "".join(
        "<tr>"
        + "".join(f'<td style="{cell}">{cell_html(v)}</td>' for v in row)
        + f'<td style="{cell}">{distribution_svg(column.histogram, width=picture_width)}</td></tr>'
        for row, column in zip(rows, columns, strict=True)
    )
    head_cells = "".join(f'<th style="{CELL}">{html.escape(h)}</th>' for h in header)
    return (
        f'<table style="{STYLE}"><thead><tr>{head_cells}</tr></thead><tbody>{body}</tbody></table>'
    )
