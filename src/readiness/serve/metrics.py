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
from collections.abc import Iterable
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

    def __init__(self, cost_per_hour: float | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry()  # a private one: two apps in a process never clash
        self.cost_per_hour = cost_per_hour
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
            ["endpoint", "status"],
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
        self._served_labels: tuple[str, str, str] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- what the app tells it -------------------------------------------------------------

    def observe(self, endpoint: str, model: str, version: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, model, version, str(status)).inc()
        self.latency.labels(endpoint, model, version).observe(seconds)
        if status >= 400:
            self.errors.labels(endpoint, str(status)).inc()

    def loaded(self, model: str, version: str, stage: str, seconds: float, ok: bool) -> None:
        if not ok:
            self.load_failures.labels(model, version).inc()
            return
        self.load_seconds.labels(model, version).set(seconds)
        with self._lock:
            if self._served_labels is not None:
                self.served.labels(*self._served_labels).set(0)
            self._served_labels = (model, version, stage)
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
