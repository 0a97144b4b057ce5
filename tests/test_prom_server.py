"""The real-Prometheus harness against a real exporter: scrapes, PromQL, bearer auth, promtool."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .prom_server import Prometheus, check_rules, free_port, require_prometheus, require_promtool

# A prometheus_client exporter observing a histogram and a counter every 20 ms, for at most
# 60 s (it also stops when the test kills it).
EXPORTER = """
import random, sys, time
from prometheus_client import Counter, Histogram, start_http_server
latency = Histogram("x", "a latency", buckets=(0.01, 0.05, 0.1, 0.5, 1.0))
done = Counter("jobs", "jobs done")
start_http_server(int(sys.argv[1]), addr="127.0.0.1")
end = time.monotonic() + 60
while time.monotonic() < end:
    latency.observe(random.uniform(0.0, 0.1))
    done.inc()
    time.sleep(0.02)
"""

TOKEN = "s3cret-token"
METRICS = b"# TYPE probe gauge\nprobe 1\n"


def _wait_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1):
                return
        except OSError:  # not up yet
            time.sleep(0.05)
    raise AssertionError(f"exporter on port {port} not listening after {timeout:.0f} s")


@pytest.fixture
def exporter() -> Iterator[str]:
    require_prometheus()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", EXPORTER, str(port)], start_new_session=True)
    try:
        _wait_listening(port)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class _BearerOnly(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(METRICS)))
        self.end_headers()
        self.wfile.write(METRICS)

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def protected() -> Iterator[str]:
    require_prometheus()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BearerOnly)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_scrapes_an_exporter_and_answers_promql(exporter):
    with Prometheus(target=exporter) as prom:
        up = prom.wait_for("up", lambda r: bool(r) and r[0]["value"][1] == "1")
        assert up[0]["metric"]["instance"] == exporter
        p95 = "histogram_quantile(0.95, sum(rate(x_bucket[30s])) by (le))"
        result = prom.wait_for(p95, lambda r: bool(r) and not math.isnan(float(r[0]["value"][1])))
        # uniform on [0, 0.1): the 0.95 quantile is interpolated inside the (0.05, 0.1] bucket
        assert 0.05 < float(result[0]["value"][1]) <= 0.1
        assert prom.value("sum(rate(jobs_total[30s]))") > 0
        target = prom.targets()[0]
        assert target["health"] == "up" and target["lastError"] == ""
    assert prom.folder is None  # stopped and cleaned


def test_a_wrong_bearer_token_makes_the_target_unhealthy(protected):
    with Prometheus(target=protected, token="wrong") as prom:
        target = prom.wait_for_target("down")
        assert "401" in target["lastError"]
        assert prom.value("up") == 0


def test_rules_and_a_token_file_on_a_protected_target(protected, tmp_path: Path):
    require_promtool()
    rules = (
        "groups:\n"
        "  - name: self-test\n"
        "    rules:\n"
        "      - alert: TargetUp\n"
        "        expr: up == 1\n"
        "        labels: {severity: info}\n"
    )
    path = tmp_path / "rules.yml"
    path.write_text(rules)
    ok, output = check_rules(path)
    assert ok, output
    path.write_text(rules.replace("up == 1", "up =="))
    ok, output = check_rules(path)
    assert not ok and "parse error" in output
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    with Prometheus(target=protected, token_file=token_file, rules=rules) as prom:
        assert prom.wait_for_target("up")["lastError"] == ""
        prom.wait_for("probe", lambda r: bool(r) and r[0]["value"][1] == "1")
        assert prom.rules()[0]["rules"][0]["name"] == "TargetUp"
        deadline = time.monotonic() + 10
        while not prom.alerts() and time.monotonic() < deadline:
            time.sleep(0.25)
        assert prom.alerts()[0]["labels"]["alertname"] == "TargetUp"


def test_a_bad_rule_file_fails_fast_with_the_log_and_leaves_nothing():
    require_prometheus()
    broken = Prometheus(target="127.0.0.1:1", rules="groups: [{name: x, rules: [{alert: A}]}]")
    try:
        with pytest.raises(RuntimeError, match="prometheus exited"):
            broken.__enter__()
        assert broken.folder is None and broken._process is None
    finally:
        broken.stop()
