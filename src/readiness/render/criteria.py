"""Success criteria, the check, evidence and init."""

from __future__ import annotations

import html
from typing import Any

from readiness.criteria.declaration import Declaration
from readiness.criteria.plan import Plan
from readiness.data.scaffold import InitResult
from readiness.evidence.metrics import Evaluation
from readiness.evidence.record import Evidence, Recorded
from readiness.evidence.verdict import CheckResult
from readiness.render import (
    FAIL,
    STYLE,
    badge,
    cell_html,
    fmt,
    mark,
    md,
    md_code,
    money,
    rate,
    renders,
    table_html,
    table_text,
)

# -- criteria ------------------------------------------------------------------------


def _criteria_rows(obj: Any) -> list[list[Any]]:
    rows = []
    for c in obj.config.criteria.technical:
        bound = f">= {c.min:g}" if c.min is not None else f"<= {c.max:g}"
        base = f"{c.baseline:g} + {c.min_margin:g}" if c.baseline is not None else "-"
        rows.append([c.metric, c.split, bound, base, f"{c.required:g}"])
    return rows


CRITERIA_HEADER = ("metric", "split", "bound", "baseline + margin", "required")


def _confidence_line(criteria: Any) -> list[str]:
    """How sure the check must be: the declared confidence, and each override."""
    overrides = [f"{c.metric} on {c.split} at {c.confidence:.0%}" for c in criteria.technical
                 if getattr(c, "confidence", None) is not None]
    business = getattr(criteria.business, "confidence", None) if criteria.business else None
    if business is not None:
        overrides.append(f"net value at {business:.0%}")
    level = getattr(criteria, "confidence", None)
    if level is None and not overrides:
        return []
    head = (f"judged on {level:.0%} bootstrap intervals (a straddled bound is inconclusive)"
            if level is not None else "judged on bootstrap intervals where declared")
    return [head + (f"; {', '.join(overrides)}" if overrides else "")]


def _business_lines(config: Any) -> list[str]:
    b = config.criteria.business
    lines = _confidence_line(config.criteria)
    if b is None:
        return lines
    if b.value_per_outcome:
        values = ", ".join(f"{k} {v:g}" for k, v in b.value_per_outcome.items())
        lines.append(f"value per outcome: {values}")
        lines.append(
            f"minimum net value per 1,000 predictions: {money(b.min_net_value_per_1000 or 0.0)}"
        )
    if b.max_latency_ms is not None:
        lines.append(f"max latency (p95): {b.max_latency_ms:g} ms")
    if b.decision_rule:
        lines.append(f"decision rule: {b.decision_rule}")
    if b.reviews:
        lines.append("go/no-go reviews: " + ", ".join(d.isoformat() for d in b.reviews))
    return lines


@renders("text", Declaration)
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
    out += [f"warning: {w}" for w in obj.warnings]
    return "\n".join([*_saved_lines(obj), *out]).strip()


def _saved_lines(obj: Any) -> list[str]:
    """What a declaration wrote, first: a body without criteria: leaves them as they were."""
    if not obj.saved:
        return []
    parts = [f"{name} ({', '.join(keys)})" if keys else name for name, keys in obj.saved.items()]
    line = f"Saved to {obj.path or 'readiness.yaml'}: {'; '.join(parts)}"
    if "criteria" not in obj.saved:
        line += " (the criteria below are unchanged)"
    return [line]


PLAN_HEADER = ("metric", "split", "required", "expected", "confidence", "rows", "positives",
               "note")


def plan_rows(plan: Any) -> list[list[Any]]:
    """One row per planned criterion (the criteria form shows the same table)."""
    rows = []
    for c in plan.criteria:
        word = ">=" if c.direction == "min" else "<="
        rows.append([
            c.metric, c.split, f"{word} {c.required:g}",
            "-" if c.expected is None else f"{c.expected:g}", f"{c.confidence:.0%}",
            "-" if c.rows is None else f"{c.rows:,}",
            "-" if c.positives is None else f"{c.positives:,}", c.note,
        ])
    return rows


def plan_summary(plan: Any) -> list[str]:
    """Per split, the holdout the plan asks for."""
    lines = []
    for split, need in plan.splits.items():
        positives = (f", {need['positives']:,} of them positive" if need.get("positives")
                     else "")
        lines.append(f"{split}: at least {need['rows']:,} held-out rows{positives}")
    return lines


@renders("text", Plan)
def _plan_text(obj: Any) -> str:
    prevalence = "" if obj.prevalence is None else f", prevalence {obj.prevalence:g}"
    out = [
        f"Holdout plan: the gate decides with {obj.power:.0%} power{prevalence} "
        "(normal approximation; Hanley-McNeil for ROC AUC)",
        "",
        table_text(PLAN_HEADER, plan_rows(obj)),
        "",
        *plan_summary(obj),
    ]
    if obj.written:
        out.append(f"written to the criteria lock at {obj.at}"
                   + (f" (reason: {obj.reason})" if obj.reason else ""))
    else:
        out.append("not written: --write puts it in the criteria lock")
    out += [f"warning: {w}" for w in obj.warnings]
    return "\n".join(out).strip()


@renders("html", Declaration)
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
    notes = [*_saved_lines(obj), *(f"warning: {w}" for w in obj.warnings)]
    if notes:
        items = "".join(f"<li>{html.escape(x)}</li>" for x in notes)
        parts.append(f"<ul style='{STYLE}margin:4px 0'>{items}</ul>")
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

# "to required": how far inside the bound (negative: missed by); "over baseline": the margin
# the model beats today's practice by (criteria with a baseline only).
CHECK_HEADER = (
    "metric",
    "split",
    "required",
    "observed",
    "to required",
    "over baseline",
    "result",
    "note",
)


def _judged_on_intervals(obj: Any) -> bool:
    return any(getattr(c, "confidence", None) is not None for c in obj.criteria)


def check_header(obj: Any) -> tuple[str, ...]:
    """The check table's columns: with ``confidence:``, the interval next to the observed."""
    if not _judged_on_intervals(obj):
        return CHECK_HEADER
    return (*CHECK_HEADER[:4], "interval", *CHECK_HEADER[4:])


def interval_cell(c: Any) -> str:
    """``[low, high] 95% n=171``, or why the criterion has no interval."""
    if getattr(c, "spread", None):
        return f"spread {c.spread[0]:.4g}-{c.spread[1]:.4g} ms"
    if getattr(c, "confidence", None) is None:
        return "-"
    if c.low is None or c.high is None:
        return f"none at {c.confidence:.0%}" if c.inconclusive else "point value"
    return f"[{c.low:.4g}, {c.high:.4g}] {c.confidence:.0%} n={c.n}"


def _result_cell(c: Any, html_cells: bool) -> Any:
    if getattr(c, "inconclusive", False):
        return "inconclusive"
    return c.passed if html_cells else mark(c.passed)


def _check_rows(obj: Any, html_cells: bool) -> list[list[Any]]:
    rows = []
    intervals = _judged_on_intervals(obj)
    for c in obj.criteria:
        word = ">=" if c.direction == "min" else "<="
        note = "" if c.passed else c.reason
        if c.changed_after_results:
            note = f"{note}; changed after results" if note else "changed after results"
        row = [
            c.metric,
            c.split,
            f"{word} {c.required:g}",
            c.observed,
            _signed(c.headroom),
            _signed(c.margin),
            _result_cell(c, html_cells),
            note,
        ]
        if intervals:
            row.insert(4, interval_cell(c))
        rows.append(row)
    return rows


def _signed(value: float | None) -> str | None:
    return None if value is None else f"{value:+.4g}"


def _between(b: Any, name: str) -> str:
    """`` [low, high]`` of a break-even point's interval, when evaluate recorded one."""
    found = (getattr(b, "break_even_intervals", None) or {}).get(name)
    if not found or found[1] == 0:  # none, or "any" in every resample
        return ""
    return f" [{found[0]:.3f}, {found[1]:.3f}]"


def _business_result_lines(b: Any) -> list[str]:
    if b is None:
        return []
    lines = []
    if b.net_value_per_1000 is not None:
        interval = ""
        if getattr(b, "net_value_low", None) is not None:
            interval = (f", interval [{money(b.net_value_low)}, {money(b.net_value_high)}] at "
                        f"{b.confidence:.0%}, n={b.n}")
        lines.append(
            f"net value per 1,000 predictions: {money(b.net_value_per_1000)} "
            f"(minimum {money(b.min_net_value_per_1000 or 0.0)}{interval})"
        )
        lines.append(
            f"observed precision {fmt(b.observed_precision)}, recall {fmt(b.observed_recall)}"
        )
        lines.append(
            f"break-even (net value 0): precision {rate(b.break_even_precision)}"
            f"{_between(b, 'break_even_precision')} at the observed recall, or recall "
            f"{rate(b.break_even_recall)}{_between(b, 'break_even_recall')} at the observed "
            "precision"
        )
        if b.min_net_value_per_1000:
            lines.append(
                f"for the minimum net value: precision {rate(b.required_precision)}"
                f"{_between(b, 'required_precision')} at the observed recall, or recall "
                f"{rate(b.required_recall)}{_between(b, 'required_recall')} at the observed "
                "precision"
            )
    if b.max_latency_ms is not None:
        spread = getattr(b, "latency_spread", None)
        noise = (f"; median of repeats, spread {spread[0]:.4g} to {spread[1]:.4g} ms"
                 if spread else "")
        lines.append(f"p95 latency: {fmt(b.latency_p95_ms)} ms (max {b.max_latency_ms:g} ms"
                     f"{noise})")
    lines.extend(f"problem: {p}" for p in b.problems)
    if b.decision_rule:
        lines.append(f"decision rule: {b.decision_rule}")
    if b.reviews:
        lines.append("go/no-go reviews: " + ", ".join(b.reviews))
    return lines


def _business_mark(b: Any) -> str:
    return "inconclusive" if getattr(b, "inconclusive", False) and not b.passed else mark(
        b.passed)


@renders("text", CheckResult)
def _check_text(obj: Any) -> str:
    out = [f"{obj.use_case}: {obj.verdict}"]
    if obj.run_id:
        out.append(f"evidence: run {obj.run_id} ({obj.evidence_at})")
    if getattr(obj, "model", None):
        out.append(f"model: {obj.model}")
    if obj.criteria:
        out += ["", table_text(check_header(obj), _check_rows(obj, html_cells=False))]
    if obj.business is not None:
        out += ["", f"business criteria: {_business_mark(obj.business)}"]
        out += [f"  {line}" for line in _business_result_lines(obj.business)]
    if obj.amendments:
        out += ["", "amendments after evidence:"]
        out += [f"  {a.get('at')}: {a.get('reason')}" for a in obj.amendments]
    if getattr(obj, "serving", None):
        out += ["", serving_line(obj.serving)]
    if obj.flags:
        out += ["", *[f"! {flag}" for flag in obj.flags]]
    from readiness.render.checklist import checklist_text

    out += checklist_text(obj)
    return "\n".join(out)


@renders("html", CheckResult)
def _check_html(obj: Any) -> str:
    from readiness.render.checklist import checklist_html

    return check_summary_html(obj) + checklist_html(obj)


def serving_line(serving: dict[str, Any]) -> str:
    """Cost per 1,000 predictions, as ``readiness check`` reports it (from the prediction log)."""
    price = f"instance {serving['cost_per_hour']:g}/hour"
    if serving.get("error"):
        return f"serving ({price}): the prediction log cannot be read: {serving['error']}"
    costs = serving.get("cost_per_1000")
    if not costs:
        return f"serving ({price}): no predictions logged yet, so no cost per 1,000 predictions"
    each = ", ".join(f"{name} {value:.4g}" for name, value in costs.items())
    return (
        f"serving: cost per 1,000 predictions {each} ({price}; "
        f"{serving.get('predictions', 0):,} requests logged in {serving['log']})"
    )


def check_summary_html(obj: Any) -> str:
    """The verdict and the success criteria (the checklist aside)."""
    parts = [
        f"<div style='{STYLE}'>{badge(obj.passed, obj.verdict)} <b>{html.escape(obj.use_case)}</b>"
        + (f" · run {html.escape(obj.run_id)}" if obj.run_id else "")
        + (f" · model {html.escape(obj.model)}" if getattr(obj, "model", None) else "")
        + "</div>"
    ]
    if obj.criteria:
        parts.append(table_html(check_header(obj), _check_rows(obj, html_cells=True)))
    if obj.business is not None:
        lines = "".join(f"<li>{html.escape(x)}</li>" for x in _business_result_lines(obj.business))
        parts.append(
            f"<div style='{STYLE}'>business criteria: "
            f"{html.escape(_business_mark(obj.business)) if obj.business.inconclusive and not obj.business.passed else cell_html(obj.business.passed)}"  # noqa: E501
            f"<ul style='margin:4px 0'>{lines}</ul></div>"
        )
    parts.extend(_amendments_html(obj.amendments))
    if getattr(obj, "serving", None):
        parts.append(f"<div style='{STYLE}'>{html.escape(serving_line(obj.serving))}</div>")
    if obj.flags:
        items = "".join(f"<li style='color:{FAIL}'>{html.escape(f)}</li>" for f in obj.flags)
        parts.append(f"<ul style='{STYLE}'>{items}</ul>")
    return "".join(parts)


@renders("md", CheckResult)
def _check_markdown(obj: Any) -> str:
    from readiness.render.checklist import checklist_markdown

    out = [f"## {md(obj.use_case)}: **{obj.verdict}**", ""]
    if obj.run_id:
        out.append(f"Evidence: run {md_code(obj.run_id)} ({md(obj.evidence_at)})")
    if getattr(obj, "model", None):
        out += ["", f"Model: {md(obj.model)}"]
    intervals = _judged_on_intervals(obj)
    header = ["metric", "split", "required", "observed", *(["interval"] if intervals else []),
              "result"]
    out += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for c in obj.criteria:
        word = ">=" if c.direction == "min" else "<="
        result = "pass" if c.passed else (
            c.reason if getattr(c, "inconclusive", False) else "FAIL: " + c.reason
        )
        cells = [c.metric, c.split, f"{word} {c.required:g}", fmt(c.observed),
                 *([interval_cell(c)] if intervals else []), result]
        out.append("| " + " | ".join(md(cell) for cell in cells) + " |")
    if obj.business is not None:
        out += ["", f"Business criteria: {_business_mark(obj.business)}", ""]
        out += [f"- {md(line)}" for line in _business_result_lines(obj.business)]
    out += [f"- amended {md(a.get('at'))}: {md(a.get('reason'))}" for a in obj.amendments]
    if getattr(obj, "serving", None):
        out += ["", md(serving_line(obj.serving))]
    out += [f"- **{md(flag)}**" for flag in obj.flags]
    out += checklist_markdown(obj)
    return "\n".join(out)


# -- evidence ------------------------------------------------------------------------


def _metric_rows(metrics: dict[str, Any], intervals: dict[str, Any] | None = None
                 ) -> list[list[Any]]:
    rows = [[k, v] for k, v in metrics.items() if not isinstance(v, (list, dict))]
    if not intervals:
        return rows
    for row in rows:
        iv = intervals.get(row[0])
        row.append(f"[{iv['low']:.4g}, {iv['high']:.4g}] {iv['confidence']:.0%}" if iv else "-")
    return rows


def _metric_header(obj: Any) -> tuple[str, ...]:
    return ("metric", "value", "interval") if getattr(obj, "intervals", None) else (
        "metric", "value")


def _interval_note(obj: Any) -> str:
    intervals = getattr(obj, "intervals", None)
    if not intervals:
        return ""
    first = next(iter(intervals.values()))
    return (f"intervals: {first['method']}, {first['resamples']:,} resamples of the "
            f"{first['n']:,} rows, seed {first['seed']}")


@renders("text", Evaluation)
def _evaluation_text(obj: Any) -> str:
    head = f"{obj.task} on {obj.split} ({obj.n_rows} rows), run {obj.run_id}"
    rows = _metric_rows(obj.metrics, getattr(obj, "intervals", None))
    out = [head, table_text(_metric_header(obj), rows)]
    if _interval_note(obj):
        out.append(_interval_note(obj))
    if getattr(obj, "average_note", ""):
        out.append(obj.average_note)
    per_class = obj.metrics.get("per_class")
    if per_class:
        out.append(table_text(PER_CLASS_HEADER, _per_class_rows(per_class)))
    matrix = obj.metrics.get("confusion_matrix")
    if matrix:
        out.append("confusion matrix (rows: true, columns: predicted): " + str(matrix))
    return "\n".join(out)


PER_CLASS_HEADER = ("class", "precision", "recall", "f1", "support")


def _per_class_rows(per_class: dict[str, Any]) -> list[list[Any]]:
    return [
        [label, v.get("precision"), v.get("recall"), v.get("f1"), v.get("support")]
        for label, v in per_class.items()
        if isinstance(v, dict)
    ]


@renders("html", Evaluation)
def _evaluation_html(obj: Any) -> str:
    head = html.escape(f"{obj.task} on {obj.split} ({obj.n_rows} rows), run {obj.run_id}")
    out = f"<div style='{STYLE}'><b>{head}</b></div>" + table_html(
        _metric_header(obj), _metric_rows(obj.metrics, getattr(obj, "intervals", None))
    )
    if _interval_note(obj):
        out += f"<div style='{STYLE}'>{html.escape(_interval_note(obj))}</div>"
    if getattr(obj, "average_note", ""):
        out += f"<div style='{STYLE}'>{html.escape(obj.average_note)}</div>"
    per_class = obj.metrics.get("per_class")
    if per_class:
        out += table_html(PER_CLASS_HEADER, _per_class_rows(per_class))
    return out


@renders("text", Evidence)
def _evidence_text(obj: Any) -> str:
    return f"recorded {obj.name} = {fmt(obj.value)} on {obj.split} (run {obj.run_id})"


@renders("text", Recorded)
def _recorded_text(obj: Any) -> str:
    return "\n".join(_evidence_text(item) for item in obj.items) or "nothing recorded"


@renders("text", InitResult)
def _init_text(obj: Any) -> str:
    task = getattr(obj, "task", "binary")
    out = [f"readiness project in {obj.root}" + (f" ({task})" if task != "binary" else "")]
    out += [f"  created {p}" for p in obj.created]
    out += [f"  updated {p}" for p in getattr(obj, "updated", [])]
    out += [f"  kept    {p}" for p in obj.kept]
    if getattr(obj, "reused_from", None):
        out.append(f"  from    {obj.reused_from}: " + (", ".join(obj.reused) or "nothing to reuse"))
    out += [f"  {tool:<7} {state}" for tool, state in obj.version_control.items()]
    if getattr(obj, "commit", None):
        out.append(f"  commit  {obj.commit[:12]} (what init wrote)")
    elif getattr(obj, "not_committed", ""):
        out.append(f"  note: {obj.not_committed}")
    out.append(
        "next: put your use case, its owner and your criteria in readiness.yaml "
        "(or declare with %%readiness criteria), then open notebooks/poc.ipynb"
    )
    return "\n".join(out)
