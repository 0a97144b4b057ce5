"""Progress of a batch: a bar in terminals, a widget in notebooks, nothing in papermill."""

from __future__ import annotations

import sys
from typing import Any, Protocol


class Progress(Protocol):
    def update(self, status: str) -> None: ...
    def close(self) -> None: ...


class _Silent:
    def update(self, status: str) -> None:
        pass

    def close(self) -> None:
        pass


class _Terminal:
    def __init__(self, total: int, label: str) -> None:
        from tqdm import tqdm

        self.failed = 0
        self.bar = tqdm(total=total, desc=label, unit="run", file=sys.stderr, disable=None)

    def update(self, status: str) -> None:
        self.failed += status != "succeeded"
        self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


class _Widget:
    def __init__(self, total: int, label: str) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.total, self.done, self.failed = total, 0, 0
        self.bar = widgets.IntProgress(value=0, min=0, max=total, description=label)
        self.text = widgets.Label(value=self._text())
        self.box = widgets.HBox([self.bar, self.text])
        display(self.box)

    def _text(self) -> str:
        running = self.total - self.done
        return f"{self.done}/{self.total} done, {self.failed} failed, {running} left"

    def update(self, status: str) -> None:
        self.done += 1
        self.failed += status != "succeeded"
        self.bar.value = self.done
        self.bar.bar_style = "danger" if self.failed else ""
        self.text.value = self._text()

    def close(self) -> None:
        self.bar.bar_style = "danger" if self.failed else "success"


def make_progress(total: int, front_end: str, label: str = "batch") -> Any:
    """The progress display that suits where the batch runs."""
    from readiness.evidence import _in_kernel

    if front_end == "quiet":
        return _Silent()
    if _in_kernel():
        try:
            return _Widget(total, label)
        except ImportError:
            return _Silent()
    return _Terminal(total, label)
