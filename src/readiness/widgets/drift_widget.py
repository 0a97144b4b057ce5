"""The drift table: every column with its distribution picture, sortable."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from readiness.widgets.frontend import WidgetView

# how each sort key orders the columns (ascending). "score" compares each score with its
# threshold, so p-values (low: drift) and distances (high: drift) sort together.
SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "score": lambda c: (c.strength or 0.0, c.column),
    "column": lambda c: c.column.lower(),
    "drifted": lambda c: (c.drifted, c.strength or 0.0),
}


class DriftTable(WidgetView):
    """A drift result (:class:`readiness.monitoring.drift.DriftResult`) as a sortable table."""

    def __init__(self, result: Any, sort: str = "score", descending: bool = True,
                 build_report: Callable[[], str | None] | None = None) -> None:
        """``build_report``: runs evidently on the same data and returns its HTML report's
        path; given (and no report yet), a button builds it on request."""
        from readiness.render.drift import drift_head_html

        self.result = result
        self.head = w.HTML(drift_head_html(result, hint=build_report is None))
        self.build_report = build_report
        self.report_button = w.Button(
            description="evidently's full report",
            tooltip="run evidently on the same data for its interactive HTML report "
            "(seconds to minutes on large data), saved under reports/",
            icon="file-text",
            layout=w.Layout(width="auto"),
        )
        self.report_status = w.HTML()
        self.report_button.on_click(lambda _: self.open_full_report())
        report_bar = w.HBox([self.report_button, self.report_status])
        report_bar.layout.display = None if build_report and not result.report_html else "none"
        self.report_bar = report_bar
        self.sort_buttons = w.ToggleButtons(
            options=list(SORT_KEYS),
            value=sort,
            tooltips=[
                "drift strength: the score against its threshold (p-values: lower is "
                "stronger; distances: higher)",
                "column name",
                "drifted columns (first when descending)",
            ],
            style={"button_width": "80px"},
        )
        self.descending_box = w.Checkbox(value=descending, description="descending", indent=False)
        self.table = w.HTML()
        self.sort_buttons.observe(lambda _: self._redraw(), names="value")
        self.descending_box.observe(lambda _: self._redraw(), names="value")
        self.root = w.VBox(
            [
                self.head,
                report_bar,
                w.HBox([w.Label("sort by"), self.sort_buttons, self.descending_box]),
                self.table,
            ]
        )
        self.root.add_class("readiness-drift")
        self._redraw()

    def open_full_report(self) -> str | None:
        """Build evidently's report (what the button does): its path, linked in the head."""
        from readiness.core.errors import ReadinessError
        from readiness.render.drift import drift_head_html

        if self.result.report_html or self.build_report is None:
            return self.result.report_html
        self.report_button.disabled = True
        self.report_status.value = "evidently is building the report&hellip;"
        try:
            path = self.build_report()
        except ReadinessError as exc:  # shown in the widget: a click must not raise
            self.report_status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            self.report_button.disabled = False
            return None
        self.result.report_html = path
        self.head.value = drift_head_html(self.result)
        self.report_status.value = ""
        self.report_bar.layout.display = "none"
        return path

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        """Order the table (what the sort buttons do)."""
        if key not in SORT_KEYS:
            raise ValueError(f"sort by one of {', '.join(SORT_KEYS)}, not {key!r}")
        if descending is not None:
            self.descending_box.value = descending
        self.sort_buttons.value = key
        self._redraw()

    def order(self) -> list[str]:
        """Column names in the order the table shows them."""
        columns = self.result.columns
        key = SORT_KEYS[self.sort_buttons.value]
        ordered = sorted(columns, key=key, reverse=self.descending_box.value)
        return [c.column for c in ordered]

    def _redraw(self) -> None:
        from readiness.render.drift import drift_table_html

        by_name = {c.column: c for c in self.result.columns}
        columns = [by_name[name] for name in self.order()]
        self.table.value = drift_table_html(self.result, columns, picture_width=180)

    def fallback_text(self) -> str:
        return str(self.result)

    def fallback_html(self) -> str:
        from readiness import render

        return render.html_of(self.result)
