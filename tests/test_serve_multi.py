"""readiness serve A B: one real uvicorn (two workers) on a free 127.0.0.1 port serving two
skops models of one GTO registry, each at its own route, following its own stage, with
its own metrics, log rows, feedback and monitoring; and the refusals before serving."""

from __future__ import annotations

import sqlite3
import time

import pytest

from .test_serve import SETUP, Http, add_key, build_served_project, holdout_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """screening v1.0.0 in production (v1.0.1 registered) and triage v1.0.0 in production,
    a much more regularised model: its probabilities differ from screening's."""
    return build_served_project(
        tmp_path_factory.mktemp("multi") / "proj", SETUP, more={"triage": 0.001}
    )


def _samples(text: str, metric: str) -> dict[str, float]:
    """``{labels: value}`` of one metric's samples in an exposition."""
    found = {}
    for line in text.splitlines():
        if line.startswith(metric + "{"):
            labels, _, value = line[len(metric) + 1:].rpartition("} ")
            found[labels] = float(value)
    return found


def _per_model(samples: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for labels, value in samples.items():
        model = labels.split('model="', 1)[1].split('"', 1)[0] if 'model="' in labels else "?"
        out[model] = out.get(model, 0.0) + value
    return out


def _wait_logged(url: str, counts: dict[str, int], feedback: int, timeout: float = 20) -> None:
    """Until the log's writer has written these rows (it writes in the background)."""
    from readiness.serve.predlog import count_predictions

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            labels = db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
        if labels == feedback and all(count_predictions(url, m) == n for m, n in counts.items()):
            return
        time.sleep(0.2)
    raise AssertionError(f"the log did not reach {counts} and {feedback} feedback row(s)")


def test_one_server_two_models_each_on_its_own(two_models, monkeypatch):
    import readiness
    from readiness.gate.promotion import promote
    from readiness.monitoring.from_log import monitor_log
    from readiness.registry.versions import load_model
    from readiness.serve.predlog import read_predictions, resolve_url

    project = two_models
    monkeypatch.chdir(project.root)
    key = add_key(project.root)
    rows, labels = holdout_rows(project.root, 6)
    import pandas as pd

    url = resolve_url(project, None)
    frame = pd.DataFrame(rows)
    expected = {
        name: load_model(project, name, "production").predict_proba(frame)[:, 1].tolist()
        for name in ("screening", "triage")
    }
    assert max(abs(a - b) for a, b in zip(*expected.values(), strict=True)) > 0.05
    with readiness.serve(
        ["screening", "triage"], background=True, project=str(project.root), workers=2
    ) as server:
        call = Http(server.url, key)
        status, ready = call("GET", "/readyz", key=False)
        assert status == 200 and ready["ready"] and ready["in_sync"]
        assert [(m["model"], m["serving"]) for m in ready["models"]] == [
            ("screening", "v1.0.0"), ("triage", "v1.0.0")]
        assert call("GET", "/healthz", key=False)[0] == 200

        # each route answers with its own model's predictions
        ids = {}
        for name, n in (("screening", 4), ("triage", 6)):
            status, body = call("POST", f"/v1/models/{name}:predict_proba", {"rows": rows[:n]})
            assert status == 200 and body["model"] == name, body
            got = [p[1] for p in body["probabilities"]]
            assert got == pytest.approx(expected[name][:n], rel=1e-9), name
            ids[name] = body["request_id"]
        status, body = call("POST", "/v1/models/triage:predict", {"rows": rows[:2]})
        assert status == 200 and body["model"] == "triage" and len(body["predictions"]) == 2
        status, listed = call("GET", "/v1/models")
        assert [m["name"] for m in listed["models"]] == ["screening", "triage"]

        # an unknown model: 404 naming the served ones, logged apart, counted with model=""
        status, body = call("POST", "/v1/models/nomodel:predict", {"rows": rows[:1]})
        assert status == 404 and body["models"] == ["screening", "triage"]
        assert "this server serves screening, triage" in body["error"]

        # feedback per model: a request's labels go to its own model's route only
        status, body = call("POST", "/v1/models/screening:feedback",
                            {"request_id": ids["triage"], "labels": labels})
        assert status == 404 and "made to triage, not screening" in body["error"]
        status, body = call("POST", "/v1/models/triage:feedback",
                            {"request_id": ids["triage"], "labels": labels})
        assert status == 200 and body["labels"] == 6

        # counters per model, added up across the two workers (multiprocess files)
        _, text = call("GET", "/metrics")
        rows_done = _per_model(_samples(text, "readiness_rows_predicted_total"))
        assert rows_done == {"screening": 4.0, "triage": 8.0}, rows_done
        requests = _per_model(_samples(text, "readiness_requests_total"))
        assert requests == {"screening": 2.0, "triage": 3.0, "": 1.0}, requests
        errors = _per_model(_samples(text, "readiness_request_errors_total"))
        assert errors == {"": 1.0, "screening": 1.0}, errors  # the 404s
        assert _per_model(_samples(text, "readiness_feedback_labels_total")) == {"triage": 6}
        served = _samples(text, "readiness_served_model_info")
        assert {k for k, v in served.items() if v == 1} == {
            'model="screening",stage="production",version="v1.0.0"',
            'model="triage",stage="production",version="v1.0.0"'}

        # promoting one model switches that one only
        assert promote(project, "screening", "1.0.1", "production", force=True,
                       reason="t").promoted
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            _, ready = call("GET", "/readyz", key=False)
            if ready["models"][0]["serving"] == "v1.0.1" and ready["in_sync"]:
                break
            time.sleep(0.2)
        assert [m["serving"] for m in ready["models"]] == ["v1.0.1", "v1.0.0"], ready
        for name, version in (("screening", "v1.0.1"), ("triage", "v1.0.0")):
            status, body = call("POST", f"/v1/models/{name}:predict", {"rows": rows[:1]})
            assert status == 200 and body["model_version"] == version
        status, body = call("POST", "/admin/reload")  # looks at every model's stage
        assert status == 200 and body["ready"]
        assert [(m["model"], m["serving"], m["switched"]) for m in body["models"]] == [
            ("screening", "v1.0.1", False), ("triage", "v1.0.0", False)]

        # monitoring reads each model's own rows; the server exports both models' figures
        _wait_logged(url, {"nomodel": 1, "screening": 2, "triage": 3}, feedback=1)
        monitored = {name: monitor_log(project, name, window="1h") for name in expected}
        _, text = call("GET", "/metrics")
        assert text.count("# TYPE readiness_labelled_rows gauge") == 1
        assert _samples(text, "readiness_labelled_rows") == {
            'model="screening"': 0.0, 'model="triage"': 6.0}
    assert server.process.returncode == 0

    logged = read_predictions(url, status=None)
    assert logged.groupby("model").size().to_dict() == {
        "nomodel": 1, "screening": 2, "triage": 3}
    assert monitored["screening"].infrastructure["requests"] == 2  # its own 200s (+ the 404)
    assert monitored["triage"].infrastructure["requests"] == 3
    # one serving session per model, the declared price shared between them
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        sessions = db.execute(
            "SELECT model, cost_per_hour FROM serving_sessions ORDER BY model").fetchall()
    assert sessions == [("screening", 0.06), ("triage", 0.06)]


def test_refusals_before_serving_several(two_models, monkeypatch):
    from readiness.core.errors import ReadinessError
    from readiness.serve.runner import options_for, parse_models, preflight

    from .conftest import cli

    monkeypatch.chdir(two_models.root)
    assert parse_models(["screening", "triage@staging"]) == [
        ("screening", "production"), ("triage", "staging")]
    for names, message in (
        (["screening", "screening"], "screening is named twice"),
        (["screening", "keys"], "keys is not a model name"),
        (["screening", "triage@prod"], "the stage is one of production, staging"),
    ):
        with pytest.raises(ReadinessError, match=message):
            options_for(two_models, names)
    options = options_for(two_models, ["screening", "triage@staging"], auth=False)
    with pytest.raises(ReadinessError, match="no version of triage is in staging"):
        preflight(options)
    done = cli("serve", "screening", "triage", "nomodel", "--no-auth", cwd=two_models.root)
    assert done.returncode == 2, done.stderr
    assert "no version of nomodel is in production" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_contract_tests_of_several_models_render_each_and_fail_if_one_fails():
    from readiness import render
    from readiness.serve.contract import ContractResult, ContractResults

    passed = ContractResult("screening", "v1.0.0", "production", "holdout")
    passed.step("metrics", True, "status 200")
    failed = ContractResult("triage", "v1.0.0", "production", "holdout")
    failed.step("authentication", False, "auth is off")
    both = ContractResults([passed, failed])
    assert both.exit_code == 1 and ContractResults([passed]).exit_code == 0
    text = render.text(both)
    assert text.splitlines()[0] == "contract tests of 2 models: FAILED (1 passed)"
    assert "contract test of screening v1.0.0 (production): PASSED" in text
    assert "contract test of triage v1.0.0 (production): FAILED" in text
    assert [m["name"] for m in both.to_dict()["models"]] == ["screening", "triage"]
    assert "triage" in render.html_of(both) and "| authentication | FAIL |" in render.markdown(both)


def test_serve_a_b_check_runs_and_records_each_model_s_contract(two_models):
    import json

    from readiness.core import audit
    from readiness.serve.contract import CONTRACT_EVENT

    from .conftest import cli

    add_key(two_models.root, "contract-ci")  # auth on: each contract test checks it
    done = cli("serve", "screening", "triage", "--check", "--json", cwd=two_models.root)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert [m["name"] for m in report["models"]] == ["screening", "triage"]
    for model in report["models"]:
        steps = {s["name"]: s["ok"] for s in model["steps"]}
        assert steps["authentication"] and steps["metrics"] and steps["prediction log"], model
        assert model["requests"] > 0
    recorded = [e for e in audit.read(two_models) if e["event"] == CONTRACT_EVENT]
    assert [(e["name"], e["ok"], e["auth_enforced"]) for e in recorded[-2:]] == [
        ("screening", True, True), ("triage", True, True)]
