"""The scorecard: verdict, success criteria, a score bar per category, items on demand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ipywidgets as w

from readiness.core.errors import ReadinessError
from readiness.core.project import Project
from readiness.render import STYLE
from readiness.widgets.frontend import WidgetView, error_html

DONE = ("automated", "attested")


def bar_style(score: float) -> str:
    return "success" if score >= 1 else "warning" if score >= 0.5 else "danger"


class CategoryRow:
    """One checklist category: a toggle, its score bar, and its items (hidden until opened)."""

    def __init__(self, category: str, score: float, items: list[Any]) -> None:
        from readiness.render.checklist import items_html

        self.category = category
        done = sum(i.status in DONE for i in items)
        self.toggle = w.Button(
            description=f"▸ {category}",
            tooltip=f"show the {category} items",
            layout=w.Layout(width="150px"),
        )
        self.bar = w.FloatProgress(
            value=score,
            min=0.0,
            max=1.0,
            bar_style=bar_style(score),
            layout=w.Layout(width="260px"),
        )
        self.label = w.Label(f"{score:.2f} · {done}/{len(items)} items done")
        self.items = w.HTML(items_html(items), layout=w.Layout(display="none"))
        self.toggle.on_click(lambda _: self.expand(not self.expanded))
        self.box = w.VBox([w.HBox([self.toggle, self.bar, self.label]), self.items])
        self.box.add_class("readiness-category")

    @property
    def expanded(self) -> bool:
        return self.items.layout.display != "none"

    def expand(self, show: bool = True) -> None:
        self.items.layout.display = "" if show else "none"
        self.toggle.description = f"{'▾' if show else '▸'} {self.category}"


class Scorecard(WidgetView):
    """A :class:`readiness.evidence.verdict.CheckResult` as a widget; Refresh judges again."""

    def __init__(
        self,
        project: Project,
        result: Any = None,
        run_id: str | None = None,
        criteria_only: bool = False,
    ) -> None:
        self.project, self.run_id = project, run_id
        self.criteria_only = criteria_only or (result is not None and result.checklist is None)
        self.result = result
        self.header = w.HTML()
        self.summary = w.HTML()
        self.rows: list[CategoryRow] = []
        self.categories_box = w.VBox()
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.status = w.HTML()
        self.root = w.VBox(
            [
                self.summary,
                self.header,
                self.categories_box,
                w.HBox([self.refresh_button, self.status]),
            ]
        )
        self.root.add_class("readiness-scorecard")
        if result is None:
            self.refresh()
        else:
            self._show(result)

    def refresh(self) -> Any:
        """Judge the evidence again (the Refresh button); returns the new result."""
        from readiness.evidence.verdict import check
        from readiness.gate.check import full_check

        self.status.value = f"<span style='{STYLE}'>judging…</span>"
        try:
            judge = check if self.criteria_only else full_check
            self.result = judge(self.project, run_id=self.run_id)
        except ReadinessError as exc:
            self.status.value = error_html(str(exc))
            return None
        self._show(self.result)
        when = dt.datetime.now().strftime("%H:%M:%S")
        self.status.value = f"<span style='{STYLE}color:#555'>judged at {when}</span>"
        self.update_display()
        return self.result

    def _show(self, result: Any) -> None:
        from readiness.render.checklist import by_category
        from readiness.render.criteria import check_summary_html

        self.summary.value = check_summary_html(result)
        self.header.value = self._header_html(result)
        self.rows = (
            [CategoryRow(c, s, items) for c, s, items in by_category(result)]
            if result.checklist is not None
            else []
        )
        self.categories_box.children = [r.box for r in self.rows]

    @staticmethod
    def _header_html(result: Any) -> str:
        if result.checklist is None:
            return ""
        overall = result.score["overall"]
        return (
            f"<div style='{STYLE}margin-top:6px'><b>Readiness checklist</b>: overall "
            f"<b>{overall:.2f}</b> (the lowest category); open a category for its items</div>"
        )

    def category(self, name: str) -> CategoryRow:
        """The row of checklist category ``name`` (technical, data, security, ...)."""
        for row in self.rows:
            if row.category == name:
                return row
        raise KeyError(f"no category {name!r}: {', '.join(r.category for r in self.rows)}")

    def fallback_text(self) -> str:
        return str(self.result) if self.result is not None else "readiness scorecard"

    def fallback_html(self) -> str:
        from readiness import render

        if self.result is None:
            return self.status.value or error_html("not judged")
        return render.html_of(self.result)
