"""The serving steps of ``make demo``: a real ``readiness serve`` on 127.0.0.1, called over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
PATH = "/v1/models/screening"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process, self.port = process, port

    def call(self, method: str, path: str, key: str | None, body: Any = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        connection.request(method, path, None if body is None else json.dumps(body), headers)
        answer = connection.getresponse()
        data = answer.read()
        connection.close()
        kind = answer.getheader("content-type") or ""
        return answer.status, json.loads(data) if "json" in kind else data.decode()


def start(demo: Path, sh: Any) -> tuple[Server, str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    print("$ readiness serve keys add demo", flush=True)
    added = subprocess.run(
        ["readiness", "serve", "keys", "add", "demo"], cwd=demo, env=env, capture_output=True,
        text=True, check=True,
    )
    key = added.stdout.strip().splitlines()[-1]
    print("\n".join(added.stdout.strip().splitlines()[:-1]))
    print(f"{key[:12]}... (the demo keeps it in memory)")
    port = _free_port()
    command = ["readiness", "serve", "screening", "--port", str(port), "--workers", "2"]
    print("$ " + " ".join(command) + " &", flush=True)
    process = subprocess.Popen(command, cwd=demo, env=env, start_new_session=True)
    server = Server(process, port)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"demo: readiness serve exited ({process.returncode})")
        try:
            if server.call("GET", "/readyz", None)[0] == 200:
                return server, key
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    stop(server, demo)
    raise SystemExit("demo: readiness serve was not ready after 120 s")


def replay(server: Server, key: str, sample: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(sample)
    labels = frame.pop("malignant").tolist() if "malignant" in frame else None
    rows = json.loads(frame.to_json(orient="records"))
    started = time.perf_counter()
    ids, versions = [], set()
    for row in rows:
        status, body = server.call("POST", f"{PATH}:predict", key, {"rows": [row]})
        if status != 200:
            raise SystemExit(f"demo: a prediction failed ({status}): {body}")
        ids.append(body["request_id"])
        versions.add(body["model_version"])
    took = time.perf_counter() - started
    print(
        f"replayed {len(rows)} rows of {sample.name}, one request each, in {took:.1f}s "
        f"(served by {', '.join(sorted(versions))})"
    )
    status, refused = server.call("POST", f"{PATH}:predict", None, {"rows": rows[:1]})
    print(f"without a key: {status} {refused['error']}")
    bad = {**rows[0], "mean radius": -3}
    status, refused = server.call("POST", f"{PATH}:predict", key, {"rows": [bad]})
    print(f"a row with mean radius -3: {status} {refused['problems']}")
    if labels is not None:
        for request_id, label in zip(ids, labels, strict=True):
            server.call("POST", f"{PATH}:feedback", key, {"request_id": request_id, "label": label})
        print(f"posted {len(labels)} ground-truth labels to {PATH}:feedback")
    _, text = server.call("GET", "/metrics", key)
    wanted = ("readiness_requests_total{", "readiness_served_model_info{",
              "readiness_rows_predicted_total{", "readiness_cost_per_1000_predictions")
    print("GET /metrics (excerpt):")
    for line in text.splitlines():
        if line.startswith(wanted):
            print(f"  {line}")


def wait_for_version(server: Server, key: str, version: str, timeout: float = 30) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        _, ready = server.call("GET", "/readyz", None)
        if ready["serving"] == version:
            print(f"the server now serves {version} ({time.monotonic() - started:.1f}s later)")
            return
        time.sleep(0.2)
    raise SystemExit(f"demo: the server did not switch to {version} within {timeout:.0f}s")


def stop(server: Server, demo: Path) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(60)
    log = demo / ".readiness" / "serve" / "predictions.db"
    if log.is_file():
        import sqlite3

        with sqlite3.connect(log) as db:
            requests = db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
            labelled = db.execute("SELECT COUNT(DISTINCT request_id) FROM feedback").fetchone()[0]
        print(f"stopped (SIGTERM drains the log): {log.name} holds {requests} requests, "
              f"{labelled} of them labelled")
