"""A Grafana dashboard over the server's metrics, with readiness.yaml's bounds as thresholds.

Import it in Grafana (Dashboards > New > Import): it asks for the Prometheus data source
(``DS_PROMETHEUS``). Each panel's threshold line is the bound the alert rule of the same
figure fires on (:mod:`readiness.monitoring.alerts`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.project import Project
from readiness.core.schema import Config
from readiness.monitoring.alerts import (
    PREDICT,
    AlertsFile,
    config_of,
    criteria_hash_of,
    inputs_hash,
    latency_bounds,
    write_output,
)

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
RED, GREEN = "red", "green"


def _sel(model: str | None, extra: str = "") -> str:
    chosen = 'model=~"$model"' if model is None else f"model={json.dumps(model)}"
    parts = [p for p in (chosen, extra) if p]
    return "{" + ",".join(parts) + "}"


def _panel(
    index: int,
    title: str,
    exprs: list[tuple[str, str]],
    unit: str = "short",
    bound: float | None = None,
    above_is_bad: bool = True,
    kind: str = "timeseries",
) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": GREEN if above_is_bad else RED, "value": None}]
    if bound is not None:
        steps.append({"color": RED if above_is_bad else GREEN, "value": bound})
    custom = {"thresholdsStyle": {"mode": "line" if bound is not None else "off"}}
    return {
        "id": index + 1,
        "type": kind,
        "title": title,
        "datasource": DS,
        "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {"mode": "absolute", "steps": steps},
                **({"custom": custom} if kind == "timeseries" else {}),
            },
            "overrides": [],
        },
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DS}
            for i, (expr, legend) in enumerate(exprs)
        ],
    }


def dashboard(config: Config, model: str | None, criteria_hash: str) -> dict[str, Any]:
    """The dashboard JSON (Grafana's model, importable) for ``config``'s bounds."""
    predict = _sel(model, PREDICT)
    every = _sel(model)
    failed = _sel(model, PREDICT + ',status=~"[45].."')
    p95 = latency_bounds(config).get(95)
    ceiling = config.serving.max_error_rate if config.serving else None
    share = config.drift.max_drift_share if config.drift else None
    business = config.criteria.business
    minimum = None
    if business is not None and business.value_per_outcome is not None:
        minimum = business.min_net_value_per_1000 or 0.0
    specs: list[dict[str, Any]] = [
        {"title": "Traffic (requests/s)", "unit": "reqps", "exprs": [
            (f"sum by (model, version) (rate(readiness_requests_total{predict}[5m]))",
             "{{model}} {{version}}")]},
        {"title": "p95 latency", "unit": "s", "bound": p95[0] / 1000 if p95 else None,
         "exprs": [(
             "histogram_quantile(0.95, sum by (model, le) "
             f"(rate(readiness_request_latency_seconds_bucket{predict}[5m])))", "{{model}} p95")]},
        {"title": "Error rate", "unit": "percentunit", "bound": ceiling, "exprs": [(
            f"sum by (model) (rate(readiness_requests_total{failed}[5m]))"
            f" / sum by (model) (rate(readiness_requests_total{predict}[5m]))", "{{model}}")]},
        {"title": "Cost per 1,000 predictions", "unit": "currencyUSD", "exprs": [
            ("readiness_cost_per_1000_predictions", "{{instance}}")]},
        {"title": "Drift share (last monitor window)", "unit": "percentunit", "bound": share,
         "exprs": [(f"readiness_drift_share{every}", "{{model}}"),
                   (f"readiness_prediction_drift{every}", "{{model}} prediction drift")]},
        {"title": "Labelled metrics", "unit": "short", "exprs": [
            (f"readiness_labelled_metric{every}", "{{model}} {{metric}}")]},
        {"title": "Net value per 1,000 predictions", "unit": "short", "bound": minimum,
         "above_is_bad": False,
         "exprs": [(f"readiness_net_value_per_1000{every}", "{{model}}")]},
        {"title": "Labelled rows (last monitor window)", "unit": "short", "exprs": [
            (f"readiness_labelled_rows{every}", "{{model}}")]},
        {"title": "Served vs registry version", "unit": "short", "kind": "table", "exprs": [
            (f"readiness_served_model_info{every} == 1", "served {{version}}"),
            (f"readiness_registry_stage_version_info{every} == 1", "registry {{version}}")]},
        {"title": "Last monitor run", "unit": "dateTimeFromNow", "kind": "stat", "exprs": [
            (f"readiness_monitor_last_run_timestamp_seconds{every} * 1000", "{{model}}")]},
    ]
    for item in config.criteria.technical:
        if item.metric.startswith("latency_"):
            continue
        metric = f"metric={json.dumps(item.metric)}"
        specs.append({
            "title": f"{item.metric} on labelled traffic ({item.direction} {item.required:g})",
            "unit": "short", "bound": item.required, "above_is_bad": item.direction == "max",
            "exprs": [(f"readiness_labelled_metric{_sel(model, metric)}", "{{model}}")],
        })
    panels = [
        _panel(i, s["title"], s["exprs"], s.get("unit", "short"), s.get("bound"),
               s.get("above_is_bad", True), s.get("kind", "timeseries"))
        for i, s in enumerate(specs)
    ]
    variables = []
    if model is None:
        variables.append({
            "name": "model", "type": "query", "datasource": DS, "includeAll": True,
            "multi": True, "refresh": 2,
            "query": {"query": "label_values(readiness_served_model_info, model)", "refId": "m"},
            "definition": "label_values(readiness_served_model_info, model)",
            "current": {"text": "All", "value": "$__all"},
        })
    return {
        "__inputs": [{
            "name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource",
            "pluginId": "prometheus", "pluginName": "Prometheus",
        }],
        "title": f"readiness: {config.use_case.name}" + (f" ({model})" if model else ""),
        "uid": None,
        "description": f"generated by readiness alerts grafana; criteria {criteria_hash}",
        "tags": ["readiness"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": variables},
        "panels": panels,
    }


def grafana_dashboard(
    project: Project, output: str | Path | None = None, model: str | None = None
) -> AlertsFile:
    """A Grafana dashboard JSON over the same metrics; written to ``output`` if given."""
    config = config_of(project)
    board = dashboard(config, model, criteria_hash_of(config))
    text = json.dumps(board, indent=2) + "\n"
    titles = [p["title"] for p in board["panels"]]
    result = AlertsFile("grafana", text, criteria_hash_of(config), inputs_hash(config), titles)
    result.path = write_output(project, output, text)
    if result.path is not None:
        audit.append(
            project, "alerts.dashboard", kind="grafana", path=result.path,
            criteria_hash=result.criteria_hash,
        )
    return result
