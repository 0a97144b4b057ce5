"""The portfolio as a widget: the use cases' table, attention first, and a Refresh button."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from readiness.core.errors import ReadinessError
from readiness.widgets.frontend import WidgetView, error_html


class PortfolioTable(WidgetView):
    """A :class:`readiness.gate.portfolio.Portfolio` as a table; Refresh reads it again."""

    def __init__(
        self,
        result: Any = None,
        dirs: list[str] | None = None,
        file: str | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.dirs, self.file, self.cwd = dirs, file, cwd
        self.refresh_button = w.Button(
            description="Refresh", icon="refresh", tooltip="read every project again"
        )
        self.table = w.HTML()
        self.refresh_button.on_click(lambda _: self.refresh())
        self.root = w.VBox([self.refresh_button, self.table])
        self.root.add_class("readiness-portfolio")
        self.result = result
        if result is None:
            self.refresh()
        else:
            self._draw()

    def refresh(self) -> None:
        from readiness.gate.portfolio import portfolio

        try:
            self.result = portfolio(self.dirs, self.file, self.cwd)
        except ReadinessError as exc:  # a bad portfolio.yaml: said in the widget, not raised
            self.table.value = error_html(str(exc))
            return
        self._draw()
        self.update_display()

    def _draw(self) -> None:
        from readiness import render

        self.table.value = render.html_of(self.result)

    def fallback_text(self) -> str:
        return str(self.result) if self.result is not None else "portfolio"

    def fallback_html(self) -> str:
        from readiness import render

        return render.html_of(self.result) if self.result is not None else ""
