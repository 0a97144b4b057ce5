"""The prediction log on a real SQLite file, and on a real PostgreSQL server."""

from __future__ import annotations

import math
import multiprocessing
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from readiness.core.project import Project
from readiness.serve import predlog
from readiness.serve.predlog import LogError, PredictionLog
from readiness.serve.predlog_schema import (
    ADDED_IN_V2,
    PREDICTION_COLUMNS,
    SCHEMA_VERSION,
    TABLES,
)
from tests.pg_server import postgres_url  # noqa: F401 (the fixture)

SPAWN = multiprocessing.get_context("spawn")
JOIN = 120  # seconds: only stops a hung child


def entry(request_id: str, n_rows: int = 1, status: int = 200, model: str = "m") -> dict:
    return {
        "request_id": request_id, "ts": time.time(), "model": model, "version": "v1",
        "endpoint": "predict", "status": status, "latency_ms": 1.5, "n_rows": n_rows,
        "inputs": [{"x": i, "y": 0.5} for i in range(n_rows)], "outputs": [0] * n_rows,
        "probabilities": None, "client": "ci", "error": None,
    }


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'log' / 'predictions.db'}"


# -- child processes (spawned: module-level functions) ----------------------------------


def _child_ensure(url: str, barrier, results) -> None:
    import sqlalchemy.dialects.sqlite  # noqa: F401 (imported before the race, not during it)

    barrier.wait(JOIN)
    try:
        predlog.ensure_schema(url)
        results.put("ok")
    except Exception as exc:  # reported to the parent, which fails the test
        results.put(f"{type(exc).__name__}: {exc}")


def _child_write(url: str, prefix: str, n: int, barrier, results) -> None:
    log = PredictionLog(url, server_id="srv", flush_seconds=0.05, max_batch=100)
    log.start()
    log.session("m", "host", 3.6, 2)
    barrier.wait(JOIN)
    for i in range(n):
        log.record(entry(f"{prefix}-{i}", n_rows=2))
        if i % 50 == 0:
            time.sleep(0.001)  # spread the writes so the two processes interleave
    log.feedback(f"{prefix}-0", ["a", "b"], time.time())
    log.close()
    results.put((log.written, log.dropped, log.errors))


def _run(target, args_of, n: int) -> list:
    barrier, results = SPAWN.Barrier(n), SPAWN.Queue()
    children = [SPAWN.Process(target=target, args=(*args_of(i), barrier, results))
                for i in range(n)]
    for child in children:
        child.start()
    out = [results.get(timeout=JOIN) for _ in children]
    for child in children:
        child.join(JOIN)
        assert child.exitcode == 0
    return out


def concurrent_writes(url: str, n: int = 600) -> None:
    """Two processes log n rows at once: every row lands, each process's feedback too."""
    predlog.ensure_schema(url)
    out = _run(_child_write, lambda i: (url, f"p{i}", n // 2), 2)
    assert sorted(out) == [(n // 2 + 1, 0, 0)] * 2  # rows + one feedback each, nothing lost
    assert predlog.count_predictions(url) == n
    frame = predlog.read_predictions(url)
    assert len(frame) == n and frame["request_id"].is_unique
    assert list(frame["ts"]) == sorted(frame["ts"])
    labelled = frame.dropna(subset=["labels"])
    assert sorted(labelled["request_id"]) == ["p0-0", "p1-0"]
    assert all(labels == ["a", "b"] for labels in labelled["labels"])
    assert frame.iloc[0]["inputs"] == [{"x": 0, "y": 0.5}, {"x": 1, "y": 0.5}]


# -- SQLite ------------------------------------------------------------------------------


def test_four_processes_create_the_schema_at_once(url):
    assert _run(_child_ensure, lambda i: (url,), 4) == ["ok"] * 4
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        assert db.execute("SELECT key, value FROM readiness_meta").fetchall() == [
            ("schema_version", str(SCHEMA_VERSION))
        ]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        db.close()
    assert set(TABLES) <= tables
    assert "ix_predictions_model_ts" in indexes


def test_two_processes_writing_at_once_lose_nothing(url):
    concurrent_writes(url)
    # both workers of server "srv" share one serving session row
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        assert db.execute("SELECT server_id, workers FROM serving_sessions").fetchall() == [
            ("srv", 2)
        ]
    finally:
        db.close()


def test_close_drains_the_queue(url):
    log = PredictionLog(url, server_id="s")
    log.start()
    for i in range(5000):
        log.record(entry(f"r{i}"))
    log.close()
    assert (log.written, log.dropped, log.errors) == (5000, 0, 0)
    assert predlog.count_predictions(url) == 5000
    log.record(entry("after-close"))  # refused, counted, never raised
    assert log.dropped == 1
    never_started = PredictionLog(url, server_id="s")
    never_started.record(entry("queued-only"))
    never_started.close()
    assert predlog.count_predictions(url) == 5001


def test_a_locked_database_delays_rows_but_loses_none(url):
    log = PredictionLog(url, server_id="s", flush_seconds=0.01)
    log.start()
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    for i in range(10):
        log.record(entry(f"r{i}"))
    assert not log.flush(timeout=1.0)  # waiting for the lock
    holder.execute("COMMIT")
    holder.close()
    assert log.flush(timeout=20)
    log.close()
    assert (log.written, log.errors) == (10, 0)
    assert predlog.count_predictions(url) == 10


def test_a_full_queue_drops_and_counts_without_blocking(url):
    log = PredictionLog(url, server_id="s", max_queue=10)  # not started: nothing drains
    started = time.monotonic()
    for i in range(15):
        log.record(entry(f"r{i}"))
    assert time.monotonic() - started < 0.5
    assert log.dropped == 5
    log.start()
    assert log.flush()
    log.close()
    assert predlog.count_predictions(url) == 10


def test_feedback_latest_wins_and_is_joined(url):
    log = PredictionLog(url, server_id="s")
    log.start()
    now = time.time()
    log.record(entry("one", n_rows=2))
    log.record(entry("two"))
    log.record({**entry("bad", n_rows=0), "status": 422, "error": "row 0: x is missing",
                "outputs": None})
    log.feedback("one", [1, 0], now + 2)
    log.feedback("one", [9, 9], now + 1)  # written later, but about an earlier moment
    log.feedback("one", [0, 0], now + 3)
    log.close()
    frame = predlog.read_predictions(url)
    assert list(frame["request_id"]) == ["one", "two"]  # status 200 by default
    by_id = frame.set_index("request_id")
    assert by_id.loc["one", "labels"] == [0, 0]
    assert by_id.loc["two", "labels"] is None
    every = predlog.read_predictions(url, status=None)
    assert list(every["request_id"]) == ["one", "two", "bad"]
    assert every.iloc[2]["error"] == "row 0: x is missing"
    assert list(predlog.read_predictions(url, last=1)["request_id"]) == ["two"]
    assert predlog.read_predictions(url, model="other").empty
    assert predlog.read_predictions(url, since=time.time() + 60).empty
    assert predlog.count_predictions(url) == 3


def test_n_rows_of_before_and_after_a_flush(url):
    log = PredictionLog(url, server_id="s", flush_seconds=30)
    log.start()
    other = PredictionLog(url, server_id="s2")  # another worker: sees the database only
    log.record(entry("req", n_rows=7))
    assert log.n_rows_of("req") == 7  # from this process's queue
    assert other.n_rows_of("req") is None  # not written yet
    assert log.flush()
    assert other.n_rows_of("req") == 7
    assert other.n_rows_of("unknown") is None
    log.close()
    other.close()


def test_a_bad_row_costs_only_itself(url, caplog):
    log = PredictionLog(url, server_id="s")
    log.start()
    log.record(entry("dup"))
    log.record(entry("dup"))  # the same request id twice: the second breaks the unique key
    log.record(entry("fine"))
    log.close()
    assert (log.written, log.errors) == (2, 1)
    assert predlog.count_predictions(url) == 2
    assert "UNIQUE" in caplog.text and "dup" in caplog.text


def test_a_newer_schema_is_refused(url, tmp_path):
    predlog.ensure_schema(url)
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    newer = SCHEMA_VERSION + 1
    db.execute(f"UPDATE readiness_meta SET value = '{newer}' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    refusal = rf"schema version {newer}, newer .* \({SCHEMA_VERSION}\): upgrade"
    for action in (lambda: predlog.ensure_schema(url),
                   lambda: PredictionLog(url, server_id="s").start(),
                   lambda: predlog.read_predictions(url)):
        with pytest.raises(LogError, match=refusal) as err:
            action()
        assert "\n" not in str(err.value)


def test_our_tables_without_the_meta_row_are_refused(url):
    predlog.ensure_schema(url)
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    db.execute("DELETE FROM readiness_meta")
    db.commit()
    db.close()
    with pytest.raises(LogError, match="no schema_version"):
        predlog.ensure_schema(url)


def test_a_missing_log_reads_as_empty(url):
    assert predlog.count_predictions(url) == 0
    assert predlog.read_predictions(url).empty
    assert predlog.realised_cost_per_1000(url, "m") is None
    assert not Path(url.removeprefix("sqlite:///")).exists()  # reading created nothing


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_bad_urls_are_one_line_errors_with_the_password_masked(tmp_path):
    port = _closed_port()
    cases = {
        f"postgresql+psycopg://bob:hunter2@127.0.0.1:{port}/db": "Connection refused",
        "postgresql+psycopg2://bob:hunter2@127.0.0.1/db": "psycopg2 is not installed",
        "nosuchdb://bob:hunter2@host/db": "SQLAlchemy knows no 'nosuchdb'",
        "not a url": "not a database URL",
        "sqlite://": "in memory",
        f"sqlite:///{tmp_path / 'a-file' / 'x.db'}": "cannot create the folder",
    }
    (tmp_path / "a-file").write_text("a file where the folder should be")
    for bad, reason in cases.items():
        with pytest.raises(LogError) as err:
            predlog.ensure_schema(bad)
        message = str(err.value)
        assert reason in message and "hunter2" not in message and "\n" not in message
        if "bob" in bad:
            assert "bob:***@" in message


def test_describe_url_masks_passwords():
    assert predlog.describe_url("postgresql+psycopg://u:p%40ss@h:5432/db") == (
        "postgresql+psycopg://u:***@h:5432/db"
    )
    assert predlog.describe_url("postgresql://h/db?sslmode=require&password=zz") == (
        "postgresql://h/db?sslmode=require&password=***"
    )
    assert predlog.describe_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_resolve_url(tmp_path, monkeypatch):
    project = Project(tmp_path)
    monkeypatch.delenv(predlog.LOG_URL_ENV, raising=False)
    default = predlog.resolve_url(project, None)
    assert default == f"sqlite:///{tmp_path.resolve()}/.readiness/serve/predictions.db"
    assert (tmp_path / ".readiness" / "serve" / ".gitignore").read_text() == "*\n"
    assert predlog.resolve_url(project, "sqlite:///logs/p.db") == (
        f"sqlite:///{tmp_path.resolve()}/logs/p.db"
    )
    assert predlog.resolve_url(project, "postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv(predlog.LOG_URL_ENV, "postgres://u:pw@h/db")
    assert predlog.resolve_url(project, "sqlite:///x.db") == "postgresql+psycopg://u:pw@h/db"


def test_jsonable_converts_numpy_pandas_and_non_finite_numbers():
    value = {
        "a": np.float32(1.5), "b": np.int64(3), "c": np.bool_(True), "d": np.array([1.0, np.nan]),
        "e": float("nan"), "f": math.inf, "g": pd.NA, "h": pd.Timestamp("2026-01-02"),
        "i": (1, np.int8(2)), np.int64(5): "key", "j": pd.Series([1, None]), "k": pd.NaT,
        "l": np.datetime64("NaT"),
    }
    assert predlog.jsonable(value) == {
        "a": 1.5, "b": 3, "c": True, "d": [1.0, None], "e": None, "f": None, "g": None,
        "h": "2026-01-02T00:00:00", "i": [1, 2], "5": "key", "j": [1.0, None], "k": None,
        "l": None,
    }
    assert predlog.jsonable(pd.DataFrame({"x": [1, 2]})) == [{"x": 1}, {"x": 2}]


def test_numpy_and_nan_values_are_written_as_json_null(url):
    log = PredictionLog(url, server_id="s")
    log.start()
    log.record({**entry("np"), "status": np.int64(200), "n_rows": np.int64(1),
                "inputs": [{"x": np.float64("nan"), "y": np.int64(2)}],
                "outputs": np.array([1]), "probabilities": [[np.float32(0.25), 0.75]]})
    log.close()
    assert log.errors == 0
    row = predlog.read_predictions(url).iloc[0]
    assert row["inputs"] == [{"x": None, "y": 2}]
    assert row["outputs"] == [1] and row["probabilities"] == [[0.25, 0.75]]


def test_cost_per_1000(url):
    assert predlog.cost_per_1000(1.0, 3600, 1000) == pytest.approx(1.0)
    assert predlog.cost_per_1000(0.12, 1800, 0) is None
    predlog.ensure_schema(url)
    log = PredictionLog(url, server_id="s")
    log.start()
    log.record(entry("ok", n_rows=600))
    log.record(entry("ok2", n_rows=400))
    log.record(entry("bad", n_rows=50, status=422))  # not predicted: not counted
    log.record(entry("other", n_rows=10, model="other"))
    log.close()
    assert predlog.realised_cost_per_1000(url, "m") is None  # no session declared a price
    engine = predlog._engine(url)
    session = {"server_id": "a", "model": "m", "host": "h", "started_at": 0.0,
               "cost_per_hour": 2.0, "workers": 2}
    predlog.upsert_session(engine, {**session, "last_seen": 1800.0})
    predlog.upsert_session(engine, {**session, "last_seen": 900.0})  # a late worker: max wins
    engine.dispose()
    assert predlog.realised_cost_per_1000(url, "m") == pytest.approx(1.0)  # $1 over 1,000 rows


def test_use_cases_sharing_one_log_and_one_model_name_read_their_own(url):
    """Two projects' servers log model "m" into one database: rows, counts and cost apart."""
    logs = {uc: PredictionLog(url, server_id=f"srv-{uc}", use_case=uc) for uc in ("A", "B")}
    for log in logs.values():
        log.start()
    logs["A"].record(entry("a1", n_rows=1))
    logs["A"].record(entry("a2", n_rows=1))
    logs["B"].record(entry("b1", n_rows=4))
    for log in logs.values():
        log.close()
    engine = predlog._engine(url)
    for uc, price in (("A", 1.0), ("B", 10.0)):  # an hour each
        predlog.upsert_session(engine, {
            "server_id": f"srv-{uc}", "model": "m", "host": "h", "started_at": 0.0,
            "last_seen": 3600.0, "cost_per_hour": price, "workers": 1, "use_case": uc})
    engine.dispose()
    read = lambda **kw: sorted(predlog.read_predictions(url, **kw)["request_id"])  # noqa: E731
    assert read(use_case="A") == ["a1", "a2"] and read(use_case="B") == ["b1"]
    assert read() == ["a1", "a2", "b1"]  # no use case named: the whole log
    assert list(predlog.read_predictions(url, model="m", use_case="B")["use_case"]) == ["B"]
    assert [predlog.count_predictions(url, "m", use_case=uc) for uc in "AB"] == [2, 1]
    assert predlog.realised_cost_per_1000(url, "m", use_case="A") == pytest.approx(500.0)
    assert predlog.realised_cost_per_1000(url, "m", use_case="B") == pytest.approx(2500.0)
    assert predlog.realised_cost_per_1000(url, "m") == pytest.approx(11 / 6 * 1000)


def _as_v1(url: str) -> None:
    """A log as readiness's schema v1 made it: without the use case columns, version 1."""
    import sqlalchemy as sa

    predlog.ensure_schema(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name, column, _ in ADDED_IN_V2:
            conn.execute(sa.text(f"ALTER TABLE {name} DROP COLUMN {column}"))
        conn.execute(sa.text("UPDATE readiness_meta SET value = '1'"))
        predictions = sa.Table("predictions", sa.MetaData(), autoload_with=conn)
        conn.execute(sa.insert(predictions), [entry("old")])
        sessions = sa.Table("serving_sessions", sa.MetaData(), autoload_with=conn)
        conn.execute(sa.insert(sessions), [{
            "server_id": "v1", "model": "m", "host": "h", "started_at": 0.0, "last_seen": 3600.0,
            "cost_per_hour": 2.0, "workers": 1}])
    engine.dispose()


def _schema_of(url: str) -> tuple[str, set[str]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT value FROM readiness_meta")).scalar_one()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("predictions")}
    engine.dispose()
    return version, columns


def upgrade_of_a_v1_log(url: str) -> None:
    """A v1 log is read as it is (nothing written), and upgraded in place by a v2 writer."""
    _as_v1(url)
    frame = predlog.read_predictions(url, use_case="A")
    assert list(frame["request_id"]) == ["old"] and frame.iloc[0]["use_case"] is None
    assert frame.iloc[0]["inputs"] == entry("old")["inputs"]
    assert predlog.count_predictions(url, "m", use_case="A") == 1
    assert predlog.realised_cost_per_1000(url, "m", use_case="A") == pytest.approx(2000.0)
    v2_columns = {"id", *PREDICTION_COLUMNS}
    assert _schema_of(url) == ("1", v2_columns - {"use_case"})  # reading wrote nothing
    log = PredictionLog(url, server_id="new", use_case="B")
    log.start()
    log.record(entry("new", n_rows=3))
    log.close()
    assert _schema_of(url) == (str(SCHEMA_VERSION), v2_columns)
    read = lambda uc: sorted(predlog.read_predictions(url, use_case=uc)["request_id"])  # noqa: E731
    assert read("A") == ["old"]  # a row from before the use cases belongs to every one
    assert read("B") == ["new", "old"]
    assert predlog.count_predictions(url, "m", use_case="B") == 2
    assert predlog.realised_cost_per_1000(url, "m", use_case="B") == pytest.approx(500.0)


def test_a_v1_log_is_read_as_it_is_and_upgraded_by_the_first_writer(url):
    upgrade_of_a_v1_log(url)


def test_importing_the_log_stays_cheap():
    code = ("import sys, readiness.serve.predlog; "
            "print(sorted({'sqlalchemy', 'pandas', 'numpy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# -- PostgreSQL --------------------------------------------------------------------------


def test_postgresql(postgres_url):  # noqa: F811 (the fixture imported above)
    assert _run(_child_ensure, lambda i: (postgres_url,), 4) == ["ok"] * 4  # a fresh database
    predlog.ensure_schema(postgres_url)
    predlog.ensure_schema(postgres_url)  # idempotent
    concurrent_writes(postgres_url)
    log = PredictionLog(postgres_url, server_id="pg")
    log.start()
    log.record(entry("late", n_rows=3))
    log.feedback("late", [1, 2, 3], time.time())
    log.feedback("late", [3, 2, 1], time.time() + 1)
    assert log.flush()
    assert PredictionLog(postgres_url, server_id="x").n_rows_of("late") == 3
    log.close()
    frame = predlog.read_predictions(postgres_url, last=1)
    assert list(frame["request_id"]) == ["late"] and frame.iloc[0]["labels"] == [3, 2, 1]


def test_a_v1_postgresql_log_is_upgraded_in_place(postgres_url):  # noqa: F811
    import uuid

    import sqlalchemy as sa

    name = f"v1_{uuid.uuid4().hex[:12]}"  # a database of its own: the session's is shared
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    upgrade_of_a_v1_log(postgres_url.rsplit("/", 1)[0] + f"/{name}")
