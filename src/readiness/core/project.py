"""Where a project's files live: the root, found by walking up, and its paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CONFIG_NAME = "readiness.yaml"
STATE_DIR = ".readiness"


@dataclass(frozen=True)
class Project:
    """A readiness project: the folder that holds ``readiness.yaml``."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def runs_dir(self) -> Path:
        """One JSON record per run (``.readiness/runs/<id>.json``)."""
        return self.state_dir / "runs"

    @property
    def criteria_lock_path(self) -> Path:
        return self.state_dir / "criteria.lock"

    @property
    def audit_path(self) -> Path:
        return self.state_dir / "audit.jsonl"

    @property
    def write_lock_path(self) -> Path:
        """The inter-process lock that serializes writes to shared state files."""
        return self.state_dir / "write.lock"

    @property
    def metrics_path(self) -> Path:
        """The DVC metrics file interactive evidence goes to (jobs name their own)."""
        return self.root / "metrics.json"

    @property
    def monitor_dir(self) -> Path:
        """The latest monitor run of each model (``<name>.json``), read by the server's gauges."""
        return self.state_dir / "monitor"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def executed_notebooks_dir(self) -> Path:
        return self.root / "runs"


def find_root(start: Path | str | None = None) -> Path:
    """Walk up from ``start`` to the folder holding ``readiness.yaml``.

    ``READINESS_PROJECT`` overrides the search (jobs set it for their kernels).
    Without a ``readiness.yaml`` above, the git work tree's root is used, and
    without git, ``start`` itself.
    """
    env = os.environ.get("READINESS_PROJECT")
    if env and start is None:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def current_project(start: Path | str | None = None) -> Project:
    """The project that ``start`` (default: the working directory) belongs to."""
    return Project(find_root(start))
