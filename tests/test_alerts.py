"""Alert rules and a dashboard from readiness.yaml: promtool accepts them, one rule per declared
bound, the server exports the gauges they read, and a real Prometheus scraping a real
``readiness serve`` fires the latency alert when the declared bound is below the latency."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

from readiness.core.project import Project

from .conftest import cli
from .prom_server import Prometheus, check_rules, require_prometheus, require_promtool
from .test_serve import PREDICT, Http, add_key, copy, holdout_rows, served_project, start  # noqa: F401

EVERY_BOUND = """
use_case: {name: screening, owner: head@example.com, business_metric: cost per patient}
criteria:
  technical:
    - {metric: roc_auc, split: holdout, min: 0.95}
    - {metric: log_loss, split: holdout, max: 0.3}
    - {metric: latency_p95_ms, split: holdout, max: 50}
    - {metric: latency_p50_ms, split: holdout, max: 10}
  business:
    value_per_outcome: {tp: 100, fp: -10, fn: -50}
    min_net_value_per_1000: 500
    max_latency_ms: 20
drift: {max_drift_share: 0.3}
serving: {max_error_rate: 0.02}
"""
ONE_BOUND = """
use_case: {name: screening, owner: head@example.com, business_metric: cost per patient}
criteria:
  technical:
    - {metric: recall, split: holdout, min: 0.85}
"""


def project_with(tmp_path: Path, text: str) -> Project:
    root = tmp_path / "proj"
    root.mkdir(parents=True)
    (root / "readiness.yaml").write_text(text)
    return Project(root)


def monitor_json(**overrides) -> dict:
    figures = {
        "name": "screening",
        "version": "v1.0.0",
        "at": "2026-12-01T10:00:00+00:00",
        "since": "2026-11-30T10:00:00+00:00",
        "until": "2026-12-01T10:00:00+00:00",
        "requests": 1200,
        "drift_share": 0.5,
        "drifted_columns": ["mean radius"],
        "prediction_drift": 0.21,
        "prediction_drifted": True,
        "labelled_rows": 300,
        "metrics": {
            "roc_auc": {"value": 0.61, "low": 0.55, "high": 0.67, "bound": 0.95,
                        "direction": "min", "breach": True},
            "recall": {"value": None, "low": None, "high": None, "bound": 0.85,
                       "direction": "min", "breach": None},
        },
        "net_value_per_1000": -12.5,
        "min_net_value_per_1000": None,
        "breaches": ["roc_auc"],
    }
    return {**figures, **overrides}


def test_the_rules_of_every_kind_of_bound_pass_promtool(tmp_path):
    from readiness.core.config import load_config
    from readiness.criteria.declaration import criteria_hash
    from readiness.monitoring.alerts import header_hashes, inputs_hash

    require_promtool()
    project = project_with(tmp_path, EVERY_BOUND)
    done = cli("alerts", "prometheus", cwd=project.root)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "rules.yml"
    path.write_text(done.stdout)
    ok, output = check_rules(path)
    assert ok and "SUCCESS: 10 rules found" in output, output
    config = load_config(project)
    assert header_hashes(done.stdout) == {
        "criteria_hash": criteria_hash(config.criteria), "inputs_hash": inputs_hash(config)
    }
    # -o writes the same file and says so in the audit log
    done = cli("alerts", "prometheus", "-o", "monitoring/alerts.yml", cwd=project.root)
    assert done.returncode == 0 and "wrote 10 alert rule(s)" in done.stdout, done.stderr
    assert (project.root / "monitoring" / "alerts.yml").read_text().rstrip() == path.read_text().rstrip()
    from readiness.core import audit

    entry = audit.read(project)[-1]
    assert entry["event"] == "alerts.generated" and entry["path"] == "monitoring/alerts.yml"
    assert entry["criteria_hash"] == criteria_hash(config.criteria)
    # a bad readiness.yaml: one line, exit 2
    (project.root / "readiness.yaml").write_text("use_case: [")
    done = cli("alerts", "prometheus", cwd=project.root)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_a_rule_per_declared_bound_and_none_for_an_undeclared_one(tmp_path):
    from readiness.core import yamlio
    from readiness.monitoring.alerts import prometheus_rules

    every = prometheus_rules(project_with(tmp_path / "a", EVERY_BOUND))
    rules = {r["alert"] + ":" + r["labels"]["criterion"]: r
             for r in yamlio.parse(every.text).data["groups"][0]["rules"]}
    assert set(rules) == {
        "ReadinessLatencyP50High:latency_p50_ms",
        "ReadinessLatencyP95High:latency_p95_ms",
        "ReadinessErrorRateHigh:max_error_rate",
        "ReadinessDriftShareHigh:max_drift_share",
        "ReadinessLabelledMetricLow:roc_auc",
        "ReadinessLabelledMetricHigh:log_loss",
        "ReadinessNetValueLow:min_net_value_per_1000",
        "ReadinessNoTraffic:traffic",
        "ReadinessServedVersionNotRegistry:registry_stage",
        "ReadinessMonitorStale:monitor_max_age",
    }
    p95 = rules["ReadinessLatencyP95High:latency_p95_ms"]
    # the tighter of latency_p95_ms max 50 and max_latency_ms 20, in seconds
    assert p95["expr"].startswith("histogram_quantile(0.95,") and p95["expr"].endswith("> 0.02")
    assert "criteria.business.max_latency_ms" in p95["annotations"]["description"]
    assert rules["ReadinessErrorRateHigh:max_error_rate"]["expr"].endswith("> 0.02")
    assert rules["ReadinessDriftShareHigh:max_drift_share"]["expr"].endswith("> 0.3")
    assert rules["ReadinessLabelledMetricLow:roc_auc"]["expr"].endswith("< 0.95")
    assert rules["ReadinessLabelledMetricHigh:log_loss"]["expr"].endswith("> 0.3")
    assert rules["ReadinessNetValueLow:min_net_value_per_1000"]["expr"].endswith("< 500.0")
    for rule in rules.values():
        assert rule["for"] and rule["labels"]["severity"] in ("warning", "critical")
        assert rule["labels"]["model"] and rule["annotations"]["summary"]
        assert "readiness.yaml" in rule["annotations"]["description"]
    one = prometheus_rules(project_with(tmp_path / "b", ONE_BOUND), model="screening")
    assert one.rules == [
        "ReadinessLabelledMetricLow", "ReadinessNoTraffic", "ReadinessServedVersionNotRegistry",
        "ReadinessMonitorStale",
    ]
    data = yamlio.parse(one.text).data["groups"][0]["rules"]
    assert data[0]["labels"]["model"] == "screening" and 'model="screening"' in data[0]["expr"]
    assert "latency" not in one.text and "drift" not in one.text and "net_value" not in one.text


def test_the_grafana_dashboard_reads_the_metrics_of_the_rules(tmp_path):
    from readiness.monitoring.alerts import prometheus_rules

    project = project_with(tmp_path, EVERY_BOUND)
    done = cli("alerts", "grafana", cwd=project.root)
    assert done.returncode == 0, done.stderr
    board = json.loads(done.stdout)
    assert board["__inputs"][0]["pluginId"] == "prometheus"
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    metric = re.compile(r"\breadiness_[a-z0-9_]+")
    in_panels = {m for e in exprs for m in metric.findall(e)}
    rules = prometheus_rules(project).text
    in_rules = set(metric.findall(rules.split("groups:", 1)[1]))
    assert in_rules <= in_panels, in_rules - in_panels
    bounds = {p["title"]: p["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"]
              for p in board["panels"]}
    assert bounds["p95 latency"] == 0.02 and bounds["Drift share (last monitor window)"] == 0.3
    assert bounds["Net value per 1,000 predictions"] == 500


def test_a_missing_or_corrupt_monitor_file_exports_nothing(tmp_path):
    from readiness.serve.metrics import monitor_families

    path = tmp_path / "screening.json"
    assert monitor_families(path) == []
    for broken in ("{not json", "[1, 2]", '{"name": 3}', "\xff\xfe"):
        path.write_text(broken, encoding="latin-1")
        assert monitor_families(path) == []
    path.write_text(json.dumps(monitor_json(drift_share="high", at="yesterday", metrics=[1])))
    names = {f.name for f in monitor_families(path)}
    assert names == {"readiness_prediction_drift", "readiness_labelled_rows",
                     "readiness_net_value_per_1000"}


def _with_latency_bound(project: Project, ms: float) -> None:
    from readiness.core import yamlio
    from readiness.core.config import merged_text

    data = yamlio.parse(project.config_path.read_text()).data
    criteria = data["criteria"]
    criteria["business"] = {"max_latency_ms": ms}
    project.config_path.write_text(merged_text(project, {"criteria": criteria}))


def test_a_real_prometheus_fires_the_alerts_of_a_real_server(copy):  # noqa: F811
    """The server exports the monitor gauges (from the monitor file) and the registry's
    version; Prometheus loads the generated rules; the latency alert fires when the
    declared bound is below the observed latency, the drift and accuracy alerts from the
    monitor's figures; the version alert stays quiet (served = registry)."""
    from readiness.monitoring.alerts import prometheus_rules

    require_prometheus()
    require_promtool()
    _with_latency_bound(copy, 0.001)
    copy.monitor_dir.mkdir(parents=True, exist_ok=True)
    # three days old: older than the default serving.monitor_max_age (2d)
    three_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    (copy.monitor_dir / "screening.json").write_text(
        json.dumps(monitor_json(at=three_days_ago.isoformat()))
    )
    rules = prometheus_rules(copy, for_="0s").text
    assert "> 1e-06" in rules
    key = add_key(copy.root, "prometheus")
    rows, _ = holdout_rows(copy.root, 1)
    with start(copy) as server:
        call = Http(server.url, key)
        status, text = call("GET", "/metrics")
        assert status == 200
        assert 'readiness_drift_share{model="screening"} 0.5' in text
        assert 'readiness_prediction_drift{model="screening"} 0.21' in text
        assert 'readiness_labelled_rows{model="screening"} 300.0' in text
        assert 'readiness_labelled_metric{metric="roc_auc",model="screening"} 0.61' in text
        assert 'metric="recall"' not in text  # no value: not judged, not exported
        assert 'readiness_net_value_per_1000{model="screening"} -12.5' in text
        assert "readiness_monitor_last_run_timestamp_seconds" in text
        assert ('readiness_registry_stage_version_info{model="screening",stage="production",'
                'version="v1.0.0"} 1.0') in text
        with Prometheus(f"127.0.0.1:{server.options.port}", token=key, rules=rules) as prom:
            prom.wait_for_target("up", timeout=30)
            assert {r["name"] for g in prom.rules() for r in g["rules"]} >= {
                "ReadinessLatencyP95High", "ReadinessDriftShareHigh", "ReadinessLabelledMetricLow"
            }
            deadline = time.monotonic() + 45
            firing: dict[str, dict] = {}
            wanted = {"ReadinessLatencyP95High", "ReadinessDriftShareHigh",
                      "ReadinessLabelledMetricLow", "ReadinessMonitorStale"}
            while time.monotonic() < deadline and not wanted <= set(firing):
                call = Http(server.url, key)  # a new connection: the server closes idle ones
                for _ in range(10):
                    assert call("POST", PREDICT, {"rows": rows})[0] == 200
                firing = {a["labels"]["alertname"]: a for a in prom.alerts()
                          if a["state"] == "firing"}
                time.sleep(0.5)
            assert wanted <= set(firing), (firing, prom.alerts())
            latency = firing["ReadinessLatencyP95High"]
            assert latency["labels"]["model"] == "screening"
            assert latency["labels"]["criterion"] == "latency_p95_ms"
            assert firing["ReadinessLabelledMetricLow"]["labels"]["metric"] == "roc_auc"
            assert "ReadinessServedVersionNotRegistry" not in firing
            assert prom.value(
                'readiness_registry_stage_version_info{version="v1.0.0"}') == 1
        # the registry's stage moves: the server's gauge follows at its next look
        from readiness.gate.promotion import promote

        assert promote(copy, "screening", "1.0.1", "production", force=True, reason="t").promoted
        deadline = time.monotonic() + 20
        moved = 'readiness_registry_stage_version_info{model="screening",stage="production",' \
            'version="v1.0.1"} 1.0'
        while time.monotonic() < deadline:
            text = Http(server.url, key)("GET", "/metrics")[1]
            if moved in text:
                break
            time.sleep(0.25)
        registry = [line for line in text.splitlines()
                    if line.startswith("readiness_registry_stage_version_info{")]
        assert registry == [moved], registry  # one version: the stage's new one


def test_a_declared_monitor_age_sets_the_stale_rule_and_a_bad_one_is_refused(tmp_path):
    from readiness.core import yamlio
    from readiness.monitoring.alerts import inputs_hash, prometheus_rules

    default = project_with(tmp_path / "a", ONE_BOUND)
    declared = project_with(tmp_path / "b", ONE_BOUND + "serving: {monitor_max_age: 36h}\n")

    def stale(project: Project) -> dict:
        rules = yamlio.parse(prometheus_rules(project).text).data["groups"][0]["rules"]
        return next(r for r in rules if r["alert"] == "ReadinessMonitorStale")

    assert stale(default)["expr"].endswith("> 172800.0")  # 2d
    assert stale(declared)["expr"].endswith("> 129600.0")  # 36h
    assert stale(declared)["annotations"]["source"] == "serving.monitor_max_age"
    from readiness.core.config import load_config

    # the age is an input of the rules: rules generated before it changed are stale
    assert inputs_hash(load_config(default)) != inputs_hash(load_config(declared))
    bad = project_with(tmp_path / "c", ONE_BOUND + "serving: {monitor_max_age: soon}\n")
    done = cli("alerts", "prometheus", cwd=bad.root)
    assert done.returncode == 2 and "monitor_max_age" in done.stderr
    assert "Traceback" not in done.stderr
