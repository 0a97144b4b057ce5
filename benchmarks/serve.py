"""Serving the registry's production model: ``readiness serve`` against the floor and mlflow.

One temporary project with a real registered and promoted model (breast cancer, a scikit-learn
pipeline saved with skops). The same model and the same rows are served on 127.0.0.1 by

- a bare FastAPI app run by uvicorn that only parses ``{"rows": [...]}`` into a DataFrame and
  calls ``model.predict`` (the floor),
- ``readiness serve`` (API key, validation, metrics and the prediction log all on),
- ``mlflow models serve`` when mlflow is importable (or its Python is given in
  ``SERVE_BENCH_MLFLOW_PYTHON``; it is never installed here),

each with one worker: startup time to ready (one at a time), p50/p99 latency of sequential
single-row requests over one keep-alive connection per server (the servers taking turns, so
a busy moment of a shared machine hits them alike), requests per second from K client
processes for a fixed time (alternating rounds), and rows per second of 1,000-row batches
against single-row requests. Targets: p50
readiness/bare <= 1.3, throughput readiness/mlflow >= 2, batch/single rows per second >= 20.
Every loop is bounded in count and time; every server is stopped at the end.

    python benchmarks/serve.py
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import multiprocessing
import os
import pickle
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAME = "screening"
WARM_UP = 50  # single-row requests before timing
SEQUENTIAL = int(os.environ.get("SERVE_BENCH_REQUESTS", "500"))  # timed single-row requests
CLIENTS = int(os.environ.get("SERVE_BENCH_CLIENTS", "4"))  # concurrent client processes
DURATION = float(os.environ.get("SERVE_BENCH_SECONDS", "6"))  # of throughput, per server
ROUNDS = 3  # the throughput phase alternates between the servers in this many turns
BATCH_ROWS = 1000
BATCHES = 20  # timed batch requests, at most (and at most BATCH_SECONDS)
BATCH_SECONDS = 15.0
STARTUP_LIMIT = 90.0  # seconds for a server to answer its readiness path
PHASE_LIMIT = 30.0  # seconds for the sequential phase, at most
TARGET_P50 = 1.3
TARGET_THROUGHPUT = 2.0
TARGET_BATCH = 20.0

BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "DVC_NO_ANALYTICS": "1",
    "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
}

SETUP = """
use_case: {name: screening, owner: head@example.com, business_metric: cost per patient}
criteria:
  technical:
    - {metric: roc_auc, split: holdout, min: 0.95}
    - {metric: recall, split: holdout, min: 0.85}
datasets:
  holdout:
    path: data/breast_cancer/holdout.csv
    columns: {malignant: {type: int, allowed: [0, 1]}}
"""

# The floor: JSON in, DataFrame, predict, JSON out. Nothing else.
BARE_APP = """
import os, pickle
import pandas as pd
from fastapi import FastAPI, Request

with open(os.environ["BENCH_MODEL"], "rb") as handle:
    model = pickle.load(handle)
columns = list(model.feature_names_in_)
app = FastAPI()


@app.get("/readyz")
def readyz():
    return {"ready": True}


@app.post("/v1/models/{name}:predict")
async def predict(name: str, request: Request):
    body = await request.json()
    frame = pd.DataFrame(body["rows"], columns=columns)
    return {"predictions": model.predict(frame).tolist()}
"""

SAVE_MLFLOW = """
import pickle, sys
import mlflow.sklearn
with open(sys.argv[1], "rb") as handle:
    model = pickle.load(handle)
mlflow.sklearn.save_model(model, sys.argv[2])
"""


# -- servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    """How to start one server and talk to it: only these differ between the three."""

    label: str
    command: list[str]
    path: str  # the predict endpoint
    ready_path: str
    envelope: Callable[[list[dict[str, Any]]], dict[str, Any]] = lambda rows: {"rows": rows}
    headers: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def body(self, rows: list[dict[str, Any]]) -> bytes:
        return json.dumps(self.envelope(rows)).encode()

    def all_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", **self.headers}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(server: Server, cwd: Path) -> float:
    """Start ``server`` in its own process group; seconds until its readiness path says 200."""
    assert server.log is not None
    began = time.perf_counter()
    with open(server.log, "wb") as log:
        server.process = subprocess.Popen(
            [part.replace("{port}", str(server.port)) for part in server.command],
            cwd=cwd,
            env={**ENV, **server.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.label} exited ({server.process.returncode}):\n{tail(server)}"
            )
        try:
            status, _ = request(server, "GET", server.ready_path, None, timeout=2)
            if status == 200:
                return time.perf_counter() - began
        except OSError:  # not listening yet
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{server.label} not ready after {STARTUP_LIMIT:.0f} s:\n{tail(server)}")


def stop(server: Server) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after 10 s."""
    process, server.process = server.process, None
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def tail(server: Server, size: int = 3000) -> str:
    if server.log is None or not server.log.is_file():
        return ""
    return server.log.read_text(errors="replace")[-size:]


def request(
    server: Server, method: str, path: str, body: bytes | None, timeout: float = 30
) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=server.all_headers())
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


# -- measurements ----------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    startup: float = float("nan")
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    single_rows_s: float = float("nan")
    throughput: float = float("nan")
    batch_rows_s: float = float("nan")
    failed: int = 0
    agrees: bool | None = None
    note: str = ""


def sequential(
    servers: list[Server], bodies: dict[str, list[bytes]], results: dict[str, Result]
) -> None:
    """Single-row requests one after another, one keep-alive connection per server.

    The servers take turns request by request, so a busy moment of this (shared) machine
    slows them all alike and the latency ratio stays fair.
    """
    connections = {
        s.label: http.client.HTTPConnection("127.0.0.1", s.port, timeout=30) for s in servers
    }
    times: dict[str, list[float]] = {s.label: [] for s in servers}
    deadline = time.monotonic() + PHASE_LIMIT * len(servers)
    try:
        for index in range(WARM_UP + SEQUENTIAL):
            if time.monotonic() > deadline:
                for s in servers:
                    results[s.label].note = f"sequential phase cut at {index} requests"
                break
            for server in servers:
                took = _one(connections[server.label], server, bodies[server.label][index])
                if took is None:
                    results[server.label].failed += 1
                elif index >= WARM_UP:
                    times[server.label].append(took)
    finally:
        for connection in connections.values():
            connection.close()
    for label, taken in times.items():
        if len(taken) >= 2:
            cuts = statistics.quantiles(taken, n=100, method="inclusive")
            result = results[label]
            result.p50_ms, result.p99_ms = statistics.median(taken) * 1e3, cuts[98] * 1e3
            result.single_rows_s = len(taken) / sum(taken)


def _one(connection: http.client.HTTPConnection, server: Server, body: bytes) -> float | None:
    """Seconds for one request on ``connection``, or None when it did not answer 200."""
    began = time.perf_counter()
    connection.request("POST", server.path, body=body, headers=server.all_headers())
    answer = connection.getresponse()
    answer.read()
    took = time.perf_counter() - began
    return took if answer.status == 200 else None


def _client(
    port: int,
    path: str,
    headers: dict[str, str],
    bodies: list[bytes],
    begin: float,
    end: float,
    out: Any,
) -> None:
    """One load-generating process: requests until ``end`` (wall clock), counted."""
    ok = failed = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.time() < begin:
        time.sleep(0.001)
    index = 0
    while time.time() < end and index < 1_000_000:
        try:
            connection.request("POST", path, body=bodies[index % len(bodies)], headers=headers)
            answer = connection.getresponse()
            answer.read()
            ok, failed = (ok + 1, failed) if answer.status == 200 else (ok, failed + 1)
        except (OSError, http.client.HTTPException):  # counted, then a new connection
            failed += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        index += 1
    connection.close()
    out.put((ok, failed))


def throughput(server: Server, bodies: list[bytes], seconds: float) -> tuple[int, int]:
    """(answered 200, failed) requests from CLIENTS processes hammering for ``seconds``."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    begin = time.time() + 0.3  # every client connected and waiting by then
    end = begin + seconds
    clients = [
        context.Process(
            target=_client,
            args=(server.port, server.path, server.all_headers(), bodies, begin, end, out),
            daemon=True,
        )
        for _ in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    counts = []
    try:
        for _ in clients:
            try:
                counts.append(out.get(timeout=seconds + 40))
            except queue.Empty:
                raise RuntimeError("a load client did not report back") from None
    finally:
        for client in clients:
            client.join(timeout=5)
            if client.is_alive():
                client.kill()
                client.join(timeout=5)
    return sum(ok for ok, _ in counts), sum(failed for _, failed in counts)


def load(servers: list[Server], bodies: dict[str, list[bytes]], results: dict[str, Result]) -> None:
    """Requests per second of each server: ROUNDS short turns each, alternating, summed."""
    answered = dict.fromkeys(results, 0)
    seconds = DURATION / ROUNDS
    for _ in range(ROUNDS):
        for server in servers:
            if server.process is None:  # failed in an earlier round
                continue
            try:
                ok, bad = throughput(server, bodies[server.label], seconds)
            except (OSError, RuntimeError) as error:
                failed(server, results[server.label], error)
                continue
            answered[server.label] += ok
            results[server.label].failed += bad
    for server in servers:
        if server.process is not None:
            results[server.label].throughput = answered[server.label] / DURATION


def batches(server: Server, body: bytes, result: Result) -> None:
    """Rows per second of BATCH_ROWS-row requests (after one warm-up request)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = server.all_headers()
    rows = 0
    elapsed = 0.0
    deadline = time.monotonic() + BATCH_SECONDS
    try:
        for index in range(BATCHES + 1):
            if time.monotonic() > deadline:
                break
            began = time.perf_counter()
            connection.request("POST", server.path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            took = time.perf_counter() - began
            if answer.status != 200:
                result.failed += 1
            elif index > 0:
                rows, elapsed = rows + BATCH_ROWS, elapsed + took
    finally:
        connection.close()
    if rows:
        result.batch_rows_s = rows / elapsed


def agrees(
    server: Server, batch: list[dict[str, Any]], expected: list[Any], result: Result
) -> None:
    """Whether the server's predictions for the batch equal the in-process model's."""
    status, payload = request(server, "POST", server.path, server.body(batch), timeout=60)
    if status != 200:  # every request will fail alike: say why once
        result.agrees = False
        result.note = f"HTTP {status}: {payload[:200].decode(errors='replace')}"
        return
    got = [int(p) for p in json.loads(payload)["predictions"]]
    result.agrees = got == [int(p) for p in expected]


def launch(server: Server, root: Path, batch: list[dict[str, Any]], expected: list[Any]) -> Result:
    """Start ``server``: its startup time, and whether it predicts what the model does."""
    result = Result(server.label)
    server.port = free_port()
    server.log = root.parent / f"{server.label.split()[0]}.log"
    try:
        result.startup = start(server, root)
        agrees(server, batch, expected, result)
    except (OSError, RuntimeError, http.client.HTTPException) as error:
        failed(server, result, error)
    return result


def failed(server: Server, result: Result, error: BaseException) -> None:
    result.note = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200]}"
    print(f"{server.label} failed:\n{tail(server)}", file=sys.stderr)
    stop(server)


def measure(
    servers: list[Server], root: Path, rows: list[dict[str, Any]], expected: list[Any]
) -> dict[str, Result]:
    """Start every server, run every phase, stop them all (always)."""
    batch = [rows[i % len(rows)] for i in range(BATCH_ROWS)]
    batch_expected = [expected[i % len(rows)] for i in range(BATCH_ROWS)]
    results: dict[str, Result] = {}
    try:
        for server in servers:  # one at a time: startup is timed on a quiet machine
            print(f"starting {server.label} ...", flush=True)
            results[server.label] = launch(server, root, batch, batch_expected)
        up = [s for s in servers if s.process is not None]
        singles = {
            s.label: [s.body([rows[i % len(rows)]]) for i in range(WARM_UP + SEQUENTIAL)]
            for s in up
        }
        print("sequential single-row requests, the servers taking turns ...", flush=True)
        try:
            sequential(up, singles, results)
        except (OSError, http.client.HTTPException) as error:
            for server in up:
                results[server.label].note = f"sequential: {type(error).__name__}: {error}"
        print(f"throughput: {CLIENTS} clients, the servers taking {ROUNDS} turns ...", flush=True)
        load(up, {label: bodies[: len(rows)] for label, bodies in singles.items()}, results)
        for server in [s for s in up if s.process is not None]:
            print(f"batches of {server.label} ...", flush=True)
            try:
                batches(server, server.body(batch), results[server.label])
            except (OSError, RuntimeError, http.client.HTTPException) as error:
                failed(server, results[server.label], error)
    finally:
        for server in servers:
            stop(server)
    return results


# -- the project and the model ---------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=ENV)


def build_project(base: Path) -> tuple[Path, Any, Any]:
    """A project with ``screening`` v1.0.0 registered and in production: (root, model, holdout)."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import readiness
    from readiness.core.project import Project
    from readiness.criteria.declaration import declare
    from readiness.data.scaffold import init_project
    from readiness.data.tracking import track
    from readiness.examples import breast_cancer
    from readiness.gate.promotion import promote
    from readiness.registry.versions import register

    os.environ.update({k: ENV[k] for k in ("DVC_NO_ANALYTICS", "PATH")})
    os.environ["READINESS_REMOTE_HOME"] = str(base / "remotes")
    root = base / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Bench User")  # this repository only
    git(root, "config", "user.email", "bench@example.com")
    init_project(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    os.chdir(root)
    project = Project(root.resolve())
    data = root / "data" / "breast_cancer"
    breast_cancer(data)
    declare(project, SETUP)
    track(project, ["data/breast_cancer"])
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "criteria and data")

    readiness.new_run()
    train, holdout = pd.read_csv(data / "train.csv"), pd.read_csv(data / "holdout.csv")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(train.drop(columns="malignant"), train["malignant"])
    features = holdout.drop(columns="malignant")
    readiness.evaluate(model, features, holdout["malignant"], latency_samples=5)
    readiness.save_model(model, NAME)
    version = register(project, NAME).version.lstrip("v")
    for stage in ("staging", "production"):
        if not promote(project, NAME, version, stage).promoted:
            raise RuntimeError(f"the gate refused {NAME} {version} for {stage}")
    served = readiness.load_model(NAME)  # what the registry's production stage points to
    return root, served, features


def api_key(root: Path) -> str:
    """A new key from ``readiness serve keys add bench`` (the last line of its output)."""
    done = subprocess.run(
        [str(BIN / "readiness"), "serve", "keys", "add", "bench"],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        why = (done.stderr or done.stdout).strip()[:300]
        raise RuntimeError(f"readiness serve keys add: {why}")
    return lines[-1]


def mlflow_python() -> str | None:
    """A Python that has mlflow: this one, or SERVE_BENCH_MLFLOW_PYTHON."""
    given = os.environ.get("SERVE_BENCH_MLFLOW_PYTHON")
    if given:
        return given
    return sys.executable if importlib.util.find_spec("mlflow") else None


def servers(root: Path, model_file: Path) -> Iterator[Server | str]:
    """The servers to measure, in order (a string: a server skipped, and why)."""
    bare = root.parent / "bare_app.py"
    bare.write_text(BARE_APP)
    predict = f"/v1/models/{NAME}:predict"
    yield Server(
        "bare FastAPI",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--app-dir",
            str(root.parent),
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        predict,
        "/readyz",
        env={"BENCH_MODEL": str(model_file)},
    )
    try:
        key = api_key(root)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        yield f"readiness serve: skipped ({error})"
    else:
        yield Server(
            "readiness serve",
            [str(BIN / "readiness"), "serve", NAME, "--host", "127.0.0.1", "--port", "{port}"],
            predict,
            "/readyz",
            headers={"Authorization": f"Bearer {key}"},
        )
    python = mlflow_python()
    if python is None:
        yield "mlflow models serve: skipped (mlflow is not installed)"
        return
    saved = root.parent / "mlflow-model"
    done = subprocess.run(
        [python, "-c", SAVE_MLFLOW, str(model_file), str(saved)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        yield f"mlflow models serve: skipped (saving the model failed: {done.stderr[-300:]})"
        return
    yield Server(
        "mlflow models serve",
        [
            python,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            str(saved),
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
        ],
        "/invocations",
        "/ping",
        envelope=lambda rows: {"dataframe_records": rows},
        # mlflow execs `uvicorn` from PATH: its own environment's
        env={"PATH": f"{Path(python).parent}{os.pathsep}{ENV['PATH']}"},
    )


# -- report ----------------------------------------------------------------------------------


def table(results: list[Result]) -> None:
    print(
        f"{'server':<20} {'startup s':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} "
        f"{'1-row rows/s':>12} {'batch rows/s':>12} {'failed':>6}  same predictions"
    )
    for r in results:
        same = {True: "yes", False: "NO", None: "-"}[r.agrees]
        print(
            f"{r.label:<20} {r.startup:>9.2f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.throughput:>8.0f} {r.single_rows_s:>12.0f} {r.batch_rows_s:>12.0f} "
            f"{r.failed:>6}  {same}" + (f"  ({r.note})" if r.note else "")
        )


def verdicts(results: dict[str, Result]) -> list[str]:
    """Each target's line, PASS / FAIL / SKIP."""
    ours, bare, mlflow = (
        results.get(k) for k in ("readiness serve", "bare FastAPI", "mlflow models serve")
    )
    lines = []

    def judge(label: str, value: float | None, ok: Callable[[float], bool], bound: str) -> None:
        if value is None or value != value:  # missing or NaN
            lines.append(f"{label:<40} {'-':>7}  ({bound})  SKIP")
        else:
            lines.append(f"{label:<40} {value:>7.2f}  ({bound})  {'PASS' if ok(value) else 'FAIL'}")

    def ratio(top: float | None, bottom: float | None) -> float | None:
        return top / bottom if top is not None and bottom else None  # None: not measured

    p50 = ratio(ours and ours.p50_ms, bare and bare.p50_ms)
    judge("p50 latency readiness / bare", p50, lambda v: v <= TARGET_P50, f"<= {TARGET_P50}")
    rps = ratio(ours and ours.throughput, mlflow and mlflow.throughput)
    judge(
        "throughput readiness / mlflow",
        rps,
        lambda v: v >= TARGET_THROUGHPUT,
        f">= {TARGET_THROUGHPUT}",
    )
    batch = ratio(ours and ours.batch_rows_s, ours and ours.single_rows_s)
    judge(
        "readiness batch / single-row rows/s",
        batch,
        lambda v: v >= TARGET_BATCH,
        f">= {TARGET_BATCH:.0f}",
    )
    floor = ratio(bare and bare.batch_rows_s, bare and bare.single_rows_s)
    if floor is not None:
        lines.append(f"{'(bare batch / single-row rows/s)':<40} {floor:>7.2f}")
    for r in results.values():
        if r.failed or r.agrees is False:
            same = "yes" if r.agrees else "NO"
            lines.append(f"{r.label}: {r.failed} failed requests, same predictions {same}  FAIL")
    return lines


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="readiness-serve-bench-") as folder:
        base = Path(folder)
        print("building a project with a registered production model ...", flush=True)
        root, model, holdout = build_project(base)
        model_file = base / "model.pkl"
        model_file.write_bytes(pickle.dumps(model))
        rows = holdout.to_dict(orient="records")
        expected = model.predict(holdout).tolist()
        print(
            f"set up in {time.perf_counter() - began:.0f} s; {len(rows)} holdout rows, "
            f"{SEQUENTIAL} sequential requests, {CLIENTS} clients for {DURATION:.0f} s, "
            f"{BATCH_ROWS}-row batches",
            flush=True,
        )
        chosen = []
        for server in servers(root, model_file):
            if isinstance(server, str):
                print(server, flush=True)
            else:
                chosen.append(server)
        results = measure(chosen, root, rows, expected)
        os.chdir(base.parent)
    print()
    table(list(results.values()))
    print()
    lines = verdicts(results)
    print("\n".join(lines))
    print(f"\n(total {time.perf_counter() - began:.0f} s)")
    if "readiness serve" not in results:
        return 2
    return 1 if any(line.endswith("FAIL") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
