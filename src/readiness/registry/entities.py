"""What every registry backend shares: its errors, its records, its lock and its stages.

The GTO backend (:mod:`readiness.registry.versions`) and the MLflow one
(:mod:`readiness.registry.mlflow_registry`) both build these, so every reader and
renderer sees one shape whichever registry holds the versions.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from readiness.core.errors import ReadinessError
from readiness.core.fsutil import file_lock
from readiness.core.project import Project
from readiness.core.results import Renderable

STAGES = ("staging", "production")
DRILL_MAX_AGE_DAYS = 90


class RegistryError(ReadinessError):
    """A registry operation is not possible as asked."""


class FeaturesUnknown(RegistryError):
    """A drill cannot tell a model's features from the label of its sample."""


class AlreadyRegistered(RegistryError):
    """The model file is a registered version already (saves are byte-reproducible)."""


@contextlib.contextmanager
def registry_lock(project: Project) -> Iterator[None]:
    with file_lock(project.state_dir / "registry.lock", timeout=600, what="the registry lock"):
        yield


def fault_point(step: str) -> None:
    """Fault injection for the kill tests: READINESS_FAULT_AT=<step> kills the process here."""
    if os.environ.get("READINESS_FAULT_AT") == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class ModelVersion:
    name: str
    version: str
    commit: str
    created_at: str
    author: str
    stages: list[str] = field(default_factory=list)
    run_id: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    md5: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def version_tag(version: str) -> str:
    """``version`` as readiness tags it (``v1.2.0``); refused unless semver (GTO's rule)."""
    from readiness.integrations.gto import is_semver

    tag = version if version.startswith("v") else f"v{version}"
    if not is_semver(tag):
        raise RegistryError(
            f"version {version!r} is not a semantic version: use MAJOR.MINOR.PATCH, e.g. 1.2.0"
        )
    return tag


def refuse_if_staged(found: ModelVersion, holds: str) -> None:
    """A version a stage points to is not deleted (the backends' check, under the lock)."""
    if found.stages:
        raise RegistryError(
            f"{found.name} {found.version} is in {', '.join(found.stages)} ({holds} points to "
            "it): move the stage first (promote another version, or roll back); it is not deleted"
        )


def stage_names(project: Project) -> dict[str, str]:
    """readiness stage -> its GTO stage (or MLflow alias) name (``registry: {stages: ...}``)."""
    names = {stage: stage for stage in STAGES}
    policy = registry_policy(project)
    names.update(policy.stages if policy else {})
    return names


def gto_stage(project: Project, stage: str) -> str:
    """The name the registry gives readiness's ``stage`` (``prod`` for production, say)."""
    if stage not in STAGES:
        raise RegistryError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    return stage_names(project)[stage]


@dataclass
class Registration(Renderable):
    name: str
    version: str
    commit: str
    run_id: str | None
    metrics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Rollback(Renderable):
    name: str
    from_version: str
    to_version: str | None
    drill: bool = False
    ok: bool = True
    detail: str = ""

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def registry_policy(project: Project) -> Any:
    """``registry:`` of readiness.yaml (None when the project has no such section or file)."""
    if not project.config_path.is_file():
        return None
    from readiness.core.config import load_config

    return load_config(project).registry


def backend_name(project: Project) -> str:
    """``registry: {backend: ...}`` of readiness.yaml: gto (the default) or mlflow."""
    policy = registry_policy(project)
    return str(policy.backend) if policy else "gto"


def key_metrics(project: Project, run: dict[str, Any] | None) -> dict[str, Any]:
    """The criteria metrics of a run (metric/split -> value), for the tag message."""
    from readiness.evidence.record import latest_values

    if run is None:
        return {}
    values = latest_values(run)
    wanted: list[tuple[str, str]] = []
    if project.config_path.is_file():
        from readiness.core.config import load_config

        with contextlib.suppress(ReadinessError):
            wanted = [(c.metric, c.split) for c in load_config(project).criteria.technical]
    out = {}
    for (metric, split), evidence in values.items():
        numeric = isinstance(evidence.value, (int, float)) and not isinstance(evidence.value, bool)
        if numeric and (not wanted or (metric, split) in wanted):
            out[f"{metric}/{split}"] = evidence.value
    return out
