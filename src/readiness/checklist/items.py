"""A checklist item and the project as its probe sees it (each fact read once)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from readiness.core.project import Project


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    next_step: str  # what to do when it is failed or missing
    # a probe answers (True: satisfied, False: failed, None: nothing there yet, detail);
    # no probe: the item can only be attested
    probe: Callable[[Any], tuple[bool | None, str]] | None = None

    @property
    def category(self) -> str:
        return self.id.split(".")[0]


class ProbeContext:
    """The project as probes see it; each fact is read once."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.root = project.root

    @functools.cached_property
    def config(self) -> Any:
        from readiness.core.config import load_config

        return load_config(self.project) if self.project.config_path.is_file() else None

    def raw_attestations(self) -> dict[str, Any]:
        from readiness.core import yamlio
        from readiness.core.config import read_text

        if not self.project.config_path.is_file():
            return {}
        data = yamlio.parse(read_text(self.project)).data
        return dict((data or {}).get("attestations") or {})

    @functools.cached_property
    def versions(self) -> list[Any]:
        from readiness.core.errors import ReadinessError
        from readiness.registry.versions import versions

        if not (self.root / ".git").exists():
            return []
        try:
            return versions(self.project)
        except ReadinessError:
            return []

    @functools.cached_property
    def model(self) -> Any:
        """The production version, else the newest registered one (the candidate)."""
        if not self.versions:
            return None
        production = [v for v in self.versions if "production" in v.stages]
        return production[0] if production else self.versions[0]

    @functools.cached_property
    def model_run(self) -> dict[str, Any] | None:
        from readiness.core.errors import ReadinessError
        from readiness.evidence.runs import read_run

        if self.model is None or not self.model.run_id:
            return None
        try:
            return read_run(self.project, self.model.run_id)
        except ReadinessError:
            return None

    @functools.cached_property
    def audit(self) -> list[dict[str, Any]]:
        from readiness.core import audit

        return audit.read(self.project)

    @functools.cached_property
    def runs(self) -> list[dict[str, Any]]:
        from readiness.evidence.runs import list_runs

        return list_runs(self.project)

    @functools.cached_property
    def data_versions(self) -> dict[str, Any]:
        from readiness.integrations.dvc import data_versions

        return data_versions(self.project)
