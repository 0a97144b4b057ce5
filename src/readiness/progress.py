"""Progress of a batch: a bar in terminals, a live widget in notebooks, nothing in jobs."""

from __future__ import annotations

import sys
from typing import Any, Protocol


class Progress(Protocol):
    def update(self, status: str) -> None: ...
    def close(self) -> None: ...
    def finish(self, result: Any) -> None: ...


class _Silent:
    def update(self, status: str) -> None:
        pass

    def close(self) -> None:
        pass

    def finish(self, result: Any) -> None:
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

    def finish(self, result: Any) -> None:
        pass  # the command prints the results table


def make_progress(
    total: int, front_end: str, label: str = "batch", workers: int | None = None
) -> Any:
    """The progress display that suits where the batch runs.

    ``workers``: runs at once, to tell running from queued (None: unknown, a cluster).
    """
    from readiness.evidence import _in_kernel

    if front_end == "quiet":
        return _Silent()
    from readiness.widgets.frontend import available

    if available():
        from readiness.widgets.progress_widget import BatchProgress

        return BatchProgress(total, label, workers=workers)
    if _in_kernel():  # a job's kernel: papermill keeps no live display
        return _Silent()
    return _Terminal(total, label)
