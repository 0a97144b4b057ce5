"""The use case's business metric per period, against the model's realised performance.

The net value per 1,000 predictions is what the criteria say the model is worth; the
business metric (``use_case.business_metric``: cost per patient, churn, revenue) is what
the business sees. A user records it per period (``readiness log NAME=VALUE --period
2026-12-01``, kept in ``.readiness/monitor/business.jsonl``, or a file with a ``period``
column), and the monitor correlates it, period by period, with the model's figures on the
labelled rows logged in the same period: each recomputable criterion and the net value.
A correlation needs at least :data:`MIN_PERIODS` periods with both figures.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import UsageError
from readiness.core.project import Project
from readiness.core.results import Renderable

FILE_NAME = "business.jsonl"
MIN_PERIODS = 3
LOOKBACK_SECONDS = 90 * 86400  # periods ending within this span before the window's end
PERIOD_HINT = "a day (2026-12-01), a month (2026-12) or START/END (ISO dates or times)"


@dataclass
class BusinessPoint:
    """One recorded value of a business metric over a period (epoch seconds, end excluded)."""

    metric: str
    value: float
    since: float
    until: float
    model: str | None = None
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class BusinessLogged(Renderable):
    """What ``readiness log NAME=VALUE --period P`` recorded."""

    points: list[BusinessPoint]
    file: str

    def to_dict(self) -> dict[str, Any]:
        return {"points": [p.to_dict() for p in self.points], "file": self.file}


@dataclass
class BusinessCorrelation:
    """One business metric, period by period, against each figure of the model."""

    metric: str
    periods: list[dict[str, Any]] = field(default_factory=list)  # since, until, value, figures
    correlations: list[dict[str, Any]] = field(default_factory=list)  # figure, periods, r, rho
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- periods ---------------------------------------------------------------------------------


def _instant(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text.strip())
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def parse_period(text: str) -> tuple[float, float]:
    """``(since, until)`` in epoch seconds of a period such as ``2026-12-01`` or ``A/B``."""
    raw = str(text).strip()
    try:
        if "/" in raw:
            start, end = (_instant(part) for part in raw.split("/", 1))
        elif len(raw) == 7:  # a month, YYYY-MM
            start = _instant(raw + "-01")
            end = (start + dt.timedelta(days=32)).replace(day=1)
        else:
            start = _instant(raw)
            if len(raw) != 10:
                raise ValueError("a moment is not a period")
            end = start + dt.timedelta(days=1)
    except ValueError:
        raise UsageError(f"--period {text}: give {PERIOD_HINT}") from None
    if end <= start:
        raise UsageError(f"--period {text}: the end must come after the start")
    return start.timestamp(), end.timestamp()


# -- the record ------------------------------------------------------------------------------


def business_path(project: Project) -> Path:
    return project.monitor_dir / FILE_NAME


def log_business(
    project: Project, values: dict[str, Any], period: str, model: str | None = None
) -> BusinessLogged:
    """Append each ``values`` item as the business metric's value over ``period``."""
    from readiness.core.fsutil import append_text

    since, until = parse_period(period)
    at = audit.now()
    points = []
    for metric, raw in values.items():
        value = _number(raw)
        if value is None:
            raise UsageError(f"{metric}={raw!r}: a business metric's value must be a number")
        points.append(BusinessPoint(str(metric), value, since, until, model, at))
    path = business_path(project)
    append_text(path, "".join(json.dumps(p.to_dict(), sort_keys=True) + "\n" for p in points))
    audit.append(project, "business.logged", metrics=sorted(values), period=period, model=model)
    return BusinessLogged(points, path.relative_to(project.root).as_posix())


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def read_business(project: Project, model: str) -> list[BusinessPoint]:
    """The recorded points of ``model`` (or of no model); the latest per metric and period."""
    path = business_path(project)
    if not path.is_file():
        return []
    latest: dict[tuple[str, float, float], BusinessPoint] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            point = BusinessPoint(
                str(data["metric"]), float(data["value"]), float(data["since"]),
                float(data["until"]), data.get("model"), str(data.get("at", "")),
            )
        except (ValueError, KeyError, TypeError):  # a torn or hand-edited line: skipped
            continue
        if point.model in (None, model) and math.isfinite(point.value):
            latest[(point.metric, point.since, point.until)] = point
    return list(latest.values())


def points_from_file(path: str | Path, model: str | None = None) -> list[BusinessPoint]:
    """Points from a CSV/Parquet file: a ``period`` column and one numeric column per metric."""
    from readiness.data.validation import DataValidationError, read_table

    try:
        frame = read_table(Path(path))
    except DataValidationError as exc:
        raise UsageError(f"--business: {exc}") from None
    if "period" not in frame.columns:
        raise UsageError(f"--business {path}: needs a 'period' column ({PERIOD_HINT})")
    metrics = [c for c in frame.columns if c != "period"]
    if not metrics:
        raise UsageError(f"--business {path}: no metric column beside 'period'")
    points = []
    for _, row in frame.iterrows():
        since, until = parse_period(str(row["period"]))
        for metric in metrics:
            value = _number(row[metric])
            if value is not None:
                points.append(BusinessPoint(str(metric), value, since, until, model))
    return points


# -- the correlation -------------------------------------------------------------------------


def _correlations(xs: list[float], ys: list[float]) -> tuple[float | None, float | None]:
    """Pearson's r and Spearman's rho of two series (None where one of them is constant)."""
    import numpy as np
    from scipy import stats

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, None
    r = float(stats.pearsonr(x, y).statistic)
    rho = float(stats.spearmanr(x, y).statistic)
    return (r if math.isfinite(r) else None), (rho if math.isfinite(rho) else None)


def correlate(
    project: Project,
    name: str,
    config: Any,
    points: list[BusinessPoint],
    url: str,
    until: float,
    min_labelled: int,
    seed: int = 0,
) -> list[BusinessCorrelation]:
    """Each business metric against the model's labelled figures over the same periods."""
    from readiness.monitoring.timeline import quality_series
    from readiness.monitoring.window import Window, spread
    from readiness.serve.predlog import read_predictions

    latest = {(p.metric, p.since, p.until): p for p in points}  # a later point replaces one
    recent = [p for p in latest.values() if until - LOOKBACK_SECONDS < p.until]
    if not recent:
        return []
    since = min(p.since for p in recent)
    log = read_predictions(url, model=name, since=since, until=max(p.until for p in recent),
                           use_case=config.use_case.name)
    out = []
    for metric in sorted({p.metric for p in recent}):
        mine = sorted((p for p in recent if p.metric == metric), key=lambda p: p.since)
        windows = []
        for p in mine:
            part = log[(log["ts"] >= p.since) & (log["ts"] < p.until)] if len(log) else log
            windows.append(Window(p.since, p.until, part, spread(part)))
        series = quality_series(config, windows, min_labelled, seed)
        found = BusinessCorrelation(metric)
        for i, p in enumerate(mine):
            found.periods.append({
                "since": p.since, "until": p.until, "value": p.value,
                "labelled": int(windows[i].rows["__label"].notna().sum())
                if len(windows[i].rows) else 0,
                "figures": {s.key: s.values[i] for s in series},
            })
        for s in series:
            pairs = [(p.value, v) for p, v in zip(mine, s.values, strict=True) if v is not None]
            r, rho = _correlations(*map(list, zip(*pairs, strict=True))) if len(
                pairs) >= MIN_PERIODS else (None, None)
            found.correlations.append({
                "figure": s.key, "periods": len(pairs), "pearson": r, "spearman": rho,
            })
        judged = max((c["periods"] for c in found.correlations), default=0)
        if judged < MIN_PERIODS:
            found.note = (
                f"{judged} period(s) with at least {min_labelled} labelled rows: a correlation "
                f"needs {MIN_PERIODS}"
            )
        out.append(found)
    return out
