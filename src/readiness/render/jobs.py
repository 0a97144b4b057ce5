"""Notebook runs and batches."""

from __future__ import annotations

import html
from typing import Any

from readiness.jobs.batches import BatchResult
from readiness.jobs.notebook import RunResult
from readiness.render import (
    STYLE,
    badge,
    mark,
    renders,
    table_html,
    table_text,
)

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


@renders("text", RunResult)
def _run_text(obj: Any) -> str:
    lines = _run_lines(obj)
    metrics = obj.metrics()
    if metrics:
        lines.append(table_text(("metric", "value"), sorted(metrics.items())))
    return "\n".join(lines)


@renders("html", RunResult)
def _run_html(obj: Any) -> str:
    head = "<br>".join(html.escape(line) for line in _run_lines(obj))
    table = table_html(("metric", "value"), sorted(obj.metrics().items())) if obj.metrics() else ""
    return f"<div style='{STYLE}'>{badge(obj.succeeded, obj.status)}<br>{head}</div>{table}"


def _batch_rows(obj: Any, html_cells: bool) -> list[list[Any]]:
    rows = []
    for run in obj.runs:
        r = run.result
        params = ", ".join(f"{k}={v}" for k, v in r.params.items())
        metrics = r.metrics()
        verdict = run.passed if html_cells or run.passed is None else mark(run.passed)
        star = "*" if r.run_id == obj.best else ""
        rows.append(
            [
                star + r.run_id,
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


@renders("text", BatchResult)
def _batch_text(obj: Any) -> str:
    return "\n".join(
        [*_batch_summary(obj), table_text(_batch_header(obj), _batch_rows(obj, False))]
    )


@renders("html", BatchResult)
def _batch_html(obj: Any) -> str:
    ok = not obj.cancelled and all(r.result.succeeded for r in obj.runs)
    head = "<br>".join(html.escape(x) for x in _batch_summary(obj))
    label = badge(ok, "all succeeded" if ok else "see failures")
    return f"<div style='{STYLE}'>{label}<br>{head}</div>" + table_html(
        _batch_header(obj), _batch_rows(obj, True)
    )
