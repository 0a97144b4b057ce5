"""``readiness track``: DVC-track files or folders in one batched add, then push them.

Unchanged data is a fast no-op: the size and modification time of what was last
tracked are kept in ``.readiness/track-state.json`` (machine-local), so a repeat
call neither imports DVC nor hashes anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.fsutil import atomic_write_json, file_lock
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.integrations import dvc as dvcstore
from readiness.integrations import git as gitinfo
from readiness.integrations.dvc import DataError


@dataclass
class TrackedPath:
    path: str
    md5: str | None
    size: int | None
    changed: bool
    pushed: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TrackResult(Renderable):
    """What tracking did, per path."""

    items: list[TrackedPath] = field(default_factory=list)
    remote: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [i.to_dict() for i in self.items],
            "remote": self.remote,
            "notes": self.notes,
        }


def _state_path(project: Project) -> Path:
    return project.state_dir / "track-state.json"


def _load_state(project: Project) -> dict[str, Any]:
    try:
        return json.loads(_state_path(project).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, corrupt or not UTF-8: no state yet
        return {}


def signature(path: Path) -> list[Any]:
    """Size and mtime of a file, or of every file under a folder: cheap change detection."""
    if path.is_file():
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    entries = []
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            stat = (Path(folder) / name).stat()
            entries.append(
                [os.path.relpath(Path(folder) / name, path), stat.st_size, stat.st_mtime_ns]
            )
    return entries


def resolve_targets(project: Project, paths: Iterable[str | Path], cwd: Path) -> list[Path]:
    """Check every path before DVC touches anything, so a bad one writes nothing."""
    root = project.root
    if gitinfo.toplevel(root) is None:
        raise DataError(f"{root} is not a git repository: run readiness init")
    if not dvcstore.is_dvc_project(root):
        raise DataError(f"{root} is not a DVC project: run readiness init")
    targets: list[Path] = []
    for raw in paths:
        path = (cwd / raw).resolve() if not Path(raw).is_absolute() else Path(raw).resolve()
        try:
            relative = path.relative_to(root)
        except ValueError:
            raise DataError(f"{raw} is outside the project {root}: copy it inside first") from None
        if not path.exists():
            raise DataError(f"{raw} does not exist")
        if relative.parts and relative.parts[0] in (".git", ".dvc", ".readiness"):
            raise DataError(f"{raw} is internal state, not data")
        if gitinfo.is_tracked(root, relative):
            raise DataError(
                f"{relative} is tracked by git; DVC cannot track it too. Stop tracking it in git "
                f"first: git rm -r --cached {relative}  (then commit)"
            )
        targets.append(path)
    if not targets:
        raise DataError("nothing to track: give one or more paths")
    return targets


def _dvc_file(path: Path) -> Path:
    return path.with_name(path.name + ".dvc")


def _recorded(path: Path) -> dict[str, Any]:
    outs = dvcstore._outs_of(_dvc_file(path))
    return outs[0] if outs else {}


def track(
    project: Project, paths: Iterable[str | Path], cwd: Path | None = None, push: bool = True
) -> TrackResult:
    """DVC-track ``paths`` (files or folders) and push them to the default remote.

    Parameters
    ----------
    project:
        The project (a git + DVC repository).
    paths:
        Files or folders inside the project.
    cwd:
        What relative paths are relative to (default: the working directory).
    push:
        Push to the default remote after tracking (skipped, with a note, when the
        project has no remote).
    """
    targets = resolve_targets(project, paths, cwd or Path.cwd())
    state = _load_state(project)  # read-only here; updated under the writer lock below
    keys = [t.relative_to(project.root).as_posix() for t in targets]
    signatures = {key: signature(t) for key, t in zip(keys, targets, strict=True)}
    result = TrackResult()
    unchanged = all(
        state.get(key, {}).get("signature") == signatures[key]
        and state[key].get("md5") == _recorded(target).get("md5")
        and (state[key].get("pushed") or not push)
        for key, target in zip(keys, targets, strict=True)
    )
    if unchanged:
        for key in keys:
            entry = state[key]
            result.items.append(
                TrackedPath(key, entry["md5"], entry.get("size"), False, entry["pushed"])
            )
        result.remote = next(iter(state[k].get("remote") for k in keys), None)
        return result

    before = {key: _recorded(t).get("md5") for key, t in zip(keys, targets, strict=True)}

    def add_and_push(repo: Any) -> tuple[str | None, int]:
        with dvcstore.silenced():
            repo.add([str(t) for t in targets])
            remote = repo.config["core"].get("remote")
            if not push or not remote:
                return remote, -1
            try:
                return remote, dvcstore.push(repo, [str(t) for t in targets])
            except DataError as exc:  # network or storage trouble
                raise DataError(
                    f"tracked {', '.join(keys)} in the local cache, but pushing to remote "
                    f"{remote!r} failed: {exc}. Fix the remote (dvc remote list) and run "
                    "readiness track again."
                ) from None

    remote, pushed = dvcstore.write(project, add_and_push)
    result.remote = remote
    if push and not remote:
        result.notes.append("no DVC remote configured: data is only in the local cache")
    for key, target in zip(keys, targets, strict=True):
        out = _recorded(target)
        item = TrackedPath(
            key, out.get("md5"), out.get("size"), out.get("md5") != before[key], pushed >= 0
        )
        result.items.append(item)
        state[key] = {
            "signature": signature(target),
            "md5": item.md5,
            "size": item.size,
            "pushed": item.pushed,
            "remote": remote,
        }
    with file_lock(project.state_dir / "track-state.lock"):
        latest = _load_state(project)  # other processes may have tracked other paths meanwhile
        latest.update({key: state[key] for key in keys})
        atomic_write_json(_state_path(project), latest)
    changed = [i.path for i in result.items if i.changed]
    if changed:
        files = " ".join(f"{p}.dvc" for p in changed)
        result.notes.append(f"commit the new data versions: git add {files} (and .gitignore)")
    return result
