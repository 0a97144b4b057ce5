"""Every papermill (and nbformat) call of readiness, its errors translated here.

Reading a notebook raises :class:`~readiness.core.errors.NotebookError`; executing
one never raises for the notebook's own failure: :func:`failure_of` turns papermill's
and nbclient's exceptions into the outcome readiness records (status, failing cell).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from readiness.core.errors import NotebookError

ENGINE = "readiness"  # papermill's nbclient engine with readiness's per-cell hooks
ERROR_MARKER = "papermill-error-cell-tag"  # papermill.execute.ERROR_MARKER_TAG
INJECTED = "injected-parameters"

# (papermill's notebook manager, the input notebook's cells, the caller's on_cell)
CellWatcher = Callable[[Any, list[Any], Any], None]


@contextlib.contextmanager
def _reading(path: str | Path) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # nbformat, papermill's I/O handlers and its parameter parser
        # raise unrelated types (OSError, JSON, schema, KeyError, ...): one NotebookError
        raise NotebookError(" ".join(str(exc).split()) or f"{type(exc).__name__}: {path}") from None


def read(path: str | Path) -> Any:
    """A local notebook file as an nbformat v4 node."""
    import nbformat

    with _reading(path):
        return nbformat.read(str(path), as_version=4)


def load(path: str | Path) -> Any:
    """A notebook as papermill loads it (any papermill URL; its cell metadata filled in)."""
    from papermill.iorw import load_notebook_node

    with _reading(path):
        return load_notebook_node(str(path))


def inspect(path: str | Path) -> dict[str, Any]:
    """papermill's view of the notebook's ``parameters`` cell: name -> default, type, help."""
    import papermill

    with _reading(path):
        return dict(papermill.inspect_notebook(str(path)))


@functools.cache
def register_engine(watch: CellWatcher) -> str:
    """papermill's nbclient engine, with ``watch`` hooking each run's per-cell callbacks."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ReadinessEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            source_cells: list[Any] | None = None,
            on_cell: Any = None,
            **kwargs: Any,
        ) -> Any:
            watch(nb_man, source_cells or [], on_cell)
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(ENGINE, ReadinessEngine)
    return ENGINE


def execute(notebook: str, output: str, watch: CellWatcher, **options: Any) -> None:
    """``papermill.execute_notebook`` on the readiness engine; raises what papermill raises
    (the caller turns it into the job's outcome with :func:`failure_of`)."""
    import papermill

    papermill.execute_notebook(
        notebook, output, engine_name=register_engine(watch), progress_bar=False, **options
    )


def failure_of(exc: BaseException) -> tuple[str, dict[str, Any] | None]:
    """Status and failing-cell description of a papermill/nbclient exception."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        if exc.ename == "SystemExit" and str(exc.evalue).strip() in ("", "0", "None"):
            return "succeeded", None
        return "failed", {
            "cell_index": exc.cell_index,
            "execution_count": exc.exec_count,
            "ename": exc.ename,
            "evalue": exc.evalue,
        }
    if isinstance(exc, CellTimeoutError):
        return "timed_out", {"ename": "CellTimeoutError", "evalue": str(exc).splitlines()[0]}
    if isinstance(exc, DeadKernelError):
        return "failed", {"ename": "DeadKernelError", "evalue": "the kernel died"}
    return "failed", {"ename": type(exc).__name__, "evalue": str(exc)}
