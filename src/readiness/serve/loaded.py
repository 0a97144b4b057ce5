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
        }


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
    return ServedModel(name, version, stage, model, schema, time.perf_counter() - started)


def tags_fingerprint(project: Project) -> str:
    from readiness.integrations.git import tag_refs

    return hashlib.sha256("\n".join(tag_refs(project.root)).encode()).hexdigest()


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
            raise ReadinessError(
                f"no version of {self.name} is in {self.stage}: register and promote one "
                f"(readiness promote {self.name} VERSION --to {self.stage})"
            )
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
