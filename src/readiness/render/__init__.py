"""Text, script-free HTML and JSON views of every result object.

One registry: a renderer is registered for a result type and format (``@renders``) and
looked up along the object's MRO, so a subclass renders like its base unless it registers
its own. Core modules never import this one (they reach it lazily through ``Renderable``);
the renderer modules below import the result types of the capabilities, and the gate
registers its own results (``readiness.gate.views``), being the layer above this one.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from readiness.core.results import Renderable

Renderer = Callable[[Any], str]
KINDS = ("text", "html", "md")
_RENDERERS: dict[str, dict[type, Renderer]] = {kind: {} for kind in KINDS}

STYLE = "font-family:system-ui,sans-serif;font-size:13px;border-collapse:collapse;"
CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"
PASS, FAIL = "#1a7f37", "#cf222e"


def renders(kind: str, result_type: type[Renderable]) -> Callable[[Renderer], Renderer]:
    """Register the decorated function as ``result_type``'s renderer in ``kind`` (text/html/md)."""
    if kind not in KINDS:
        raise ValueError(f"unknown render format {kind!r}: one of {', '.join(KINDS)}")
    if not (isinstance(result_type, type) and issubclass(result_type, Renderable)):
        raise TypeError(f"renderers are registered for Renderable classes, not {result_type!r}")

    def register(fn: Renderer) -> Renderer:
        _RENDERERS[kind][result_type] = fn
        return fn

    return register


def renderer_for(result_type: type, kind: str) -> Renderer | None:
    """The renderer registered for ``result_type`` or its nearest base class, if any."""
    registered = _RENDERERS[kind]
    for klass in result_type.__mro__:
        if klass is Renderable:
            break
        if klass in registered:
            return registered[klass]
    return None


def text(obj: Renderable) -> str:
    fn = renderer_for(type(obj), "text")
    return fn(obj) if fn else _generic_text(obj.to_dict())


def html_of(obj: Renderable) -> str:
    fn = renderer_for(type(obj), "html")
    return fn(obj) if fn else f"<pre>{html.escape(text(obj))}</pre>"


def markdown(obj: Renderable) -> str:
    fn = renderer_for(type(obj), "md")
    return fn(obj) if fn else "```\n" + text(obj) + "\n```"


def mimebundle(obj: Renderable) -> dict[str, Any]:
    if getattr(obj, "shown_live", False):
        # a live widget already shows this result in full: one line, not the table twice
        line = text(obj).splitlines()[0] + " (details in the live view above)"
        return {"text/plain": line, "text/html": f"<div style='{STYLE}'>{html.escape(line)}</div>"}
    bundle = {"text/plain": text(obj), "text/html": html_of(obj), "application/json": obj.to_dict()}
    view = getattr(obj, "interactive", None)
    if view is not None:  # front ends with a widget manager show the widget, others the HTML
        bundle.update(view().widget_bundle())
    return bundle


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
        "<tr>" + "".join(f'<td style="{CELL}">{cell_html(c)}</td>' for c in row) + "</tr>"
        for row in rows
    )
    return f'<table style="{STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def md(value: Any) -> str:
    """User text for Markdown that may hold HTML (pull-request comments, reports).

    GitHub and most viewers pass inline HTML through, so ``<``, ``>`` and ``&`` become
    entities; a ``|`` would end a table cell and a line break the row, so both are
    neutralised too. Every markdown renderer sends text it did not write through here.
    """
    text = fmt(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.replace("|", "\\|").splitlines())


def md_code(value: Any) -> str:
    """User text as a Markdown code span: HTML stays literal there, a backtick would end it."""
    text = " ".join(fmt(value).replace("`", "'").splitlines())
    return f"`{text}`"


def cell_html(value: Any) -> str:
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


def _generic_text(values: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {fmt(v)}" for k, v in values.items())


def money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def rate(value: float | None) -> str:
    """A break-even precision/recall: None means out of reach, 0 means any value works."""
    if value is None:
        return "out of reach"
    return "any" if value == 0 else f"{value:.3f}"


def mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


# Each capability's renderers register themselves on import.
from readiness.render import (  # noqa: E402, F401
    alerts,
    checklist,
    contract,
    criteria,
    dashboard,
    data,
    drift,
    jobs,
    monitor,
    registry,
    serve,
)
