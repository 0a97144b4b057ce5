"""``readiness init``: lay out a new project from the templates."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.errors import ProjectError
from readiness.core.project import CONFIG_NAME, Project
from readiness.core.results import Renderable
from readiness.core.templates import template
from readiness.integrations import git as gitinfo

# template name -> path in the project (a binary classifier's: the default task)
FILES = {
    "readiness.yaml": CONFIG_NAME,
    "poc.ipynb": "notebooks/poc.ipynb",
    "retrain.ipynb": "notebooks/retrain.ipynb",
    "runbook.md": "docs/runbook.md",
    "gitignore": ".gitignore",
}

# What the model predicts: each task has its own readiness.yaml, PoC and retraining notebook.
TASKS = ("binary", "multiclass", "regression")
_PER_TASK = ("readiness.yaml", "poc.ipynb", "retrain.ipynb")


def task_files(task: str = "binary") -> dict[str, str]:
    """Template name -> project path for ``task`` (``readiness-regression.yaml``, ...)."""
    if task not in TASKS:
        raise ProjectError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task == "binary":
        return dict(FILES)
    out = {}
    for name, relative in FILES.items():
        stem, dot, ext = name.partition(".")
        out[f"{stem}-{task}{dot}{ext}" if name in _PER_TASK else name] = relative
    return out


def _merge_gitignore(target: Path, template_path: Path) -> bool:
    """Add the template's entries a project's own .gitignore lacks; whether any were added."""
    have = {line.strip() for line in target.read_text(encoding="utf-8").splitlines()}
    wanted = [
        line
        for line in template_path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and line.strip() not in have
    ]
    if not wanted:
        return False
    text = target.read_text(encoding="utf-8")
    block = "\n".join(["# readiness: machine-local state and large generated files", *wanted])
    target.write_text(f"{text}{'' if text.endswith(chr(10)) or not text else chr(10)}\n{block}\n")
    return True


@dataclass
class InitResult(Renderable):
    root: str
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    version_control: dict[str, str] = field(default_factory=dict)
    task: str = "binary"
    updated: list[str] = field(default_factory=list)
    commit: str | None = None  # the first commit of what init wrote, when it made one
    not_committed: str = ""  # why nothing was committed, when init wrote files
    reused_from: str | None = None  # --from OTHER: the project reused
    reused: list[str] = field(default_factory=list)  # what was copied from it

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "task": self.task,
            "created": self.created,
            "updated": self.updated,
            "kept": self.kept,
            "version_control": self.version_control,
            "commit": self.commit,
            "not_committed": self.not_committed,
            "reused_from": self.reused_from,
            "reused": self.reused,
        }


def _ensure_git(root: Path) -> str | None:
    """Make ``root`` a git work tree unless it already lies in one (that is not ignoring it)."""
    top = gitinfo.toplevel(root)
    if top is not None and not gitinfo.is_ignored(top, root):
        return None
    gitinfo.init(root)
    return "initialised"


def init_project(
    root: Path,
    force: bool = False,
    remote: str | None = None,
    data: bool = True,
    task: str = "binary",
    source: Path | None = None,
) -> InitResult:
    """Create ``root`` (if needed) with ``readiness.yaml``, a starter notebook and folders.

    ``task`` (binary, multiclass, regression) picks the readiness.yaml, PoC and
    retraining notebook. With ``data`` (the default) the folder also becomes a git
    repository (when it is not in one), with a first commit of what init wrote, and a
    DVC project with a default remote (``remote`` URL, or a local folder outside the
    work tree). Existing files are kept unless ``force`` is set, so ``init`` is safe to
    re-run; a project's own .gitignore gains readiness's entries; an existing DVC
    remote is kept. ``source`` (``--from``) reuses another project's retraining notebook,
    CI workflow, runbook skeleton and dataset schemas (readiness.data.reuse).
    """
    from readiness.data.reuse import reuse, source_project

    files = task_files(task)
    other = source_project(source) if source is not None else None
    if root.exists() and not root.is_dir():
        raise ProjectError(f"{root} exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    project = Project(root.resolve())
    result = InitResult(root=str(project.root), task=task)
    for name, relative in files.items():
        target = project.root / relative
        locked = relative == CONFIG_NAME and project.criteria_lock_path.is_file()
        if name == "gitignore" and target.is_file():
            # The project's own ignores stay; readiness's machine-local entries are added.
            if _merge_gitignore(target, template(name)):
                result.updated.append(f"{relative} (added readiness's entries)")
            continue
        if target.exists() and (not force or locked):
            # Locked criteria change only through an amendment, never by re-initialising.
            why = "criteria locked: amend them instead" if locked else "exists; --force overwrites"
            result.kept.append(f"{relative} ({why})")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(name), target)
        result.created.append(relative)
    if other is not None:
        # readiness.yaml only when init wrote it now: an existing one is the use case's own
        forced = {p for p in files.values() if p != CONFIG_NAME} if force else set()
        writable = set(result.created) | forced
        result.reused_from = str(other.root)
        result.reused = reuse(project, other, writable)
        new = [p for p in result.reused if p.split(" (")[0] not in result.created]
        result.created += [p for p in new if not p.startswith(CONFIG_NAME)]
    for folder in (project.state_dir / "runs", project.reports_dir, project.executed_notebooks_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if data:
        from readiness.integrations.dvc import init_dvc

        fresh = _ensure_git(project.root) is not None
        if fresh:
            result.version_control["git"] = "initialised"
        result.version_control.update(init_dvc(project, remote))
        _first_commit(project, result, fresh)
    return result


# What DVC's init writes and git should carry (config.local stays out: .dvc/.gitignore).
_DVC_FILES = (".dvc/config", ".dvc/.gitignore", ".dvcignore")


def _first_commit(project: Project, result: InitResult, fresh: bool) -> None:
    """Commit what init wrote in a repository it created; otherwise say it is not committed.

    Runs record the git commit they ran at: without one, lineage cannot name the code.
    """
    paths = [p.split(" (")[0] for p in [*result.created, *result.updated]]
    paths += [p for p in _DVC_FILES if (project.root / p).is_file()]
    if not result.created and not result.updated:
        return
    if not fresh:
        result.not_committed = (
            "init's files are not committed (this repository was already here): "
            f"git add {' '.join(paths)} && git commit -m 'readiness init'"
        )
        return
    commit, what = gitinfo.commit_paths(project.root, paths, "readiness init")
    if commit:
        result.commit = commit
        return
    result.not_committed = (
        f"nothing is committed yet ({what}); runs record no git commit until there is one: "
        "git add -A && git commit -m 'readiness init'"
    )
