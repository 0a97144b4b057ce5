"""``readiness reproduce RUN_ID``: re-execute a recorded run and compare its metrics.

The run is rebuilt in a temporary workspace, never in the user's checkout: a clone
at the run's git commit, every DVC-tracked input restored to the hash the run
recorded (from the local cache, else the remote), the same notebook and parameters.
Inputs that neither git nor DVC versions are copied as they are now, and the result
says so: that is exactly where irreproducibility hides.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import numbers, yamlio
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.evidence.runs import read_run
from readiness.integrations import dvc as dvcstore
from readiness.integrations import git
from readiness.integrations.dvc import DataError

TIMING_PREFIXES = ("latency_", "duration", "time_")


@dataclass
class MetricComparison:
    metric: str
    split: str
    recorded: float | None
    reproduced: float | None
    status: str  # same | different | missing | timing (not compared)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ReproduceResult(Renderable):
    """Whether re-executing a run gave the same metrics, per metric."""

    run_id: str
    new_run_id: str
    run_status: str
    tolerance: float
    metrics: list[MetricComparison] = field(default_factory=list)
    restored: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    workspace: str | None = None

    @property
    def reproducible(self) -> bool:
        compared = [m for m in self.metrics if m.status != "timing"]
        return (
            self.run_status == "succeeded"
            and bool(compared)
            and all(m.status == "same" for m in compared)
        )

    @property
    def exit_code(self) -> int:
        return 0 if self.reproducible else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "reproducible": self.reproducible,
            "new_run_id": self.new_run_id,
            "run_status": self.run_status,
            "tolerance": self.tolerance,
            "metrics": [m.to_dict() for m in self.metrics],
            "restored": self.restored,
            "notes": self.notes,
            "workspace": self.workspace,
        }


def _numeric(evidence: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    values: dict[tuple[str, str], float] = {}
    for item in evidence:
        value = numbers.as_finite(item.get("value"))  # NaN or a 400-digit int compares nothing
        if value is not None:
            values[(item["name"], item.get("split", "holdout"))] = value
    return values


def compare(
    recorded: list[dict[str, Any]], reproduced: list[dict[str, Any]], tolerance: float
) -> list[MetricComparison]:
    """Per metric and split: equal within ``tolerance`` (relative, at least absolute)."""
    old, new = _numeric(recorded), _numeric(reproduced)
    rows = []
    for (metric, split), before in sorted(old.items()):
        after = new.get((metric, split))
        if metric.startswith(TIMING_PREFIXES):
            status = "timing"
        elif after is None:
            status = "missing"
        else:
            status = (
                "same" if abs(after - before) <= tolerance * max(1.0, abs(before)) else "different"
            )
        rows.append(MetricComparison(metric, split, before, after, status))
    return rows


def _from_cache(cache: Path, md5: str, target: Path) -> bool:
    """Materialize a file or folder from DVC's cache by its hash (DVC 3 cache layout).

    Used for stage outputs: the run's commit predates the ``dvc.lock`` that records
    them, so DVC cannot check them out by path; their hash is in the run record.
    """

    def obj(digest: str) -> Path:
        return cache / "files" / "md5" / digest[:2] / digest[2:]

    if not obj(md5).is_file():
        return False
    if not md5.endswith(".dir"):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(obj(md5), target)
        return True
    entries = json.loads(obj(md5).read_text(encoding="utf-8"))
    if not all(obj(e["md5"]).is_file() for e in entries):
        return False
    for entry in entries:
        path = target / entry["relpath"]
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(obj(entry["md5"]), path)
    return True


def _restore_data(
    project: Project,
    workspace: Project,
    versions: dict[str, Any],
    inputs: list[str],
    notes: list[str],
) -> dict[str, str]:
    """Put every recorded data version the run used back in the workspace.

    ``.dvc``-tracked data: the ``.dvc`` file is pointed at the recorded hash and DVC
    checks it out (from the shared cache, else the remote). Outputs of earlier stages
    that the run read come straight from the cache by their recorded hash.
    """
    restored: dict[str, str] = {}
    targets = []
    cache = Path(dvcstore.read(project, lambda repo: repo.cache.local_cache_dir))
    for path, entry in versions.items():
        source, md5 = str(entry.get("source", "")), entry.get("md5")
        if not md5:
            continue
        if source.endswith(".dvc"):
            out = {
                "md5": md5,
                "size": entry.get("size"),
                "hash": "md5",
                "path": Path(path).relative_to(Path(source).parent).as_posix(),
            }
            if entry.get("nfiles") is not None:
                out["nfiles"] = entry["nfiles"]
            (workspace.root / source).parent.mkdir(parents=True, exist_ok=True)
            (workspace.root / source).write_text(yamlio.dump({"outs": [out]}), encoding="utf-8")
            targets.append(str(workspace.root / path))
            restored[path] = md5
        elif any(
            path == i or path.startswith(i.rstrip("/") + "/") or i.startswith(path + "/")
            for i in inputs
        ):
            if _from_cache(cache, md5, workspace.root / path):
                restored[path] = md5
            else:
                notes.append(f"{path} (md5 {md5[:8]}) is no longer in the DVC cache")
    if targets:

        def checkout(repo: Any) -> None:
            with dvcstore.silenced():
                dvcstore.checkout(repo, targets)

        dvcstore.write(workspace, checkout)
    return restored


def _copy_unversioned(project: Project, folder: Path, path: str, result: ReproduceResult) -> None:
    """An input neither git nor DVC restored: copy it as it is now, and say so."""
    source, target = project.root / path, folder / path
    if not source.exists():
        result.notes.append(f"{path} is not versioned and no longer exists")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
    result.notes.append(f"{path} is not versioned by git or DVC: copied as it is now")


def reproduce(
    project: Project, run_id: str, tolerance: float = 1e-6, keep: bool = False
) -> ReproduceResult:
    """Re-execute run ``run_id`` in a temporary workspace and compare its metrics.

    Parameters
    ----------
    run_id:
        A run recorded by ``readiness run`` or a pipeline stage.
    tolerance:
        Allowed relative difference per metric (absolute below 1). Timing metrics
        (latency) are shown but not compared.
    keep:
        Keep the temporary workspace (its path is in the result) to inspect it.
    """
    from readiness.jobs.notebook import run_notebook

    record = read_run(project, run_id)
    notebook = record.get("notebook")
    if not notebook:
        raise DataError(
            f"run {run_id} was recorded interactively (no notebook job): only runs of "
            "readiness run or of a pipeline stage can be re-executed"
        )
    commit = record.get("git_commit")
    if not commit:
        raise DataError(f"run {run_id} has no git commit: commit the project before running jobs")
    folder = Path(tempfile.mkdtemp(prefix=f"readiness-reproduce-{run_id}-"))
    result = ReproduceResult(
        run_id=run_id, new_run_id="", run_status="not run", tolerance=tolerance
    )
    try:
        git.clone(project.root, folder, "--no-checkout")
        git.run(folder, "checkout", "--quiet", commit)
        workspace = Project(folder)
        if record.get("git_dirty"):
            result.notes.append("the run's work tree had uncommitted changes: code is as committed")
        if dvcstore.is_dvc_project(folder):
            dvcstore.share_cache(project, workspace)
            result.restored = _restore_data(
                project,
                workspace,
                record.get("data_versions") or {},
                record.get("inputs") or [],
                result.notes,
            )
        for path in record.get("inputs") or []:
            if not (folder / path).exists():
                _copy_unversioned(project, folder, path, result)
        output = record.get("output") or f"runs/reproduce-{run_id}.ipynb"
        rerun = run_notebook(
            folder / notebook,
            params=record.get("params") or {},
            project=workspace,
            output=folder / output,
            metrics_file=record.get("metrics_file"),
        )
        result.new_run_id, result.run_status = rerun.run_id, rerun.status
        if rerun.failure:
            result.notes.append(
                f"re-execution failed: {rerun.failure.get('ename')}: {rerun.failure.get('evalue')}"
            )
        result.metrics = compare(record.get("evidence") or [], rerun.evidence, tolerance)
    finally:
        if keep:
            result.workspace = str(folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return result
