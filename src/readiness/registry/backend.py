"""Registry backends: one small interface, and a name -> implementation table.

``registry: {backend: gto}`` (the default) keeps versions and stages in git tags;
``registry: {backend: mlflow, tracking_uri: ...}`` keeps them in an MLflow model
registry, stages as aliases. Everything above the registry (the gate, the drill,
load_model, the probes, serve) goes through :func:`backend_for`, so it behaves the
same on both. What stays readiness's own on every backend: the audit log (the history
of promotions and rollbacks), the gate, the registry lock and the trusted-types check.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from readiness.core.project import Project
from readiness.registry.entities import (
    ModelVersion,
    Registration,
    RegistryError,
    Rollback,
    backend_name,
)


class RegistryBackend(Protocol):
    """What a registry does for readiness; every write is made holding the registry lock."""

    name: str

    def versions(self, project: Project, name: str | None) -> list[ModelVersion]:
        """Every registered version, newest first, with the stages it serves now."""

    def stage_holders(self, project: Project, name: str, stage: str) -> list[str]:
        """The version serving ``stage`` first, then the ones a rollback would land on."""

    def register(
        self,
        project: Project,
        name: str,
        version: str | None,
        run: dict[str, Any] | None,
        source: str,
    ) -> Registration:
        """A new version of the model file at ``source`` (project-relative) saved by ``run``."""

    def assign(self, project: Project, name: str, version: str, stage: str) -> str | None:
        """Move ``stage`` to ``version`` (the gate has passed); the tag or alias written."""

    def rollback(self, project: Project, name: str) -> Rollback:
        """Production back on the version that served before the current one."""

    def rollback_target(
        self, project: Project, name: str, current: ModelVersion, candidate: str | None
    ) -> str | None:
        """Where a rollback would land: after promoting ``candidate``, or from ``current``."""

    def model_bytes(self, project: Project, chosen: ModelVersion) -> bytes:
        """The skops file of a version, as registered (checked by the caller before loading)."""

    def profile_bytes(self, project: Project, chosen: ModelVersion) -> bytes | None:
        """The reference profile stored with a version (None: it has none)."""

    def reconcile(self, project: Project, idle: bool = False) -> list[dict[str, Any]]:
        """Audit entries for registry writes whose command was killed before recording them."""

    def delete_version(self, project: Project, name: str, version: str) -> list[str]:
        """Delete a version (``vX.Y.Z``); refused while a stage points to it. What it removed."""


# name -> "module:class", imported on first use (the GTO backend is today's registry code)
BACKENDS = {
    "gto": "readiness.registry.versions:GTORegistry",
    "mlflow": "readiness.registry.mlflow_registry:MLflowRegistry",
}


def backend_for(project: Project) -> RegistryBackend:
    """The registry readiness.yaml names (``registry: {backend: ...}``), gto by default."""
    name = backend_name(project)
    if name not in BACKENDS:  # the schema refuses it first; a guard for a stale table
        raise RegistryError(f"unknown registry backend {name!r}; backends: {', '.join(BACKENDS)}")
    module, _, attr = BACKENDS[name].partition(":")
    backend: RegistryBackend = getattr(importlib.import_module(module), attr)()
    return backend


def any_registered(project: Project) -> bool:
    """Whether the registry holds a version of any model: cheaply on GTO (its git tags),
    by asking the backend otherwise."""
    if backend_name(project) == "gto":
        from readiness.integrations.git import has_registered_version

        return has_registered_version(project.root)
    return bool(backend_for(project).versions(project, None))
