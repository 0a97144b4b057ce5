"""The reference profile of a model version: its training data as the drift engine needs it.

``readiness register`` profiles the data the model was trained on (the run's training data,
else the declared ``datasets: train:``) into ``models/<name>.profile.json``, DVC-tracked and
committed with the model, so every version carries its own. The monitor and
``readiness drift --profile NAME@VERSION`` judge a current sample against it without reading
the training data again. Profiles are exact (``monitoring.engine.profile``): the verdicts
equal those on the data itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from readiness.core.errors import ReadinessError
from readiness.core.project import Project
from readiness.core.schema import DriftPolicy

SCHEMA = 1


class ProfileError(ReadinessError):
    """A version's reference profile cannot be made or read."""


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
    from readiness.core.config import load_config
    from readiness.core.fsutil import atomic_write_text
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
    path = project.root / profile_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, encode_profile(profiles, source, len(frame)))
    return profile_path(name)


def encode_profile(profiles: dict[str, Any], source: str, rows: int, schema: int = SCHEMA
                   ) -> str:
    """The text of a profile file: ``profiles`` of ``rows`` rows of the data at ``source``."""
    data = {
        "schema": schema,
        "reference": source,
        "rows": rows,
        "columns": [p.to_dict() for p in profiles.values()],
    }
    return json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n"


def parse_profile(text: str, where: str) -> tuple[dict[str, Any], str]:
    """The column profiles of a profile file's text, and the reference it was made from."""
    from readiness.monitoring.engine import ColumnProfile

    try:
        data = json.loads(text)
        if data.get("schema") != SCHEMA:
            raise ProfileError(f"{where}: profile schema {data.get('schema')!r}, expected 1")
        profiles = {c["name"]: ColumnProfile.from_dict(c) for c in data["columns"]}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProfileError(f"{where} is not a readiness profile: {exc}") from None
    return profiles, str(data.get("reference") or "")


def read_profile(project: Project, name: str, commit: str) -> tuple[dict[str, Any], str] | None:
    """The profiles stored with the version of ``name`` at ``commit`` (None: it has none)."""
    from readiness.integrations.dvc import DataError, read_bytes

    path = profile_path(name)
    try:
        raw = read_bytes(project, path, commit)
    except DataError:  # a version registered before profiles, or its cache is missing
        return None
    return parse_profile(raw.decode("utf-8", errors="replace"), f"{path}@{commit[:8]}")


def read_profile_file(path: Path) -> tuple[dict[str, Any], str]:
    """The profiles of a profile file on disk."""
    from readiness.core.fsutil import read_text_file

    return parse_profile(read_text_file(path, "profile"), str(path))

