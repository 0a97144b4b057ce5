"""``readiness init``: lay out a new project from the templates."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness import gitinfo
from readiness.errors import ProjectError
from readiness.project import CONFIG_NAME, Project
from readiness.results import Renderable
from readiness.templates import template

# template name -> path in the project
FILES = {
    "readiness.yaml": CONFIG_NAME,
    "poc.ipynb": "notebooks/poc.ipynb",
    "retrain.ipynb": "notebooks/retrain.ipynb",
    "runbook.md": "docs/runbook.md",
    "gitignore": ".gitignore",
}


@dataclass
class InitResult(Renderable):
    root: str
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    version_control: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "created": self.created,
            "kept": self.kept,
            "version_control": self.version_control,
        }


def _ensure_git(root: Path) -> str | None:
    """Make ``root`` a git work tree unless it already lies in one (that is not ignoring it)."""
    top = gitinfo.toplevel(root)
    if top is not None and not gitinfo.is_ignored(top, root):
        return None
    gitinfo.init(root)
    return "initialised"


def init_project(
    root: Path, force: bool = False, remote: str | None = None, data: bool = True
) -> InitResult:
    """Create ``root`` (if needed) with ``readiness.yaml``, a starter notebook and folders.

    With ``data`` (the default) the folder also becomes a git repository (when it is
    not in one) and a DVC project with a default remote (``remote`` URL, or a local
    folder outside the work tree). Existing files are kept unless ``force`` is set, so
    ``init`` is safe to re-run; an existing DVC remote is kept.
    """
    if root.exists() and not root.is_dir():
        raise ProjectError(f"{root} exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    project = Project(root.resolve())
    result = InitResult(root=str(project.root))
    for name, relative in FILES.items():
        target = project.root / relative
        locked = relative == CONFIG_NAME and project.criteria_lock_path.is_file()
        if target.exists() and (not force or locked):
            # Locked criteria change only through an amendment, never by re-initialising.
            why = "criteria locked: amend them instead" if locked else "exists; --force overwrites"
            result.kept.append(f"{relative} ({why})")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(name), target)
        result.created.append(relative)
    for folder in (project.state_dir / "runs", project.reports_dir, project.executed_notebooks_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if data:
        from readiness.dvcstore import init_dvc

        if _ensure_git(project.root):
            result.version_control["git"] = "initialised"
        result.version_control.update(init_dvc(project, remote))
    return result
