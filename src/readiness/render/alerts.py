"""Generated alert rules and dashboards: the file itself on standard output, else a summary."""

from __future__ import annotations

import html
from typing import Any

from readiness.monitoring.alerts import AlertsFile
from readiness.render import STYLE, renders


@renders("text", AlertsFile)
def _alerts_text(obj: Any) -> str:
    if obj.path is None:  # standard output: the file, ready for a redirect
        return str(obj.text).rstrip("\n")
    what = "alert rule(s)" if obj.kind == "prometheus" else "panel(s)"
    return "\n".join([
        f"wrote {len(obj.rules)} {what} to {obj.path} (criteria {obj.criteria_hash})",
        *(f"  {name}" for name in obj.rules),
    ])


@renders("html", AlertsFile)
def _alerts_html(obj: Any) -> str:
    if obj.path is None:
        return f"<pre style='{STYLE}'>{html.escape(str(obj.text))}</pre>"
    lines = _alerts_text(obj).splitlines()
    return f"<div style='{STYLE}'>" + "<br>".join(html.escape(line) for line in lines) + "</div>"
