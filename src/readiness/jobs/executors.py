"""Where batch jobs execute: a small interface and a name -> implementation table.

``local`` runs jobs on a process pool on this machine (the default); ``dask`` sends
them to a ``dask.distributed`` scheduler, so a user who outgrows one machine points
the same batch at a cluster. Executors only execute: they hand every outcome back to
the coordinating process, which is the only one that writes records.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from readiness.core.errors import UsageError
from readiness.jobs.notebook import JobSpec, execute_job

OnDone = Callable[[JobSpec, dict[str, Any]], None]
STOP_WAIT_S = 60  # how long running jobs get to stop their kernels after Ctrl-C


class Executor(Protocol):
    """Runs jobs and reports each outcome as it arrives.

    ``run_all`` calls ``on_done`` once per finished job. On Ctrl-C it stops the running
    jobs (their kernels are shut down), reports the outcomes it still gets, and
    re-raises ``KeyboardInterrupt``; jobs never reported are the caller's to cancel.
    """

    def run_all(self, specs: Sequence[JobSpec], on_done: OnDone) -> None: ...


_CANCEL: Any = None  # in pool workers: an Event the coordinator sets on Ctrl-C


def _worker_init(cancel: Any) -> None:
    # Ctrl-C goes to the coordinator only; it stops busy workers with SIGTERM, which a
    # running job turns into stopping its kernel (see jobs.execute_job).
    global _CANCEL
    _CANCEL = cancel
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _execute_in_worker(spec: JobSpec) -> dict[str, Any]:
    """A queued job that a worker picks up after Ctrl-C never starts its kernel."""
    if _CANCEL is not None and _CANCEL.is_set():
        return _cancelled(spec)
    return execute_job(spec)


def _cancelled(spec: JobSpec) -> dict[str, Any]:
    return {
        "run_id": spec.run_id,
        "status": "cancelled",
        "duration_s": 0.0,
        "evidence": [],
        "failure": {"ename": "KeyboardInterrupt", "evalue": "cancelled"},
    }


class LocalExecutor:
    """A pool of worker processes on this machine (spawned: no forked ZeroMQ state)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def run_all(self, specs: Sequence[JobSpec], on_done: OnDone) -> None:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        context = multiprocessing.get_context("spawn")
        cancel = context.Event()
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(specs)) or 1,
            mp_context=context,
            initializer=_worker_init,
            initargs=(cancel,),
        )
        futures = {pool.submit(_execute_in_worker, spec): spec for spec in specs}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    on_done(futures[future], _outcome(future, futures[future]))
        except KeyboardInterrupt:
            cancel.set()
            for future in pending:
                future.cancel()
            for process in list(getattr(pool, "_processes", {}).values()):
                if process.is_alive():
                    os.kill(process.pid, signal.SIGTERM)
            done, _ = wait([f for f in pending if not f.cancelled()], timeout=STOP_WAIT_S)
            for future in done:
                spec = futures[future]
                outcome = _outcome(future, spec)
                on_done(spec, outcome if outcome["status"] == "succeeded" else _cancelled(spec))
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _outcome(future: Any, spec: JobSpec) -> dict[str, Any]:
    """A future's outcome; a worker that died counts as a failed job, not a crash."""
    try:
        return future.result()
    except BaseException as exc:
        return {
            "run_id": spec.run_id,
            "status": "failed",
            "duration_s": 0.0,
            "evidence": [],
            "failure": {"ename": type(exc).__name__, "evalue": str(exc) or "the worker died"},
        }


def dask_client(scheduler: str | None) -> Any:
    """A ``distributed`` client of the scheduler at ``scheduler``; clear errors if none.

    Shared by the batch executor and the drift of a sample on a cluster.
    """
    if not scheduler:
        raise UsageError("the dask executor needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("the dask executor needs dask: pip install 'readiness[dask]'") from None
    try:
        return Client(scheduler, timeout="10s")
    except OSError as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


class DaskExecutor:
    """Jobs on a ``dask.distributed`` cluster; workers need readiness installed.

    The scheduler is reached when the executor is made, before any run is recorded.
    A task already running on a worker cannot be interrupted: after Ctrl-C its kernel
    finishes on the worker, and its run stays recorded as cancelled.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        self.client = dask_client(scheduler)

    def run_all(self, specs: Sequence[JobSpec], on_done: OnDone) -> None:
        from distributed import as_completed

        client = self.client
        try:
            futures = {
                client.submit(execute_job, spec, pure=False, key=f"readiness-{spec.run_id}"): spec
                for spec in specs
            }
            try:
                for future in as_completed(list(futures)):
                    on_done(futures[future], _outcome(future, futures[future]))
            except KeyboardInterrupt:
                client.cancel(list(futures))
                raise
        finally:
            client.close()


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor, "dask": DaskExecutor}


def get_executor(name: str, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor called ``name`` (``local`` or ``dask``)."""
    if name not in EXECUTORS:
        raise UsageError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
    if name == "dask":
        return DaskExecutor(scheduler=scheduler, workers=workers)
    return LocalExecutor(workers=workers)
