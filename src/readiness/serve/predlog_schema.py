"""The prediction log's tables (schema v2, docs/prediction-log.md), engines and errors.

SQLAlchemy is imported inside the functions: importing this module stays cheap. Every
failure to reach or open the database becomes one :class:`LogError` line that names the
URL with its password masked.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readiness.core.errors import ReadinessError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, MetaData, Table

SCHEMA_VERSION = 2
TABLES = ("readiness_meta", "predictions", "feedback", "serving_sessions")
PREDICTION_COLUMNS = (  # what a logged request holds (the table's columns, but ``id``)
    "request_id", "ts", "model", "version", "endpoint", "status", "latency_ms", "n_rows",
    "inputs", "outputs", "probabilities", "client", "error", "use_case",
)
# v2 added the use case that served a row, so projects sharing one log keep their rows apart
# even under one model name: (table, column, DDL type) of each column added since v1
ADDED_IN_V2 = (("predictions", "use_case", "TEXT"),
               ("serving_sessions", "use_case", "TEXT"))
BUSY_SECONDS = 30  # SQLite waits this long for another writer before "database is locked"
_PASSWORD_KEYS = {"password", "pass", "passwd", "pwd"}


class LogError(ReadinessError):
    """The prediction log cannot be opened, created or read (URL, server, schema version)."""


def describe_url(url: str) -> str:
    """``url`` with any password masked (``***``): safe for messages and logs.

    Both the ``user:password@`` part and a ``?password=`` query parameter are masked,
    also in strings SQLAlchemy cannot parse.
    """
    text = re.sub(r"(://[^:/@?#]*:)[^@/?#]*@", r"\1***@", str(url))
    keys = "|".join(sorted(_PASSWORD_KEYS))
    return re.sub(rf"([?&](?:{keys})=)[^&#]*", r"\1***", text, flags=re.IGNORECASE)


def first_line(exc: BaseException) -> str:
    """A driver error's own first line, without SQLAlchemy's SQL and parameters dump."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    text = lines[0] if lines else type(orig).__name__
    return re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)


@functools.lru_cache(maxsize=1)
def metadata() -> MetaData:
    """Schema v2 (every column is described in docs/prediction-log.md)."""
    import sqlalchemy as sa

    md = sa.MetaData()
    # BIGINT on PostgreSQL; INTEGER on SQLite, where only that is the autoincrementing rowid
    ident = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    sa.Table(
        "readiness_meta", md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "predictions", md,
        sa.Column("id", ident, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), nullable=False, unique=True, index=True),
        sa.Column("ts", sa.Double, nullable=False, index=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(40), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Double, nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=True),
        sa.Column("outputs", sa.JSON, nullable=True),
        sa.Column("probabilities", sa.JSON, nullable=True),
        sa.Column("client", sa.String(200), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("use_case", sa.Text, nullable=True),  # null: logged by v1
        sa.Index("ix_predictions_model_ts", "model", "ts"),
    )
    sa.Table(
        "feedback", md,
        sa.Column("id", ident, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), nullable=False, index=True),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
    )
    sa.Table(
        "serving_sessions", md,
        sa.Column("server_id", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("last_seen", sa.Double, nullable=False),
        sa.Column("cost_per_hour", sa.Double, nullable=True),
        sa.Column("workers", sa.Integer, nullable=False),
        sa.Column("use_case", sa.Text, nullable=True),
    )
    return md


def table(name: str) -> Table:
    return metadata().tables[name]


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    return Path(parsed.database or "")


def make_engine(url: str, dumps: Any = None) -> Engine:
    """An engine for the log: SQLite waits for other writers, PostgreSQL pings stale links."""
    import sqlalchemy as sa
    from sqlalchemy import event, exc

    where = describe_url(url)
    try:
        parsed = sa.engine.make_url(url)
    except exc.ArgumentError:
        raise LogError(f"prediction log URL {where} is not a database URL") from None
    kwargs: dict[str, Any] = {"json_serializer": dumps or json.dumps}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise LogError(f"prediction log {where} is in memory: give a file (rows would be lost)")
        kwargs["connect_args"] = {"timeout": BUSY_SECONDS}
    else:
        kwargs["pool_pre_ping"] = True
        libpq = parsed.drivername.partition("+")[2] in ("", "psycopg", "psycopg2")
        if parsed.get_backend_name() == "postgresql" and libpq and (
            "connect_timeout" not in parsed.query
        ):
            kwargs["connect_args"] = {"connect_timeout": 10}  # a dead host fails, not hangs
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ModuleNotFoundError as err:
        hint = ""
        if err.name == "psycopg2":
            hint = " (readiness uses psycopg 3: write postgresql+psycopg://)"
        elif err.name == "psycopg":
            hint = " (pip install 'readiness[postgres]')"
        raise LogError(
            f"cannot open prediction log {where}: its driver {err.name} is not installed{hint}"
        ) from None
    except exc.NoSuchModuleError:
        raise LogError(
            f"cannot open prediction log {where}: SQLAlchemy knows no {parsed.drivername!r}"
        ) from None
    except (exc.ArgumentError, ImportError) as err:
        raise LogError(f"cannot open prediction log {where}: {first_line(err)}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # the driver's own transaction handling leaves DDL outside transactions: take it over
    # (SQLAlchemy's documented pysqlite recipe), so creating the schema is all or nothing
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_SECONDS * 1000}")
    cursor.execute("PRAGMA journal_mode = WAL")  # persisted in the file; a no-op once set
    cursor.execute("PRAGMA synchronous = NORMAL")  # with WAL: safe against corruption, fast
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


@contextlib.contextmanager
def translated(url: str, doing: str = "open") -> Iterator[None]:
    """Database failures inside become one :class:`LogError` naming the masked URL."""
    from sqlalchemy import exc

    try:
        yield
    except exc.SQLAlchemyError as err:
        reason = first_line(err)
        with contextlib.suppress(Exception):  # masking must never hide the real error
            from sqlalchemy.engine import make_url

            password = make_url(url).password
            if password:
                reason = reason.replace(str(password), "***")
        raise LogError(f"cannot {doing} prediction log {describe_url(url)}: {reason}") from None


def schema_version(conn: Connection, url: str) -> int:
    """The log's schema version, 0 when none of our tables is there.

    A version newer than this readiness reads, or tables that are not readiness's, are an
    error; an older version is returned as it is (readers adapt, writers upgrade it).
    """
    import sqlalchemy as sa

    names = set(sa.inspect(conn).get_table_names())
    if not names & set(TABLES):
        return 0
    where = describe_url(url)
    if "readiness_meta" not in names:
        raise LogError(
            f"prediction log {where} has tables named like readiness's but no readiness_meta "
            "table: not a readiness log (point serving.log_url elsewhere)"
        )
    meta = table("readiness_meta")
    value = conn.execute(
        sa.select(meta.c.value).where(meta.c.key == "schema_version")
    ).scalar_one_or_none()
    if value is None:
        raise LogError(f"prediction log {where} has no schema_version in readiness_meta")
    try:
        version = int(value)
    except ValueError:
        raise LogError(f"prediction log {where}: schema_version {value!r} is no number") from None
    if version > SCHEMA_VERSION:
        raise LogError(
            f"prediction log {where} has schema version {version}, newer than this readiness "
            f"reads ({SCHEMA_VERSION}): upgrade readiness"
        )
    missing = set(TABLES) - names
    if missing:
        raise LogError(f"prediction log {where} lacks its table(s) {', '.join(sorted(missing))}")
    return version


def _upgrade(conn: Connection, version: int) -> None:
    """Migrate a log of schema ``version`` to the current one, inside the caller's transaction."""
    import sqlalchemy as sa

    if version < 2:
        for name, column, kind in ADDED_IN_V2:
            conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {column} {kind}"))
    meta = table("readiness_meta")
    conn.execute(
        sa.update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
    )


def create_schema(engine: Engine, url: str) -> None:
    """Create the tables and the meta row, or upgrade an older log; safe against racers.

    PostgreSQL creators queue on a transaction-scoped advisory lock; any other database
    that loses a creation race (a duplicate table) re-checks after the winner's commit.
    """
    import sqlalchemy as sa
    from sqlalchemy import exc

    for attempt in range(5):
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7343021)"))
                version = schema_version(conn, url)
                if version == SCHEMA_VERSION:
                    return
                if version:
                    _upgrade(conn, version)  # in this transaction: all or nothing
                    return
                metadata().create_all(conn, checkfirst=True)
                conn.execute(
                    sa.insert(table("readiness_meta")),
                    [{"key": "schema_version", "value": str(SCHEMA_VERSION)}],
                )
            return
        except (exc.IntegrityError, exc.ProgrammingError):
            if attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))  # another process created them: look again
