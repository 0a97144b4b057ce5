"""Model files: saved with skops (no arbitrary pickle), loaded only with trusted types.

``save_model`` writes ``models/<name>.skops`` and records it as evidence of the run
that produced it. In a notebook it also DVC-tracks the file and declares the artifact
in ``dvc.yaml``; inside a job, the coordinating process does that (one DVC writer).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from readiness.errors import ReadinessError
from readiness.evidence import RUN_ID_ENV, make_evidence, record_many
from readiness.project import Project, current_project

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
MODEL_EVIDENCE = "model"  # evidence name of a saved model; its split is the model name


class ModelError(ReadinessError):
    """A model cannot be saved, found or loaded safely."""


def check_name(name: str) -> str:
    """Model names become git tags (``name@v1.0.0``): lowercase letters, digits, dashes."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ModelError(
            f"model name {name!r} must be lowercase letters, digits and dashes (e.g. churn-model)"
        )
    return name


def model_path(name: str) -> str:
    return f"models/{check_name(name)}.skops"


def save_model(model: Any, name: str, project: Project | None = None) -> dict[str, Any]:
    """Save ``model`` with skops as ``models/<name>.skops`` and record it for this run.

    Returns the recorded entry: name, path (relative to the project) and sha256.
    """
    import skops.io

    project = project or current_project()
    relative = model_path(name)
    target = project.root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = skops.io.dumps(model)
    except Exception as exc:  # skops refuses objects it cannot represent safely
        raise ModelError(f"skops cannot save this {type(model).__name__}: {exc}") from None
    tmp = target.with_suffix(".skops.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    entry = {"name": name, "path": relative, "sha256": hashlib.sha256(data).hexdigest()}
    record_many([make_evidence(MODEL_EVIDENCE, entry, name)], project)
    if not os.environ.get(RUN_ID_ENV):  # interactive: this process is the writer
        track_model(project, name)
    return entry


def track_model(project: Project, name: str) -> str | None:
    """DVC-track a saved model and declare it as a GTO artifact in ``dvc.yaml``."""
    from readiness.dvcstore import is_dvc_project
    from readiness.tracking import track

    if not is_dvc_project(project.root):
        return None
    if model_path(name) in stage_output_paths(project):
        declare_artifact(project, name)
        return None  # a pipeline stage produces it: DVC versions it through dvc.lock
    result = track(project, [model_path(name)], cwd=project.root)
    declare_artifact(project, name)
    return result.items[0].md5


def stage_output_paths(project: Project) -> set[str]:
    """Paths that dvc.yaml stages declare as outputs."""
    from readiness import yamlio

    path = project.root / "dvc.yaml"
    if not path.is_file():
        return set()
    data = yamlio.load_file(path, "dvc.yaml", "dvc.yaml").data or {}
    found = set()
    for stage in (data.get("stages") or {}).values():
        for key in ("outs", "metrics", "plots"):
            for out in (stage or {}).get(key) or []:
                found.add(next(iter(out)) if isinstance(out, dict) else str(out))
    return found


def declare_artifact(project: Project, name: str) -> None:
    """``artifacts: {name: {path, type: model}}`` in dvc.yaml (GTO reads it), keeping the rest."""
    from readiness import yamlio
    from readiness.fsutil import atomic_write_text, read_text_file

    path = project.root / "dvc.yaml"
    limit = yamlio.MAX_YAML_BYTES
    text = read_text_file(path, "dvc.yaml", max_bytes=limit) if path.is_file() else None
    data = yamlio.parse(text, "dvc.yaml").data if text else {}
    artifacts = dict((data or {}).get("artifacts") or {})
    wanted = {"path": model_path(name), "type": "model"}
    if artifacts.get(name) == wanted:
        return
    artifacts[name] = wanted
    atomic_write_text(path, yamlio.merge_sections(text, {"artifacts": artifacts}, "dvc.yaml"))


DEFAULT_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def loads(data: bytes, trusted: list[str] | None = None, source: str = "model") -> Any:
    """Load skops bytes, refusing any type outside skops' defaults and ``trusted``."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception as exc:  # not a skops file: a zip error, a format error
        raise ModelError(
            f"{source} is not a skops model file ({type(exc).__name__}: {exc})"
        ) from None
    allowed = set(trusted or [])
    refused = [
        t for t in untrusted if t not in allowed and not t.startswith(DEFAULT_TRUSTED_PREFIXES)
    ]
    if refused:
        raise ModelError(
            f"{source} contains types that are not trusted: {', '.join(refused)}. Review them, "
            "then pass them as trusted (load_model(..., trusted=[...])) if you trust their code"
        )
    try:
        return skops.io.loads(data, trusted=list(untrusted))
    except Exception as exc:  # corrupted content inside a valid archive
        raise ModelError(f"{source} cannot be loaded: {type(exc).__name__}: {exc}") from None


def load_file(path: str | Path, trusted: list[str] | None = None) -> Any:
    """A local skops file (checked like any other)."""
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"model file {path} does not exist")
    return loads(file.read_bytes(), trusted, source=str(path))
