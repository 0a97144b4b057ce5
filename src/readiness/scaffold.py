"""``readiness init``: lay out a new project from the templates."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.errors import ProjectError
from readiness.project import CONFIG_NAME, Project
from readiness.results import Renderable
from readiness.templates import template

# template name -> path in the project
FILES = {
    "readiness.yaml": CONFIG_NAME,
    "poc.ipynb": "notebooks/poc.ipynb",
    "gitignore": ".gitignore",
}


@dataclass
class InitResult(Renderable):
    root: str
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root, "created": self.created, "kept": self.kept}


def init_project(root: Path, force: bool = False) -> InitResult:
    """Create ``root`` (if needed) with ``readiness.yaml``, a starter notebook and folders.

    Existing files are kept unless ``force`` is set, so ``init`` is safe to re-run.
    """
    if root.exists() and not root.is_dir():
        raise ProjectError(f"{root} exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    project = Project(root.resolve())
    result = InitResult(root=str(project.root))
    for name, relative in FILES.items():
        target = project.root / relative
        if target.exists() and not force:
            result.kept.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(name), target)
        result.created.append(relative)
    for folder in (project.state_dir / "runs", project.reports_dir, project.executed_notebooks_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return result
