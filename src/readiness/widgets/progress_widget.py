"""The live batch widget: runs done, failed, running and queued, then the results table."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from readiness.render import STYLE
from readiness.widgets.frontend import WidgetView


class BatchProgress(WidgetView):
    """Shows itself on creation; ``update`` per finished run, ``finish`` with the result.

    ``workers`` (runs at once) tells running from queued; None (a Dask cluster) counts
    them together.
    """

    def __init__(self, total: int, label: str, workers: int | None = None) -> None:
        from IPython.display import display

        self.total, self.workers = total, workers
        self.succeeded = self.failed = 0
        self.closed = False
        self.bar = w.IntProgress(value=0, min=0, max=total, description=label)
        self.bar.style.description_width = "initial"
        self.counts = w.HTML(self._counts_html())
        self.results = w.HTML()
        self.root = w.VBox([w.HBox([self.bar, self.counts]), self.results])
        self.root.add_class("readiness-batch")
        display(self)

    @property
    def done(self) -> int:
        return self.succeeded + self.failed

    @property
    def running(self) -> int:
        left = 0 if self.closed else self.total - self.done
        return left if self.workers is None else min(self.workers, left)

    @property
    def queued(self) -> int:
        return 0 if self.closed else self.total - self.done - self.running

    def _counts_html(self) -> str:
        color = "#cf222e" if self.failed else "#555"
        return f"<span style='{STYLE}color:{color}'>{html.escape(self._counts_text())}</span>"

    def _counts_text(self) -> str:
        parts = [f"{self.done}/{self.total} done", f"{self.failed} failed"]
        if self.workers is None and not self.closed:
            parts.append(f"{self.running} running or queued")
        elif not self.closed:
            parts += [f"{self.running} running", f"{self.queued} queued"]
        elif self.done < self.total:
            parts.append(f"{self.total - self.done} cancelled")
        return " · ".join(parts)

    def update(self, status: str, run: Any = None) -> None:
        if status == "succeeded":
            self.succeeded += 1
        else:
            self.failed += 1
        self.bar.value = self.done
        self.bar.bar_style = "danger" if self.failed else ""
        self.counts.value = self._counts_html()

    def close(self) -> None:
        self.closed = True
        complete = self.done == self.total and not self.failed
        self.bar.bar_style = "success" if complete else "danger"
        self.counts.value = self._counts_html()

    def finish(self, result: Any) -> None:
        """Show the results table under the counts (and in the HTML fallback)."""
        from readiness import render

        self.result = result
        self.results.value = render.html_of(result)
        result.shown_live = True  # its own display becomes one line: the table is here
        self.update_display()

    def fallback_text(self) -> str:
        return f"{self.bar.description}: {self._counts_text()}"

    def fallback_html(self) -> str:
        return self.counts.value + self.results.value
