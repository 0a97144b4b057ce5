"""Prometheus alerting rules derived from readiness.yaml: one rule per declared bound.

Every rule reads a metric the server exports at ``/metrics`` (docs/serving.md, and the
monitor gauges of docs/alerts.md), so Prometheus evaluates all of them. A bound that
readiness.yaml does not declare gets no rule. The file starts with the criteria hash
(the lock's hash) and the hash of every input of the rules, so the checklist can tell
whether the rules follow the current readiness.yaml.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit, yamlio
from readiness.core.config import load_config
from readiness.core.errors import ReadinessError
from readiness.core.fsutil import atomic_write_text
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.core.schema import DEFAULT_MONITOR_ALERT_AGE, Config, Serving

PREDICT = 'endpoint=~"predict|predict_proba"'
LATENCY_WINDOW = "5m"
NO_TRAFFIC_PERIOD = "15m"
FOR = {  # how long a condition holds before its alert fires (product defaults)
    "latency": "5m",
    "error_rate": "5m",
    "drift": "10m",
    "labelled": "10m",
    "net_value": "10m",
    "no_traffic": "1m",
    "version": "5m",
    "monitor_stale": "10m",
}
SEVERITY = {
    "latency": "warning",
    "error_rate": "critical",
    "drift": "warning",
    "labelled": "critical",
    "net_value": "critical",
    "no_traffic": "warning",
    "version": "critical",
    "monitor_stale": "warning",
}
CRITERIA_LINE = "# criteria hash: "
INPUTS_LINE = "# inputs hash: "
LATENCY_METRIC = re.compile(r"latency_p(\d{1,2})_ms")


class AlertsError(ReadinessError):
    """The alert rules cannot be generated or written as asked."""


@dataclass
class AlertsFile(Renderable):
    """A generated rules file (Prometheus) or dashboard (Grafana), and where it went."""

    kind: str
    text: str
    criteria_hash: str
    inputs_hash: str
    rules: list[str] = field(default_factory=list)  # the alert (or panel) names
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- what the rules depend on ----------------------------------------------------------------


def criteria_hash_of(config: Config) -> str:
    """The criteria's content hash, as the criteria lock computes it."""
    from readiness.criteria.declaration import criteria_hash

    return criteria_hash(config.criteria)


def inputs_hash(config: Config) -> str:
    """A hash of every readiness.yaml value the rules come from (criteria, ceilings, ages)."""
    drift = config.drift.max_drift_share if config.drift else None
    errors = config.serving.max_error_rate if config.serving else None
    data = {
        "criteria": criteria_hash_of(config),
        "drift": drift,
        "error_rate": errors,
        "monitor_max_age": monitor_max_age(config),
    }
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def header_hashes(text: str) -> dict[str, str]:
    """The criteria and inputs hashes a generated file starts with (empty when absent)."""
    found = {}
    for line in text.splitlines()[:10]:
        for key, prefix in (("criteria_hash", CRITERIA_LINE), ("inputs_hash", INPUTS_LINE)):
            if line.startswith(prefix):
                found[key] = line.removeprefix(prefix).split()[0]
    return found


# -- the rules -------------------------------------------------------------------------------


def _selector(extra: str, model: str | None) -> str:
    parts = [p for p in (f"model={json.dumps(model)}" if model else "", extra) if p]
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    return repr(float(value))


def _rule(
    name: str,
    kind: str,
    expr: str,
    criterion: str,
    source: str,
    summary: str,
    model: str | None,
    for_: str | None,
    description: str | None = None,
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_ if for_ is not None else FOR[kind],
        "labels": {
            "severity": SEVERITY[kind],
            "model": model or "{{ $labels.model }}",
            "criterion": criterion,
        },
        "annotations": {
            "summary": summary,
            "description": description or f"{summary} (from readiness.yaml {source}).",
            "source": source,
        },
    }


def latency_bounds(config: Config) -> dict[int, tuple[float, str]]:
    """The declared latency ceilings by percentile: ms and the key they come from (tightest)."""
    bounds: dict[int, tuple[float, str]] = {}

    def tighten(percentile: int, ms: float, source: str) -> None:
        if percentile not in bounds or ms < bounds[percentile][0]:
            bounds[percentile] = (float(ms), source)

    for item in config.criteria.technical:
        found = LATENCY_METRIC.fullmatch(item.metric)
        if found and item.direction == "max":
            tighten(int(found.group(1)), item.required, f"criteria.technical {item.metric} max")
    business = config.criteria.business
    if business is not None and business.max_latency_ms is not None:
        tighten(95, business.max_latency_ms, "criteria.business.max_latency_ms")
    return bounds


def rules_of(config: Config, model: str | None = None, for_: str | None = None) -> list[dict]:
    """One alerting rule per bound readiness.yaml declares.

    Parameters
    ----------
    config
        The validated readiness.yaml.
    model
        Only this model's series (the ``model`` label); default every model's, the
        alert's ``model`` label then comes from the series.
    for_
        Override every rule's ``for:`` (e.g. ``"0s"`` in a test); default per rule.
    """
    rules = []
    by = "by (model)"
    for percentile, (ms, source) in sorted(latency_bounds(config).items()):
        quantile = percentile / 100
        buckets = f"readiness_request_latency_seconds_bucket{_selector(PREDICT, model)}"
        expr = (
            f"histogram_quantile({quantile!r}, sum by (model, le) "
            f"(rate({buckets}[{LATENCY_WINDOW}]))) > {_number(ms / 1000)}"
        )
        summary = f"p{percentile} latency of predictions above {ms:g} ms over {LATENCY_WINDOW}"
        name = f"ReadinessLatencyP{percentile}High"
        rules.append(_rule(name, "latency", expr, f"latency_p{percentile}_ms", source,
                           summary, model, for_))
    ceiling = config.serving.max_error_rate if config.serving else None
    if ceiling is not None:
        requests = "readiness_requests_total"
        failed = _selector(f'{PREDICT},status=~"[45].."', model)
        expr = (
            f"sum {by} (rate({requests}{failed}[5m])) / "
            f"sum {by} (rate({requests}{_selector(PREDICT, model)}[5m])) > {_number(ceiling)}"
        )
        summary = f"error rate of predictions above {ceiling:g} over 5m"
        rules.append(_rule("ReadinessErrorRateHigh", "error_rate", expr, "max_error_rate",
                           "serving.max_error_rate", summary, model, for_))
    share = config.drift.max_drift_share if config.drift else None
    if share is not None:
        expr = f"max {by} (readiness_drift_share{_selector('', model)}) > {_number(share)}"
        summary = f"share of drifted features above {share:g} in the last monitor window"
        rules.append(_rule("ReadinessDriftShareHigh", "drift", expr, "max_drift_share",
                           "drift.max_drift_share", summary, model, for_))
    for item in config.criteria.technical:
        if item.metric.startswith("latency_"):
            continue
        below = item.direction == "min"
        op, word = ("<", "below") if below else (">", "above")
        metric = f"metric={json.dumps(item.metric)}"
        labelled = f"readiness_labelled_metric{_selector(metric, model)}"
        expr = f"max by (model, metric) ({labelled}) {op} {_number(item.required)}"
        summary = f"{item.metric} on labelled traffic {word} {item.required:g}"
        name = "ReadinessLabelledMetric" + ("Low" if below else "High")
        source = f"criteria.technical {item.metric} ({item.split}) {item.direction}"
        rules.append(_rule(name, "labelled", expr, item.metric, source, summary, model, for_))
    business = config.criteria.business
    if business is not None and business.value_per_outcome is not None:
        minimum = business.min_net_value_per_1000 or 0.0
        source = (
            "criteria.business.min_net_value_per_1000"
            if business.min_net_value_per_1000 is not None
            else "criteria.business.value_per_outcome (break even)"
        )
        expr = f"min {by} (readiness_net_value_per_1000{_selector('', model)}) < {_number(minimum)}"
        summary = f"net value per 1,000 predictions below {minimum:g} on labelled traffic"
        rules.append(_rule("ReadinessNetValueLow", "net_value", expr, "min_net_value_per_1000",
                           source, summary, model, for_))
    rules.append(_no_traffic(model, for_))
    rules.append(_version(model, for_))
    rules.append(_monitor_stale(config, model, for_))
    return rules


def monitor_max_age(config: Config) -> float:
    """Seconds after which the monitor's figures are stale (serving.monitor_max_age)."""
    return (config.serving or Serving()).monitor_max_age_seconds(DEFAULT_MONITOR_ALERT_AGE)


def _no_traffic(model: str | None, for_: str | None) -> dict[str, Any]:
    series = f"readiness_requests_total{_selector(PREDICT, model)}"
    period = NO_TRAFFIC_PERIOD
    expr = (
        f"(sum by (model) (increase({series}[{period}])) == 0) "
        f"or absent_over_time({series}[{period}])"
    )
    summary = f"no prediction requests for {period}"
    why = (
        f"{summary}: a served model that gets no traffic is down or cut off (no readiness.yaml "
        f"key: every served model gets this rule; the period is {period})."
    )
    return _rule("ReadinessNoTraffic", "no_traffic", expr, "traffic", "serving", summary,
                 model, for_, why)


def _version(model: str | None, for_: str | None) -> dict[str, Any]:
    keys = "model, stage, version"
    served = f"max by ({keys}) (readiness_served_model_info{_selector('', model)})"
    wanted = f"max by ({keys}) (readiness_registry_stage_version_info{_selector('', model)})"
    expr = f"({served} == 1) unless on ({keys}) ({wanted} == 1)"
    summary = "the served version is not the one the registry's stage points to"
    why = (
        f"{summary} (production by default): a failed load or a stale replica. From the "
        "registry (readiness promote / rollback; readiness.yaml registry.stages names the stages)."
    )
    return _rule("ReadinessServedVersionNotRegistry", "version", expr, "registry_stage",
                 "registry.stages", summary, model, for_, why)


def _monitor_stale(config: Config, model: str | None, for_: str | None) -> dict[str, Any]:
    seconds = monitor_max_age(config)
    declared = config.serving.monitor_max_age if config.serving else None
    age = declared or DEFAULT_MONITOR_ALERT_AGE
    last = f"readiness_monitor_last_run_timestamp_seconds{_selector('', model)}"
    expr = f"time() - max by (model) ({last}) > {_number(seconds)}"
    summary = f"the last monitor run is older than {age}"
    why = (
        f"{summary}: the model-quality alerts judge figures that old; schedule readiness "
        f"monitor NAME, e.g. from cron (readiness.yaml serving.monitor_max_age"
        + (")." if declared else f" sets the age, default {age}).")
    )
    source = "serving.monitor_max_age" if declared else "serving.monitor_max_age (default)"
    return _rule("ReadinessMonitorStale", "monitor_stale", expr, "monitor_max_age", source,
                 summary, model, for_, why)


def render_rules(config: Config, model: str | None = None, for_: str | None = None) -> str:
    """The rules file's text: the hashes in a comment, then one rule group."""
    name = f"readiness-{model}" if model else "readiness"
    groups = {"groups": [{"name": name, "rules": rules_of(config, model, for_)}]}
    head = [
        "# Prometheus alerting rules generated by `readiness alerts prometheus` from",
        "# readiness.yaml: regenerate them after the criteria change, do not edit.",
        f"{CRITERIA_LINE}{criteria_hash_of(config)}",
        f"{INPUTS_LINE}{inputs_hash(config)}",
    ]
    return "\n".join(head) + "\n" + yamlio.dump(groups, width=4096)


# -- the command's core ----------------------------------------------------------------------


def config_of(project: Project) -> Config:
    if not project.config_path.is_file():
        raise AlertsError(f"no readiness.yaml in {project.root}: readiness init first")
    return load_config(project)


def write_output(project: Project, output: str | Path | None, text: str) -> str | None:
    if output is None:
        return None
    path = Path(output)
    path = path if path.is_absolute() else project.root / path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as exc:
        raise AlertsError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        return str(path.resolve().relative_to(project.root.resolve()))
    except ValueError:  # outside the project: the absolute path
        return str(path.resolve())


def prometheus_rules(
    project: Project,
    output: str | Path | None = None,
    model: str | None = None,
    for_: str | None = None,
) -> AlertsFile:
    """The Prometheus alerting rules of readiness.yaml; written to ``output`` if given.

    Parameters
    ----------
    project
        The project whose readiness.yaml declares the bounds.
    output
        A file to write (relative to the project root); the write goes to the audit log
        (``alerts.generated``) for the checklist. None: only return the text.
    model
        Only this model's series; default every model's.
    for_
        Override every rule's ``for:`` (tests); default per rule.
    """
    config = config_of(project)
    text = render_rules(config, model, for_)
    names = [r["alert"] for r in rules_of(config, model, for_)]
    result = AlertsFile("prometheus", text, criteria_hash_of(config), inputs_hash(config), names)
    result.path = write_output(project, output, text)
    if result.path is not None:
        audit.append(
            project,
            "alerts.generated",
            kind="prometheus",
            path=result.path,
            criteria_hash=result.criteria_hash,
            inputs_hash=result.inputs_hash,
            rules=len(names),
        )
    return result


def current_rules_problem(project: Project, entries: list[dict[str, Any]]) -> str | None:
    """Why the newest generated rules do not follow the current readiness.yaml (None: they do)."""
    generated = [e for e in entries if e.get("event") == "alerts.generated"]
    if not generated:
        return "no alert rules generated: readiness alerts prometheus -o monitoring/alerts.yml"
    last = generated[-1]
    path = Path(str(last.get("path") or ""))
    path = path if path.is_absolute() else project.root / path
    if not path.is_file():
        return f"the alert rules file {last.get('path')} is gone: regenerate it"
    try:
        found = header_hashes(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        return f"cannot read the alert rules {last.get('path')}: {exc.strerror}"
    config = config_of(project)
    if found.get("criteria_hash") != criteria_hash_of(config):
        return f"the alert rules {last.get('path')} follow older criteria: regenerate them"
    if found.get("inputs_hash", inputs_hash(config)) != inputs_hash(config):
        return (
            f"the alert rules {last.get('path')} follow an older drift or error-rate ceiling, "
            "or monitor age: regenerate them"
        )
    return None
