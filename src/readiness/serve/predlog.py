"""The prediction log: every request of ``readiness serve``, written in the background.

A :class:`PredictionLog` queues rows in memory and one daemon thread writes them in
batches (one transaction each) through SQLAlchemy Core: SQLite (WAL) in the project by
default, any SQLAlchemy URL (PostgreSQL) by configuration. A request never waits for the
database; a clean :meth:`PredictionLog.close` writes everything queued. The readers at the
end serve monitoring. Schema and versioning: docs/prediction-log.md.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import itertools
import json
import logging
import math
import os
import queue
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readiness.core.project import Project
from readiness.serve.predlog_read import (
    cost_per_1000,
    count_predictions,
    read_predictions,
    realised_cost_per_1000,
)
from readiness.serve.predlog_schema import (
    PREDICTION_COLUMNS,
    SCHEMA_VERSION,
    LogError,
    create_schema,
    describe_url,
    first_line,
    make_engine,
    sqlite_path,
    table,
    translated,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = [
    "LOG_URL_ENV", "SCHEMA_VERSION", "LogError", "PredictionLog", "cost_per_1000",
    "count_predictions", "default_url", "describe_url", "ensure_schema", "jsonable",
    "read_predictions", "realised_cost_per_1000", "resolve_url",
]

LOG_URL_ENV = "READINESS_PREDICTION_LOG_URL"
HEARTBEAT_SECONDS = 30.0
_JSON_COLUMNS = ("inputs", "outputs", "probabilities")
_RETRIES = 5  # attempts at a batch whose database is unreachable or locked
log = logging.getLogger("readiness.serve")


# -- where the log is ------------------------------------------------------------------


def default_url(project: Project) -> str:
    """The SQLite file ``<project>/.readiness/serve/predictions.db`` (absolute), git-ignored."""
    folder = Path(project.state_dir).resolve() / "serve"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.is_file():
            ignore.write_text("*\n", encoding="utf-8")
    except OSError:
        pass  # ensure_schema names the folder that cannot be written
    return f"sqlite:///{folder / 'predictions.db'}"


def resolve_url(project: Project, configured: str | None) -> str:
    """The log's URL: ``$READINESS_PREDICTION_LOG_URL``, else ``configured``, else the default.

    ``postgresql://`` (and ``postgres://``) get the installed driver, psycopg 3; a relative
    SQLite path is relative to the project root.
    """
    url = (os.environ.get(LOG_URL_ENV) or "").strip() or (configured or "").strip()
    if not url:
        return default_url(project)
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare):]
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix):]
            path, sep, query = rest.partition("?")
            if path and path != ":memory:" and not Path(path).is_absolute():
                path = str((Path(project.root) / path).resolve())
                return prefix + path + sep + query
    return url


# -- values the database can store -----------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: numpy and pandas values converted, NaN, inf, NA -> None.

    Containers are converted item by item; dates become ISO strings; anything else
    unknown becomes its ``str`` (a log row is never lost to an odd value).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dict):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    module = type(value).__module__.partition(".")[0]
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray):
            return jsonable(value.tolist())
        if isinstance(value, np.generic):
            return jsonable(value.item())
    if module == "pandas":
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return jsonable(value.to_dict(orient="records"))
        if isinstance(value, (pd.Series, pd.Index)):
            return jsonable(value.tolist())
        if value is pd.NA or value is pd.NaT:
            return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__float__"):  # Decimal, Fraction
        return jsonable(float(value))
    return str(value)


def _key(key: Any) -> str:
    converted = jsonable(key)
    return converted if isinstance(converted, str) else json.dumps(converted)


def dumps(value: Any) -> str:
    """JSON text of a log value: plain values at C speed, anything else through jsonable."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return json.dumps(jsonable(value), allow_nan=False, separators=(",", ":"))


# -- the schema ------------------------------------------------------------------------


def ensure_schema(url: str) -> None:
    """Create the log's tables once; idempotent and safe when processes race to do it.

    A SQLite log is created under a file lock beside it, in WAL mode; PostgreSQL's creators
    queue on an advisory lock.

    Raises
    ------
    LogError
        The database cannot be reached or opened, or holds a newer schema version.
    """
    engine = _engine(url)
    try:
        path = sqlite_path(url)
        if path is not None:
            from readiness.core.fsutil import file_lock

            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LogError(
                    f"cannot create the folder of prediction log {path}: {exc.strerror}"
                ) from None
            with file_lock(path.with_name(path.name + ".lock")), translated(url, "create"):
                create_schema(engine, url)
        else:
            with translated(url, "create"):
                create_schema(engine, url)
    finally:
        engine.dispose()


def _engine(url: str) -> Engine:
    return make_engine(url, dumps=dumps)


# -- the writer ------------------------------------------------------------------------


class PredictionLog:
    """Rows queued by request handlers, written by one background thread in batches.

    Parameters
    ----------
    url
        SQLAlchemy URL of the log (see :func:`resolve_url`).
    server_id
        This server's id, shared by its worker processes (its ``serving_sessions`` row).
    use_case
        The use case (readiness.yaml's ``use_case.name``) every row and session is logged
        under, so that projects sharing one log read back only their own.
    flush_seconds, max_batch
        A batch is written when it is this old, or this large.
    max_queue
        Rows waiting at most; beyond it new rows are dropped and counted (:attr:`dropped`).
    """

    def __init__(
        self,
        url: str,
        *,
        server_id: str,
        use_case: str | None = None,
        flush_seconds: float = 0.2,
        max_batch: int = 1000,
        max_queue: int = 100_000,
    ) -> None:
        self.url = url
        self.server_id = server_id
        self.use_case = use_case
        self.flush_seconds = flush_seconds
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[int, str, dict[str, Any]] | None] = queue.Queue(max_queue)
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._seq = itertools.count(1)
        self._enqueued = 0  # the sequence number of the last row queued
        self._processed = 0  # ... and of the last row written or given up on
        self._written = self._dropped = self._errors = 0
        # request id -> (model, n_rows) of this process's recent rows
        self._recent: collections.OrderedDict[str, tuple[str, int]] = collections.OrderedDict()
        self._recent_max = max(max_queue, 10_000)
        self._sessions: dict[str, dict[str, Any]] = {}  # by server id: one per served model
        self._session_due = False
        self._last_beat = 0.0
        self._engine: Engine | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._closed = False

    # counters
    @property
    def written(self) -> int:
        """Rows (predictions and feedback) this process wrote."""
        return self._written

    @property
    def dropped(self) -> int:
        """Rows refused because the queue was full (or the log closed)."""
        return self._dropped

    @property
    def errors(self) -> int:
        """Rows given up on after the database refused them (logged to ``readiness.serve``)."""
        return self._errors

    # the request side: never blocks, never raises
    def record(self, entry: dict[str, Any]) -> None:
        """Queue one ``predictions`` row (keys: the columns, without ``id``)."""
        row: dict[str, Any] = {name: entry.get(name) for name in PREDICTION_COLUMNS}
        row["use_case"] = row["use_case"] or self.use_case
        if row["ts"] is None:
            row["ts"] = time.time()
        if row["n_rows"] is None:
            row["n_rows"] = len(row["inputs"]) if isinstance(row["inputs"], list) else 0
        try:
            row["n_rows"] = int(row["n_rows"])
        except (TypeError, ValueError):
            row["n_rows"] = 0  # never raise into a request handler
        if self._put("p", row) and row["request_id"] is not None:
            with self._lock:
                self._recent[str(row["request_id"])] = (str(row["model"]), row["n_rows"])
                while len(self._recent) > self._recent_max:
                    self._recent.popitem(last=False)

    def feedback(self, request_id: str, labels: list[Any], ts: float) -> None:
        """Queue ground-truth ``labels`` (one per row) for a logged request."""
        self._put("f", {"request_id": request_id, "labels": labels, "ts": ts})

    def _put(self, kind: str, row: dict[str, Any]) -> bool:
        with self._lock:
            if self._closed:
                self._dropped += 1
                return False
            seq = next(self._seq)
            try:
                self._queue.put_nowait((seq, kind, row))
            except queue.Full:
                self._dropped += 1
                return False
            self._enqueued = seq
            return True

    def n_rows_of(self, request_id: str) -> int | None:
        """``n_rows`` of a logged request: this process's recent rows, else the database.

        None when unknown (a request another worker logged may take ``flush_seconds`` to
        show up). Reads the database, so call it off the event loop.
        """
        found = self.logged(request_id)
        return None if found is None else found[1]

    def logged(self, request_id: str) -> tuple[str, int] | None:
        """``(model, n_rows)`` of a logged request, as :meth:`n_rows_of` finds it."""
        with self._lock:
            if request_id in self._recent:
                return self._recent[request_id]
        import sqlalchemy as sa

        predictions = table("predictions")
        try:
            with self._get_engine().connect() as conn:
                found = conn.execute(
                    sa.select(predictions.c.model, predictions.c.n_rows).where(
                        predictions.c.request_id == request_id
                    )
                ).one_or_none()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("prediction log %s: lookup failed: %s", describe_url(self.url),
                        first_line(exc))
            return None
        return None if found is None else (str(found[0]), int(found[1]))

    def session(
        self,
        model: str,
        host: str,
        cost_per_hour: float | None,
        workers: int,
        server_id: str | None = None,
    ) -> None:
        """Register this server in ``serving_sessions``; the writer refreshes ``last_seen``.

        A server of several models registers one session per model, each with its own
        ``server_id`` (default: the log's).
        """
        now = time.time()
        sid = server_id or self.server_id
        with self._lock:
            self._sessions[sid] = {
                "server_id": sid, "model": model, "host": host, "started_at": now,
                "last_seen": now, "cost_per_hour": cost_per_hour, "workers": workers,
                "use_case": self.use_case,
            }
            self._session_due = True
        self._wake()

    # lifecycle
    def start(self) -> None:
        """Create the schema if needed and start the writer thread (once).

        Raises
        ------
        LogError
            The database cannot be reached, or holds a newer schema.
        """
        if self._thread is not None:
            return
        ensure_schema(self.url)
        self._get_engine()
        self._thread = threading.Thread(
            target=self._run, name="readiness-prediction-log", daemon=True
        )
        self._thread.start()
        atexit.register(self.close, 5)  # a script that forgets close() still loses nothing

    def flush(self, timeout: float = 10) -> bool:
        """Wait until every row queued before the call is written (or given up on)."""
        with self._lock:
            target = self._enqueued
        if self._thread is None or not self._thread.is_alive():
            return self._processed >= target
        self._wake()
        deadline = time.monotonic() + timeout
        with self._done:
            while self._processed < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._done.wait(min(left, 0.5))
        return True

    def close(self, timeout: float = 30) -> None:
        """Write everything queued and the last heartbeat, then release the database."""
        atexit.unregister(self.close)
        if self._thread is None and not self._queue.empty():
            try:
                self.start()  # rows queued by a log never started: write them now
            except LogError as exc:
                log.error("prediction log: %d rows not written: %s", self._queue.qsize(), exc)
        with self._lock:
            self._closed = True
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("prediction log %s: %d rows still queued at close",
                          describe_url(self.url), self._queue.qsize())
                return
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _wake(self) -> None:
        with contextlib.suppress(queue.Full):  # a full queue keeps the writer busy anyway
            self._queue.put_nowait(None)

    def _get_engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = _engine(self.url)
            return self._engine

    # the writer thread
    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch:
                self._write(batch)
            self._heartbeat(force=False)
            if self._stopping.is_set() and self._queue.empty():
                break
        self._heartbeat(force=True)

    def _take_batch(self) -> list[tuple[int, str, dict[str, Any]]]:
        batch: list[tuple[int, str, dict[str, Any]]] = []
        wait_first = min(HEARTBEAT_SECONDS, 1.0)
        try:
            item = self._queue.get(timeout=wait_first)
        except queue.Empty:
            return batch
        deadline = time.monotonic() + self.flush_seconds
        while True:
            if item is None:  # woken by flush, close or session: write what is there
                deadline = 0.0
            else:
                batch.append(item)
                if len(batch) >= self.max_batch:
                    break
            try:
                left = deadline - time.monotonic()
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[tuple[int, str, dict[str, Any]]]) -> None:
        rows = [_row(row) for _, kind, row in batch if kind == "p"]
        labels = [_row(row) for _, kind, row in batch if kind == "f"]
        try:
            failed = self._insert(rows, labels)
        except Exception:  # the writer thread must outlive any failure
            log.exception("prediction log %s: %d rows not written", describe_url(self.url),
                          len(batch))
            failed = len(batch)
        with self._done:
            self._written += len(batch) - failed
            self._errors += failed
            self._processed = max(self._processed, batch[-1][0])
            self._done.notify_all()

    def _insert(self, rows: list[dict[str, Any]], labels: list[dict[str, Any]]) -> int:
        """Write one batch in one transaction; the number of rows given up on."""
        import sqlalchemy as sa
        from sqlalchemy import exc

        engine = self._get_engine()
        reason = ""
        for attempt in range(_RETRIES):
            try:
                with engine.begin() as conn:
                    if rows:
                        conn.execute(sa.insert(table("predictions")), rows)
                    if labels:
                        conn.execute(sa.insert(table("feedback")), labels)
                return 0
            except exc.SQLAlchemyError as err:
                if not _transient(err):
                    return self._one_by_one(rows, labels)  # a bad row: keep the others
                reason = first_line(err)  # locked, unreachable: worth waiting for
                time.sleep(min(0.1 * 2**attempt, 2.0))
        log.error("prediction log %s: %d rows not written after %d attempts: %s",
                  describe_url(self.url), len(rows) + len(labels), _RETRIES, reason)
        return len(rows) + len(labels)

    def _one_by_one(self, rows: list[dict[str, Any]], labels: list[dict[str, Any]]) -> int:
        import sqlalchemy as sa
        from sqlalchemy import exc

        failed = 0
        engine = self._get_engine()
        for name, items in (("predictions", rows), ("feedback", labels)):
            for row in items:
                try:
                    with engine.begin() as conn:
                        conn.execute(sa.insert(table(name)), [row])
                except exc.SQLAlchemyError as err:
                    failed += 1
                    log.error("prediction log %s: %s row of request %s refused: %s",
                              describe_url(self.url), name, row.get("request_id"),
                              first_line(err))
        return failed

    def _heartbeat(self, force: bool) -> None:
        with self._lock:
            sessions = [dict(s) for s in self._sessions.values()]
            due = self._session_due or time.monotonic() - self._last_beat >= HEARTBEAT_SECONDS
            self._session_due = False
        if not sessions or not (force or due):
            return
        self._last_beat = time.monotonic()
        for session in sessions:
            session["last_seen"] = time.time()
            try:
                upsert_session(self._get_engine(), session)
            except Exception as exc:  # a heartbeat never stops the writer
                log.warning("prediction log %s: serving session not refreshed: %s",
                            describe_url(self.url), first_line(exc))


def _row(row: dict[str, Any]) -> dict[str, Any]:
    """A queued row with plain scalars (a numpy status would not bind); JSON stays as is."""
    return {k: v if k in _JSON_COLUMNS or k == "labels" else jsonable(v) for k, v in row.items()}


def _transient(err: Exception) -> bool:
    """A failure that waiting may cure: a lock, a lost connection, an exhausted pool."""
    from sqlalchemy import exc

    if isinstance(err, (exc.OperationalError, exc.TimeoutError)):
        return True
    return isinstance(err, exc.DBAPIError) and bool(err.connection_invalidated)


def upsert_session(engine: Engine, session: dict[str, Any]) -> None:
    """Insert or refresh a ``serving_sessions`` row (portable: update, else insert)."""
    import sqlalchemy as sa
    from sqlalchemy import exc

    sessions = table("serving_sessions")
    update = (
        sa.update(sessions)
        .where(sessions.c.server_id == session["server_id"])
        .values(
            last_seen=sa.case(
                (sessions.c.last_seen < session["last_seen"], session["last_seen"]),
                else_=sessions.c.last_seen,
            ),
            started_at=sa.case(
                (sessions.c.started_at > session["started_at"], session["started_at"]),
                else_=sessions.c.started_at,
            ),
            model=session["model"], host=session["host"], use_case=session.get("use_case"),
            cost_per_hour=session["cost_per_hour"], workers=session["workers"],
        )
    )
    with engine.begin() as conn:
        if conn.execute(update).rowcount:
            return
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(sessions), [session])
    except exc.IntegrityError:  # another worker of this server inserted it first
        with engine.begin() as conn:
            conn.execute(update)
