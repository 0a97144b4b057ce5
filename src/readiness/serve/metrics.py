"""Infrastructure metrics of a server, in Prometheus' text format at ``/metrics``.

With several uvicorn workers every worker writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (the runner wipes it at start) and a scrape, answered by
any one worker, adds them all up; without it (one process) a private registry holds
them. Multiprocess mode has no process collector, so each worker exports its own CPU
seconds and resident memory (``pid`` label) from psutil. Cost per 1,000 predictions is
computed at scrape time from the declared instance price, the server's uptime and the
rows predicted by all of its workers.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
STARTED_ENV = "READINESS_SERVE_STARTED"  # the server's start time (epoch), set by the runner
LATENCY_BUCKETS = (
    0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
PROCESS_EVERY_S = 5.0


def prepare_dir(path: Path) -> Path:
    """An empty multiprocess folder: samples of a previous server would be counted again."""
    import shutil

    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


class Metrics:
    """The server's metric objects, shared by every route of one worker."""

    def __init__(
        self,
        cost_per_hour: float | None = None,
        monitor_files: list[Path] | None = None,
        wanted: Callable[[], list[tuple[str, str, str | None]]] | None = None,
    ) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry()  # a private one: two apps in a process never clash
        self.cost_per_hour = cost_per_hour
        # `readiness monitor`'s newest figures, one file per served model (read per scrape)
        self.monitor_files = list(monitor_files or [])
        # per served model: (model, stage, the version the registry's stage points to)
        self.wanted = wanted
        self.started = float(os.environ.get(STARTED_ENV) or time.time())
        reg = self.registry
        self.requests = Counter(
            "readiness_requests",
            "HTTP requests by endpoint, model version and status code",
            ["endpoint", "model", "version", "status"],
            registry=reg,
        )
        self.errors = Counter(
            "readiness_request_errors",
            "HTTP requests answered with a status of 400 or above",
            ["endpoint", "model", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            "readiness_request_latency_seconds",
            "Time from request to response, by endpoint and model version",
            ["endpoint", "model", "version"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.rows = Counter(
            "readiness_rows_predicted",
            "Rows predicted, by model version",
            ["model", "version"],
            registry=reg,
        )
        self.load_seconds = Gauge(
            "readiness_model_load_seconds",
            "Seconds the last load of a model version took",
            ["model", "version"],
            multiprocess_mode="max",
            registry=reg,
        )
        self.load_failures = Counter(
            "readiness_model_load_failures",
            "Model versions that failed to load (the previous one kept serving)",
            ["model", "version"],
            registry=reg,
        )
        self.served = Gauge(
            "readiness_served_model_info",
            "1 for the model version a worker serves",
            ["model", "version", "stage"],
            multiprocess_mode="livemax",
            registry=reg,
        )
        self.feedback = Counter(
            "readiness_feedback_labels",
            "Ground-truth labels received",
            ["model"],
            registry=reg,
        )
        self.feedback_refused = Counter(
            "readiness_feedback_refused",
            "Feedback refused: unknown request id, wrong label count, labels breaking their rules",
            ["model", "reason"],
            registry=reg,
        )
        self.log_dropped = Counter(
            "readiness_prediction_log_dropped",
            "Prediction log rows dropped because the writer fell behind",
            registry=reg,
        )
        self.cpu = Gauge(
            "readiness_process_cpu_seconds",
            "CPU seconds (user + system) of each worker process",
            multiprocess_mode="liveall",
            registry=reg,
        )
        self.rss = Gauge(
            "readiness_process_resident_memory_bytes",
            "Resident memory of each worker process",
            multiprocess_mode="liveall",
            registry=reg,
        )
        self._served_labels: dict[str, tuple[str, str, str]] = {}  # per model
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- what the app tells it -------------------------------------------------------------

    def observe(self, endpoint: str, model: str, version: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, model, version, str(status)).inc()
        self.latency.labels(endpoint, model, version).observe(seconds)
        if status >= 400:
            self.errors.labels(endpoint, model, str(status)).inc()

    def loaded(self, model: str, version: str, stage: str, seconds: float, ok: bool) -> None:
        if not ok:
            self.load_failures.labels(model, version).inc()
            return
        self.load_seconds.labels(model, version).set(seconds)
        with self._lock:
            before = self._served_labels.get(model)
            if before is not None:
                self.served.labels(*before).set(0)
            self._served_labels[model] = (model, version, stage)
            self.served.labels(model, version, stage).set(1)

    def update_process(self) -> None:
        import psutil

        me = psutil.Process()
        times = me.cpu_times()
        self.cpu.set(times.user + times.system)
        self.rss.set(me.memory_info().rss)

    def watch_process(self) -> None:
        """Refresh this worker's CPU and memory gauges every few seconds (a daemon thread)."""

        def loop() -> None:
            while True:
                self.update_process()
                if self._stop.wait(PROCESS_EVERY_S):
                    return

        threading.Thread(target=loop, name="readiness-process-metrics", daemon=True).start()

    def close(self) -> None:
        """This worker stops: its live gauges leave the sums (multiprocess mode)."""
        self._stop.set()
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())

    # -- a scrape ----------------------------------------------------------------------------

    def exposition(self) -> tuple[bytes, str]:
        """The text a scrape gets, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        self.update_process()
        if self.multiprocess:
            from prometheus_client import multiprocess

            _forget_dead_workers(Path(os.environ[MULTIPROC_ENV]))
            families = list(multiprocess.MultiProcessCollector(CollectorRegistry()).collect())
        else:
            families = list(self.registry.collect())
        families += self._cost(families)
        families += self._registry()
        monitored = [f for path in self.monitor_files for f in monitor_families(path)]
        families += _merged(monitored)  # one family per name, a sample per model
        scrape = CollectorRegistry()
        scrape.register(_Fixed(families))
        return generate_latest(scrape), CONTENT_TYPE_LATEST

    def _cost(self, families: list[Any]) -> list[Any]:
        from prometheus_client.core import GaugeMetricFamily

        rows = sum(
            s.value
            for f in families
            if f.name == "readiness_rows_predicted"
            for s in f.samples
            if s.name.endswith("_total")
        )
        out = []
        if self.cost_per_hour is not None:
            price = GaugeMetricFamily(
                "readiness_cost_per_hour", "Declared instance price per hour (serving:)"
            )
            price.add_metric([], self.cost_per_hour)
            out.append(price)
        from readiness.serve.predlog import cost_per_1000

        per_1000 = None
        if self.cost_per_hour is not None:
            per_1000 = cost_per_1000(self.cost_per_hour, time.time() - self.started, int(rows))
        if per_1000 is not None:
            gauge = GaugeMetricFamily(
                "readiness_cost_per_1000_predictions",
                "Instance cost per 1,000 rows predicted since the server started",
            )
            gauge.add_metric([], per_1000)
            out.append(gauge)
        uptime = GaugeMetricFamily("readiness_server_start_time_seconds", "Server start (epoch)")
        uptime.add_metric([], self.started)
        out.append(uptime)
        return out


    def _registry(self) -> list[Any]:
        """What the registry's stage points to, as the holder last saw it (initial load and
        every refresh): the alert on a served version that is not the registry's reads it."""
        from prometheus_client.core import GaugeMetricFamily

        if self.wanted is None:
            return []
        family = GaugeMetricFamily(
            "readiness_registry_stage_version_info",
            "1 for the version the registry's stage points to (as the server last looked)",
            labels=["model", "stage", "version"],
        )
        for model, stage, version in self.wanted():
            if version is not None:
                family.add_metric([model, stage, version], 1)
        return [family]


MONITOR_MAX_BYTES = 1_048_576


def monitor_families(path: Path) -> list[Any]:
    """The gauges of ``readiness monitor``'s newest figures file (docs/alerts.md).

    A missing, oversized or corrupt file exports nothing: a scrape never fails on it.
    """
    import json

    try:
        if path.stat().st_size > MONITOR_MAX_BYTES:
            return []
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):  # absent, unreadable, not JSON (ValueError covers UTF-8)
        return []
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return []
    return _monitor_gauges(data)


def _finite(value: Any) -> float | None:
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _monitor_gauges(data: dict[str, Any]) -> list[Any]:
    import datetime as dt

    from prometheus_client.core import GaugeMetricFamily

    model = data["name"]
    out = []
    single = (
        ("readiness_drift_share", "Share of drifted features in the last monitor window",
         data.get("drift_share")),
        ("readiness_prediction_drift", "Drift score of the predictions in the last monitor window",
         data.get("prediction_drift")),
        ("readiness_labelled_rows", "Labelled rows in the last monitor window",
         data.get("labelled_rows")),
        ("readiness_net_value_per_1000", "Net value per 1,000 predictions on labelled traffic",
         data.get("net_value_per_1000")),
    )
    for name, doc, raw in single:
        value = _finite(raw)
        if value is not None:
            family = GaugeMetricFamily(name, doc, labels=["model"])
            family.add_metric([model], value)
            out.append(family)
    metrics = data.get("metrics")
    if isinstance(metrics, dict):
        family = GaugeMetricFamily(
            "readiness_labelled_metric",
            "A criterion's metric recomputed on the labelled requests of the last monitor window",
            labels=["model", "metric"],
        )
        for metric, figures in sorted(metrics.items()):
            value = _finite(figures.get("value")) if isinstance(figures, dict) else None
            if value is not None:
                family.add_metric([model, str(metric)], value)
        if family.samples:
            out.append(family)
    try:
        at = dt.datetime.fromisoformat(str(data.get("at")))
    except ValueError:  # no time or not ISO 8601: no timestamp gauge
        return out
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    family = GaugeMetricFamily(
        "readiness_monitor_last_run_timestamp_seconds", "When the last monitor run ended (epoch)",
        labels=["model"],
    )
    family.add_metric([model], at.timestamp())
    out.append(family)
    return out


def _merged(families: list[Any]) -> list[Any]:
    """Families of the same name (one per model's monitor file) as one: an exposition
    may name a family once."""
    out: dict[str, Any] = {}
    for family in families:
        if family.name in out:
            out[family.name].samples.extend(family.samples)
        else:
            out[family.name] = family
    return list(out.values())


class _Fixed:
    """A collector that yields metric families collected already."""

    def __init__(self, families: Iterable[Any]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Any]:
        return iter(self.families)


def _forget_dead_workers(folder: Path) -> None:
    """A worker killed without its shutdown leaves live gauges behind: drop them."""
    import psutil
    from prometheus_client import multiprocess

    for path in folder.glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(folder))
