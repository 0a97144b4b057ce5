"""``readiness dashboard``: the series computed from a real server's prediction log, and the
page opened in the real browser (Playwright driving Debian's chromium)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import cli
from .test_browser import CHROMIUM, CHROMIUM_ARGS
from .test_serve import PREDICT, Http, add_key, copy, holdout_rows, served_project, start  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def traffic(copy):  # noqa: F811
    """Served traffic with errors, a promotion and a rollback while serving."""
    from readiness.gate.promotion import promote
    from readiness.registry.versions import rollback

    config = copy.config_path.read_text().replace(
        "poll_seconds: 0.5}", "poll_seconds: 0.5, max_error_rate: 0.05, min_labelled: 5}"
    )
    copy.config_path.write_text(config)
    key = add_key(copy.root)
    rows, labels = holdout_rows(copy.root, 5)
    with start(copy) as server:
        call = Http(server.url, key)
        for row, label in zip(rows * 4, labels * 4, strict=True):
            status, body = call("POST", PREDICT, {"rows": [row]})
            assert status == 200
            feedback = {"request_id": body["request_id"], "label": label}
            assert call("POST", "/v1/models/screening:feedback", feedback)[0] == 200
        for _ in range(3):
            assert call("POST", PREDICT, {"rows": [{}]})[0] == 422
        promote(copy, "screening", "1.0.1", "production", force=True, reason="test")
        rollback(copy, "screening")
    return copy


def test_the_series_equal_the_log_and_mark_breaches(traffic):
    import time

    import numpy as np
    from sklearn.metrics import recall_score

    from readiness.monitoring.timeline import timeline
    from readiness.serve.predlog import read_predictions, resolve_url

    now = time.time()
    result = timeline(traffic, "screening", now - 3600, now + 1, buckets=1)
    log = read_predictions(resolve_url(traffic, None), model="screening", status=None)
    series = {s.key: s for s in result.series}
    assert series["requests"].values == [float(len(log))] == [23.0]
    assert series["latency_p95_ms"].values[0] == pytest.approx(np.percentile(log["latency_ms"], 95))
    # recall on the labelled rows, computed here by hand from the log
    ok = log[log["status"] == 200]
    truth = [label for labels in ok["labels"] for label in labels]
    predicted = [p for outputs in ok["outputs"] for p in outputs]
    assert series["labelled_recall"].values[0] == pytest.approx(recall_score(truth, predicted))
    assert series["labelled_recall"].bound == 0.85
    assert series["error_rate"].values[0] == pytest.approx(3 / 23)
    assert series["error_rate"].bound == 0.05 and series["error_rate"].breaches == [0]
    assert series["cost_per_1000"].values[0] is not None
    labels = [e["label"] for e in result.events]
    assert labels[-2].startswith("promoted") and labels[-2].endswith("v1.0.1"), labels
    assert labels[-1] == "rolled back v1.0.0"
    assert result.versions == ["v1.0.0"]


def test_the_page_renders_in_a_real_browser(traffic, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install chromium")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    target = tmp_path / "dashboard.html"
    done = cli("dashboard", "screening", "--window", "1h", "--buckets", "12", "-o", str(target),
               cwd=traffic.root)
    assert done.returncode == 0, done.stderr
    assert f"wrote {target}" in done.stdout and "error_rate in 1 bucket(s)" in done.stdout
    text = target.read_text()
    assert "<script" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 900, "height": 1500})
            outside: list[str] = []

            def route(request_route):
                url = request_route.request.url
                if url.startswith(("file:", "data:", "about:")):
                    request_route.continue_()
                else:
                    outside.append(url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.goto(target.as_uri())
            charts = page.locator("svg[data-series]")
            assert charts.count() >= 5
            keys = [charts.nth(i).get_attribute("data-series") for i in range(charts.count())]
            assert {"requests", "latency_p95_ms", "error_rate", "drift_share"} <= set(keys)
            error_chart = page.locator("svg[data-series='error_rate']")
            assert error_chart.locator("line.bound").count() == 1
            assert error_chart.locator("circle.breach").count() == 1
            assert error_chart.locator("line.event").count() >= 2  # promotion, rollback
            box = error_chart.bounding_box()
            assert box and box["width"] > 500 and box["height"] > 100  # drawn, not collapsed
            assert not outside, outside
            shots = os.environ.get("READINESS_SCREENSHOTS")
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(shots) / "dashboard.png"), full_page=True)
        finally:
            browser.close()


def test_the_monitor_in_a_notebook_shows_the_same_pictures(traffic):
    from readiness import render
    from readiness.commands import Context, build_parser

    args = build_parser().parse_args(["monitor", "screening", "--window", "1h"])
    context = Context(cwd=traffic.root, front_end="magic", project_dir=traffic.root)
    result = args._command.execute(args, context)
    page = render.html_of(result)
    assert "<svg" in page and 'data-series="error_rate"' in page
    assert 'data-series="labelled_recall"' in page
