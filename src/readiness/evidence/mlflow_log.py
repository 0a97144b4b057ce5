"""Evidence mirrored to MLflow as it is recorded, when the project's registry is MLflow.

With ``registry: {backend: mlflow, ...}`` every record also logs its numeric evidence as
metrics (``roc_auc/holdout``) of one MLflow run per readiness run (tagged
``readiness.evidence_run``, found again by that tag: recording twice into a run never
makes a second one), in the experiment named after the use case (with the model prefix); the
readiness run's parameters become the MLflow run's params when it is created. MLflow is
a mirror, never a condition: a server that is down costs one quick attempt, is said on
stderr and in the run record (``mlflow: {logged: false, error, at}``), and the record
itself succeeds. Registering a version logs the run's evidence again into the version's
own run, so what MLflow missed while it was down is there at registration.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import ReadinessError
from readiness.core.fsutil import file_lock
from readiness.core.project import Project

RUN_TAG = "readiness.evidence_run"  # not readiness.run: a version's own run carries that
RETRY_AFTER = 30.0  # seconds without attempts after a failure: records are not slowed down

# config file -> (its stat key, the store or None): the config is parsed once per change
_stores: dict[Path, tuple[tuple[int, int], tuple[str, str, Path | None, str] | None]] = {}
_runs: dict[tuple[str, str], str] = {}  # (tracking uri, readiness run) -> MLflow run id
_down: dict[str, float] = {}  # tracking uri -> when it last failed (monotonic)
_noted: set[tuple[Path, str]] = set()  # runs whose record already says MLflow missed some


def _store(project: Project) -> tuple[str, str, Path | None, str] | None:
    """The project's MLflow store (uri, prefix, artifact folder, experiment), None unless
    its registry backend is mlflow. Cheap for every other project: one stat."""
    path = project.config_path
    try:
        info = path.stat()
    except OSError:
        return None
    key = (info.st_mtime_ns, info.st_size)
    cached = _stores.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = None
    try:
        text = path.read_text(encoding="utf-8")
        if "mlflow" in text:  # no parse for the default backend
            from readiness.core.config import parse_config
            from readiness.integrations.mlflow import store_of

            config = parse_config(text, source=path.name)
            policy = config.registry
            if policy is not None and policy.backend == "mlflow" and policy.tracking_uri:
                uri, prefix, folder = store_of(policy, project.root)
                found = (uri, prefix, folder, f"{prefix}{config.use_case.name}")
    except (OSError, ReadinessError):  # an unreadable or invalid config: `check` reports it
        found = None
    _stores[path] = (key, found)
    return found


def mirror(project: Project, run_id: str, items: list[Any], record: dict[str, Any]) -> None:
    """Log ``items`` (just recorded into ``run_id``, whose head record is ``record``) to the
    run's MLflow run; a failure is said, never raised."""
    store = _store(project)
    if store is None:
        return
    metrics = {
        f"{i.name}/{i.split}": float(i.value)
        for i in items
        if isinstance(i.value, (int, float)) and not isinstance(i.value, bool)
    }
    if not metrics:
        return
    uri = store[0]
    failed = _down.get(uri)
    if failed is not None and time.monotonic() - failed < RETRY_AFTER:
        _note(project, run_id, f"MLflow at {uri} failed {time.monotonic() - failed:.0f}s ago")
        return
    from readiness.integrations import mlflow

    try:
        with mlflow.failing_fast():
            mlflow.prepare_store(uri, project.state_dir / "mlflow-store.lock")
            mlflow.log_metrics(uri, _run_of(project, store, run_id, record), metrics)
        _down.pop(uri, None)
    except ReadinessError as exc:  # MLflowError: down, refused, not installed
        _down[uri] = time.monotonic()
        _note(project, run_id, str(exc))


def _run_of(project: Project, store: tuple[str, str, Path | None, str], run_id: str,
            record: dict[str, Any]) -> str:
    """The MLflow run of ``run_id``: found by its tag, else created (under a lock, so two
    processes recording into one readiness run make one MLflow run)."""
    from readiness.integrations import mlflow

    uri, _, folder, experiment = store
    if (uri, run_id) in _runs:
        return _runs[(uri, run_id)]
    params = {"readiness.run": run_id}
    for key, value in (record.get("params") or {}).items():
        params[str(key)] = json.dumps(value)[:6000]  # MLflow's limit on a param's value
    location = (folder / experiment).as_uri() if folder else None
    with file_lock(project.state_dir / "mlflow-runs.lock", timeout=60, what="the MLflow run lock"):
        experiment_id = mlflow.experiment(uri, experiment, location)
        _runs[(uri, run_id)] = mlflow.evidence_run(uri, experiment_id, RUN_TAG, run_id, params)
    return _runs[(uri, run_id)]


def _note(project: Project, run_id: str, error: str) -> None:
    """Stderr and the run record say the MLflow run misses evidence (once per run)."""
    from readiness.evidence.journal import load_record, write
    from readiness.evidence.runs import run_path

    if (project.root, run_id) in _noted:
        return
    _noted.add((project.root, run_id))
    print(f"readiness: evidence of run {run_id} is recorded, not logged to MLflow: {error}",
          file=sys.stderr)
    path = run_path(project, run_id)
    with file_lock(project.write_lock_path):
        record = load_record(path)
        record["mlflow"] = {"logged": False, "error": error, "at": audit.now()}
        write(path, record)
