"""``readiness init --from OTHER``: what a new use case reuses from an existing project.

The retraining notebook, the CI workflow(s), the runbook's skeleton (its headings, each
section to be written again: another model's runbook is not this one's) and the schema
conventions (``datasets:``: paths and column rules). Never the data, the evidence, the
registry or the criteria: those belong to the use case and are declared anew.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from readiness.core.errors import ProjectError
from readiness.core.project import CONFIG_NAME, Project

RETRAIN = "notebooks/retrain.ipynb"
RUNBOOK = "docs/runbook.md"
# the workflows ``readiness ci`` writes (readiness.gate.reports.CI_TARGETS)
CI_FILES = (".github/workflows/readiness.yml", ".gitlab-ci.yml")


def source_project(path: Path) -> Project:
    """``path`` as a readiness project to reuse from; a clear error when it is none."""
    folder = path.expanduser().resolve()
    if not folder.is_dir():
        raise ProjectError(f"--from {path}: no such folder")
    if not (folder / CONFIG_NAME).is_file():
        raise ProjectError(f"--from {path}: not a readiness project (no {CONFIG_NAME})")
    return Project(folder)


def runbook_skeleton(text: str, source: str) -> str:
    """The runbook's headings, every section a TODO again (the checklist counts it undone)."""
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            if out:
                out.append("")
            out.append(line.rstrip())
            if line.startswith("## "):
                out.append(f"TODO: this use case's answer (the section of {source}'s runbook).")
    return "\n".join(out) + "\n"


def schema_conventions(other: Project) -> dict[str, object] | None:
    """The ``datasets:`` section of ``other``'s readiness.yaml, as written (None: none)."""
    from readiness.core import yamlio
    from readiness.core.config import read_text

    data = yamlio.parse(read_text(other), str(other.config_path)).data
    datasets = data.get("datasets") if isinstance(data, dict) else None
    return datasets if isinstance(datasets, dict) and datasets else None


def reuse(project: Project, other: Project, writable: set[str]) -> list[str]:
    """Copy what a new use case reuses from ``other``; the project paths written.

    ``writable``: the paths this project may overwrite (those init just created, or all
    with --force); any other existing file is kept.
    """
    from readiness.core.config import merged_text
    from readiness.core.fsutil import atomic_write_text

    if other.root == project.root:
        raise ProjectError("--from names this project itself")
    written = []

    def may_write(relative: str) -> bool:
        return relative in writable or not (project.root / relative).exists()

    for relative in (RETRAIN, *CI_FILES):
        source = other.root / relative
        if source.is_file() and may_write(relative):
            target = project.root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            written.append(relative)
    runbook = other.root / RUNBOOK
    if runbook.is_file() and may_write(RUNBOOK):
        text = runbook.read_text(encoding="utf-8", errors="replace")
        atomic_write_text(project.root / RUNBOOK, runbook_skeleton(text, other.root.name))
        written.append(RUNBOOK)
    datasets = schema_conventions(other)
    if datasets is not None and CONFIG_NAME in writable:
        atomic_write_text(project.config_path, merged_text(project, {"datasets": datasets}))
        written.append(f"{CONFIG_NAME} (datasets:)")
    return written
