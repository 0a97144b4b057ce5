"""Every DVC operation of readiness, through one writer.

DVC holds a repository lock while it writes and a second writer fails after a few
seconds. Here every write takes an inter-process lock first (so our own processes
queue instead of failing) and then retries while DVC's lock is held by someone else
(a ``dvc`` command in a terminal). Each operation opens a fresh ``Repo``: a
long-lived instance goes stale. Read-only helpers parse ``.dvc`` and ``dvc.lock``
files directly, so recording evidence never imports DVC.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from readiness.core.errors import ReadinessError
from readiness.core.fsutil import file_lock
from readiness.core.project import Project

T = TypeVar("T")
WRITER_WAIT_S = float(os.environ.get("READINESS_DVC_WAIT", "600"))
SKIP_DIRS = {
    ".git",
    ".dvc",
    ".venv",
    "venv",
    "node_modules",
    ".readiness",
    "__pycache__",
    ".ipynb_checkpoints",
}


class DataError(ReadinessError):
    """A DVC operation failed (tracking, pushing, pulling, pipelines)."""


def _quiet_env() -> None:
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")


def is_dvc_project(root: Path) -> bool:
    return (root / ".dvc").is_dir()


def running_stage(project: Project) -> str | None:
    """The stage of ``project`` whose command this process belongs to, if any.

    ``dvc repro`` and ``dvc exp run`` set DVC_ROOT and DVC_STAGE for a stage's command (and
    so for all it starts, e.g. a notebook's kernel), and keep the stage's outputs locked
    while it runs.
    """
    root = os.environ.get("DVC_ROOT")
    if not root:
        return None
    try:
        inside = Path(root).resolve() == project.root.resolve()
    except OSError:  # an unreadable DVC_ROOT: not ours
        return None
    return (os.environ.get("DVC_STAGE") or "?") if inside else None


def _open_repo(project: Project, fn: Callable[[Any], T], wait: float) -> T:
    """Run ``fn(repo)`` on a fresh Repo, retrying while DVC's own lock is taken."""
    _quiet_env()
    from dvc.exceptions import DvcException
    from dvc.lock import LockError
    from dvc.repo import Repo

    if not is_dvc_project(project.root):
        raise DataError(f"{project.root} is not a DVC project: run readiness init there")
    deadline = time.monotonic() + wait
    while True:
        try:
            with Repo(str(project.root)) as repo:
                return fn(repo)
        except LockError as exc:
            stage = running_stage(project)
            if stage is not None:
                # the dvc command running this stage holds the lock until the stage ends:
                # waiting from inside the stage can only time out
                why = " ".join(str(exc).split("\n\nIf there are")[0].split()) or "locked"
                raise DataError(
                    f"the DVC repository in {project.root} is locked by the dvc command "
                    f"running stage {stage}, which this process is part of ({why})"
                ) from None
            if time.monotonic() > deadline:
                raise DataError(
                    f"the DVC repository in {project.root} stayed locked for {wait:g}s "
                    "(another dvc command is running?)"
                ) from None
            time.sleep(0.2)
        except DvcException as exc:
            raise DataError("DVC: " + " ".join(str(exc).split())) from None


def write(project: Project, fn: Callable[[Any], T], wait: float = WRITER_WAIT_S) -> T:
    """Run a writing operation ``fn(repo)`` as the project's single DVC writer."""
    lock = project.state_dir / "dvc-writer.lock"
    with file_lock(lock, timeout=wait, what="the DVC writer lock"):
        return _open_repo(project, fn, wait)


def read(project: Project, fn: Callable[[Any], T], wait: float = 60) -> T:
    """Run a read-only operation ``fn(repo)`` (no writer lock)."""
    return _open_repo(project, fn, wait)


def read_bytes(project: Project, path: str, rev: str) -> bytes:
    """The content of a DVC- or git-tracked ``path`` at git revision ``rev``.

    DVC's errors (unknown revision, path missing at it, not in cache nor remote) and the
    storage's own (network, permissions: ``OSError``) become one DataError.
    """
    _quiet_env()
    import dvc.api
    from dvc.exceptions import DvcException

    try:
        with dvc.api.open(path, repo=str(project.root), rev=rev, mode="rb") as handle:
            return bytes(handle.read())
    except (DvcException, OSError) as exc:
        raise DataError(" ".join(str(exc).split()) or type(exc).__name__) from None


def push(repo: Any, targets: list[str]) -> int:
    """``dvc push`` of ``targets`` inside a :func:`write`: the number of files pushed.

    A failure is a DataError with the remote's reason (the caller says what was done).
    """
    try:
        return int(repo.push(targets=targets))
    except Exception as exc:  # remote file systems raise their own types (OSError, botocore...)
        raise DataError(" ".join(str(exc).split()) or type(exc).__name__) from None


def checkout(repo: Any, targets: list[str]) -> None:
    """Check ``targets`` out of the cache, fetching from the remote what the cache lacks."""
    from dvc.exceptions import DvcException

    try:
        repo.checkout(targets=targets, force=True)
    except DvcException:  # not in the (shared) cache: CheckoutError
        repo.pull(targets=targets, force=True)


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """DVC prints progress and hints; front ends print our results instead."""
    import logging

    from dvc.ui import ui

    logger = logging.getLogger("dvc")
    was_enabled, was_level = ui._enabled, logger.level
    ui._enabled = False
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        ui._enabled = was_enabled
        logger.setLevel(was_level)


# -- read-only: data versions without importing DVC -----------------------------------


def _outs_of(path: Path) -> list[dict[str, Any]]:
    from readiness.core import yamlio

    try:
        data = yamlio.load_file(path, "DVC file").data
    except (OSError, ReadinessError):
        return []
    outs = data.get("outs") if isinstance(data, dict) else None
    return [o for o in outs or [] if isinstance(o, dict) and o.get("path")]


def _entry(out: dict[str, Any], source: str) -> dict[str, Any]:
    entry = {"md5": out.get("md5"), "size": out.get("size"), "source": source}
    if out.get("nfiles") is not None:
        entry["nfiles"] = out["nfiles"]
    return entry


def dvc_files(root: Path) -> Iterator[Path]:
    """Every ``*.dvc`` file in the work tree (skipping caches and environments)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        for name in files:
            if name.endswith(".dvc"):
                yield Path(folder) / name


def data_versions(project: Project) -> dict[str, dict[str, Any]]:
    """DVC hashes of every tracked path: ``.dvc`` files and pipeline outputs in ``dvc.lock``.

    Keys are paths relative to the project root, values hold ``md5``, ``size`` and
    the file that records them. Cheap: it reads YAML, it does not hash data.
    """
    root = project.root
    versions: dict[str, dict[str, Any]] = {}
    if not is_dvc_project(root):
        return versions
    for dvc_file in dvc_files(root):
        for out in _outs_of(dvc_file):
            target = (dvc_file.parent / str(out["path"])).resolve()
            with contextlib.suppress(ValueError):
                versions[target.relative_to(root).as_posix()] = _entry(
                    out, dvc_file.relative_to(root).as_posix()
                )
    versions.update(stage_outputs(project))
    return dict(sorted(versions.items()))


def stage_outputs(project: Project) -> dict[str, dict[str, Any]]:
    """Hashes of pipeline stage outputs recorded in ``dvc.lock``."""
    from readiness.core import yamlio

    lock = project.root / "dvc.lock"
    if not lock.is_file():
        return {}
    try:
        data = yamlio.load_file(lock, "dvc.lock", "dvc.lock").data
    except ReadinessError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, stage in ((data or {}).get("stages") or {}).items():
        for item in (stage or {}).get("outs") or []:
            if isinstance(item, dict) and item.get("path"):
                out[str(item["path"])] = _entry(item, f"dvc.lock:{name}")
    return out


# -- set-up ----------------------------------------------------------------------------


def default_remote_dir(project: Project) -> Path:
    """A local remote outside the work tree, one per project (machine-local)."""
    import hashlib

    base = os.environ.get("READINESS_REMOTE_HOME") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"),
        "readiness",
        "remotes",
    )
    digest = hashlib.sha1(str(project.root).encode()).hexdigest()[:8]
    return Path(base) / f"{project.root.name}-{digest}"


# Remote types whose DVC options include a user and password (DVC's config schema).
PASSWORD_SCHEMES = {"http", "https", "ssh", "webdav", "webdavs", "webhdfs"}


def split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without a ``user:password@`` part, and that part as DVC remote options.

    The options belong in ``.dvc/config.local`` (``dvc remote modify --local``), never in
    the committed ``.dvc/config``. A URL with a user but no password is kept as it is.
    """
    from urllib.parse import unquote, urlsplit, urlunsplit

    if "://" not in url:
        return url, {}
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url, {}
    scheme = parts.scheme.lower()
    if scheme not in PASSWORD_SCHEMES:
        raise DataError(
            f"a password in a {scheme}:// remote URL cannot be stored safely: give "
            f"{mask_url(url)} without it and set credentials with "
            "`dvc remote modify --local storage ...`"
        )
    user, _, password = userinfo.partition(":")
    options = {"user": unquote(user), "password": unquote(password)}
    if scheme in ("http", "https"):
        options["auth"] = "basic"  # DVC sends user and password only with an auth method
    return urlunsplit(parts._replace(netloc=host)), options


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    if "://" not in url:
        return url
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def init_dvc(project: Project, remote: str | None = None) -> dict[str, str]:
    """``dvc init`` when needed and a default remote when none is configured.

    A URL given as ``remote`` becomes the project's shared default remote
    (``.dvc/config``); without one, a local folder outside the work tree becomes the
    default in ``.dvc/config.local`` (it is machine-specific, so it is not committed).
    An existing project with its own default remote is left as it is.
    """
    _quiet_env()
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    from readiness.integrations.git import toplevel

    # Credentials in the URL go to config.local only (refused early when they cannot).
    remote, credentials = split_credentials(remote) if remote else (remote, {})
    done: dict[str, str] = {}
    if not is_dvc_project(project.root):
        # A project inside a larger git repository is a DVC sub-project (dvc init --subdir).
        subdir = toplevel(project.root) not in (None, project.root)
        try:
            with silenced():
                Repo.init(str(project.root), subdir=subdir).close()
        except DvcException as exc:
            raise DataError("dvc init failed: " + " ".join(str(exc).split())) from None
        done["dvc"] = "initialised" + (
            " (sub-project of the enclosing git repository)" if subdir else ""
        )

    def configure(repo: Any) -> None:
        current = repo.config["core"].get("remote")
        if remote:
            with repo.config.edit("repo") as conf:
                conf["remote"]["storage"] = {"url": remote}
                conf["core"]["remote"] = "storage"
            # A machine-local default would win over the shared one: drop it.
            with repo.config.edit("local") as conf:
                conf["core"].pop("remote", None)
                if credentials:
                    conf["remote"]["storage"] = credentials
            done["remote"] = f"storage -> {remote}" + (
                " (credentials in .dvc/config.local)" if credentials else ""
            )
        elif current:
            done["remote"] = f"{current} (kept)"
        else:
            folder = default_remote_dir(project)
            folder.mkdir(parents=True, exist_ok=True)
            with repo.config.edit("local") as conf:
                conf["remote"]["local"] = {"url": str(folder)}
                conf["core"]["remote"] = "local"
            done["remote"] = f"local -> {folder}"

    write(project, configure)
    return done


def default_remote(project: Project) -> str | None:
    """The name of the default remote, or None."""
    return read(project, lambda repo: repo.config["core"].get("remote"))


def share_cache(project: Project, workspace: Project) -> None:
    """Point a temporary workspace (a clone) at the project's DVC cache and local remotes.

    Nothing is copied: checkouts in the workspace link from the project's cache, and
    what is missing there comes from the same remotes.
    """
    if not is_dvc_project(project.root) or not is_dvc_project(workspace.root):
        return
    cache_dir = read(project, lambda repo: repo.cache.local_cache_dir)
    local = read(project, lambda repo: repo.config.read("local"))

    def configure(repo: Any) -> None:
        with repo.config.edit("local") as conf:
            for name, settings in (local.get("remote") or {}).items():
                conf["remote"][name] = dict(settings)
            if (local.get("core") or {}).get("remote"):
                conf["core"]["remote"] = local["core"]["remote"]
            conf["cache"]["dir"] = str(cache_dir)

    write(workspace, configure)
