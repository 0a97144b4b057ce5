"""``readiness pipeline add``: a DVC stage that executes a notebook through papermill.

The stage's command is ``readiness run`` (papermill underneath) with every parameter
taken from ``params.yaml`` by DVC's ``${...}`` interpolation, so ``dvc repro``,
``dvc exp run -S stage.name=value`` and ``dvc exp show`` work on it as on any stage.
The executed notebook goes to ``runs/<stage>.ipynb`` and the stage's metrics to
``metrics/<stage>.json``.
"""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import yamlio
from readiness.core.errors import NotebookError
from readiness.core.fsutil import atomic_write_text, read_text_file
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.integrations import dvc as dvcstore
from readiness.integrations.dvc import DataError


@dataclass
class StageResult(Renderable):
    """The stage written to ``dvc.yaml``."""

    name: str
    cmd: str
    deps: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    outs: list[str] = field(default_factory=list)
    metrics: str = ""
    executed_notebook: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """Defaults of the notebook's ``parameters`` cell (literal values only)."""
    from readiness.integrations import papermill

    try:
        found = papermill.inspect(notebook)
    except NotebookError as exc:  # missing, not JSON, not a notebook
        raise DataError(f"cannot read the parameters of {notebook}: {exc}") from None
    defaults = {}
    for name, spec in found.items():
        try:
            defaults[name] = ast.literal_eval(str(spec.get("default")))
        except (ValueError, SyntaxError):
            continue  # an expression, not a literal: not a tracked parameter
    return defaults


def _inside(project: Project, path: str | Path, cwd: Path, what: str) -> str:
    full = (cwd / path).resolve()
    try:
        return full.relative_to(project.root).as_posix()
    except ValueError:
        raise DataError(f"{what} {path} is outside the project {project.root}") from None


def add_stage(
    project: Project,
    notebook: str | Path,
    name: str,
    params: dict[str, Any] | None = None,
    deps: list[str] | None = None,
    outs: list[str] | None = None,
    metrics: str | None = None,
    force: bool = False,
    cwd: Path | None = None,
) -> StageResult:
    """Write a ``dvc.yaml`` stage that executes ``notebook`` with parameters from ``params.yaml``.

    Parameters
    ----------
    notebook:
        The notebook; its ``parameters`` cell gives the default parameters.
    name:
        The stage name (also the ``params.yaml`` section of its parameters).
    params:
        Parameter values overriding the notebook's defaults.
    deps, outs:
        Data the notebook reads, files it writes (models, features).
    metrics:
        The stage's DVC metrics file (default ``metrics/<name>.json``).
    force:
        Replace an existing stage of that name.
    """
    cwd = cwd or Path.cwd()
    source = (cwd / notebook).resolve()
    if not source.is_file():
        raise DataError(f"notebook {notebook} does not exist")
    notebook_rel = _inside(project, source, cwd, "notebook")
    dep_paths = [_inside(project, d, cwd, "dependency") for d in deps or []]
    out_paths = [_inside(project, o, cwd, "output") for o in outs or []]
    for dep in dep_paths:
        if not (project.root / dep).exists():
            raise DataError(f"dependency {dep} does not exist")
    values = {**notebook_parameters(source), **(params or {})}
    executed = f"runs/{name}.ipynb"
    metrics_file = (
        _inside(project, metrics, cwd, "metrics file") if metrics else f"metrics/{name}.json"
    )
    if executed == notebook_rel:
        raise DataError("the executed notebook would overwrite its input")

    parts = ["readiness", "run", notebook_rel, "--output", executed, "--metrics-file", metrics_file]
    scalars = {k: v for k, v in values.items() if isinstance(v, (str, int, float, bool))}
    if len(scalars) < len(values):
        # DVC interpolates only scalars into a command: the rest come from params.yaml.
        parts += ["--params-file", "params.yaml", "--params-key", name]
    for key, value in scalars.items():
        parts += [
            "-p",
            key,
            f'"${{{name}.{key}}}"' if isinstance(value, str) else f"${{{name}.{key}}}",
        ]
    for dep in dep_paths:
        parts += ["--input", dep]
    cmd = " ".join(p if p.startswith(("${", '"${')) else shlex.quote(p) for p in parts)

    params_path = project.root / "params.yaml"
    before = (
        read_text_file(params_path, "params.yaml", max_bytes=yamlio.MAX_YAML_BYTES)
        if params_path.is_file()
        else None
    )
    if values:
        merged = yamlio.merge_sections(before, {name: values}, "params.yaml")
        atomic_write_text(params_path, merged)

    def stage_add(repo: Any) -> None:
        with dvcstore.silenced():
            repo.stage.add(
                name=name,
                cmd=cmd,
                deps=[notebook_rel, *dep_paths],
                params=[{"params.yaml": [f"{name}.{k}" for k in values]}] if values else [],
                outs=out_paths,
                outs_no_cache=[executed],
                metrics_no_cache=[metrics_file],
                force=force,
            )

    try:
        dvcstore.write(project, stage_add)
    except BaseException:
        # Nothing half-written: params.yaml goes back to what it was.
        if before is None:
            params_path.unlink(missing_ok=True)
        else:
            atomic_write_text(params_path, before)
        raise
    (project.root / "runs").mkdir(exist_ok=True)
    (project.root / metrics_file).parent.mkdir(parents=True, exist_ok=True)
    return StageResult(
        name=name,
        cmd=cmd,
        deps=[notebook_rel, *dep_paths],
        params=values,
        outs=out_paths,
        metrics=metrics_file,
        executed_notebook=executed,
    )
