"""Every MLflow call of readiness (the ``mlflow`` registry backend), its errors translated here.

MLflow is optional (``pip install 'readiness[mlflow]'``): it is imported only inside
these functions. MLflow raises ``MlflowException`` for what the store refuses; the
REST layer raises ``requests`` errors for a server it cannot reach; both become
:class:`~readiness.core.errors.MLflowError` with one line. Stages are aliases (MLflow
deprecated stages); which alias moves when is readiness's gate, not decided here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from readiness.core.errors import MLflowError

MODEL_DIR = "model"  # the run's artifact folder holding the MLmodel and model.skops
SKOPS_FILE = "model.skops"  # mlflow.sklearn's name for a skops-serialised model
_READY: set[str] = set()  # stores this process has seen initialised


DEFAULT_ARTIFACT_ROOT = ".readiness/mlflow-artifacts"


def store_of(policy: Any, root: Path) -> tuple[str, str, Path | None]:
    """The tracking URI of a ``registry:`` policy (a relative sqlite path made the project's
    at ``root``), its model name prefix, and the local artifact folder of a sqlite store
    (None for a server: it has its own)."""
    uri = str(policy.tracking_uri)
    folder: Path | None = None
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        uri = f"sqlite:///{path if path.is_absolute() else root / path}"
        artifacts = Path(policy.artifact_root or DEFAULT_ARTIFACT_ROOT)
        folder = artifacts if artifacts.is_absolute() else root / artifacts
    return uri, str(policy.model_prefix or ""), folder


def available() -> bool:
    """Whether mlflow can be imported (the optional extra is installed)."""
    import importlib.util

    return importlib.util.find_spec("mlflow") is not None


def _require() -> None:
    if not available():
        raise MLflowError("registry backend mlflow needs MLflow: pip install 'readiness[mlflow]'")
    # a server that is down fails in seconds, not after MLflow's minutes of retries
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    # a download's progress bar on stderr is not readiness's output (drift --profile, load)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """MLflow's exceptions (and its HTTP layer's) as an MLflowError saying what failed."""
    import requests
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        raise MLflowError(f"MLflow could not {what}: {' '.join(exc.message.split())}") from None
    except requests.RequestException as exc:
        raise MLflowError(f"MLflow could not {what}: {' '.join(str(exc).split())}") from None


def client(uri: str) -> Any:
    """An MlflowClient on ``uri`` for tracking and the registry alike (no global state)."""
    _require()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def prepare_store(uri: str, lock: Path) -> None:
    """Create a fresh SQLite store once, holding ``lock``: two first uses at once would both
    run MLflow's schema migrations on the same file, and one of them fails."""
    if uri in _READY:
        return
    _require()
    if uri.startswith("sqlite:///"):
        from readiness.core.fsutil import file_lock

        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        with (
            file_lock(lock, timeout=300, what="the MLflow store lock"),
            translated(f"open the store {uri}"),
            _quiet_migrations(),
        ):
            client(uri).search_experiments(max_results=1)
    _READY.add(uri)


@contextlib.contextmanager
def _quiet_migrations() -> Iterator[None]:
    """MLflow and alembic log each table they create at INFO on stderr: not readiness's output."""
    import logging

    loggers = [logging.getLogger(n) for n in ("mlflow.store.db.utils", "alembic")]
    levels = [one.level for one in loggers]
    for one in loggers:
        one.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for one, level in zip(loggers, levels, strict=True):
            one.setLevel(level)


def experiment(uri: str, name: str, artifact_location: str | None) -> str:
    """The id of experiment ``name``, created (with ``artifact_location``) if absent."""
    mlflow = client(uri)
    with translated(f"open experiment {name}"):
        found = mlflow.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        return str(mlflow.create_experiment(name, artifact_location=artifact_location))


def write_skops_flavour(
    target: Path, model_file: Path, trusted: list[str], pip_requirements: list[str]
) -> None:
    """An MLflow model folder in mlflow.sklearn's skops flavour around readiness's own skops
    file (the very bytes it registered), as ``mlflow.sklearn.save_model`` lays it out.

    Written here rather than by ``save_model``, which serialises the model again and scans
    every installed distribution to compare it with the requirements (tens of seconds on a
    loaded machine); the requirements are explicit, never inferred (inference loads the
    model in a subprocess).
    """
    import platform
    import shutil

    import sklearn
    from mlflow import pyfunc
    from mlflow.models import Model

    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_file, target / SKOPS_FILE)
    mlmodel = Model()
    pyfunc.add_to_model(
        mlmodel, loader_module="mlflow.sklearn", model_path=SKOPS_FILE, python_env="python_env.yaml"
    )
    mlmodel.add_flavor(
        "sklearn",
        pickled_model=SKOPS_FILE,
        sklearn_version=sklearn.__version__,
        serialization_format="skops",
        code=None,
        skops_trusted_types=trusted or None,
    )
    mlmodel.save(str(target / "MLmodel"))
    (target / "requirements.txt").write_text("\n".join(pip_requirements) + "\n")
    (target / "python_env.yaml").write_text(
        f"python: {platform.python_version()}\nbuild_dependencies:\n- pip\n"
        "dependencies:\n- -r requirements.txt\n"
    )


def log_version(
    uri: str,
    *,
    experiment_id: str,
    model_name: str,
    model_file: Path,
    trusted: list[str],
    pip_requirements: list[str],
    params: dict[str, str],
    metrics: dict[str, float],
    run_tags: dict[str, str],
    version_tags: dict[str, str],
    files: dict[str, str] | None = None,
) -> dict[str, str]:
    """One MLflow run holding the model (skops flavour), ``files`` (artifact path -> text,
    the reference profile) and its evidence as params and metrics, and a new version of
    ``model_name`` from it; the version number and run id."""
    import shutil
    import tempfile

    _require()
    mlflow_client = client(uri)
    folder = Path(tempfile.mkdtemp(prefix="readiness-mlflow-"))
    try:
        target = folder / MODEL_DIR
        with translated(f"write {model_name} in the skops flavour"):
            write_skops_flavour(target, model_file, trusted, pip_requirements)
        with translated(f"log a run for {model_name}"):
            run = mlflow_client.create_run(experiment_id, tags=run_tags)
            run_id = run.info.run_id
            _log_batch(mlflow_client, run_id, params, metrics)
            mlflow_client.log_artifacts(run_id, str(target), MODEL_DIR)
            for artifact, text in (files or {}).items():
                extra = folder / "files" / artifact
                extra.parent.mkdir(parents=True, exist_ok=True)
                extra.write_text(text, encoding="utf-8")
                mlflow_client.log_artifact(run_id, str(extra), str(Path(artifact).parent))
            mlflow_client.set_terminated(run_id, "FINISHED")
        with translated(f"register a version of {model_name}"):
            _ensure_registered_model(mlflow_client, model_name)
            created = mlflow_client.create_model_version(
                model_name,
                source=f"{run.info.artifact_uri}/{MODEL_DIR}",
                run_id=run_id,
                tags=version_tags,
            )
        return {"version": str(created.version), "run_id": run_id}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _log_batch(
    mlflow_client: Any, run_id: str, params: dict[str, str], metrics: dict[str, float]
) -> None:
    """Params and metrics in batches (one request each, within MLflow's batch limits)."""
    import time

    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    items = [Param(k, v) for k, v in params.items()]
    for start in range(0, len(items), 100):
        mlflow_client.log_batch(run_id, params=items[start : start + 100])
    values = [Metric(k, v, now, 0) for k, v in metrics.items()]
    for start in range(0, len(values), 1000):
        mlflow_client.log_batch(run_id, metrics=values[start : start + 1000])


def _ensure_registered_model(mlflow_client: Any, model_name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        mlflow_client.create_registered_model(model_name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def model_names(uri: str, prefix: str) -> list[str]:
    """The registered models whose names start with ``prefix``."""
    mlflow_client = client(uri)
    with translated("list the registered models"):
        found = mlflow_client.search_registered_models()
        names = [m.name for m in found]
        while found.token:
            found = mlflow_client.search_registered_models(page_token=found.token)
            names += [m.name for m in found]
    return sorted(n for n in names if n.startswith(prefix))


def versions(uri: str, model_name: str) -> list[dict[str, Any]]:
    """Every version of ``model_name`` (none for an unknown model): number, tags, aliases,
    creation time (ms), user, source and run id.

    The aliases come from the registered model: MLflow's version search leaves them out.
    """
    from mlflow.exceptions import MlflowException

    mlflow_client = client(uri)
    with translated(f"list the versions of {model_name}"):
        try:
            aliases = dict(mlflow_client.get_registered_model(model_name).aliases or {})
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            return []
        found = list(mlflow_client.search_model_versions(f"name = '{model_name}'"))
    return [
        {
            "version": str(v.version),
            "tags": dict(v.tags or {}),
            "aliases": sorted(a for a, n in aliases.items() if str(n) == str(v.version)),
            "created_ms": int(v.creation_timestamp or 0),
            "user": v.user_id or "",
            "source": v.source or "",
            "run_id": v.run_id,
        }
        for v in found
    ]


def set_alias(uri: str, model_name: str, alias: str, version: str) -> None:
    with translated(f"point alias {alias} of {model_name} at version {version}"):
        client(uri).set_registered_model_alias(model_name, alias, version)


def download(uri: str, source: str, folder: Path) -> Path:
    """The artifacts at ``source`` downloaded into ``folder`` (through the server's proxy for
    ``mlflow-artifacts:`` URIs); the local path."""
    _require()
    import mlflow.artifacts

    with translated(f"download {source}"):
        return Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=str(folder), tracking_uri=uri
            )
        )


def delete_version(uri: str, model_name: str, version: str) -> None:
    with translated(f"delete version {version} of {model_name}"):
        client(uri).delete_model_version(model_name, version)


def evidence_run(
    uri: str, experiment_id: str, run_tag: str, readiness_run: str, params: dict[str, str]
) -> str:
    """The MLflow run of a readiness run in ``experiment_id`` (its tag ``run_tag`` names it),
    created with ``params`` if there is none yet; its id."""
    mlflow_client = client(uri)
    with translated(f"find the MLflow run of readiness run {readiness_run}"):
        found = mlflow_client.search_runs(
            [experiment_id], filter_string=f"tags.`{run_tag}` = '{readiness_run}'", max_results=1
        )
        if found:
            return str(found[0].info.run_id)
        run = mlflow_client.create_run(
            experiment_id, tags={run_tag: readiness_run, "mlflow.runName": readiness_run}
        )
        _log_batch(mlflow_client, run.info.run_id, params, {})
        return str(run.info.run_id)


def log_metrics(uri: str, run_id: str, metrics: dict[str, float]) -> None:
    """Numeric evidence as metrics of ``run_id`` (one request)."""
    mlflow_client = client(uri)
    with translated(f"log metrics to MLflow run {run_id}"):
        _log_batch(mlflow_client, run_id, {}, metrics)


def failing_fast() -> contextlib.AbstractContextManager[None]:
    """Calls made on the way of something else (a record): a server that is down answers
    after one attempt, in seconds, instead of after MLflow's retries."""
    from readiness.core.environ import environment

    _require()
    return environment({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
                        "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"})
