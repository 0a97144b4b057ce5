"""Text, script-free HTML and JSON views of every result object.

One function per result type and format, chosen by the object's class name, so
core modules never import this one (they reach it lazily through ``Renderable``).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from readiness.results import Renderable

_TEXT: dict[str, Callable[[Any], str]] = {}
_HTML: dict[str, Callable[[Any], str]] = {}

STYLE = "font-family:system-ui,sans-serif;font-size:13px;border-collapse:collapse;"
CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"
PASS, FAIL = "#1a7f37", "#cf222e"


def renders(kind: str, name: str) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    """Register a renderer for result class ``name`` in format ``kind`` (text or html)."""

    def register(fn: Callable[[Any], str]) -> Callable[[Any], str]:
        (_TEXT if kind == "text" else _HTML)[name] = fn
        return fn

    return register


def text(obj: Renderable) -> str:
    fn = _TEXT.get(type(obj).__name__)
    return fn(obj) if fn else _generic_text(obj.to_dict())


def html_of(obj: Renderable) -> str:
    fn = _HTML.get(type(obj).__name__)
    return fn(obj) if fn else f"<pre>{html.escape(text(obj))}</pre>"


def mimebundle(obj: Renderable) -> dict[str, Any]:
    return {"text/plain": text(obj), "text/html": html_of(obj), "application/json": obj.to_dict()}


# -- helpers -------------------------------------------------------------------------


def fmt(value: Any, digits: int = 4) -> str:
    """A number the way a person reads it; '-' for missing."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def table_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A left-aligned plain-text table."""
    body = [[fmt(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)
    ]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in body)])


def table_html(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f'<th style="{CELL}">{html.escape(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{CELL}">{_cell_html(c)}</td>' for c in row) + "</tr>"
        for row in rows
    )
    return f'<table style="{STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell_html(value: Any) -> str:
    if isinstance(value, bool):
        color, word = (PASS, "pass") if value else (FAIL, "FAIL")
        return f'<b style="color:{color}">{word}</b>'
    return html.escape(fmt(value))


def badge(ok: bool, label: str) -> str:
    color = PASS if ok else FAIL
    return (
        f'<span style="background:{color};color:white;padding:2px 8px;border-radius:4px;'
        f'font-weight:bold">{html.escape(label)}</span>'
    )


def _generic_text(data: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {fmt(v)}" for k, v in data.items())


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _rate(value: float | None) -> str:
    """A break-even precision/recall: None means out of reach, 0 means any value works."""
    if value is None:
        return "out of reach"
    return "any" if value == 0 else f"{value:.3f}"


def _mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


# -- criteria ------------------------------------------------------------------------


def _criteria_rows(obj: Any) -> list[list[Any]]:
    rows = []
    for c in obj.config.criteria.technical:
        bound = f">= {c.min:g}" if c.min is not None else f"<= {c.max:g}"
        base = f"{c.baseline:g} + {c.min_margin:g}" if c.baseline is not None else "-"
        rows.append([c.metric, c.split, bound, base, f"{c.required:g}"])
    return rows


CRITERIA_HEADER = ("metric", "split", "bound", "baseline + margin", "required")


def _business_lines(config: Any) -> list[str]:
    b = config.criteria.business
    if b is None:
        return []
    lines = []
    if b.value_per_outcome:
        values = ", ".join(f"{k} {v:g}" for k, v in b.value_per_outcome.items())
        lines.append(f"value per outcome: {values}")
        lines.append(
            f"minimum net value per 1,000 predictions: {_money(b.min_net_value_per_1000 or 0.0)}"
        )
    if b.max_latency_ms is not None:
        lines.append(f"max latency (p95): {b.max_latency_ms:g} ms")
    if b.decision_rule:
        lines.append(f"decision rule: {b.decision_rule}")
    if b.reviews:
        lines.append("go/no-go reviews: " + ", ".join(d.isoformat() for d in b.reviews))
    return lines


@renders("text", "Declaration")
def _declaration_text(obj: Any) -> str:
    u = obj.config.use_case
    lock = obj.lock or {}
    out = [
        f"Use case: {u.name} (owner {u.owner}; business metric: {u.business_metric})",
        f"Criteria: {obj.event}"
        + (f" (first locked {lock['locked_at']})" if lock.get("locked_at") else ""),
        "",
        table_text(CRITERIA_HEADER, _criteria_rows(obj)) if obj.config.criteria.technical else "",
        *_business_lines(obj.config),
    ]
    for a in obj.amendments:
        out.append(f"amended {a.get('at')}: {a.get('reason')}")
    return "\n".join(line for line in out if line is not None).strip()


@renders("html", "Declaration")
def _declaration_html(obj: Any) -> str:
    u = obj.config.use_case
    lock = obj.lock or {}
    parts = [
        f"<div style='{STYLE}'><b>{html.escape(u.name)}</b> · owner {html.escape(u.owner)} · "
        f"business metric: {html.escape(u.business_metric)}<br>",
        f"criteria <b>{html.escape(obj.event)}</b>"
        + (
            f" · first locked {html.escape(str(lock['locked_at']))}"
            if lock.get("locked_at")
            else ""
        )
        + "</div>",
    ]
    if obj.config.criteria.technical:
        parts.append(table_html(CRITERIA_HEADER, _criteria_rows(obj)))
    lines = _business_lines(obj.config)
    if lines:
        parts.append(
            "<ul style='margin:4px 0'>"
            + "".join(f"<li>{html.escape(x)}</li>" for x in lines)
            + "</ul>"
        )
    parts.extend(_amendments_html(obj.amendments))
    return "".join(parts)


def _amendments_html(amendments: list[dict[str, Any]]) -> list[str]:
    if not amendments:
        return []
    items = "".join(
        f"<li>{html.escape(str(a.get('at')))}: {html.escape(str(a.get('reason')))}</li>"
        for a in amendments
    )
    return [f"<div style='{STYLE}'>Amendments after evidence:<ul>{items}</ul></div>"]


# -- check ---------------------------------------------------------------------------

CHECK_HEADER = ("metric", "split", "required", "observed", "margin", "result", "note")


def _check_rows(obj: Any, html_cells: bool) -> list[list[Any]]:
    rows = []
    for c in obj.criteria:
        word = ">=" if c.direction == "min" else "<="
        note = "" if c.passed else c.reason
        if c.changed_after_results:
            note = f"{note}; changed after results" if note else "changed after results"
        rows.append(
            [
                c.metric,
                c.split,
                f"{word} {c.required:g}",
                c.observed,
                c.margin,
                c.passed if html_cells else _mark(c.passed),
                note,
            ]
        )
    return rows


def _business_result_lines(b: Any) -> list[str]:
    if b is None:
        return []
    lines = []
    if b.net_value_per_1000 is not None:
        lines.append(
            f"net value per 1,000 predictions: {_money(b.net_value_per_1000)} "
            f"(minimum {_money(b.min_net_value_per_1000 or 0.0)})"
        )
        lines.append(
            f"observed precision {fmt(b.observed_precision)}, recall {fmt(b.observed_recall)}"
        )
        lines.append(
            f"break-even (net value 0): precision {_rate(b.break_even_precision)} at the observed "
            f"recall, or recall {_rate(b.break_even_recall)} at the observed precision"
        )
        if b.min_net_value_per_1000:
            lines.append(
                f"for the minimum net value: precision {_rate(b.required_precision)} at the "
                f"observed recall, or recall {_rate(b.required_recall)} at the observed precision"
            )
    if b.max_latency_ms is not None:
        lines.append(f"p95 latency: {fmt(b.latency_p95_ms)} ms (max {b.max_latency_ms:g} ms)")
    lines.extend(f"problem: {p}" for p in b.problems)
    if b.decision_rule:
        lines.append(f"decision rule: {b.decision_rule}")
    if b.reviews:
        lines.append("go/no-go reviews: " + ", ".join(b.reviews))
    return lines


@renders("text", "CheckResult")
def _check_text(obj: Any) -> str:
    out = [f"{obj.use_case}: {obj.verdict}"]
    if obj.run_id:
        out.append(f"evidence: run {obj.run_id} ({obj.evidence_at})")
    if obj.criteria:
        out += ["", table_text(CHECK_HEADER, _check_rows(obj, html_cells=False))]
    if obj.business is not None:
        out += ["", f"business criteria: {_mark(obj.business.passed)}"]
        out += [f"  {line}" for line in _business_result_lines(obj.business)]
    if obj.amendments:
        out += ["", "amendments after evidence:"]
        out += [f"  {a.get('at')}: {a.get('reason')}" for a in obj.amendments]
    if obj.flags:
        out += ["", *[f"! {flag}" for flag in obj.flags]]
    return "\n".join(out)


@renders("html", "CheckResult")
def _check_html(obj: Any) -> str:
    parts = [
        f"<div style='{STYLE}'>{badge(obj.passed, obj.verdict)} <b>{html.escape(obj.use_case)}</b>"
        + (f" · run {html.escape(obj.run_id)}" if obj.run_id else "")
        + "</div>"
    ]
    if obj.criteria:
        parts.append(table_html(CHECK_HEADER, _check_rows(obj, html_cells=True)))
    if obj.business is not None:
        lines = "".join(f"<li>{html.escape(x)}</li>" for x in _business_result_lines(obj.business))
        parts.append(
            f"<div style='{STYLE}'>business criteria: {_cell_html(obj.business.passed)}"
            f"<ul style='margin:4px 0'>{lines}</ul></div>"
        )
    parts.extend(_amendments_html(obj.amendments))
    if obj.flags:
        items = "".join(f"<li style='color:{FAIL}'>{html.escape(f)}</li>" for f in obj.flags)
        parts.append(f"<ul style='{STYLE}'>{items}</ul>")
    return "".join(parts)


# -- evidence ------------------------------------------------------------------------


def _metric_rows(metrics: dict[str, Any]) -> list[list[Any]]:
    return [[k, v] for k, v in metrics.items() if not isinstance(v, (list, dict))]


@renders("text", "Evaluation")
def _evaluation_text(obj: Any) -> str:
    head = f"{obj.task} on {obj.split} ({obj.n_rows} rows), run {obj.run_id}"
    out = [head, table_text(("metric", "value"), _metric_rows(obj.metrics))]
    matrix = obj.metrics.get("confusion_matrix")
    if matrix:
        out.append("confusion matrix (rows: true, columns: predicted): " + str(matrix))
    return "\n".join(out)


@renders("html", "Evaluation")
def _evaluation_html(obj: Any) -> str:
    head = html.escape(f"{obj.task} on {obj.split} ({obj.n_rows} rows), run {obj.run_id}")
    return f"<div style='{STYLE}'><b>{head}</b></div>" + table_html(
        ("metric", "value"), _metric_rows(obj.metrics)
    )


@renders("text", "Evidence")
def _evidence_text(obj: Any) -> str:
    return f"recorded {obj.name} = {fmt(obj.value)} on {obj.split} (run {obj.run_id})"


@renders("text", "Recorded")
def _recorded_text(obj: Any) -> str:
    return "\n".join(_evidence_text(item) for item in obj.items)


@renders("text", "InitResult")
def _init_text(obj: Any) -> str:
    out = [f"readiness project in {obj.root}"]
    out += [f"  created {p}" for p in obj.created]
    out += [f"  kept    {p}" for p in obj.kept]
    out += [f"  {tool:<7} {state}" for tool, state in obj.version_control.items()]
    out.append(
        "next: edit readiness.yaml (or declare with %%readiness criteria), "
        "then open notebooks/poc.ipynb"
    )
    return "\n".join(out)


# -- data --------------------------------------------------------------------------------


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


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


@renders("text", "TrackResult")
def _track_text(obj: Any) -> str:
    out = [table_text(TRACK_HEADER, _track_rows(obj))]
    if obj.remote:
        out.append(f"remote: {obj.remote}")
    out += [f"note: {n}" for n in obj.notes]
    return "\n".join(out)


@renders("html", "TrackResult")
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


@renders("text", "ValidationReport")
def _validation_text(obj: Any) -> str:
    out = []
    for result in obj.results:
        out.append(_validation_head(result))
        if result.failures:
            out.append(table_text(VALIDATION_HEADER, _validation_rows(result)))
    return "\n".join(out)


@renders("html", "ValidationReport")
def _validation_html(obj: Any) -> str:
    parts = []
    for result in obj.results:
        parts.append(
            f"<div style='{STYLE}'>{badge(result.valid, 'valid' if result.valid else 'INVALID')} "
            f"{html.escape(_validation_head(result))}</div>"
        )
        if result.failures:
            parts.append(table_html(VALIDATION_HEADER, _validation_rows(result)))
    return "".join(parts)


# -- jobs ----------------------------------------------------------------------------------


def _run_lines(obj: Any) -> list[str]:
    lines = [
        f"run {obj.run_id}: {obj.status} in {obj.duration_s:.1f}s",
        f"notebook {obj.notebook} -> {obj.output}",
    ]
    if obj.params:
        lines.append("parameters: " + ", ".join(f"{k}={v!r}" for k, v in obj.params.items()))
    if obj.failure:
        where = obj.failure.get("cell")
        lines.append(
            f"{obj.status}{'' if where is None else f' at cell {where}'}: "
            f"{obj.failure.get('ename')}: {obj.failure.get('evalue')}"
        )
    return lines


@renders("text", "RunResult")
def _run_text(obj: Any) -> str:
    lines = _run_lines(obj)
    metrics = obj.metrics()
    if metrics:
        lines.append(table_text(("metric", "value"), sorted(metrics.items())))
    return "\n".join(lines)


@renders("html", "RunResult")
def _run_html(obj: Any) -> str:
    head = "<br>".join(html.escape(line) for line in _run_lines(obj))
    table = table_html(("metric", "value"), sorted(obj.metrics().items())) if obj.metrics() else ""
    return f"<div style='{STYLE}'>{badge(obj.succeeded, obj.status)}<br>{head}</div>{table}"


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


@renders("text", "ReproduceResult")
def _repro_text(obj: Any) -> str:
    return "\n".join([*_repro_lines(obj), table_text(REPRO_HEADER, _repro_rows(obj))])


@renders("html", "ReproduceResult")
def _repro_html(obj: Any) -> str:
    head = "<br>".join(html.escape(x) for x in _repro_lines(obj))
    label = "reproducible" if obj.reproducible else "NOT reproducible"
    return f"<div style='{STYLE}'>{badge(obj.reproducible, label)}<br>{head}</div>" + table_html(
        REPRO_HEADER, _repro_rows(obj)
    )


@renders("text", "StageResult")
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


@renders("text", "Lineage")
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


@renders("html", "Lineage")
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


def _batch_rows(obj: Any, html_cells: bool) -> list[list[Any]]:
    rows = []
    for run in obj.runs:
        r = run.result
        params = ", ".join(f"{k}={v}" for k, v in r.params.items())
        metrics = r.metrics()
        verdict = run.passed if html_cells or run.passed is None else _mark(run.passed)
        mark = "*" if r.run_id == obj.best else ""
        rows.append(
            [
                mark + r.run_id,
                params,
                r.status,
                f"{r.duration_s:.1f}s",
                *(metrics.get(k) for k in obj.key_metrics),
                "-" if verdict is None else verdict,
            ]
        )
    return rows


def _batch_header(obj: Any) -> list[str]:
    return ["run", "parameters", "status", "time", *obj.key_metrics, "criteria"]


def _batch_summary(obj: Any) -> list[str]:
    counts: dict[str, int] = {}
    for run in obj.runs:
        counts[run.result.status] = counts.get(run.result.status, 0) + 1
    head = f"batch {obj.batch_id}: {len(obj.runs)} runs of {obj.notebook} on {obj.executor}"
    head += f" in {obj.duration_s:.1f}s (" + ", ".join(f"{n} {s}" for s, n in counts.items()) + ")"
    lines = [head + (" - CANCELLED" if obj.cancelled else "")]
    lines.append(
        f"best: {obj.best} ({obj.best_reason})" if obj.best else f"best: none ({obj.best_reason})"
    )
    failed = [r.result for r in obj.runs if r.result.failure and r.result.status != "cancelled"]
    for r in failed:
        f = r.failure or {}
        where = "" if f.get("cell") is None else f" at cell {f['cell']}"
        lines.append(f"{r.run_id} {r.status}{where}: {f.get('ename')}: {f.get('evalue')}")
    return lines


@renders("text", "BatchResult")
def _batch_text(obj: Any) -> str:
    return "\n".join(
        [*_batch_summary(obj), table_text(_batch_header(obj), _batch_rows(obj, False))]
    )


@renders("html", "BatchResult")
def _batch_html(obj: Any) -> str:
    ok = not obj.cancelled and all(r.result.succeeded for r in obj.runs)
    head = "<br>".join(html.escape(x) for x in _batch_summary(obj))
    label = badge(ok, "all succeeded" if ok else "see failures")
    return f"<div style='{STYLE}'>{label}<br>{head}</div>" + table_html(
        _batch_header(obj), _batch_rows(obj, True)
    )
