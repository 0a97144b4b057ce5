"""Reading and writing ``readiness.yaml``."""

from __future__ import annotations

from typing import Any

from readiness.core import yamlio
from readiness.core.errors import ConfigError, ProjectError
from readiness.core.fsutil import read_text_file
from readiness.core.project import Project
from readiness.core.schema import Config, validate


def parse_config(text: str, source: str = "readiness.yaml") -> Config:
    """Parse and validate YAML text; errors carry line:column."""
    doc = yamlio.parse(text, source)
    return validate(doc.data, positions=doc, source=source)


def read_text(project: Project) -> str:
    if not project.config_path.is_file():
        raise ProjectError(
            f"no readiness.yaml in {project.root}: run `readiness init` there, or declare "
            "criteria with %%readiness criteria"
        )
    return _read(project)


def _read(project: Project) -> str:
    """readiness.yaml's text: a binary, non-UTF-8 or oversized file is a ConfigError."""
    return read_text_file(
        project.config_path, "the configuration", error=ConfigError, max_bytes=yamlio.MAX_YAML_BYTES
    )


def load_config(project: Project) -> Config:
    """The validated configuration of ``project``."""
    return parse_config(read_text(project), source=str(project.config_path.name))


def merged_text(project: Project, sections: dict[str, Any]) -> str:
    """``readiness.yaml`` with ``sections`` replaced and every other section (and comment) kept."""
    existing = _read(project) if project.config_path.is_file() else None
    return yamlio.merge_sections(existing, sections)
