"""Starting a server: the options from readiness.yaml and the command line, a preflight
that fails in one line (no version in the stage, no key, a model that does not load),
then uvicorn, in this process or in the background for code, notebooks and tests.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.errors import ReadinessError, UsageError
from readiness.core.project import Project
from readiness.serve.options import CONFIG_ENV, ServeOptions

READY_TIMEOUT_S = 120.0


class ServeError(ReadinessError):
    """The server cannot start, or did not become ready."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


STAGES = ("production", "staging")


def parse_models(names: str | list[str], stage: str = "production") -> list[tuple[str, str]]:
    """``NAME`` or ``NAME@STAGE`` each (``stage`` when none is given), checked: a valid
    model name, a known stage, no name twice, none named ``keys`` (the keys command)."""
    from readiness.registry.models import check_name

    given = [names] if isinstance(names, str) else list(names)
    if not given:
        raise UsageError("name a model to serve: readiness serve NAME [NAME ...]")
    models: list[tuple[str, str]] = []
    for item in given:
        name, at, own = str(item).partition("@")
        chosen = own if at else stage
        if name == "keys":
            raise UsageError(
                "keys is not a model name: readiness serve keys add|list|revoke manages API "
                "keys, on its own"
            )
        check_name(name)
        if chosen not in STAGES:
            raise UsageError(f"{item}: the stage is one of {', '.join(STAGES)}, not {chosen!r}")
        if any(name == seen for seen, _ in models):
            raise UsageError(f"{name} is named twice: each model is served once")
        models.append((name, chosen))
    return models


def options_for(
    project: Project,
    name: str | list[str],
    stage: str = "production",
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    auth: bool | None = None,
    metrics_public: bool = False,
    log_url: str | None = None,
) -> ServeOptions:
    """What ``readiness serve`` runs with: its arguments over readiness.yaml's ``serving:``.

    ``name`` is one model or several (``NAME@STAGE`` picks a stage for one of them).
    """
    from readiness.core.config import load_config
    from readiness.core.schema import Serving
    from readiness.serve.predlog import resolve_url

    models = parse_models(name, stage)
    config = load_config(project) if project.config_path.is_file() else None
    serving = (config.serving if config else None) or Serving()
    wanted_auth = serving.auth if auth is None else auth
    if not wanted_auth and not is_loopback(host):
        raise UsageError(
            f"--no-auth is allowed on 127.0.0.1 only, not on {host}: anyone who reaches the "
            "port could call the model. Add a key: readiness serve keys add NAME"
        )
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: a TCP port is 1-65535")
    return ServeOptions(
        root=str(project.root),
        name=models[0][0],
        stage=models[0][1],
        models=[[n, s] for n, s in models] if len(models) > 1 else [],
        host=host,
        port=port,
        workers=workers or serving.workers,
        auth=wanted_auth,
        metrics_public=metrics_public,
        log_url=resolve_url(project, log_url or serving.log_url),
        use_case=config.use_case.name if config else None,
        poll_seconds=serving.poll_seconds,
        max_body_bytes=serving.max_body_bytes,
        max_rows=serving.max_rows,
        sample_rate=serving.log_sample_rate,
        cost_per_hour=serving.cost_per_hour,
    )


@dataclass
class Preflight:
    version: str  # of the first model; ``versions`` has every model's
    features: int
    keys: int
    log: str
    versions: dict[str, str] = field(default_factory=dict)
    feature_counts: dict[str, int] = field(default_factory=dict)


def preflight(options: ServeOptions) -> Preflight:
    """Everything a worker would fail on, checked once, before any worker starts."""
    from readiness.serve.keys import KeyRing, keys_path
    from readiness.serve.loaded import ModelHolder, no_version_message, stage_version
    from readiness.serve.predlog import describe_url, ensure_schema

    project = Project(Path(options.root))
    for name, stage in options.served:  # every model has a version before anything else
        if stage_version(project, name, stage) is None:
            raise ServeError(no_version_message(name, stage))
    keys = 0
    if options.auth:
        keys = len(KeyRing.load(keys_path(project), extra=options.extra_keys))
        if keys == 0:
            raise ServeError(
                "no API key: add one with readiness serve keys add NAME (it is shown once), "
                "or serve on 127.0.0.1 with --no-auth"
            )
    loaded = [ModelHolder(project, n, s).load_initial() for n, s in options.served]
    ensure_schema(options.log_url)  # once, here: workers created at once would race
    log = describe_url(options.log_url)
    first = loaded[0]
    return Preflight(
        first.version, len(first.schema.features), keys, log,
        versions={m.name: m.version for m in loaded},
        feature_counts={m.name: len(m.schema.features) for m in loaded},
    )


def _environment(options: ServeOptions) -> dict[str, str]:
    """The workers' environment: the options, a wiped metrics folder, the start time."""
    from readiness.serve.metrics import MULTIPROC_ENV, STARTED_ENV, prepare_dir

    project = Project(Path(options.root))
    folder = os.environ.get(MULTIPROC_ENV) or str(
        project.state_dir / "serve" / f"metrics-{options.port}"
    )
    prepare_dir(Path(folder))
    return {CONFIG_ENV: options.to_json(), MULTIPROC_ENV: folder, STARTED_ENV: str(time.time())}


def run(options: ServeOptions) -> None:
    """Serve in this process until SIGINT/SIGTERM (which drain the prediction log)."""
    import uvicorn

    os.environ.update(_environment(options))
    # uvicorn re-raises the stop signal after its graceful shutdown, with the handlers it
    # found restored: quiet ones make a drained, clean stop exit 0 (not -15 or 130)
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: None)
    uvicorn.run(
        "readiness.serve.app:create_app",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        log_level=os.environ.get("READINESS_SERVE_LOG_LEVEL", "warning"),
        access_log=False,  # the prediction log is the record; no key is ever in either
        timeout_graceful_shutdown=30,
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Server:
    """A server in a child process (``readiness.serve(..., background=True)``)."""

    def __init__(self, options: ServeOptions, process: subprocess.Popen[bytes], log: Path) -> None:
        self.options, self.process, self.output = options, process, log

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}"

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> Server:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(f"the server exited ({self.process.returncode}): {self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass  # not listening yet
            time.sleep(0.1)
        self.stop()
        raise ServeError(f"the server was not ready after {timeout:.0f} s: {self.tail()}")

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.output.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return "(no output)"
        return " | ".join(text.splitlines()[-lines:]) or "(no output)"

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM (the log drains), then SIGKILL past ``timeout``; the exit code.

        The server's output file goes after a clean stop (it stays to be read otherwise).
        """
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.process.returncode == 0:
            self.output.unlink(missing_ok=True)
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_background(options: ServeOptions, ready_timeout: float = READY_TIMEOUT_S) -> Server:
    """Start a server in its own process group and wait until ``/readyz`` answers 200."""
    import tempfile

    env = {**os.environ, **_environment(options)}
    output = Path(tempfile.mkstemp(prefix=f"readiness-serve-{options.port}-", suffix=".log")[1])
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "readiness.serve.runner"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stop() reaches every worker
        )
    return Server(options, process, output).wait_ready(ready_timeout)


if __name__ == "__main__":
    run(ServeOptions.from_env())
