"""``readiness monitor NAME`` without ``--current``: model quality from the prediction log.

Per model version in the window: feature drift of the logged inputs against the version's
training data (at its commit), prediction drift of the logged outputs against the version's
predictions on the holdout, the criteria's metrics on the labelled rows with a bootstrap
interval, the net value per 1,000 predictions; and the window's infrastructure figures.
Each run writes ``.readiness/monitor/<name>.json`` (the server's gauges read it) and an
audit entry ``monitor.window``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import UsageError
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.monitoring.business_metric import BusinessCorrelation
from readiness.monitoring.version_quality import VersionQuality, judge_quality


@dataclass
class MonitorLogResult(Renderable):
    """One monitor run on a window of the prediction log."""

    name: str
    since: float
    until: float
    at: str
    infrastructure: dict[str, Any]
    versions: list[VersionQuality] = field(default_factory=list)
    min_labelled: int = 30
    min_net_value_per_1000: float | None = None
    cost_per_1000: float | None = None
    file: str | None = None
    rows: Any = field(default=None, repr=False)  # the window, one row per prediction
    retrain: Any = None  # the retraining the breach started (readiness monitor --retrain)
    timeline: Any = None  # the window bucket by bucket (%readiness monitor draws it inline)
    business: list[BusinessCorrelation] = field(default_factory=list)

    @property
    def breaches(self) -> list[str]:
        return [f"{v.version}: {b}" for v in self.versions for b in v.breaches]

    @property
    def no_traffic(self) -> bool:
        return not self.infrastructure.get("requests")

    @property
    def exit_code(self) -> int:
        if self.retrain is not None:  # the loop's own: 0 promoted, 1 not promoted, 2 failed
            return int(self.retrain.exit_code)
        return 1 if self.breaches else 0

    def contract(self) -> dict[str, Any]:
        """The file the server's gauges read (docs/monitoring.md), newest version's figures."""
        newest = self.versions[-1] if self.versions else None
        return {
            "name": self.name,
            "version": newest.version if newest else "",
            "at": self.at,
            "since": self.since,
            "until": self.until,
            "requests": int(self.infrastructure.get("requests") or 0),
            "drift_share": newest.drift_share if newest else None,
            "drifted_columns": list(newest.drifted_columns) if newest else [],
            "prediction_drift": newest.prediction_drift if newest else None,
            "prediction_drifted": newest.prediction_drifted if newest else None,
            "labelled_rows": newest.labelled_rows if newest else 0,
            "metrics": {m.metric: m.contract() for m in newest.metrics} if newest else {},
            "net_value_per_1000": newest.net_value_per_1000 if newest else None,
            "min_net_value_per_1000": self.min_net_value_per_1000,
            "breaches": self.breaches,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.contract(),
            "no_traffic": self.no_traffic,
            "infrastructure": {**self.infrastructure, "cost_per_1000": self.cost_per_1000},
            "min_labelled": self.min_labelled,
            "versions": [v.to_dict() for v in self.versions],
            "file": self.file,
            "business": [b.to_dict() for b in self.business],
            "retrain": self.retrain.to_dict() if self.retrain is not None else None,
            "exit_code": self.exit_code,
        }


# -- references ------------------------------------------------------------------------


def _holdout_predictions(project: Project, config: Any, name: str, version: str,
                         features: list[str], probability: bool) -> Any:
    """The version's predictions on the declared holdout: P(positive class) or labels."""
    import pandas as pd

    from readiness.data.validation import read_table
    from readiness.registry.profiles import dataset_path
    from readiness.registry.versions import load_model

    split = config.criteria.business.split if config.criteria.business else "holdout"
    path = dataset_path(config, split) or dataset_path(config, "holdout")
    if path is None:
        raise UsageError("no holdout dataset declared (datasets: holdout: path:)")
    holdout = read_table(project.root / path)
    model = load_model(project, name, version=version)
    X = holdout[[c for c in features if c in holdout.columns]]
    try:
        values = model.predict_proba(X)[:, -1] if probability else model.predict(X)
    except Exception as exc:  # the user's model may raise anything on its own holdout
        raise UsageError(f"{name} {version} cannot predict {path}: {exc}") from None
    return pd.DataFrame({"prediction": values})


# -- one version -------------------------------------------------------------------------------


def _stored_profile(project: Project, found: Any, out: VersionQuality) -> Any:
    """The profile file registered with the version, or None (said in the notes)."""
    from readiness.registry.profiles import ProfileError, read_stored

    try:
        return read_stored(project, found)
    except ProfileError as exc:
        out.notes.append(f"feature drift: {exc}; compared with the training data instead")
        return None


def _feature_drift(project: Project, config: Any, found: Any, rows: Any, out: VersionQuality,
                   stored: Any) -> None:
    """Drift of the logged inputs against the version's profile (else its training data)."""
    from readiness.monitoring.drift import DriftError, drift
    from readiness.monitoring.window import feature_columns
    from readiness.registry.profiles import training_reference

    features = feature_columns(rows)
    current = rows[features].reset_index(drop=True)
    try:
        if stored is not None:  # the version's own profile: the training data is not read
            out.reference = f"{stored.source} (profile of {found.version})"
            report = drift(stored.columns, current, columns=features, project=project)
        else:
            out.reference = training_reference(project, config, found.run_id)
            if out.reference is None:
                out.notes.append(
                    "feature drift: no training data known (declare datasets: train:)"
                )
                return
            report = drift(out.reference, current, columns=features, project=project,
                           rev=found.commit)
    except DriftError as exc:
        out.notes.append(f"feature drift: {exc}")
        return
    out.drift_share, out.drift_threshold = report.drift_share, report.threshold_share
    out.dataset_drift, out.drifted_columns = report.dataset_drift, report.drifted_columns
    out.drift_report = report.report_html
    if report.dataset_drift:
        out.breaches.append(
            f"feature drift: {len(report.drifted_columns)} of {len(report.columns)} columns "
            f"({report.drift_share:.0%}, the policy allows below {report.threshold_share:.0%})"
        )


def _prediction_drift(project: Project, config: Any, name: str, rows: Any,
                      out: VersionQuality, stored: Any) -> None:
    """Drift of the logged predictions against the version's own on the holdout: their
    stored profile, else the model loaded and run on the holdout now."""
    import pandas as pd

    from readiness.core.schema import DriftPolicy
    from readiness.monitoring.drift import DriftError, drift
    from readiness.monitoring.window import feature_columns

    probability = bool(rows["__proba"].map(lambda p: isinstance(p, list)).all())
    out.prediction_kind = "probability" if probability else "label"
    current = pd.DataFrame({"prediction": (
        rows["__proba"].map(lambda p: p[-1]) if probability else rows["__output"]
    ).to_list()})
    policy = (config.drift or DriftPolicy()).model_copy(
        update={"columns": {}, "target": None, "prediction": None, "ignore": []}
    )
    kind = "probability" if probability else "label"
    try:
        if stored is not None and kind in stored.predictions:
            reference: Any = {"prediction": stored.predictions[kind]}
        else:
            reference = _holdout_predictions(project, config, name, out.version,
                                             feature_columns(rows), probability)
        report = drift(reference, current, project=project, policy=policy, save=False)
    except (DriftError, UsageError) as exc:
        out.notes.append(f"prediction drift: {exc}")
        return
    column = report.columns[0]
    out.prediction_drift, out.prediction_drifted = column.score, column.drifted
    if column.drifted:
        out.breaches.append(f"prediction drift: {column.method} {column.score:.4g}")


# -- the run -----------------------------------------------------------------------------------


def monitor_log(
    project: Project,
    name: str,
    window: str | None = None,
    last: int | None = None,
    seed: int = 0,
    now: float | None = None,
    business_file: str | Path | None = None,
) -> MonitorLogResult:
    """Monitor ``name`` from its prediction log over a window, per model version.

    Parameters
    ----------
    window:
        A period back from now: ``30m``, ``24h`` (the default), ``7d``.
    last:
        Instead, the last N successful requests.
    seed:
        The bootstrap's seed (the intervals are reproducible).
    business_file:
        A CSV/Parquet file of the business metric per period (a ``period`` column and a
        column per metric), beside what ``readiness log NAME=VALUE --period P`` recorded.

    Writes ``.readiness/monitor/<name>.json`` and the audit entry ``monitor.window``.
    """
    from readiness.core.config import load_config
    from readiness.core.fsutil import atomic_write_json
    from readiness.monitoring.business_metric import correlate, points_from_file, read_business
    from readiness.monitoring.window import infrastructure, read_window
    from readiness.registry.versions import get_version
    from readiness.serve.predlog import LogError, realised_cost_per_1000, resolve_url

    config = load_config(project)
    serving = config.serving
    url = resolve_url(project, serving.log_url if serving else None)
    points = read_business(project, name)  # a bad file fails before the window is judged
    if business_file is not None:
        points += points_from_file(business_file, name)
    try:
        mine = config.use_case.name  # a log shared by projects holds others' rows too
        logged = read_window(url, name, window=window, last=last, now=now, use_case=mine)
        cost = realised_cost_per_1000(url, name, use_case=mine)
    except LogError as exc:
        raise UsageError(str(exc)) from None
    business = config.criteria.business
    result = MonitorLogResult(
        name=name, since=logged.since, until=logged.until,
        at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        infrastructure=infrastructure(logged),
        min_labelled=serving.min_labelled if serving else 30,
        min_net_value_per_1000=business.min_net_value_per_1000 if business else None,
        cost_per_1000=cost,
    )
    rows = result.rows = logged.rows
    order = list(dict.fromkeys(logged.successful["version"].to_list()))  # oldest first
    for version in order:
        part = rows[rows["__version"] == version].reset_index(drop=True)
        out = VersionQuality(version=version, predictions=len(part))
        found = get_version(project, name, version)
        stored = _stored_profile(project, found, out)
        _feature_drift(project, config, found, part, out, stored)
        _prediction_drift(project, config, name, part, out, stored)
        judge_quality(config, part, result.min_labelled, seed, out)
        result.versions.append(out)
    try:
        result.business = correlate(project, name, config, points, url, result.until,
                                    result.min_labelled, seed)
    except LogError as exc:
        raise UsageError(str(exc)) from None
    path = project.monitor_dir / f"{name}.json"
    atomic_write_json(path, result.contract())
    result.file = path.relative_to(project.root).as_posix()
    contract = result.contract()
    audit.append(project, "monitor.window", name=name, version=contract["version"],
                 requests=contract["requests"], drift_share=contract["drift_share"],
                 breaches=result.breaches)
    return result
