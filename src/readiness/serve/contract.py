"""The contract test (CD4ML): the serving stack answers production-format inputs correctly.

``readiness serve NAME --check`` starts the real server on a free localhost port with a
key that exists only for the test and a prediction log of its own (production's log
never sees test traffic), replays held-out rows as the JSON a client sends, and checks
that predictions equal the in-process model's, that malformed rows made from the
schema get 422 naming row and field, that a request without a valid key gets 401, that
the metrics are served, that every request reached the log, and that p95 latency is
within the criteria's bound. The result goes to the audit log (``serve.contract``),
where the checklist and the gate read it, like a rollback drill.
"""

from __future__ import annotations

import http.client
import json
import math
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.serve.options import ServeOptions

MAX_REPLAY_ROWS = 200  # single-row requests: enough for a p95, bounded in time
CONTRACT_EVENT = "serve.contract"


@dataclass
class Step:
    name: str
    ok: bool | None  # None: not applicable (said why)
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ContractResult(Renderable):
    """Each check of the contract test, and whether all passed."""

    name: str
    version: str
    stage: str
    data: str
    steps: list[Step] = field(default_factory=list)
    p95_ms: float | None = None
    max_latency_ms: float | None = None
    requests: int = 0

    @property
    def ok(self) -> bool:
        return all(s.ok is not False for s in self.steps) and bool(self.steps)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def step(self, name: str, ok: bool | None, detail: str) -> None:
        self.steps.append(Step(name, ok, detail))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "data": self.data,
            "ok": self.ok,
            "p95_ms": self.p95_ms,
            "max_latency_ms": self.max_latency_ms,
            "requests": self.requests,
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass
class ContractResults(Renderable):
    """The contract tests of a server of several models: one per model, in turn."""

    results: list[ContractResult]

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "models": [r.to_dict() for r in self.results]}


class Client:
    """One keep-alive HTTP connection to the server under test."""

    def __init__(self, host: str, port: int, key: str | None) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.key = key
        self.sent = 0

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: str | bool | None = True,
        raw: bytes | None = None,
    ) -> tuple[int, Any, float]:
        """Status, parsed JSON (or text) and seconds of one request."""
        headers = {"Content-Type": "application/json"}
        chosen = self.key if key is True else key
        if isinstance(chosen, str):
            headers["Authorization"] = f"Bearer {chosen}"
        payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            answer = self.connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # uvicorn closes a keep-alive connection idle for 5 s (loading the model to
            # compare with can take that on a busy machine): it never read the request,
            # so send it again on a new connection
            self.connection.close()
            started = time.perf_counter()
            self.connection.request(method, path, body=payload, headers=headers)
            answer = self.connection.getresponse()
        data = answer.read()
        seconds = time.perf_counter() - started
        if path.endswith((":predict", ":predict_proba")):
            self.sent += 1
        kind = answer.getheader("content-type") or ""
        return answer.status, (json.loads(data) if "json" in kind else data.decode()), seconds

    def close(self) -> None:
        self.connection.close()


def _latency_bound(project: Project) -> float | None:
    from readiness.core.config import load_config

    config = load_config(project)
    bounds = [c.max for c in config.criteria.technical if c.metric == "latency_p95_ms" and c.max]
    if config.criteria.business and config.criteria.business.max_latency_ms:
        bounds.append(config.criteria.business.max_latency_ms)
    return min(bounds) if bounds else None


def _json_rows(frame: Any) -> list[dict[str, Any]]:
    """Rows as a client sends them: plain JSON values, missing values as null."""
    rows = json.loads(frame.to_json(orient="records", date_format="iso"))
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in rows]


def _same(expected: list[Any], got: list[Any]) -> bool:
    if len(expected) != len(got):
        return False
    for a, b in zip(expected, got, strict=True):
        if isinstance(a, float) or isinstance(b, float):
            if not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif a != b:
            return False
    return True


CASES = ("wrong type", "out of range", "missing column", "unknown category")


Malformed = dict[str, tuple[str, dict[str, Any]] | None]


def malformed_rows(schema: Any, row: dict[str, Any]) -> Malformed:
    """For each kind of bad input, a (field, row) that breaks it, or None where the schema
    declares no rule of that kind (no range, no allowed values)."""
    rules = [schema.rules[f] for f in schema.features if f in schema.rules]
    cases: Malformed = dict.fromkeys(CASES)
    typed = next((r for r in rules if r.type is not None), None)
    if typed is not None:
        wrong = 12345 if typed.type in ("str", "category", "datetime", "bool") else "not a number"
        cases["wrong type"] = (typed.name, {**row, typed.name: wrong})
    ranged = next((r for r in rules if r.min is not None or r.max is not None), None)
    if ranged is not None:
        value = (ranged.min - 1) if ranged.min is not None else (ranged.max or 0) + 1
        cases["out of range"] = (ranged.name, {**row, ranged.name: value})
    missing = schema.features[0]
    cases["missing column"] = (missing, {k: v for k, v in row.items() if k != missing})
    listed = next((r for r in rules if r.allowed is not None), None)
    if listed is not None:
        unknown: Any = "__readiness_unknown_category__"
        if all(isinstance(v, (int, float)) for v in listed.allowed or ()):
            unknown = max(listed.allowed or (0,)) + 1
        cases["unknown category"] = (listed.name, {**row, listed.name: unknown})
    return cases


NOT_DECLARED = {
    "wrong type": "no feature has a declared or inferred type",
    "out of range": "no feature declares min or max (datasets: in readiness.yaml)",
    "unknown category": "no feature declares allowed values (datasets: in readiness.yaml)",
}


def contract_test(
    project: Project, options: ServeOptions, data: Path | None = None
) -> ContractResult:
    """Start the server, check the contract, stop it, and record the result."""
    from readiness.core.config import load_config
    from readiness.registry.versions import features_for, load_model, sample_frame
    from readiness.serve.features import build_schema
    from readiness.serve.keys import ephemeral_key
    from readiness.serve.predlog import count_predictions
    from readiness.serve.runner import free_port, start_background

    frame, target, where = sample_frame(project, data, rows=MAX_REPLAY_ROWS)
    key, entry = ephemeral_key()
    folder = Path(tempfile.mkdtemp(prefix="readiness-contract-"))
    log_url = f"sqlite:///{folder / 'predictions.db'}"
    options = replace(
        options,
        host="127.0.0.1",
        port=free_port(),
        workers=1,
        log_url=log_url,
        extra_keys=[entry] if options.auth else [],
        poll_seconds=3600.0,
        sample_rate=1.0,
    )
    result = ContractResult(options.name, "", options.stage, where)
    result.max_latency_ms = _latency_bound(project)
    from readiness.serve.predlog import ensure_schema

    ensure_schema(log_url)
    server = start_background(options)
    client = Client(options.host, options.port, key if options.auth else None)
    try:
        _, ready, _ = client.call("GET", "/readyz", key=False)
        result.version = ready.get("serving") or ""
        model = load_model(project, options.name, version=result.version)
        features = features_for(model, frame, target, where)
        schema = build_schema(model, load_config(project), project.root)
        _check_predictions(result, client, options, model, features)
        _check_refusals(result, client, options, schema, features)
        _check_auth(result, client, options)
        _check_metrics(result, client, options)
    finally:
        client.close()
        server.stop()
    result.requests = client.sent
    logged = count_predictions(log_url)
    result.step(
        "prediction log",
        logged == client.sent,
        f"{logged} of {client.sent} requests logged (drained on SIGTERM)",
    )
    _check_latency(result)
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    audit.append(
        project,
        CONTRACT_EVENT,
        name=result.name,
        version=result.version,
        stage=result.stage,
        ok=result.ok,
        auth_enforced=_passed(result, "authentication"),
        metrics=_passed(result, "metrics"),
        p95_ms=result.p95_ms,
        failed=[s.name for s in result.steps if s.ok is False],
    )
    return result


def contract_tests(
    project: Project, options: ServeOptions, data: Path | None = None
) -> ContractResult | ContractResults:
    """``readiness serve A [B ...] --check``: each model's contract test, in turn.

    Each model gets its own run (its own server, key and log, as ``readiness serve A
    --check``): a contract is one model's evidence, recorded under its name, and a
    model's failure then cannot hide behind, or be blamed on, another's.
    """
    if len(options.served) == 1:
        return contract_test(project, options, data)
    return ContractResults([
        contract_test(project, replace(options, name=name, stage=stage, models=[]), data)
        for name, stage in options.served
    ])


def _passed(result: ContractResult, name: str) -> bool:
    return any(s.name == name and s.ok for s in result.steps)


def _check_predictions(
    result: ContractResult, client: Client, options: ServeOptions, model: Any, features: Any
) -> None:
    expected = model.predict(features).tolist()
    rows = _json_rows(features)
    path = f"/v1/models/{options.name}:predict"
    got: list[Any] = []
    seconds: list[float] = []
    failures = 0
    for row in rows:
        status, body, took = client.call("POST", path, {"rows": [row]})
        seconds.append(took)
        if status != 200:
            failures += 1
            got.append(None)
        else:
            got.extend(body["predictions"])
    same = failures == 0 and _same(expected, got)
    result.step(
        "predictions (one row per request)",
        same,
        f"{len(rows)} rows: " + ("equal to the in-process model's" if same else
                                 f"{failures} failed, predictions differ"),
    )
    status, body, _ = client.call("POST", path, {"rows": rows})
    batch_same = status == 200 and _same(expected, body.get("predictions", []))
    result.step(
        "predictions (one batch)",
        batch_same,
        f"{len(rows)} rows in one request: "
        + ("equal" if batch_same else f"status {status}, predictions differ"),
    )
    if seconds:
        ordered = sorted(seconds)
        result.p95_ms = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)] * 1000


def _check_refusals(
    result: ContractResult, client: Client, options: ServeOptions, schema: Any, features: Any
) -> None:
    base = _json_rows(features.head(1))[0]
    path = f"/v1/models/{options.name}:predict"
    for case, made in malformed_rows(schema, base).items():
        if made is None:
            result.step(f"422 on {case}", None, NOT_DECLARED[case])
            continue
        name, row = made
        status, body, _ = client.call("POST", path, {"rows": [row]})
        problems = body.get("problems", []) if isinstance(body, dict) else []
        named = any(p.get("row") == 0 and p.get("field") == name for p in problems)
        rule = next((p["rule"] for p in problems if p.get("field") == name), "")
        result.step(
            f"422 on {case}",
            status == 422 and named,
            f"{name}: status {status}" + (f", rule {rule!r}" if rule else ""),
        )
    status, _, _ = client.call("POST", path, raw=b'{"rows": [')
    result.step("400 on malformed JSON", status == 400, f"status {status}")
    big = b'{"rows": [' + b" " * (options.max_body_bytes + 1) + b"]}"
    status, _, _ = client.call("POST", path, raw=big)
    result.step("413 on an oversized body", status == 413, f"status {status}")


def _check_auth(result: ContractResult, client: Client, options: ServeOptions) -> None:
    if not options.auth:
        result.step("authentication", False, "auth is off (serving: {auth: false} or --no-auth)")
        return
    path = f"/v1/models/{options.name}:predict"
    missing, _, _ = client.call("POST", path, {"rows": []}, key=False)
    wrong, _, _ = client.call("POST", path, {"rows": []}, key="rdy_00000000_not-a-key")
    ok = missing == 401 and wrong == 401
    result.step("authentication", ok, f"no key: {missing}, wrong key: {wrong} (401 expected)")


def _check_metrics(result: ContractResult, client: Client, options: ServeOptions) -> None:
    status, text, _ = client.call("GET", "/metrics")
    wanted = ("readiness_request_latency_seconds", "readiness_requests_total")
    ok = status == 200 and isinstance(text, str) and all(w in text for w in wanted)
    detail = f"status {status}" + ("" if ok else ": latency histogram or request counter missing")
    if ok and not options.metrics_public and options.auth:
        anonymous, _, _ = client.call("GET", "/metrics", key=False)
        ok = anonymous == 401
        detail += f"; without a key {anonymous}"
    result.step("metrics", ok, detail)


def _check_latency(result: ContractResult) -> None:
    if result.p95_ms is None:
        result.step("p95 latency", False, "no request was timed")
    elif result.max_latency_ms is None:
        result.step("p95 latency", None, f"{result.p95_ms:.1f} ms; no latency bound declared")
    else:
        ok = result.p95_ms <= result.max_latency_ms
        result.step(
            "p95 latency",
            ok,
            f"{result.p95_ms:.1f} ms over HTTP against the bound {result.max_latency_ms:g} ms",
        )
