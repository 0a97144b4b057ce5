"""readiness serve: a real uvicorn on a free 127.0.0.1 port, called over HTTP, serving a real
skops model from a real GTO registry; keys, validation, metrics, the prediction log, the
registry followed under load, a killed worker, and the contract test."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from .conftest import HANG, SCREENING, cli, commit_all, git_init, own_use_case
from .pg_server import postgres_url  # noqa: F401  (a fixture)
from .test_registry import train

pytestmark = pytest.mark.slow

SETUP = SCREENING + """
  train:
    path: data/breast_cancer/train.csv
    target: malignant
    columns:
      mean radius: {type: float, min: 0}
      mean texture: {type: float, min: 0, max: 100}
      malignant: {type: int, allowed: [0, 1]}
serving: {cost_per_hour: 0.12, poll_seconds: 0.5}
"""


def build_served_project(
    root: Path,
    setup: str,
    strengths=(1.0, 0.05),
    more=None,
    registry: str = "",
    name: str = "screening",
    use_case: str | None = None,
):
    """A registry project: one version per regularisation strength, the first in production.

    ``more``: other models ``{name: strength}``, one version each, in production too;
    ``registry``: a readiness.yaml ``registry:`` section, GTO by default; ``use_case``: the
    use case's name (``setup``'s by default).
    """
    if use_case is not None:
        setup = setup.replace("use_case: {name: screening,", f"use_case: {{name: {use_case},", 1)
    from readiness.core.project import Project
    from readiness.criteria.declaration import declare
    from readiness.data.scaffold import init_project
    from readiness.data.tracking import track
    from readiness.examples import breast_cancer
    from readiness.gate.promotion import promote
    from readiness.registry.versions import register

    with pytest.MonkeyPatch.context() as env:
        env.setenv("READINESS_REMOTE_HOME", str(root.parent / "remotes"))
        env.chdir(root.parent)
        init_project(root)
        own_use_case(root)
        git_init(root)
        env.chdir(root)
        project = Project(root.resolve())
        breast_cancer(root / "data" / "breast_cancer")
        declare(project, setup)
        if registry:
            with (root / "readiness.yaml").open("a") as config:
                config.write(f"registry: {registry}\n")
        track(project, ["data/breast_cancer"])
        commit_all(root, "criteria and data")
        for number, strength in enumerate(strengths):
            train(project, strength, name=name)
            version = register(project, name).version
            if number == 0:
                promote(project, name, version, "production", force=True, reason="test")
        for other, strength in (more or {}).items():
            train(project, strength, name=other)
            version = register(project, other).version
            promote(project, other, version, "production", force=True, reason="test")
    return project


@pytest.fixture(scope="module")
def served_project(tmp_path_factory):
    """v1.0.0 in production, v1.0.1 registered; built once per module (tests copy it to change
    the registry)."""
    return build_served_project(tmp_path_factory.mktemp("served") / "proj", SETUP)


@pytest.fixture
def copy(served_project, tmp_path, monkeypatch):
    """A private copy of the served project (the registry may be changed)."""
    from readiness.core.project import Project

    target = tmp_path / "proj"
    shutil.copytree(served_project.root, target, symlinks=True)
    shutil.rmtree(target / ".readiness" / "serve", ignore_errors=True)  # no keys, no log yet
    monkeypatch.chdir(target)
    return Project(target.resolve())


def add_key(root: Path, name: str = "ci") -> str:
    done = cli("serve", "keys", "add", name, cwd=root)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


class Http:
    def __init__(self, url: str, key: str | None = None) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.key = key

    def __call__(self, method, path, body=None, key=True, raw=None, headers=None):
        sent = {"Content-Type": "application/json", **(headers or {})}
        token = self.key if key is True else key
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (None if body is None else json.dumps(body))
        self.conn.request(method, path, body=payload, headers=sent)
        answer = self.conn.getresponse()
        data = answer.read()
        kind = answer.getheader("content-type") or ""
        return answer.status, (json.loads(data) if "json" in kind else data.decode())


def holdout_rows(root: Path, n: int | None = None) -> tuple[list[dict], list[int]]:
    import pandas as pd

    frame = pd.read_csv(root / "data" / "breast_cancer" / "holdout.csv")
    frame = frame.head(n) if n else frame
    return json.loads(frame.drop(columns="malignant").to_json(orient="records")), list(
        frame["malignant"]
    )


def start(project, **kwargs):
    import readiness

    return readiness.serve("screening", background=True, project=str(project.root), **kwargs)


PREDICT = "/v1/models/screening:predict"


def test_predict_validate_authenticate_and_log(served_project):
    from readiness.registry.versions import load_model
    from readiness.serve.predlog import read_predictions, resolve_url

    root = served_project.root
    key = add_key(root, "ci")
    rows, labels = holdout_rows(root, 20)
    with start(served_project) as server:
        call = Http(server.url, key)
        status, body = call("POST", PREDICT, {"rows": rows[:1]})
        assert status == 200 and body["model_version"] == "v1.0.0", body
        model = load_model(served_project, "screening")
        import pandas as pd

        expected = model.predict(pd.DataFrame(rows)).tolist()
        assert body["predictions"] == expected[:1]
        status, batch = call("POST", PREDICT, {"rows": rows})
        assert status == 200 and batch["predictions"] == expected
        status, proba = call("POST", "/v1/models/screening:predict_proba", {"rows": rows[:3]})
        assert status == 200 and proba["classes"] == [0, 1] and len(proba["probabilities"]) == 3
        assert proba["probabilities"][0] == pytest.approx(model.predict_proba(
            pd.DataFrame(rows[:1])).tolist()[0])
        # a bad row: its index, the field and the rule
        bad = [rows[0], {**rows[1], "mean radius": -1.0}, {**rows[2], "mean texture": "high"}]
        status, refused = call("POST", PREDICT, {"rows": bad})
        assert status == 422
        problems = {(p["row"], p["field"]): p["rule"] for p in refused["problems"]}
        assert problems[(1, "mean radius")].startswith("min 0")
        assert problems[(2, "mean texture")].startswith("type float")
        missing = {k: v for k, v in rows[0].items() if k != "worst area"}
        status, refused = call("POST", PREDICT, {"rows": [missing]})
        assert status == 422 and refused["problems"][0] == {
            "row": 0, "field": "worst area", "rule": "missing"
        }
        assert call("POST", PREDICT, raw='{"rows": [') [0] == 400
        assert call("POST", PREDICT, raw='{"rows": [{"a": NaN}]}')[0] == 400
        assert call("POST", PREDICT, raw="[" * 10 + " " * 1_100_000)[0] == 413
        assert call("POST", PREDICT, {"row": rows[0]})[0] == 422
        assert call("POST", "/v1/models/other:predict", {"rows": rows[:1]})[0] == 404
        # keys: missing, wrong, the other header, revoked
        assert call("POST", PREDICT, {"rows": rows[:1]}, key=False)[0] == 401
        assert call("POST", PREDICT, {"rows": rows[:1]}, key=key[:-2] + "xx")[0] == 401
        status, _ = call("POST", PREDICT, {"rows": rows[:1]}, key=False,
                         headers={"X-API-Key": key})
        assert status == 200
        assert call("GET", "/healthz", key=False)[0] == 200
        status, ready = call("GET", "/readyz", key=False)
        assert status == 200 and ready["serving"] == "v1.0.0" and ready["in_sync"]
        # the metrics: protected; latency by endpoint and version; status codes
        assert call("GET", "/metrics", key=False)[0] == 401
        status, text = call("GET", "/metrics")
        assert status == 200
        assert 'readiness_request_latency_seconds_bucket{endpoint="predict"' in text
        assert 'version="v1.0.0"' in text and 'status="422"' in text
        assert "readiness_served_model_info" in text and "readiness_process_cpu_seconds" in text
        assert "readiness_cost_per_1000_predictions" in text
        assert key not in text
        # feedback: one label per row, an unknown request, a wrong count
        status, body = call("POST", PREDICT, {"rows": rows[:2]})
        request_id = body["request_id"]
        status, fed = call("POST", "/v1/models/screening:feedback",
                           {"request_id": request_id, "labels": labels[:2]})
        assert status == 200 and fed["labels"] == 2, fed
        assert call("POST", "/v1/models/screening:feedback",
                    {"request_id": request_id, "labels": labels[:1]})[0] == 422
        assert call("POST", "/v1/models/screening:feedback",
                    {"request_id": "nope", "label": 1})[0] == 404
        assert call("POST", "/v1/models/screening:feedback",
                    {"request_id": request_id, "labels": [3, 1]})[0] == 422  # not in [0, 1]
        _, text = call("GET", "/metrics")
        assert 'readiness_feedback_refused_total{model="screening",reason="unknown request"} 1.0' in text
        assert 'readiness_feedback_refused_total{model="screening",reason="invalid labels"} 2.0' in text
        revoke = cli("serve", "keys", "revoke", "ci", cwd=root)
        assert revoke.returncode == 0, revoke.stderr
        time.sleep(1.5)  # the ring rereads the keys file at most once a second
        assert call("POST", PREDICT, {"rows": rows[:1]})[0] == 401
        output_text = server.output.read_bytes()
    assert server.process.returncode == 0 and not server.output.exists()
    url = resolve_url(served_project, None)
    logged = read_predictions(url, status=None)
    assert len(logged) >= 15
    labelled = logged[logged["request_id"] == request_id].iloc[0]
    assert labelled["labels"] == labels[:2] and labelled["inputs"][0] == rows[0]
    assert key.encode() not in output_text
    for path in root.joinpath(".readiness").rglob("*"):
        if path.is_file() and path.name != "keys.json":
            assert key.encode() not in path.read_bytes(), path


def test_follows_the_registry_under_load_without_a_failed_request(copy):
    """30 s of requests; a promotion and a rollback in the middle; no request fails and every
    request is in the log; a slow client holds a connection open meanwhile."""
    from readiness.gate.promotion import promote
    from readiness.registry.versions import rollback
    from readiness.serve.predlog import count_predictions, resolve_url

    key = add_key(copy.root)
    rows, _ = holdout_rows(copy.root, 5)
    seen: list[tuple[float, str]] = []
    failures: list[object] = []
    sent = [0]
    stop = threading.Event()
    with start(copy, workers=2) as server:
        slow = socket.create_connection(("127.0.0.1", server.options.port))
        slow.sendall(b"POST /v1/models/screening:predict HTTP/1.1\r\nHost: x\r\n")  # never ends

        def loop() -> None:
            call = Http(server.url, key)
            deadline = time.monotonic() + 30
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    status, body = call("POST", PREDICT, {"rows": rows})
                except OSError as exc:
                    failures.append(exc)
                    call = Http(server.url, key)
                    continue
                sent[0] += 1
                if status != 200:
                    failures.append((status, body))
                else:
                    seen.append((time.monotonic(), body["model_version"]))

        threads = [threading.Thread(target=loop) for _ in range(2)]
        began = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(6)
        promoted_at = time.monotonic()
        assert promote(copy, "screening", "1.0.1", "production", force=True, reason="t").promoted
        time.sleep(12)
        rolled_at = time.monotonic()
        rollback(copy, "screening")
        for t in threads:
            t.join(45)
        stop.set()
        slow.close()
        _, text = Http(server.url, key)("GET", "/metrics")
    assert not failures, failures[:5]
    assert time.monotonic() - began >= 29
    first_new = min(t for t, v in seen if v == "v1.0.1")
    back = min(t for t, v in seen if v == "v1.0.0" and t > rolled_at)
    assert first_new - promoted_at < 10 and back - rolled_at < 10, (first_new, back)
    # counters added up across the two workers; every request reached the log (drained)
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("readiness_requests_total{") and 'status="200"' in line
    )
    assert counted == sent[0]  # the scrape came after the last request
    assert count_predictions(resolve_url(copy, None)) == sent[0]


def test_a_version_that_fails_to_load_leaves_the_old_one_serving(copy):
    from readiness.gate.promotion import promote

    key = add_key(copy.root)
    rows, _ = holdout_rows(copy.root, 1)
    with start(copy) as server:
        call = Http(server.url, key)
        # v1.0.1's file is in no DVC cache or remote any more: it cannot be loaded
        shutil.rmtree(copy.root / ".dvc" / "cache")
        (copy.root / ".dvc" / "config.local").write_text(
            f"[core]\n    remote = gone\n['remote \"gone\"']\n    url = {copy.root / 'gone'}\n"
        )
        assert promote(copy, "screening", "1.0.1", "production", force=True, reason="t").promoted
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, ready = call("GET", "/readyz", key=False)
            if ready["load_error"]:
                break
            time.sleep(0.3)
        assert ready["serving"] == "v1.0.0" and ready["wanted"] == "v1.0.1", ready
        assert ready["load_error"].startswith("v1.0.1") and not ready["in_sync"]
        status, body = call("POST", PREDICT, {"rows": rows})
        assert status == 200 and body["model_version"] == "v1.0.0"
        status, reloaded = call("POST", "/admin/reload")
        assert status == 200 and reloaded["serving"] == "v1.0.0" and reloaded["error"]
        assert call("POST", "/admin/reload", key=False)[0] == 401
        _, text = call("GET", "/metrics")
        assert 'readiness_model_load_failures_total{model="screening",version="v1.0.1"}' in text


def _workers(server) -> list:
    """The uvicorn worker processes of a server (alive: not zombies)."""
    import psutil

    found = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "multiprocessing" in " ".join(
                child.cmdline()
            ):
                found.append(child)
        except psutil.Error:
            continue  # gone meanwhile
    return found


def test_a_killed_worker_is_replaced_and_the_log_stays_readable(copy):
    from readiness.serve.predlog import count_predictions, resolve_url

    key = add_key(copy.root, "kill")
    rows, _ = holdout_rows(copy.root, 1)
    url = resolve_url(copy, None)
    before = count_predictions(url)
    with start(copy, workers=2) as server:
        call = Http(server.url, key)
        for _ in range(20):
            assert call("POST", PREDICT, {"rows": rows})[0] == 200
        victims = _workers(server)
        assert len(victims) >= 2, victims
        os.kill(victims[0].pid, signal.SIGKILL)
        ok = 0
        deadline = time.monotonic() + 30
        while ok < 20 and time.monotonic() < deadline:
            try:
                status, _ = call("POST", PREDICT, {"rows": rows})
                ok += status == 200
            except OSError:
                call = Http(server.url, key)  # the killed worker's connection
        assert ok == 20
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alive = [w for w in _workers(server) if w.pid != victims[0].pid]
            if len(alive) >= 2:
                break
            time.sleep(0.5)
        assert len(alive) >= 2, "the killed worker was not replaced"
    assert count_predictions(url) >= before + 20 + 20 - 1  # the killed worker's queue at most


def test_contract_check_records_evidence_the_checklist_reads(copy):
    from readiness.checklist.items import ProbeContext
    from readiness.checklist.probes.security import api_auth

    done = cli("serve", "screening", "--check", cwd=copy.root)
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("predictions (one row per request)", "predictions (one batch)",
                  "422 on wrong type", "422 on out of range", "422 on missing column",
                  "422 on unknown category", "400 on malformed JSON", "413 on an oversized body",
                  "authentication", "metrics", "prediction log", "p95 latency"):
        assert check in done.stdout, check
    # no feature declares allowed values here, no latency bound is declared: said, not failed
    assert "no feature declares allowed values" in done.stdout
    assert "no latency bound declared" in done.stdout
    assert "PASSED" in done.stdout
    passed, detail = api_auth(ProbeContext(copy))
    assert passed, detail
    # the contract test's traffic never reaches production's log
    assert not (copy.state_dir / "serve" / "predictions.db").exists()
    # with auth off the contract fails on it, and says so
    config = copy.config_path.read_text().replace("poll_seconds: 0.5}", "poll_seconds: 0.5, auth: false}")
    copy.config_path.write_text(config)
    done = cli("serve", "screening", "--check", "--json", cwd=copy.root)
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert [s["name"] for s in report["steps"] if s["ok"] is False] == ["authentication"]
    passed, detail = api_auth(ProbeContext(copy))
    assert passed is False and "auth: false" in detail


def test_refusals_before_serving(copy):
    (copy.state_dir / "serve" / "keys.json").unlink(missing_ok=True)
    done = cli("serve", "screening", "--host", "0.0.0.0", "--no-auth", cwd=copy.root)
    assert done.returncode == 2 and "127.0.0.1 only" in done.stderr
    done = cli("serve", "screening", "--port", "8000", cwd=copy.root)  # no key yet
    assert done.returncode == 2 and "no API key" in done.stderr
    done = cli("serve", "nomodel", "--no-auth", cwd=copy.root)
    assert done.returncode == 2 and "no version of nomodel is in production" in done.stderr
    # more names are more models: each must have a version in the stage, named once
    done = cli("serve", "screening", "extra", cwd=copy.root)
    assert done.returncode == 2 and "no version of extra is in production" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    done = cli("serve", "keys", "frobnicate", cwd=copy.root)
    assert done.returncode == 2


def test_no_auth_on_loopback_says_so_loudly(copy):
    from readiness.serve.runner import free_port

    port = free_port()
    process = subprocess.Popen(
        [str(Path(os.sys.executable).with_name("readiness")), "serve", "screening",
         "--no-auth", "--port", str(port)],
        cwd=copy.root, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + HANG
        lines = []
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            lines.append(line)
            if "Ctrl-C" in line or not line:
                break
        assert "WARNING: --no-auth" in "".join(lines), lines
        call = Http(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = call("GET", "/readyz")
                if status == 200:
                    break
            except OSError:
                call = Http(f"http://127.0.0.1:{port}")
                time.sleep(0.2)
        rows, _ = holdout_rows(copy.root, 1)
        assert call("POST", PREDICT, {"rows": rows})[0] == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
    assert process.returncode == 0


def test_a_real_prometheus_scrapes_latency_and_errors(copy):
    """Prometheus scrapes /metrics with the key as bearer token; PromQL finds the p95 latency
    and the error rate."""
    from .prom_server import Prometheus, require_prometheus

    require_prometheus()
    key = add_key(copy.root, "prometheus")
    rows, _ = holdout_rows(copy.root, 1)
    with start(copy, workers=2) as server, Prometheus(
        f"127.0.0.1:{server.options.port}", token=key
    ) as prom:
        prom.wait_for_target("up", timeout=30)
        call = Http(server.url, key)
        deadline = time.monotonic() + 60
        p95 = errors = None
        def known(value):
            return value is not None and value == value  # NaN until two scrapes have a rate

        while time.monotonic() < deadline and not (known(p95) and known(errors)):
            for _ in range(20):
                assert call("POST", PREDICT, {"rows": rows})[0] == 200
            assert call("POST", PREDICT, {"rows": [{}]})[0] == 422
            p95 = prom.value(
                "histogram_quantile(0.95, sum(rate("
                'readiness_request_latency_seconds_bucket{endpoint="predict"}[30s])) by (le))'
            )
            errors = prom.value(
                "sum(rate(readiness_request_errors_total[30s])) / "
                "sum(rate(readiness_requests_total[30s]))"
            )
            time.sleep(1)
        assert p95 is not None and 0 < p95 < 1, p95
        assert errors is not None and 0 < errors < 0.5, errors
        served = prom.query('readiness_served_model_info{model="screening"} == 1')
        assert {r["metric"]["version"] for r in served} == {"v1.0.0"}


def test_the_prediction_log_on_a_real_postgresql(copy, postgres_url):  # noqa: F811
    from readiness.serve.predlog import count_predictions, read_predictions

    key = add_key(copy.root, "pg")
    rows, labels = holdout_rows(copy.root, 3)
    with start(copy, workers=2, log_url=postgres_url) as server:
        call = Http(server.url, key)
        ids = []
        for row in rows:
            status, body = call("POST", PREDICT, {"rows": [row]})
            assert status == 200
            ids.append(body["request_id"])
        status, _ = call("POST", "/v1/models/screening:feedback",
                         {"request_id": ids[0], "label": labels[0]})
        assert status == 200
    logged = read_predictions(postgres_url, model="screening")
    assert set(ids) <= set(logged["request_id"])
    assert count_predictions(postgres_url) >= 3
    first = logged[logged["request_id"] == ids[0]].iloc[0]
    assert first["labels"] == [labels[0]] and first["inputs"] == [rows[0]]
    assert not (copy.state_dir / "serve" / "predictions.db").exists()
