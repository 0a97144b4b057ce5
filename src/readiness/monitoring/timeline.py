"""Both monitoring layers over time: one value per time bucket of the prediction log.

Infrastructure (traffic, p95 latency, error rate, cost per 1,000 predictions) and model
quality (the labelled criteria metrics, net value per 1,000 predictions, drift share from
the monitor runs on record), each with the bound readiness.yaml declares for it, and the
registry's promotions and rollbacks as events. ``readiness dashboard`` draws it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from readiness.core import audit
from readiness.core.project import Project
from readiness.core.results import Renderable

REGISTRY_EVENTS = {
    "model.promoted": "promoted",
    "model.promoted.forced": "promoted (forced)",
    "model.rolled_back": "rolled back",
}


@dataclass
class Series:
    """One chart: a value per bucket (None: nothing to tell there), and its declared bound."""

    key: str
    title: str
    unit: str
    values: list[float | None]
    bound: float | None = None
    direction: str | None = None  # "max": above the bound is a breach; "min": below
    source: str = ""  # where the bound is declared

    @property
    def breaches(self) -> list[int]:
        if self.bound is None or self.direction is None:
            return []
        bound, above = self.bound, self.direction == "max"
        return [
            i
            for i, v in enumerate(self.values)
            if v is not None and (v > bound if above else v < bound)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "breaches": self.breaches}


@dataclass
class Timeline(Renderable):
    """The series of one served model over a window, bucket by bucket."""

    name: str
    since: float
    until: float
    edges: list[float]  # bucket i spans edges[i] .. edges[i + 1]
    series: list[Series] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # at (epoch), label, version
    versions: list[str | None] = field(default_factory=list)  # the version serving most rows
    requests: int = 0
    monitor: dict[str, Any] | None = None  # the latest monitor run on the log, when one ran

    @property
    def breaches(self) -> dict[str, int]:
        return {s.key: len(s.breaches) for s in self.series if s.breaches}

    @property
    def exit_code(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "since": self.since,
            "until": self.until,
            "edges": self.edges,
            "requests": self.requests,
            "versions": self.versions,
            "series": [s.to_dict() for s in self.series],
            "events": self.events,
            "breaches": self.breaches,
            "monitor": self.monitor,
        }


@dataclass
class DashboardWritten(Renderable):
    """Where ``readiness dashboard`` wrote its page, and what the page shows."""

    path: str
    timeline: Timeline

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, **self.timeline.to_dict()}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _latency_bound(config: Any) -> tuple[float | None, str]:
    found = [
        (c.max, f"criteria.technical {c.metric} max")
        for c in config.criteria.technical
        if c.metric == "latency_p95_ms" and c.max is not None
    ]
    business = config.criteria.business
    if business is not None and business.max_latency_ms is not None:
        found.append((business.max_latency_ms, "criteria.business.max_latency_ms"))
    return min(found) if found else (None, "")


def _buckets(since: float, until: float, count: int) -> list[float]:
    step = (until - since) / count
    return [since + i * step for i in range(count)] + [until]


def _index(edges: list[float], ts: float) -> int:
    step = (edges[-1] - edges[0]) / (len(edges) - 1)
    return min(len(edges) - 2, max(0, int((ts - edges[0]) // step))) if step > 0 else 0


def timeline(
    project: Project,
    name: str,
    since: float,
    until: float,
    buckets: int = 24,
    log_url: str | None = None,
) -> Timeline:
    """The dashboard's series for ``name`` between ``since`` and ``until`` (epoch seconds)."""
    from readiness.core.config import load_config
    from readiness.serve.predlog import read_predictions, resolve_url

    config = load_config(project)
    serving = config.serving
    url = resolve_url(project, log_url or (serving.log_url if serving else None))
    log = read_predictions(url, model=name, since=since, until=until, status=None)
    edges = _buckets(since, until, buckets)
    per: list[list[dict[str, Any]]] = [[] for _ in range(buckets)]
    for row in log.to_dict("records"):
        per[_index(edges, float(row["ts"]))].append(row)
    seconds = (until - since) / buckets
    out = Timeline(name, since, until, edges, requests=len(log))
    out.versions = [_mode([r["version"] for r in rows if r["status"] == 200]) for rows in per]
    out.series.append(Series("requests", "requests", "per bucket", [float(len(r)) for r in per]))
    latency, source = _latency_bound(config)
    out.series.append(
        Series(
            "latency_p95_ms",
            "p95 latency",
            "ms",
            [_percentile([r["latency_ms"] for r in rows if r["status"] == 200], 0.95)
             for rows in per],
            latency,
            "max" if latency is not None else None,
            source,
        )
    )
    ceiling = serving.max_error_rate if serving else None
    out.series.append(
        Series(
            "error_rate",
            "error rate",
            "share of requests",
            [(sum(r["status"] >= 400 for r in rows) / len(rows)) if rows else None for rows in per],
            ceiling,
            "max" if ceiling is not None else None,
            "serving.max_error_rate" if ceiling is not None else "",
        )
    )
    price = serving.cost_per_hour if serving else None
    if price is not None:
        from readiness.serve.predlog import cost_per_1000

        out.series.append(
            Series(
                "cost_per_1000",
                "cost per 1,000 predictions",
                "currency",
                [cost_per_1000(price, seconds, sum(r["n_rows"] for r in rows if r["status"] < 300))
                 for rows in per],
            )
        )
    out.series.extend(quality_series(config, per))
    out.series.append(_drift_series(project, name, config, edges))
    out.events = registry_events(project, name, since, until)
    out.monitor = _latest_monitor(project, name)
    return out


def quality_series(config: Any, per: list[list[dict[str, Any]]]) -> list[Series]:
    """Model quality per bucket from the labelled rows (a hook the labelled metrics fill)."""
    return []


def _mode(values: list[Any]) -> Any:
    if not values:
        return None
    return max(set(values), key=values.count)


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp).timestamp()


def registry_events(
    project: Project, name: str, since: float, until: float
) -> list[dict[str, Any]]:
    """Promotions to and rollbacks of production in the window, as points on the time axis."""
    found = []
    for entry in audit.read(project):
        kind = REGISTRY_EVENTS.get(str(entry.get("event")))
        if kind is None or entry.get("name") != name or entry.get("stage") != "production":
            continue
        at = _epoch(entry["at"])
        if since <= at <= until:
            version = entry.get("to_version") or entry.get("version")
            found.append({"at": at, "label": f"{kind} {version}", "version": version})
    return found


def _drift_series(project: Project, name: str, config: Any, edges: list[float]) -> Series:
    """The drift share of each monitor run on the log, in the bucket it ran in."""
    values: list[float | None] = [None] * (len(edges) - 1)
    for entry in audit.read(project):
        if entry.get("event") != "monitor.window" or entry.get("name") != name:
            continue
        share = entry.get("drift_share")
        at = _epoch(entry["at"])
        if isinstance(share, (int, float)) and edges[0] <= at <= edges[-1]:
            values[_index(edges, at)] = float(share)
    bound = config.drift.max_drift_share if config.drift else None
    return Series(
        "drift_share",
        "drift share (monitor runs)",
        "share of columns",
        values,
        bound,
        "max" if bound is not None else None,
        "drift.max_drift_share" if bound is not None else "",
    )


def _latest_monitor(project: Project, name: str) -> dict[str, Any] | None:
    import json

    path = project.state_dir / "monitor" / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
