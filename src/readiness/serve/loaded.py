"""The served version: loaded from the registry stage, swapped when the stage moves.

A new version is loaded beside the old one and swapped in with one reference
assignment, so a request in flight finishes on the model it started with and no
request waits for a load. A version that fails to load leaves the old one serving;
the failure is kept for ``/readyz`` and the metrics. The registry is watched by the
git tags' fingerprint (one cheap ``git for-each-ref``), and resolved through the one
resolver (``gto show``) only when that fingerprint changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from readiness.core.errors import ReadinessError
from readiness.core.project import Project
from readiness.serve.features import RequestSchema, build_schema

log = logging.getLogger("readiness.serve")


@dataclass
class ServedModel:
    """One loaded version and what a request needs of it."""

    name: str
    version: str
    stage: str
    model: Any
    schema: RequestSchema
    load_seconds: float
    loaded_at: float = field(default_factory=time.time)
    # numeric features the model also predicts from as a plain array (checked at load):
    # five times faster than a DataFrame for one row; None: not decided yet
    as_array: bool | None = None

    def inputs(self, rows: list[dict[str, Any]]) -> Any:
        """Checked rows as the model takes them: a float array when it can, else a DataFrame."""
        if self.as_array:
            import numpy as np

            features = self.schema.features
            return np.array([[row.get(f) for f in features] for row in rows], dtype=float)
        return self.schema.frame(rows)

    def predict(self, inputs: Any) -> list[Any]:
        with _finite(self.schema):
            return _plain_list(self.model.predict(inputs))

    def predict_proba(self, inputs: Any) -> list[Any]:
        with _finite(self.schema):
            return _plain_list(self.model.predict_proba(inputs))

    @property
    def classes(self) -> list[Any] | None:
        classes = getattr(self.model, "classes_", None)
        return [_plain(c) for c in classes] if classes is not None else None

    @property
    def has_proba(self) -> bool:
        return callable(getattr(self.model, "predict_proba", None))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "features": self.schema.features,
            "classes": self.classes,
            "predict_proba": self.has_proba,
            "row_schema": self.schema.json_schema(),
            "rules_from": self.schema.sources,
            "predicts_from": "array" if self.as_array else "DataFrame",
        }


def _plain_list(values: Any) -> list[Any]:
    """Predictions as JSON values (numpy arrays and scalars become lists and numbers)."""
    tolist = getattr(values, "tolist", None)
    return tolist() if callable(tolist) else list(values)


def _finite(schema: RequestSchema) -> Any:
    """scikit-learn skips its finiteness scan when no feature can be null: the request's
    values were checked finite already (JSON has no NaN, and null is refused)."""
    import contextlib

    if any(r.nullable for r in schema.rules.values()) or len(schema.rules) < len(schema.features):
        return contextlib.nullcontext()
    import sklearn

    return sklearn.config_context(assume_finite=True)


NAMES_WARNING = "X does not have valid feature names"


def decide_array(served: ServedModel) -> bool:
    """Whether ``served`` predicts the same from a float array as from a DataFrame.

    Only for features that are all numeric; tried on one row of valid values, both ways
    (a ColumnTransformer that selects by name fails on the array: DataFrame it is).
    """
    import warnings

    schema = served.schema
    rules = [schema.rules.get(f) for f in schema.features]
    if not rules or any(r is None or r.type not in ("int", "float", "number") for r in rules):
        return False
    row = {r.name: _valid_number(r) for r in rules if r is not None}
    warnings.filterwarnings("ignore", message=NAMES_WARNING, category=UserWarning)
    try:
        frame = schema.frame([row])
        import numpy as np

        array = np.array([[row[f] for f in schema.features]], dtype=float)
        same = _plain_list(served.model.predict(frame)) == _plain_list(served.model.predict(array))
        if same and served.has_proba:
            same = _plain_list(served.model.predict_proba(frame)) == _plain_list(
                served.model.predict_proba(array)
            )
    except Exception:  # any refusal of the array (or of the probe row): use DataFrames
        return False
    return bool(same)


def _valid_number(rule: Any) -> float:
    if rule.min is not None:
        return float(rule.min)
    if rule.max is not None:
        return float(min(rule.max, 0.0))
    return 0.0


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def load_version(project: Project, name: str, stage: str, version: str) -> ServedModel:
    """Load ``name`` ``version`` through the registry's allow-list and build its schema."""
    from readiness.core.config import load_config
    from readiness.registry.versions import load_model

    started = time.perf_counter()
    model = load_model(project, name, version=version)
    config = load_config(project) if project.config_path.is_file() else None
    schema = build_schema(model, config, project.root, model_label=f"{name} {version}")
    served = ServedModel(name, version, stage, model, schema, time.perf_counter() - started)
    served.as_array = decide_array(served)
    return served


def tags_fingerprint(project: Project) -> str:
    from readiness.integrations.git import tag_refs
    from readiness.registry.entities import backend_name

    if backend_name(project) != "gto":  # aliases live on a registry server: ask it each look
        return os.urandom(8).hex()
    return hashlib.sha256("\n".join(tag_refs(project.root)).encode()).hexdigest()


def no_version_message(name: str, stage: str) -> str:
    return (
        f"no version of {name} is in {stage}: register and promote one "
        f"(readiness promote {name} VERSION --to {stage})"
    )


def stage_version(project: Project, name: str, stage: str) -> str | None:
    from readiness.registry.versions import in_stage

    found = in_stage(project, name, stage)
    return found.version if found else None


@dataclass
class Refresh:
    """What one look at the registry found and did."""

    serving: str | None
    wanted: str | None
    switched: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class ModelHolder:
    """The version a server answers with, and the watcher that follows the registry stage.

    ``on_load(version, seconds, ok)`` is told of every load attempt (the metrics use it).
    """

    def __init__(
        self,
        project: Project,
        name: str,
        stage: str = "production",
        on_load: Callable[[ServedModel | None, str, float, bool], None] | None = None,
    ) -> None:
        self.project, self.name, self.stage = project, name, stage
        self.current: ServedModel | None = None
        self.wanted: str | None = None
        self.last_error: str | None = None
        self.on_load = on_load
        self._fingerprint: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load_initial(self) -> ServedModel:
        """The stage's version, loaded; a server that cannot load it does not start."""
        self._fingerprint = tags_fingerprint(self.project)
        version = stage_version(self.project, self.name, self.stage)
        if version is None:
            raise ReadinessError(no_version_message(self.name, self.stage))
        self.wanted = version
        self.current = self._load(version)
        return self.current

    def _load(self, version: str) -> ServedModel:
        started = time.perf_counter()
        try:
            served = load_version(self.project, self.name, self.stage, version)
        except Exception as exc:  # any failure to load keeps the old version serving
            seconds = time.perf_counter() - started
            self.last_error = f"{version}: {_reason(exc)}"
            if self.on_load:
                self.on_load(None, version, seconds, False)
            raise
        self.last_error = None
        if self.on_load:
            self.on_load(served, version, served.load_seconds, True)
        return served

    def refresh(self, force: bool = False) -> Refresh:
        """Look at the registry; load and swap in the stage's version when it changed."""
        with self._lock:
            fingerprint = tags_fingerprint(self.project)
            serving = self.current.version if self.current else None
            if not force and fingerprint == self._fingerprint:  # a failed load retries on force
                return Refresh(serving, self.wanted, error=self.last_error)
            try:
                wanted = stage_version(self.project, self.name, self.stage)
            except ReadinessError as exc:  # a registry that cannot be read now: keep serving
                return Refresh(serving, self.wanted, error=str(exc))
            self._fingerprint = fingerprint
            self.wanted = wanted
            if wanted is None or wanted == serving:
                if wanted == serving:
                    self.last_error = None
                return Refresh(serving, wanted, error=None if wanted else "the stage is empty")
            try:
                new = self._load(wanted)
            except Exception:  # reported by _load; the old version keeps serving
                log.warning("cannot load %s %s: %s; %s keeps serving",
                            self.name, wanted, self.last_error, serving)
                return Refresh(serving, wanted, error=self.last_error)
            self.current = new  # the swap: one reference assignment
            log.info("%s: now serving %s (was %s)", self.name, wanted, serving)
            return Refresh(wanted, wanted, switched=True)

    def watch(self, poll_seconds: float) -> None:
        """Follow the registry in a daemon thread, every ``poll_seconds``."""

        def loop() -> None:
            while not self._stop.wait(poll_seconds):
                try:
                    self.refresh()
                except Exception as exc:  # the watcher must outlive any one failed look
                    log.warning("registry watch failed: %s", _reason(exc))

        self._thread = threading.Thread(target=loop, name="readiness-registry-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def ready(self) -> dict[str, Any]:
        """What ``/readyz`` shows: serving, wanted and the last load failure."""
        serving = self.current.version if self.current else None
        return {
            "ready": self.current is not None,
            "model": self.name,
            "stage": self.stage,
            "serving": serving,
            "wanted": self.wanted,
            "in_sync": serving is not None and serving == self.wanted,
            "load_error": self.last_error,
        }


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ReadinessError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
