"""Tracking, validation, pipelines, reproduction and lineage."""

from __future__ import annotations

import html
from typing import Any

from readiness.data.lineage import Lineage
from readiness.data.pipeline import StageResult
from readiness.data.tracking import TrackResult
from readiness.data.validation import ValidationReport, ValidationResult
from readiness.jobs.reproduce import ReproduceResult
from readiness.render import (
    STYLE,
    badge,
    renders,
    table_html,
    table_text,
)

# -- data --------------------------------------------------------------------------------


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _track_rows(obj: Any) -> list[list[Any]]:
    return [
        [
            i.path,
            (i.md5 or "-")[:12],
            _size(i.size),
            "changed" if i.changed else "unchanged",
            "pushed" if i.pushed else "local only",
        ]
        for i in obj.items
    ]


TRACK_HEADER = ("path", "md5", "size", "state", "remote")


@renders("text", TrackResult)
def _track_text(obj: Any) -> str:
    out = [table_text(TRACK_HEADER, _track_rows(obj))]
    if obj.remote:
        out.append(f"remote: {obj.remote}")
    out += [f"note: {n}" for n in obj.notes]
    return "\n".join(out)


@renders("html", TrackResult)
def _track_html(obj: Any) -> str:
    notes = "".join(f"<div style='{STYLE}'>{html.escape(n)}</div>" for n in obj.notes)
    return table_html(TRACK_HEADER, _track_rows(obj)) + notes


VALIDATION_HEADER = ("column", "rule", "failing", "examples")


def _validation_rows(result: Any) -> list[list[Any]]:
    return [[f.column, f.rule, f.failing, ", ".join(f.examples)] for f in result.failures]


def _validation_head(result: Any) -> str:
    verdict = "valid" if result.valid else f"INVALID ({len(result.failures)} failing rules)"
    size = f"{result.rows} rows x {result.columns} columns"
    return f"{result.dataset} ({result.path}): {verdict}, {size}"


def _one_validation_text(result: Any) -> list[str]:
    out = [_validation_head(result)]
    if result.failures:
        out.append(table_text(VALIDATION_HEADER, _validation_rows(result)))
    return out


def _one_validation_html(result: Any) -> str:
    head = (
        f"<div style='{STYLE}'>{badge(result.valid, 'valid' if result.valid else 'INVALID')} "
        f"{html.escape(_validation_head(result))}</div>"
    )
    rows = table_html(VALIDATION_HEADER, _validation_rows(result)) if result.failures else ""
    return head + rows


@renders("text", ValidationResult)
def _validation_result_text(obj: Any) -> str:
    return "\n".join(_one_validation_text(obj))


@renders("html", ValidationResult)
def _validation_result_html(obj: Any) -> str:
    return _one_validation_html(obj)


@renders("text", ValidationReport)
def _validation_text(obj: Any) -> str:
    lines = [line for result in obj.results for line in _one_validation_text(result)]
    return "\n".join(lines) or "no dataset validated"


@renders("html", ValidationReport)
def _validation_html(obj: Any) -> str:
    parts = "".join(_one_validation_html(result) for result in obj.results)
    return parts or f"<div style='{STYLE}'>no dataset validated</div>"


REPRO_HEADER = ("metric", "split", "recorded", "reproduced", "result")


def _repro_rows(obj: Any) -> list[list[Any]]:
    words = {
        "same": "same",
        "different": "DIFFERENT",
        "missing": "MISSING",
        "timing": "timing (not compared)",
    }
    return [[m.metric, m.split, m.recorded, m.reproduced, words[m.status]] for m in obj.metrics]


def _repro_lines(obj: Any) -> list[str]:
    verdict = "reproducible" if obj.reproducible else "NOT reproducible"
    lines = [
        f"run {obj.run_id}: {verdict} (re-run {obj.new_run_id or '-'}: {obj.run_status}, "
        f"tolerance {obj.tolerance:g})"
    ]
    lines += [f"restored {p} at md5 {h[:12]}" for p, h in obj.restored.items()]
    lines += [f"note: {n}" for n in obj.notes]
    if obj.workspace:
        lines.append(f"workspace kept: {obj.workspace}")
    return lines


@renders("text", ReproduceResult)
def _repro_text(obj: Any) -> str:
    return "\n".join([*_repro_lines(obj), table_text(REPRO_HEADER, _repro_rows(obj))])


@renders("html", ReproduceResult)
def _repro_html(obj: Any) -> str:
    head = "<br>".join(html.escape(x) for x in _repro_lines(obj))
    label = "reproducible" if obj.reproducible else "NOT reproducible"
    return f"<div style='{STYLE}'>{badge(obj.reproducible, label)}<br>{head}</div>" + table_html(
        REPRO_HEADER, _repro_rows(obj)
    )


@renders("text", StageResult)
def _stage_text(obj: Any) -> str:
    lines = [f"stage {obj.name} written to dvc.yaml", f"  cmd: {obj.cmd}"]
    if obj.params:
        lines.append(
            "  params (params.yaml): "
            + ", ".join(f"{obj.name}.{k}={v!r}" for k, v in obj.params.items())
        )
    lines.append(f"  deps: {', '.join(obj.deps)}")
    if obj.outs:
        lines.append(f"  outs: {', '.join(obj.outs)}")
    lines.append(f"  executed notebook: {obj.executed_notebook}; metrics: {obj.metrics}")
    lines.append(
        "next: dvc repro, dvc exp run -S "
        + (f"{obj.name}.{next(iter(obj.params))}=VALUE" if obj.params else "...")
        + ", dvc exp show"
    )
    return "\n".join(lines)


# -- lineage -----------------------------------------------------------------------------

KIND_COLORS = {
    "data": "#dbeafe",
    "notebook": "#fef3c7",
    "stage": "#e9d5ff",
    "model": "#dcfce7",
    "output": "#f3f4f6",
    "code": "#fef3c7",
    "metrics": "#fee2e2",
}
# inputs | stage | products: metrics sit with the other outputs, so no edge crosses a box
COLUMNS = {"data": 0, "notebook": 0, "code": 0, "stage": 1, "model": 2, "output": 2, "metrics": 2}


@renders("text", Lineage)
def _lineage_text(obj: Any) -> str:
    if not obj.nodes:
        return "no DVC data or stages yet: readiness track PATH, readiness pipeline add NOTEBOOK"
    width = max(len(n.label) for n in obj.nodes) + 2
    lines = []
    for stage in (n for n in obj.nodes if n.kind == "stage"):
        lines.append(f"stage {stage.label}" + (f" ({stage.detail})" if stage.detail else ""))
        for arrow, ends in (("<-", lambda e: (e[1], e[0])), ("->", lambda e: e)):
            for edge in obj.edges:
                here, there = ends(edge)
                if here == stage.id and (node := obj.node(there)):
                    lines.append(f"  {arrow} {node.label:<{width}} {node.kind}, {node.detail}")
    used = {s for s, _ in obj.edges} | {d for _, d in obj.edges}
    loose = [n for n in obj.nodes if n.id not in used]
    if loose:
        lines.append("tracked data not used by a stage:")
        lines += [f"  {n.label:<{width + 3}} {n.detail}" for n in loose]
    return "\n".join(lines)


@renders("html", Lineage)
def _lineage_html(obj: Any) -> str:
    if not obj.nodes:
        return f"<div style='{STYLE}'>{html.escape(_lineage_text(obj))}</div>"
    width, box_w, box_h, gap = 700, 210, 38, 14
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for node in obj.nodes:
        col = COLUMNS.get(node.kind, 2)
        row = rows.get(col, 0)
        rows[col] = row + 1
        pos[node.id] = (10 + col * (box_w + 20), 10 + row * (box_h + gap))
    height = 20 + max(rows.values()) * (box_h + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="system-ui,sans-serif" font-size="11">'
    ]
    for src, dst in obj.edges:
        if src in pos and dst in pos:
            (x1, y1), (x2, y2) = pos[src], pos[dst]
            parts.append(
                f'<line x1="{x1 + box_w}" y1="{y1 + box_h / 2}" x2="{x2}" y2="{y2 + box_h / 2}" '
                'stroke="#888" stroke-width="1.2"/>'
            )
    for node in obj.nodes:
        x, y = pos[node.id]
        label = html.escape(node.label if len(node.label) < 34 else "…" + node.label[-32:])
        detail = html.escape(node.detail if len(node.detail) < 38 else node.detail[:36] + "…")
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="5" '
            f'fill="{KIND_COLORS.get(node.kind, "#eee")}" stroke="#999"/>'
        )
        parts.append(f'<text x="{x + 6}" y="{y + 15}" font-weight="bold">{label}</text>')
        parts.append(f'<text x="{x + 6}" y="{y + 30}" fill="#444">{detail}</text>')
    parts.append("</svg>")
    return "".join(parts)
