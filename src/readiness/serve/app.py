"""The HTTP front end: parse, authenticate, call the served model, log, answer.

A thin ASGI app on FastAPI. The body is read and parsed here (size limit, strict JSON:
no NaN) rather than by a pydantic body model, because the rules of a row are the
dataset schema's (:mod:`readiness.serve.features`), and a one-row request should pay
for nothing else. Nothing from inside the model reaches a client: a model failure is a
500 with the request id, and the exception goes to the server's log.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request  # module level: FastAPI resolves the annotations here

from readiness.core.project import Project
from readiness.serve.options import ServeOptions

log = logging.getLogger("readiness.serve")
FEEDBACK_WAIT_S = 2.0  # how long feedback waits for its request to reach the log (other workers)
ENDPOINTS = {"predict", "predict_proba"}


class _Refused(Exception):
    """A request answered with an error status before the model ran."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def _read_json(request: Request, limit: int) -> Any:
    """The body as JSON: 413 above ``limit`` bytes (before reading it all), 400 if malformed."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _Refused(413, {"error": f"body larger than {limit} bytes"})
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _Refused(413, {"error": f"body larger than {limit} bytes"})
    try:
        return json.loads(bytes(body), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused(400, {"error": f"malformed JSON: {exc}"}) from None


def _response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import Response

    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def build_app(options: ServeOptions) -> Any:
    """The ASGI app serving ``options``' models from the project at ``options.root``.

    Each model has its own routes (``/v1/models/NAME:predict``), follows its own registry
    stage and swaps on its own; metrics, log rows and feedback carry its name.
    """
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    from readiness.serve.keys import KeyRing, extract_token, keys_path
    from readiness.serve.loaded import ModelHolder
    from readiness.serve.metrics import Metrics
    from readiness.serve.predlog import PredictionLog

    project = Project(Path(options.root))
    names = options.names
    holders: dict[str, ModelHolder] = {}
    metrics = Metrics(
        options.cost_per_hour,
        monitor_files=[project.monitor_dir / f"{name}.json" for name in names],
        wanted=lambda: [(n, h.stage, h.wanted) for n, h in holders.items()],
    )

    def on_load_of(name: str, stage: str) -> Any:
        def on_load(served: Any, version: str, seconds: float, ok: bool) -> None:
            metrics.loaded(name, version, stage, seconds, ok)

        return on_load

    for name, stage in options.served:
        holders[name] = ModelHolder(project, name, stage, on_load=on_load_of(name, stage))
    ring = KeyRing.load(keys_path(project), extra=options.extra_keys) if options.auth else None
    predlog = PredictionLog(
        options.log_url, server_id=options.server_id, use_case=options.use_case
    )

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        for holder in holders.values():
            holder.load_initial()
        predlog.start()
        if len(names) == 1:
            predlog.session(names[0], options.host, options.cost_per_hour, options.workers)
        else:  # one session per model, the instance's price shared evenly between them
            share = None if options.cost_per_hour is None else options.cost_per_hour / len(names)
            for index, name in enumerate(names):
                sid = f"{options.server_id}-{index}"
                predlog.session(name, options.host, share, options.workers, server_id=sid)
        for holder in holders.values():
            holder.watch(options.poll_seconds)
        metrics.watch_process()
        try:
            yield
        finally:
            for holder in holders.values():
                holder.stop()
            predlog.close()  # drains: a clean shutdown loses no log row
            metrics.close()

    app = FastAPI(
        title=f"readiness serve {' '.join(names)}",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.holder = holders[names[0]]
    app.state.holders, app.state.metrics, app.state.log = holders, metrics, predlog

    def client_of(request: Request) -> str | None:
        """The calling key's name (None with auth off); 401 without a valid key."""
        if ring is None:
            return None
        headers = request.headers
        token = extract_token(headers.get("authorization"), headers.get("x-api-key"))
        name = ring.verify(token)
        if name is None:
            why = "missing API key" if token is None else "invalid or revoked API key"
            raise _Refused(
                401,
                {"error": f"{why}: send Authorization: Bearer KEY (or X-API-Key: KEY)"},
                {"WWW-Authenticate": "Bearer"},
            )
        return name

    def label_of(name: str) -> str:
        """The model label of a request to ``name``: "" for a model not served here (a
        client's typo must not make a time series)."""
        return name if name in holders else ""

    def version_now(name: str) -> str:
        holder = holders.get(name)
        return holder.current.version if holder and holder.current else ""

    def finish(
        endpoint: str,
        model: str,
        started: float,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        version: str | None = None,
    ) -> Any:
        seconds = time.perf_counter() - started
        label = label_of(model)
        metrics.observe(endpoint, label, version or version_now(model), status, seconds)
        return _response(status, body, headers)

    def log_request(entry: dict[str, Any]) -> None:
        sampled_out = options.sample_rate < 1 and random.random() >= options.sample_rate
        if entry["status"] < 300 and sampled_out:  # errors are always logged
            return
        predlog.record(entry)

    @app.get("/healthz")
    async def healthz() -> Any:
        return _response(200, {"status": "ok"})

    @app.get("/readyz")
    async def readyz() -> Any:
        state = _readiness([h.ready() for h in holders.values()])
        return _response(200 if state["ready"] else 503, state)

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Any:
        from starlette.responses import Response

        if not options.metrics_public:
            try:
                client_of(request)
            except _Refused as refused:
                return _response(refused.status, refused.body, refused.headers)
        text, content_type = metrics.exposition()
        return Response(text, media_type=content_type)

    @app.get("/v1/models")
    async def models(request: Request) -> Any:
        try:
            client_of(request)
        except _Refused as refused:
            return _response(refused.status, refused.body, refused.headers)
        described = [h.current.describe() for h in holders.values() if h.current]
        return _response(200, {"models": described})

    @app.get("/v1/models/{name}")
    async def model_info(request: Request, name: str) -> Any:
        try:
            client_of(request)
            served = _served(holders, name)
        except _Refused as refused:
            return _response(refused.status, refused.body, refused.headers)
        return _response(200, served.describe())

    async def predict(request: Request, name: str, endpoint: str) -> Any:
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        ids = {"X-Request-ID": request_id}
        version = version_now(name)
        entry: dict[str, Any] = {
            "request_id": request_id,
            "ts": time.time(),
            "model": name[:200],  # the log's column; an unknown model's rows stay apart
            "version": version,
            "endpoint": endpoint,
            "n_rows": 0,
            "inputs": None,
            "outputs": None,
            "probabilities": None,
            "client": None,
            "error": None,
        }
        try:
            entry["client"] = client_of(request)  # before the body: no key, nothing is read
            served = _served(holders, name)
            body = await _read_json(request, options.max_body_bytes)
            rows = _rows_of(body)
            problems, count = served.schema.problems(rows, options.max_rows)
            if problems:
                raise _Refused(
                    422,
                    {
                        "error": f"{count} broken rule(s) in the rows",
                        "problems": [p.to_dict() for p in problems],
                        "problem_count": count,
                    },
                )
        except _Refused as refused:
            refused.body["request_id"] = request_id
            entry.update(status=refused.status, error=refused.body.get("error"))
            entry["latency_ms"] = (time.perf_counter() - started) * 1000
            log_request(entry)
            headers = {**ids, **refused.headers}
            return finish(endpoint, name, started, refused.status, refused.body, headers)
        features = served.schema.features
        inputs = [{f: row.get(f) for f in features} for row in rows]
        try:
            model_inputs = served.inputs(inputs)
            predictions = served.predict(model_inputs)
            probabilities = None
            if endpoint == "predict_proba":
                probabilities = served.predict_proba(model_inputs)
        except Exception as exc:  # the model's own failure: logged here, never shown to clients
            log.exception("request %s: %s %s failed", request_id, name, served.version)
            entry.update(status=500, error=type(exc).__name__, n_rows=len(rows), inputs=inputs)
            entry["version"] = served.version
            entry["latency_ms"] = (time.perf_counter() - started) * 1000
            log_request(entry)
            failure = {"error": "the model failed on this request", "request_id": request_id}
            return finish(endpoint, name, started, 500, failure, ids, served.version)
        answer: dict[str, Any] = {
            "model": name,
            "model_version": served.version,
            "request_id": request_id,
            "predictions": predictions,
        }
        if probabilities is not None:
            answer["classes"] = served.classes
            answer["probabilities"] = probabilities
        metrics.rows.labels(name, served.version).inc(len(rows))
        entry.update(
            version=served.version,
            status=200,
            n_rows=len(rows),
            inputs=inputs,
            outputs=predictions,
            probabilities=probabilities,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        log_request(entry)
        return finish(endpoint, name, started, 200, answer, ids, served.version)

    @app.post("/v1/models/{name}:predict")
    async def predict_labels(request: Request, name: str) -> Any:
        return await predict(request, name, "predict")

    @app.post("/v1/models/{name}:predict_proba")
    async def predict_probabilities(request: Request, name: str) -> Any:
        return await predict(request, name, "predict_proba")

    @app.post("/v1/models/{name}:feedback")
    async def feedback(request: Request, name: str) -> Any:
        import asyncio

        started = time.perf_counter()
        try:
            client_of(request)
            served = _served(holders, name)
            body = await _read_json(request, options.max_body_bytes)
            request_id, labels = _labels_of(body)
            loop = asyncio.get_running_loop()
            found = await loop.run_in_executor(None, predlog.logged, request_id)
            waited = 0.0
            # another worker's request may not be written yet
            while found is None and waited < FEEDBACK_WAIT_S:
                await asyncio.sleep(0.1)
                waited += 0.1
                found = await loop.run_in_executor(None, predlog.logged, request_id)
            if found is None:
                raise _Refused(404, {"error": f"no logged request {request_id}"})
            model, expected = found
            if model != name:  # its labels would join the other model's monitoring
                why = f"request {request_id} was made to {model}, not {name}"
                raise _Refused(404, {"error": why})
            if expected == 0:
                raise _Refused(422, {"error": f"request {request_id} predicted no rows"})
            if len(labels) != expected:
                why = f"request {request_id} had {expected} row(s): got {len(labels)} label(s)"
                raise _Refused(422, {"error": why})
            problems = _label_problems(served, labels)
            if problems:
                why = "labels break the label's rules"
                raise _Refused(422, {"error": why, "problems": problems})
        except _Refused as refused:
            if refused.status in (404, 422):  # counted: labels that could not be joined
                reason = "unknown request" if refused.status == 404 else "invalid labels"
                metrics.feedback_refused.labels(label_of(name), reason).inc()
            return finish(
                "feedback", name, started, refused.status, refused.body, refused.headers
            )
        predlog.feedback(request_id, labels, time.time())
        metrics.feedback.labels(name).inc(len(labels))
        body = {"request_id": request_id, "labels": len(labels)}
        return finish("feedback", name, started, 200, body)

    @app.post("/admin/reload")
    async def reload(request: Request) -> Any:
        import asyncio

        started = time.perf_counter()
        first = names[0] if len(names) == 1 else ""  # several: the server's, no one model's
        try:
            client_of(request)
        except _Refused as refused:
            return finish(
                "admin_reload", first, started, refused.status, refused.body, refused.headers
            )
        loop = asyncio.get_running_loop()
        done = []
        for holder in holders.values():
            refreshed = await loop.run_in_executor(None, holder.refresh, True)
            done.append({**refreshed.to_dict(), **holder.ready()})
        body = done[0] if len(done) == 1 else {**_readiness(done), "models": done}
        return finish("admin_reload", first, started, 200, body)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Any:  # never a traceback to a client
        log.exception("unexpected error on %s", request.url.path)
        return _response(500, {"error": "internal error"})

    return app


def _readiness(states: list[dict[str, Any]]) -> dict[str, Any]:
    """``/readyz``: one model's state as it is; several: ready only when all are loaded."""
    if len(states) == 1:
        return states[0]
    return {
        "ready": all(s["ready"] for s in states),
        "in_sync": all(s["in_sync"] for s in states),
        "models": states,
    }


def _served(holders: dict[str, Any], name: str) -> Any:
    holder = holders.get(name)
    if holder is None:
        serving = ", ".join(holders)
        raise _Refused(
            404,
            {"error": f"no model {name} here: this server serves {serving}",
             "models": list(holders)},
        )
    served = holder.current
    if served is None:
        raise _Refused(503, {"error": f"{name} is not loaded yet"})
    return served


def _rows_of(body: Any) -> Any:
    if not isinstance(body, dict):
        raise _Refused(422, {"error": 'the body must be an object: {"rows": [{...}, ...]}'})
    unknown = sorted(str(k) for k in body if k != "rows")
    if unknown:
        raise _Refused(
            422, {"error": f"unknown key(s) {', '.join(unknown)}: send {{\"rows\": [{{...}}]}}"}
        )
    if "rows" not in body:
        raise _Refused(422, {"error": 'rows is missing: send {"rows": [{feature: value, ...}]}'})
    return body["rows"]


def _labels_of(body: Any) -> tuple[str, list[Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("request_id"), str):
        raise _Refused(
            422, {"error": 'send {"request_id": ..., "labels": [one per row]} (or "label")'}
        )
    unknown = sorted(str(k) for k in body if k not in ("request_id", "labels", "label"))
    if unknown or ("labels" in body) == ("label" in body):
        raise _Refused(
            422, {"error": 'send exactly one of "labels" (a list, one per row) or "label"'}
        )
    labels = body["labels"] if "labels" in body else [body["label"]]
    if not isinstance(labels, list) or any(isinstance(v, (dict, list)) for v in labels):
        raise _Refused(422, {"error": "labels must be a list of scalars, one per row"})
    return body["request_id"], labels


def _label_problems(served: Any, labels: list[Any]) -> list[dict[str, Any]]:
    rule = served.schema.label_rule
    if rule is None:
        return []
    found = []
    for index, value in enumerate(labels):
        reason = rule.problem(value)
        if reason:
            found.append({"row": index, "field": rule.name, "rule": reason})
            if len(found) >= 100:
                break
    return found


def create_app() -> Any:
    """uvicorn's factory in each worker process: the options come from the environment."""
    return build_app(ServeOptions.from_env())
