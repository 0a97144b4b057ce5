"""Whether to show widgets, and the view base class that carries its HTML fallback."""

from __future__ import annotations

import os
from typing import Any

WIDGETS_ENV = "READINESS_WIDGETS"  # 0/false/off: always the static HTML
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def available() -> bool:
    """True in an interactive kernel that can hold widgets; False in jobs and terminals.

    A kernel cannot ask its front end whether it renders widgets, so views always
    ship their HTML too: JupyterLab, Notebook 7 and VS Code show the widget, a
    viewer without a widget manager shows the HTML.
    """
    from readiness.evidence.record import RUN_ID_ENV, _in_kernel

    if os.environ.get(WIDGETS_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    if os.environ.get(RUN_ID_ENV):  # a job's kernel: nobody clicks in papermill's output
        return False
    if not _in_kernel():
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class WidgetView:
    """A widget tree (``root``) that displays with a script-free HTML fallback."""

    root: Any

    def fallback_html(self) -> str:
        raise NotImplementedError

    def fallback_text(self) -> str:
        return type(self).__name__

    def widget_bundle(self) -> dict[str, Any]:
        """The widget-view part of a MIME bundle (front ends that render widgets pick it)."""
        bundle = self.root._repr_mimebundle_()
        return {WIDGET_VIEW_MIME: bundle[WIDGET_VIEW_MIME]}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/plain": self.fallback_text(),
            "text/html": self.fallback_html(),
            **self.widget_bundle(),
        }

    def _ipython_display_(self) -> None:
        # shown under a display id, so the fallback follows what the widget did (a save,
        # a refresh, a finished batch): an exported notebook shows the final state
        from IPython.display import display

        handle = display(self._repr_mimebundle_(), raw=True, display_id=True)
        self._handles = [*getattr(self, "_handles", []), handle]

    def update_display(self) -> None:
        """Re-render the HTML fallback of every place this view is shown."""
        for handle in getattr(self, "_handles", []):
            if handle is not None:
                handle.update(self._repr_mimebundle_(), raw=True)


def error_html(message: str) -> str:
    import html

    from readiness.render import FAIL, STYLE

    return f"<div style='{STYLE}color:{FAIL};white-space:pre-wrap'>{html.escape(message)}</div>"
