"""The reference profile of a model version: its training data as the drift engine needs it.

``readiness register`` profiles the data the model was trained on (the run's training data,
else the declared ``datasets: train:``), and the registry backend stores it with the
version, so every version carries its own: ``models/<name>.profile.json``, DVC-tracked and
committed with the model, on GTO; an artifact of the version's run on MLflow
(``profile/<name>.profile.json``, where the model's artifacts are). The monitor and
``readiness drift --profile NAME@VERSION`` judge a current sample against it without reading
the training data again. Profiles are exact (``monitoring.engine.profile``): the verdicts
equal those on the data itself.

The file also profiles the version's own predictions on the declared holdout (its scores
and its labels), the reference of the monitor's prediction drift: the monitor then neither
loads the model nor reads the holdout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.errors import ReadinessError
from readiness.core.project import Project
from readiness.core.schema import DriftPolicy

SCHEMA = 1


class ProfileError(ReadinessError):
    """A version's reference profile cannot be made or read."""


@dataclass
class StoredProfile:
    """A profile file: the training columns, the reference they came from, and the profiles
    of the version's holdout predictions (``probability``, ``label``; absent when unknown)."""

    columns: dict[str, Any]
    source: str
    predictions: dict[str, Any] = field(default_factory=dict)


def profile_path(name: str) -> str:
    """Where the profile of model ``name`` lives, relative to the project root."""
    return f"models/{name}.profile.json"


def dataset_path(config: Any, wanted: str) -> str | None:
    """The path of the declared dataset named ``wanted`` (or holding it in its name)."""
    datasets = config.datasets or {}
    if wanted in datasets and datasets[wanted].path:
        return str(datasets[wanted].path)
    return next((str(d.path) for n, d in datasets.items() if wanted in n and d.path), None)


def training_reference(project: Project, config: Any, run_id: str | None) -> str | None:
    """The data a model was trained on: its run record's, else the declared train set."""
    from readiness.evidence.runs import read_run
    from readiness.jobs.parameters import training_data

    if run_id:
        try:
            found = training_data(project, read_run(project, run_id), "train_csv")
        except ReadinessError:  # no record: the declared dataset below
            found = None
        if found:
            return found
    return dataset_path(config, "train")


def write_profile(project: Project, name: str, run_id: str | None) -> str | None:
    """Profile the training data of ``name`` into its profile file; its path, or None.

    None when no training data is known or readable (the version then has no profile and
    the monitor reads the training data at the version's commit, as before).
    """
    from readiness.core.fsutil import atomic_write_text
    from readiness.registry.models import model_path

    text = profile_text(project, name, run_id, project.root / model_path(name))
    if text is None:
        return None
    path = project.root / profile_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return profile_path(name)


def profile_text(project: Project, name: str, run_id: str | None, model_file: Path
                 ) -> str | None:
    """The profile file's text for a version of ``name`` whose model is ``model_file``
    (None: no training data is known or readable). The GTO backend commits it beside the
    model; the MLflow one logs it as an artifact of the version's run."""
    from readiness.core.config import load_config
    from readiness.data.validation import DataValidationError, read_table
    from readiness.monitoring.engine import profile_frame

    if not project.config_path.is_file():
        return None
    config = load_config(project)
    source = training_reference(project, config, run_id)
    if source is None or not (project.root / source).is_file():
        return None
    try:
        frame = read_table(project.root / source)
    except DataValidationError:  # unreadable training data: no profile, said by the monitor
        return None
    exact_rows = (config.drift or DriftPolicy()).profile_exact_rows
    profiles = profile_frame(frame, exact_rows=exact_rows)
    predictions = _prediction_profiles(project, config, model_file, exact_rows)
    return encode_profile(profiles, source, len(frame), predictions=predictions)


def encode_profile(profiles: dict[str, Any], source: str, rows: int, schema: int = SCHEMA,
                   predictions: dict[str, Any] | None = None) -> str:
    """The text of a profile file: ``profiles`` of ``rows`` rows of the data at ``source``,
    and the profiles of the version's holdout predictions by kind."""
    data = {
        "schema": schema,
        "reference": source,
        "rows": rows,
        "columns": [p.to_dict() for p in profiles.values()],
        "predictions": {kind: p.to_dict() for kind, p in (predictions or {}).items()},
    }
    return json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n"


def _prediction_profiles(project: Project, config: Any, model_file: Path, exact_rows: int
                         ) -> dict[str, Any]:
    """Profiles of the placed model's predictions on the declared holdout, by kind.

    Empty when there is no holdout, or the model cannot predict it: the monitor then
    loads the model and predicts the holdout itself, and says why that failed.
    """
    import pandas as pd

    from readiness.data.validation import DataValidationError, read_table
    from readiness.monitoring.engine import profile_frame
    from readiness.registry.models import ModelError, load_file

    split = config.criteria.business.split if config.criteria.business else "holdout"
    path = dataset_path(config, split) or dataset_path(config, "holdout")
    if path is None or not (project.root / path).is_file():
        return {}
    try:
        holdout = read_table(project.root / path)
        model = load_file(model_file, project=project)
    except (DataValidationError, ModelError, OSError):  # said again by the monitor
        return {}
    names = getattr(model, "feature_names_in_", None)
    out: dict[str, Any] = {}
    try:
        X = holdout[[str(c) for c in names]] if names is not None else holdout.drop(
            columns=[c for c in _labels(config) if c in holdout.columns])
        kinds = {"label": model.predict(X)}
        if hasattr(model, "predict_proba"):
            kinds["probability"] = model.predict_proba(X)[:, -1]
    except Exception:  # the user's model may raise anything: the monitor reports it
        return {}
    for kind, values in kinds.items():
        frame = pd.DataFrame({"prediction": values})
        out[kind] = profile_frame(frame, exact_rows=exact_rows)["prediction"]
    return out


def _labels(config: Any) -> list[str]:
    """The declared label columns (datasets' ``target:`` and ``drift.target``)."""
    found = [str(d.target) for d in (config.datasets or {}).values() if d.target]
    if config.drift is not None and config.drift.target:
        found.append(str(config.drift.target))
    return found


def parse_stored(text: str, where: str) -> StoredProfile:
    """A profile file's text, parsed."""
    from readiness.monitoring.engine import ColumnProfile

    try:
        data = json.loads(text)
        if data.get("schema") != SCHEMA:
            raise ProfileError(f"{where}: profile schema {data.get('schema')!r}, expected 1")
        profiles = {c["name"]: ColumnProfile.from_dict(c) for c in data["columns"]}
        predictions = {kind: ColumnProfile.from_dict(p)
                       for kind, p in (data.get("predictions") or {}).items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProfileError(f"{where} is not a readiness profile: {exc}") from None
    return StoredProfile(profiles, str(data.get("reference") or ""), predictions)


def parse_profile(text: str, where: str) -> tuple[dict[str, Any], str]:
    """The column profiles of a profile file's text, and the reference it was made from."""
    stored = parse_stored(text, where)
    return stored.columns, stored.source


def read_stored(project: Project, version: Any) -> StoredProfile | None:
    """The profile stored with ``version`` (a ModelVersion) by its registry backend: beside
    the model at its commit on GTO, an artifact of its run on MLflow (None: it has none)."""
    from readiness.registry.backend import backend_for

    raw = backend_for(project).profile_bytes(project, version)
    if raw is None:  # a version registered before profiles, or its cache is missing
        return None
    where = f"{profile_path(version.name)}@{version.commit[:8] or version.version}"
    return parse_stored(raw.decode("utf-8", errors="replace"), where)


def read_profile(project: Project, version: Any) -> tuple[dict[str, Any], str] | None:
    """The column profiles stored with ``version``, and their reference (None: it has none)."""
    stored = read_stored(project, version)
    return None if stored is None else (stored.columns, stored.source)


def read_profile_file(path: Path) -> tuple[dict[str, Any], str]:
    """The profiles of a profile file on disk."""
    from readiness.core.fsutil import read_text_file

    return parse_profile(read_text_file(path, "profile"), str(path))

