"""A real Prometheus server for tests: Debian's ``prometheus`` in a temporary directory.

    with Prometheus(target="127.0.0.1:8000", token=key) as prom:
        prom.wait_for("up", lambda r: r and r[0]["value"][1] == "1")
        prom.query('histogram_quantile(0.95, sum(rate(x_bucket[30s])) by (le))')

It scrapes one target every second (``scrape_interval``), listens on a free 127.0.0.1 port,
keeps its TSDB in the temporary directory, and is always stopped (terminate, then kill) on
leaving the ``with`` block, even when starting failed. Every wait is bounded. Prometheus has no
telemetry of its own; the config has no remote write, no service discovery beyond the one static
target and no alertmanager, so nothing leaves 127.0.0.1. ``promtool`` (same package) checks
rule files. Tests call :func:`require_prometheus` to skip, with the reason, where it is absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DEBIAN = Path("/usr/bin")
STOP_WAIT = 10.0  # seconds for a clean shutdown before SIGKILL


def _binary(name: str) -> str | None:
    found = shutil.which(name) or (str(DEBIAN / name) if (DEBIAN / name).is_file() else None)
    return found if found and os.access(found, os.X_OK) else None


def prometheus_binary() -> str | None:
    """The ``prometheus`` executable (on PATH or Debian's), or None where it is absent."""
    return _binary("prometheus")


def promtool_binary() -> str | None:
    """The ``promtool`` executable shipped with the prometheus package, or None."""
    return _binary("promtool")


def require_prometheus() -> str:
    """The prometheus binary, or skip the calling test with the reason."""
    found = prometheus_binary()
    if found is None:
        pytest.skip("no prometheus binary (Debian's `prometheus` package, installed by .ci/run)")
    return found


def require_promtool() -> str:
    """The promtool binary, or skip the calling test with the reason."""
    found = promtool_binary()
    if found is None:
        pytest.skip("no promtool binary (Debian's `prometheus` package, installed by .ci/run)")
    return found


def check_rules(path: str | Path, timeout: float = 30.0) -> tuple[bool, str]:
    """``promtool check rules PATH``: (whether the rule file is valid, promtool's output)."""
    tool = promtool_binary()
    if tool is None:
        return False, "promtool not found"
    done = subprocess.run(
        [tool, "check", "rules", str(path)], capture_output=True, text=True, timeout=timeout
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _yaml(value: Any) -> str:
    # JSON is YAML: no dependency and no quoting surprises in tokens or paths
    return json.dumps(value)


class Prometheus:
    """A real Prometheus scraping one target; a context manager that always stops it.

    Parameters
    ----------
    target
        ``host:port`` of the endpoint to scrape.
    metrics_path
        The path scraped on the target.
    token, token_file
        A bearer token sent on every scrape, inline (``credentials``) or from a file
        (``credentials_file``); at most one of them.
    scrape_interval
        How often the target is scraped (its timeout is the same).
    rules
        A rule file: a path, or the YAML text of one (written into the temporary directory).
        Rules are evaluated every second.
    job
        The scrape job's name (the ``job`` label).
    startup_timeout
        Seconds to wait for ``/-/ready``.
    """

    def __init__(
        self,
        target: str,
        *,
        metrics_path: str = "/metrics",
        token: str | None = None,
        token_file: str | Path | None = None,
        scrape_interval: str = "1s",
        rules: str | Path | None = None,
        job: str = "target",
        startup_timeout: float = 30.0,
    ) -> None:
        if token is not None and token_file is not None:
            raise ValueError("give token or token_file, not both")
        self.target, self.metrics_path, self.job = target, metrics_path, job
        self.token, self.token_file = token, token_file
        self.scrape_interval, self.rule_source = scrape_interval, rules
        self.startup_timeout = startup_timeout
        self.port = 0
        self.url = ""
        self.folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Prometheus:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def config(self, folder: Path) -> str:
        """The prometheus.yml text for this target (rule file written into ``folder``)."""
        job: dict[str, Any] = {
            "job_name": self.job,
            "metrics_path": self.metrics_path,
            "scrape_interval": self.scrape_interval,
            "scrape_timeout": self.scrape_interval,  # must not exceed the interval
            "static_configs": [{"targets": [self.target]}],
        }
        if self.token is not None:
            job["authorization"] = {"type": "Bearer", "credentials": self.token}
        elif self.token_file is not None:
            job["authorization"] = {"type": "Bearer", "credentials_file": str(self.token_file)}
        config: dict[str, Any] = {
            "global": {"scrape_interval": self.scrape_interval, "evaluation_interval": "1s"},
            "scrape_configs": [job],
        }
        if self.rule_source is not None:
            config["rule_files"] = [str(self._rule_file(folder))]
        return _yaml(config) + "\n"

    def _rule_file(self, folder: Path) -> Path:
        if isinstance(self.rule_source, Path):
            return self.rule_source.resolve()
        path = folder / "rules.yml"
        path.write_text(str(self.rule_source), encoding="utf-8")
        return path

    def start(self) -> None:
        """Write the config, start prometheus and wait until it is ready."""
        binary = require_prometheus()
        self.folder = Path(tempfile.mkdtemp(prefix="readiness-prometheus-"))
        config = self.folder / "prometheus.yml"
        config.write_text(self.config(self.folder), encoding="utf-8")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(self.folder / "prometheus.log", "wb")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=info",
            ],
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited ({self._process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):  # not listening yet
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"prometheus not ready after {self.startup_timeout:.0f} s:\n{self.log()}"
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove its directory; safe to repeat."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=STOP_WAIT)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def log(self, tail: int = 4000) -> str:
        """The end of prometheus's own log (for assertion messages)."""
        if self.folder is None or not (self.folder / "prometheus.log").is_file():
            return ""
        return (self.folder / "prometheus.log").read_text(errors="replace")[-tail:]

    # -- HTTP API --------------------------------------------------------------------------

    def api(self, path: str, **params: str) -> Any:
        """GET ``/api/v1/PATH`` and return its ``data`` (raises on an error status)."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=10) as answer:
                body = json.load(answer)
        except urllib.error.HTTPError as error:  # 400/422 carry the PromQL error as JSON
            body = json.loads(error.read() or b"{}")
        if body.get("status") != "success":
            raise RuntimeError(f"prometheus {path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query: the result vector, e.g. ``[{"metric": {...}, "value": [t, "1"]}]``."""
        data = self.api("query", query=promql)
        result = data["result"]
        if data["resultType"] == "scalar":  # [t, "v"]: shaped like one sample
            return [{"metric": {}, "value": result}]
        return list(result)

    def value(self, promql: str) -> float | None:
        """The query's single value as a float (NaN included), or None for an empty result."""
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def wait_for(
        self,
        promql: str,
        predicate: Callable[[list[dict[str, Any]]], bool] = bool,
        timeout: float = 20.0,
        interval: float = 0.25,
    ) -> list[dict[str, Any]]:
        """Poll ``promql`` until ``predicate(result)`` holds; the result, or AssertionError."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while True:
            result = self.query(promql)
            if predicate(result):
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{promql!r} not satisfied after {timeout:.0f} s: last result {result}; "
                    f"targets {self.targets()}"
                )
            time.sleep(interval)

    def targets(self) -> list[dict[str, Any]]:
        """The active targets (``health`` is "up"/"down"/"unknown", ``lastError`` the reason)."""
        return list(self.api("targets", state="active")["activeTargets"])

    def wait_for_target(self, health: str = "up", timeout: float = 20.0) -> dict[str, Any]:
        """Poll until the (one) target has been scraped with this health; that target."""
        deadline = time.monotonic() + timeout
        while True:
            targets = self.targets()
            if targets and targets[0]["health"] == health:
                return targets[0]
            if time.monotonic() >= deadline:
                raise AssertionError(f"target not {health} after {timeout:.0f} s: {targets}")
            time.sleep(0.25)

    def rules(self) -> list[dict[str, Any]]:
        """The rule groups loaded (``/api/v1/rules``), with each rule's state and health."""
        return list(self.api("rules")["groups"])

    def alerts(self) -> list[dict[str, Any]]:
        """The active alerts (pending or firing) with their labels and state."""
        return list(self.api("alerts")["alerts"])


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, sig)
