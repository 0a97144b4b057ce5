"""Reading the prediction log back (monitoring): pandas frames, counts, cost per prediction.

A log that does not exist yet reads as empty; a newer schema or an unreachable database is a
:class:`~readiness.serve.predlog_schema.LogError`. Schema: docs/prediction-log.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from readiness.serve.predlog_schema import (
    PREDICTION_COLUMNS,
    make_engine,
    schema_version,
    sqlite_path,
    table,
    translated,
)

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine, Select, Table


def _reader(url: str) -> Engine | None:
    """An engine on an existing log, or None when nothing was logged there yet."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return None
    return make_engine(url)


def _scoped(query: Select[Any], rows: Table, version: int, use_case: str | None) -> Select[Any]:
    """``query`` kept to ``use_case``'s rows and to those logged before v2 (no use case).

    A v1 log (which readers never upgrade) has no use cases: every row is kept.
    """
    if use_case is None or version < 2:
        return query
    import sqlalchemy as sa

    return query.where(sa.or_(rows.c.use_case == use_case, rows.c.use_case.is_(None)))


def read_predictions(
    url: str,
    model: str | None = None,
    since: float | None = None,
    until: float | None = None,
    last: int | None = None,
    status: int | None = 200,
    use_case: str | None = None,
) -> pd.DataFrame:
    """Logged requests (``since <= ts < until``), oldest first, with their latest labels.

    Columns: the ``predictions`` table's, JSON decoded, plus ``labels`` from the latest
    feedback of each request (None where none). ``last`` keeps the newest N; ``status``
    None keeps every status; ``use_case`` keeps that use case's rows (and those of a log
    older than v2, which has none). A log that does not exist yet reads as no rows.
    """
    import pandas as pd
    import sqlalchemy as sa

    columns = ["id", *PREDICTION_COLUMNS, "labels"]
    engine = _reader(url)
    if engine is None:
        return pd.DataFrame(columns=columns)
    predictions, feedback = table("predictions"), table("feedback")
    ranked = sa.select(
        feedback.c.request_id,
        feedback.c.labels,
        sa.func.row_number()
        .over(partition_by=feedback.c.request_id, order_by=(feedback.c.ts.desc(),
                                                             feedback.c.id.desc()))
        .label("rank"),
    ).subquery()
    latest = sa.select(ranked.c.request_id, ranked.c.labels).where(ranked.c.rank == 1).subquery()
    try:
        with translated(url, "read"), engine.connect() as conn:
            version = schema_version(conn, url)
            if not version:
                return pd.DataFrame(columns=columns)
            kept = [c if version >= 2 or c.name != "use_case" else sa.null().label(c.name)
                    for c in predictions.c]  # v1 has no use cases: null, as v2 reads them
            query = sa.select(*kept, latest.c.labels).outerjoin(
                latest, latest.c.request_id == predictions.c.request_id
            )
            query = _filtered(_scoped(query, predictions, version, use_case), predictions,
                              model, since, until, status, last)
            rows = [dict(r) for r in conn.execute(query).mappings()]
    finally:
        engine.dispose()
    rows.reverse()
    return pd.DataFrame(rows, columns=columns)


def _filtered(
    query: Select[Any],
    predictions: Table,
    model: str | None,
    since: float | None,
    until: float | None,
    status: int | None,
    last: int | None,
) -> Select[Any]:
    if model is not None:
        query = query.where(predictions.c.model == model)
    if since is not None:
        query = query.where(predictions.c.ts >= since)
    if until is not None:
        query = query.where(predictions.c.ts < until)
    if status is not None:
        query = query.where(predictions.c.status == status)
    query = query.order_by(predictions.c.ts.desc(), predictions.c.id.desc())
    if last is not None:
        query = query.limit(max(0, int(last)))
    return query


def count_predictions(url: str, model: str | None = None, use_case: str | None = None) -> int:
    """Rows in ``predictions`` (every status), for ``model`` or all; 0 for no log yet.

    ``use_case`` counts that use case's rows (and any logged before v2).
    """
    import sqlalchemy as sa

    engine = _reader(url)
    if engine is None:
        return 0
    predictions = table("predictions")
    query = sa.select(sa.func.count()).select_from(predictions)
    if model is not None:
        query = query.where(predictions.c.model == model)
    try:
        with translated(url, "read"), engine.connect() as conn:
            version = schema_version(conn, url)
            if not version:
                return 0
            return int(conn.execute(_scoped(query, predictions, version, use_case)).scalar_one())
    finally:
        engine.dispose()


def cost_per_1000(cost_per_hour: float, seconds: float, rows: int) -> float | None:
    """Cost of 1,000 predictions: ``seconds`` of an instance at ``cost_per_hour``, over ``rows``.

    None when no rows were predicted (no cost per prediction to speak of).
    """
    if rows <= 0:
        return None
    return cost_per_hour * max(0.0, seconds) / 3600 / rows * 1000


def realised_cost_per_1000(url: str, model: str, use_case: str | None = None) -> float | None:
    """What 1,000 of ``model``'s predictions cost: its serving time over its logged rows.

    Sums ``(last_seen - started_at) / 3600 * cost_per_hour`` over its serving sessions that
    declared a price, divided by the rows of its successful (2xx) requests, times 1,000.
    ``use_case`` keeps to that use case's sessions and rows (and any logged before v2).
    None without a declared price or without rows.
    """
    import sqlalchemy as sa

    engine = _reader(url)
    if engine is None:
        return None
    sessions, predictions = table("serving_sessions"), table("predictions")
    spent = sa.select(
        sa.func.sum((sessions.c.last_seen - sessions.c.started_at) * sessions.c.cost_per_hour)
    ).where(sessions.c.model == model, sessions.c.cost_per_hour.is_not(None))
    rows = sa.select(sa.func.coalesce(sa.func.sum(predictions.c.n_rows), 0)).where(
        predictions.c.model == model, predictions.c.status >= 200, predictions.c.status < 300
    )
    try:
        with translated(url, "read"), engine.connect() as conn:
            version = schema_version(conn, url)
            if not version:
                return None
            cost_seconds = conn.execute(_scoped(spent, sessions, version, use_case)).scalar_one()
            n_rows = int(conn.execute(_scoped(rows, predictions, version, use_case)).scalar_one())
    finally:
        engine.dispose()
    if cost_seconds is None:
        return None
    return cost_per_1000(1.0, float(cost_seconds), n_rows)
