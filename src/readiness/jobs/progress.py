"""Progress of jobs: a bar in terminals, a live widget in notebooks, nothing in a job's
kernel, and one line per finished run (or cell) where stdout is not a terminal, so
CI logs show progress as it happens. Lines go to stderr: stdout keeps the result.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol


class Progress(Protocol):
    def update(self, status: str, run: Any = None) -> None: ...
    def close(self) -> None: ...
    def finish(self, result: Any) -> None: ...


class _Silent:
    def update(self, status: str, run: Any = None) -> None:
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

    def update(self, status: str, run: Any = None) -> None:
        self.failed += status != "succeeded"
        self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()

    def finish(self, result: Any) -> None:
        pass  # the command prints the results table


class _Lines:
    """One line per finished run, e.g. ``[2/4] run ID succeeded in 3.1s (C=0.1)``."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0

    def update(self, status: str, run: Any = None) -> None:
        self.done += 1
        line = f"[{self.done}/{self.total}] {self.label}"
        if run is not None:
            params = ", ".join(f"{k}={v}" for k, v in run.params.items())
            line += f": run {run.run_id} {status} in {run.duration_s:.1f}s"
            line += f" ({params})" if params else ""
            failure = run.failure or {}
            if status not in ("succeeded", "cancelled") and failure:
                where = "" if failure.get("cell") is None else f" at cell {failure['cell']}"
                line += f"{where}: {failure.get('ename')}: {failure.get('evalue')}"
        else:
            line += f": a run {status}"
        print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        pass

    def finish(self, result: Any) -> None:
        pass


def lines_wanted(front_end: str) -> bool:
    """One line per step: the command line, with stdout not a terminal (a CI log, a pipe)."""
    return front_end == "cli" and not sys.stdout.isatty()


def cell_lines(notebook: Any, run_label: str) -> Any:
    """A ``run_notebook(on_cell=...)`` callback printing a line per finished code cell.

    Cells are numbered as in the input notebook (``notebook``, a NotebookNode).
    """
    total = sum(
        not {"papermill-error-cell-tag", "injected-parameters"} & set(c.metadata.get("tags", []))
        for c in notebook.cells
    )

    def on_cell(index: int, number: int, cell: Any) -> None:
        if cell.get("cell_type") != "code":
            return
        meta = cell.get("metadata", {}).get("papermill", {})
        status = "failed" if meta.get("exception") else "done"
        injected = "injected-parameters" in cell.get("metadata", {}).get("tags", [])
        what = "injected parameters" if injected else f"cell {number}/{total}"
        seconds = meta.get("duration") or 0.0
        print(f"{run_label}: {what} {status} in {seconds:.1f}s", file=sys.stderr, flush=True)

    return on_cell


def make_progress(
    total: int, front_end: str, label: str = "batch", workers: int | None = None
) -> Any:
    """The progress display that suits where the batch runs.

    ``workers``: runs at once, to tell running from queued (None: unknown, a cluster).
    """
    from readiness.evidence.record import _in_kernel

    if front_end == "quiet":
        return _Silent()
    if front_end == "lines":
        return _Lines(total, label)
    from readiness.widgets.frontend import available

    if available():
        from readiness.widgets.progress_widget import BatchProgress

        return BatchProgress(total, label, workers=workers)
    if _in_kernel():  # a job's kernel: papermill keeps no live display
        return _Silent()
    return _Terminal(total, label)
