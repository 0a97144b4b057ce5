"""Both monitoring layers over time: one value per time bucket of the prediction log.

Infrastructure (traffic, p95 latency, error rate, cost per 1,000 predictions) and model
quality (the labelled criteria metrics, net value per 1,000 predictions, drift share from
the monitor runs on record), each with the bound readiness.yaml declares for it, and the
registry's promotions and rollbacks as events. ``readiness dashboard`` draws it.
"""

from __future__ import annotations

import datetime as dt
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
    seed: int = 0,
) -> Timeline:
    """The dashboard's series for ``name`` between ``since`` and ``until`` (epoch seconds).

    Each bucket is judged as ``readiness monitor`` judges a window (the same functions):
    its infrastructure figures, and its labelled metrics and net value when it holds at
    least ``serving.min_labelled`` labelled rows.
    """
    from readiness.core.config import load_config
    from readiness.core.schema import Serving
    from readiness.monitoring.window import Window, infrastructure, spread
    from readiness.serve.predlog import cost_per_1000, read_predictions, resolve_url

    config = load_config(project)
    serving = config.serving or Serving()
    url = resolve_url(project, log_url or serving.log_url)
    log = read_predictions(url, model=name, since=since, until=until, status=None,
                           use_case=config.use_case.name)
    edges = _buckets(since, until, buckets)
    slot = [_index(edges, float(ts)) for ts in log["ts"]] if len(log) else []
    windows = []
    for i in range(buckets):
        part = log[[s == i for s in slot]] if len(log) else log
        windows.append(Window(edges[i], edges[i + 1], part, spread(part[part["status"] == 200])))
    infra = [infrastructure(w) for w in windows]
    out = Timeline(name, since, until, edges, requests=len(log))
    out.versions = [_mode(list(w.successful["version"])) for w in windows]
    counts: list[float | None] = [float(f["requests"]) for f in infra]
    out.series.append(Series("requests", "requests", "per bucket", counts))
    latency, source = _latency_bound(config)
    out.series.append(
        Series("latency_p95_ms", "p95 latency", "ms", [f["latency_p95_ms"] for f in infra],
               latency, "max" if latency is not None else None, source)
    )
    ceiling = serving.max_error_rate
    out.series.append(
        Series("error_rate", "error rate", "share of requests", [f["error_rate"] for f in infra],
               ceiling, "max" if ceiling is not None else None,
               "serving.max_error_rate" if ceiling is not None else "")
    )
    if serving.cost_per_hour is not None:
        seconds = (until - since) / buckets
        out.series.append(
            Series("cost_per_1000", "cost per 1,000 predictions", "currency",
                   [cost_per_1000(serving.cost_per_hour, seconds, len(w.rows)) for w in windows])
        )
    out.series.extend(quality_series(config, windows, serving.min_labelled, seed))
    out.series.append(_drift_series(project, name, config, edges))
    out.events = registry_events(project, name, since, until)
    out.monitor = _latest_monitor(project, name)
    return out


def quality_series(config: Any, windows: list[Any], min_labelled: int, seed: int) -> list[Series]:
    """Each recomputable criterion and the net value, per bucket, from its labelled rows."""
    from readiness.monitoring.quality import RECOMPUTED
    from readiness.monitoring.version_quality import VersionQuality, judge_quality

    judged = []
    for window in windows:
        quality = VersionQuality(version="", predictions=len(window.rows))
        if len(window.rows):
            judge_quality(config, window.rows, min_labelled, seed, quality)
        judged.append(quality)
    out = []
    for number, criterion in enumerate(config.criteria.technical):
        if criterion.metric not in RECOMPUTED:
            continue  # not recomputable from labels (latency, regression metrics)
        checks = [next((m for m in q.metrics if m.metric == criterion.metric), None)
                  for q in judged]
        direction = "min" if criterion.min is not None else "max"
        bound = criterion.min if criterion.min is not None else criterion.max
        out.append(
            Series(
                f"labelled_{criterion.metric}",
                f"{criterion.metric} on labelled rows",
                f"at least {min_labelled} labelled rows per point",
                [c.value if c is not None else None for c in checks],
                bound,
                direction,
                f"criteria.technical[{number}] {criterion.metric} {direction}",
            )
        )
    business = config.criteria.business
    if business is not None and business.value_per_outcome is not None:
        minimum = business.min_net_value_per_1000
        out.append(
            Series(
                "net_value_per_1000",
                "net value per 1,000 predictions (labelled rows)",
                "value",
                [q.net_value_per_1000 for q in judged],
                minimum,
                "min" if minimum is not None else None,
                "criteria.business.min_net_value_per_1000" if minimum is not None else "",
            )
        )
    return out


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

    path = project.monitor_dir / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
