"""Model files: saved with skops (no arbitrary pickle), loaded only with trusted types.

``save_model`` writes ``models/<name>.skops`` and records it as evidence of the run
that produced it. In a notebook it also DVC-tracks the file and declares the artifact
in ``dvc.yaml``; inside a job, the coordinating process does that (one DVC writer).
A run of a batch saves into its own folder instead (``runs/<batch>/<run>/models/``), so
the runs of a grid never overwrite each other's models; ``register`` takes the one
it registers from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from readiness.core.errors import ReadinessError, SkopsError
from readiness.core.project import Project, current_project
from readiness.evidence.record import RUN_ID_ENV, make_evidence, record_many

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
MODEL_EVIDENCE = "model"  # evidence name of a saved model; its split is the model name
MODELS_DIR_ENV = "READINESS_MODELS_DIR"  # a batch run's own model folder (project-relative)


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


def batch_model_dir(project: Project, batch_id: str, run_id: str) -> str:
    """A batch run's own model folder, relative to the project: ``runs/<batch>/<run>/models``."""
    runs = project.executed_notebooks_dir.relative_to(project.root).as_posix()
    return f"{runs}/{batch_id}/{run_id}/models"


def saved_path(name: str) -> str:
    """Where ``save_model`` writes ``name`` in this process (project-relative)."""
    folder = os.environ.get(MODELS_DIR_ENV)
    if not folder:
        return model_path(name)
    parts = Path(folder).parts
    if Path(folder).is_absolute() or ".." in parts:
        raise ModelError(f"{MODELS_DIR_ENV}={folder!r} must be a folder inside the project")
    return f"{Path(folder).as_posix()}/{check_name(name)}.skops"


ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
FILE_NODES = {"NdArrayNode", "SparseMatrixNode", "BytesNode", "BytearrayNode"}


def _strip_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_ids(v) for k, v in node.items() if k not in ("__id__", "file")}
    if isinstance(node, list):
        return [_strip_ids(v) for v in node]
    return node


def _canonical_schema(node: Any, ids: dict[int, int], files: dict[str, str]) -> Any:
    """The schema with memory addresses and random file names numbered in order of appearance.

    skops names nodes by ``id()`` and byte blobs by uuid, and stores sets in hash order, so
    the same model gives another archive in every process; a consistent renumbering keeps
    what is shared shared (skops memoizes by ``__id__``, which must not be 0).
    """
    if isinstance(node, list):
        return [_canonical_schema(v, ids, files) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "__id__" and "__loader__" in node and isinstance(value, int):
            out[key] = ids.setdefault(value, len(ids) + 1)
        elif key == "file" and node.get("__loader__") in FILE_NODES and isinstance(value, str):
            suffix = Path(value).suffix
            out[key] = files.setdefault(value, f"{len(files) + 1}{suffix}")
        elif key == "content" and node.get("__loader__") == "SetNode" and isinstance(value, list):
            ordered = sorted(value, key=lambda v: json.dumps(_strip_ids(v), sort_keys=True))
            out[key] = _canonical_schema(ordered, ids, files)
        else:
            out[key] = _canonical_schema(value, ids, files)
    return out


def _fixed_zip(members: dict[str, tuple[bytes, int]]) -> bytes:
    """A zip of ``members`` (name -> data, compression) in name order, dated 1980-01-01."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in sorted(members):
            data, compression = members[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = compression
            info.create_system = 3  # unix, so that the permissions below read as such
            info.external_attr = 0o644 << 16
            target.writestr(info, data)
    return buffer.getvalue()


def reproducible(data: bytes) -> bytes:
    """skops bytes rewritten so that one model always gives the same bytes (DVC sees no change).

    Node ids and blob names numbered in order of appearance, sets sorted, entries in name
    order with fixed dates and permissions, stored uncompressed as skops writes them; the
    ``.npz`` archives of sparse matrices (dated by numpy) get fixed dates too.
    """
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    files: dict[str, str] = {}
    schema = _canonical_schema(json.loads(members.pop("schema.json")), {}, files)
    out = {"schema.json": (json.dumps(schema, indent=2).encode("utf-8"), zipfile.ZIP_STORED)}
    for name, blob in members.items():
        if name.endswith(".npz"):
            with zipfile.ZipFile(io.BytesIO(blob)) as inner:
                entries = {i.filename: (inner.read(i), i.compress_type) for i in inner.infolist()}
            blob = _fixed_zip(entries)
        out[files.get(name, name)] = (blob, zipfile.ZIP_STORED)
    return _fixed_zip(out)


def save_model(model: Any, name: str, project: Project | None = None) -> dict[str, Any]:
    """Save ``model`` with skops as ``models/<name>.skops`` and record it for this run.

    A batch run saves into its own folder (:func:`batch_model_dir`). Returns the recorded
    entry: name, path (relative to the project) and sha256.
    """
    from readiness.integrations import skops

    project = project or current_project()
    relative = saved_path(name)
    target = project.root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = reproducible(skops.dumps(model))
    except SkopsError as exc:  # skops refuses objects it cannot represent safely
        raise ModelError(f"skops cannot save this {type(model).__name__}: {exc}") from None
    tmp = target.with_suffix(".skops.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    entry = {"name": name, "path": relative, "sha256": hashlib.sha256(data).hexdigest()}
    record_many([make_evidence(MODEL_EVIDENCE, entry, name)], project)
    if not os.environ.get(RUN_ID_ENV) and relative == model_path(name):  # interactive: the writer
        track_model(project, name)
    return entry


def track_model(project: Project, name: str, beside: list[str] | None = None) -> str | None:
    """DVC-track a saved model (and the files ``beside`` it, e.g. its reference profile) and
    declare it as a GTO artifact in ``dvc.yaml``; the model file's md5."""
    from readiness.data.tracking import track
    from readiness.integrations.dvc import is_dvc_project

    if not is_dvc_project(project.root):
        return None
    beside = list(beside or [])
    if model_path(name) in stage_output_paths(project):
        if beside:
            track(project, beside, cwd=project.root)
        declare_artifact(project, name)
        return None  # a pipeline stage produces it: DVC versions it through dvc.lock
    result = track(project, [model_path(name), *beside], cwd=project.root)  # one DVC call
    declare_artifact(project, name)
    return result.items[0].md5


def stage_output_paths(project: Project) -> set[str]:
    """Paths that dvc.yaml stages declare as outputs."""
    from readiness.core import yamlio

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
    from readiness.core import yamlio
    from readiness.core.fsutil import atomic_write_text, read_text_file

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


# Types trusted beyond skops' own defaults (the ones skops.io.get_untrusted_types does not
# report): the exact names it reports for standard scikit-learn models. Measured with
# scikit-learn 1.9 and skops 0.16 by fitting every estimator of sklearn.utils.all_estimators()
# that fits on tiny data, plus pipelines with ColumnTransformer/OneHotEncoder, KNN's kd and ball
# trees and metrics, MLP's solvers, voting and stacking, dumping each with skops and collecting
# what get_untrusted_types listed. Each name was reviewed: a class that holds fitted data. Left
# out on purpose, trusted only by name through trusted=/trusted_types: the callables it also
# listed (numpy.mean, scipy's asarray, f_classif, check_array, _kmeans_single_lloyd,
# functools.partial). skops itself leaves Tree, TreePredictor, KDTree and BallTree out because
# scikit-learn indexes their node arrays unchecked: a crafted one can crash a predict (it cannot
# run code), and without them no tree, forest, boosting or KNN model would load.
DEFAULT_TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "numpy.dtype",  # rebuilt from an array's dtype (skops' DTypeNode)
        "scipy.interpolate._bsplines.BSpline",
        "sklearn._loss.loss.HalfTweedieLossIdentity",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.cluster._bisect_k_means._BisectingTree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
        "sklearn.gaussian_process.kernels.ConstantKernel",
        "sklearn.gaussian_process.kernels.Product",
        "sklearn.gaussian_process.kernels.RBF",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.ManhattanDistance64",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.tree._tree.Tree",
        "sklearn.utils._bunch.Bunch",
    }
)


def project_trusted_types(project: Project | None) -> list[str]:
    """``trusted_types:`` of the project's readiness.yaml (none when it has none or no file)."""
    if project is None or not project.config_path.is_file():
        return []
    from readiness.core.config import load_config

    try:
        return list(load_config(project).trusted_types or [])
    except ReadinessError:  # an unreadable readiness.yaml widens nothing: stay strict
        return []


def check_types(data: bytes, trusted: list[str] | None = None, source: str = "model") -> list[str]:
    """The types in skops bytes that skops does not trust itself, once all are allowed.

    Refuses (before anything is loaded or imported) every type outside skops' defaults,
    :data:`DEFAULT_TRUSTED_TYPES` and ``trusted``, naming them.
    """
    from readiness.integrations import skops

    try:
        untrusted = skops.untrusted_types(data)
    except SkopsError as exc:  # not a skops file: a zip error, a format error
        raise ModelError(f"{source} is not a skops model file ({exc})") from None
    allowed = DEFAULT_TRUSTED_TYPES | set(trusted or [])
    refused = [t for t in untrusted if t not in allowed]
    if refused:
        raise ModelError(
            f"{source} contains types that are not trusted: {', '.join(refused)}. Review their "
            "code, then trust them by name: load_model(..., trusted=[...]) or trusted_types: "
            "[...] in readiness.yaml"
        )
    return list(untrusted)


def loads(data: bytes, trusted: list[str] | None = None, source: str = "model") -> Any:
    """Load skops bytes, refusing any type outside skops' defaults, the defaults and ``trusted``."""
    from readiness.integrations import skops

    allowed = check_types(data, trusted, source)
    try:
        return skops.loads(data, trusted=allowed)
    except SkopsError as exc:  # corrupted content inside a valid archive
        raise ModelError(f"{source} cannot be loaded: {exc}") from None


def load_file(
    path: str | Path, trusted: list[str] | None = None, project: Project | None = None
) -> Any:
    """A local skops file (checked like any other; ``project`` adds its trusted_types)."""
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"model file {path} does not exist")
    wanted = [*(trusted or []), *project_trusted_types(project)]
    return loads(file.read_bytes(), wanted, source=str(path))


def declared_path(dvc_yaml: str | None, name: str) -> str:
    """The path dvc.yaml declares for artifact ``name`` (``models/NAME.skops`` by default).

    readiness reads skops files only: a declared path that is not one is refused, named.
    """
    from readiness.core import yamlio

    data = yamlio.parse(dvc_yaml, "dvc.yaml").data if dvc_yaml else None
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    entry = artifacts.get(name) if isinstance(artifacts, dict) else None
    path = entry.get("path") if isinstance(entry, dict) else None
    if path is None:
        return model_path(name)
    if not str(path).endswith(".skops"):
        raise ModelError(
            f"artifact {name} is declared in dvc.yaml with path {path}, which is not a .skops "
            "file: readiness saves and loads models with skops only (readiness.save_model)"
        )
    return str(path)
