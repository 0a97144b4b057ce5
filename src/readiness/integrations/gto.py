"""Every GTO call of readiness: quiet, and GTO's exceptions translated here.

GTO keeps the registry in git tags; it prints progress on stdout, which front ends
replace with readiness's own results. Every call below raises
:class:`~readiness.core.errors.GTOError` (one line: GTO's own message) for GTO's
exceptions (all of which derive from ``gto.exceptions.GTOException``) and for the
errors of the git layer GTO works through (``scmrepo.exceptions.SCMError``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from readiness.core.errors import GTOError


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        yield


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """GTO's exceptions (and its git layer's) as a GTOError, the message on one line."""
    from gto.exceptions import GTOException
    from scmrepo.exceptions import SCMError

    try:
        with quiet():
            yield
    except (GTOException, SCMError) as exc:
        raise GTOError(" ".join(str(exc).split())) from None


def read(call: str, *args: Any, **kwargs: Any) -> Any:
    """A read through ``gto.api.CALL``; an artifact without versions is empty, not an error."""
    import gto.api
    from gto.exceptions import ArtifactNotFound

    with translated():
        try:
            return getattr(gto.api, call)(*args, **kwargs)
        except ArtifactNotFound:
            return []


def register(repo: str, name: str, ref: str, **kwargs: Any) -> Any:
    import gto.api

    with translated():
        return gto.api.register(repo, name, ref, **kwargs)


def assign(repo: str, name: str, stage: str, **kwargs: Any) -> Any:
    import gto.api

    with translated():
        return gto.api.assign(repo, name, stage, **kwargs)


def unassign(repo: str, name: str, **kwargs: Any) -> Any:
    import gto.api

    with translated():
        return gto.api.unassign(repo, name, **kwargs)


def is_semver(tag: str) -> bool:
    """Whether GTO accepts ``tag`` (``v1.2.0``) as a version."""
    from gto.versions import SemVer

    return bool(SemVer.is_valid(tag))


def parse_tag(name: str) -> dict[str, Any] | None:
    """GTO's reading of a tag name (action, artifact, version or stage), None if not GTO's."""
    from gto.tag import parse_name

    return parse_name(name, raise_on_fail=False) or None


def stage_assignments(repo: str, name: str, stage: str) -> list[str]:
    """Every version holding ``stage``, in ``gto show``'s order (assignment time, newest
    first), without its one-per-stage cut; an unknown artifact holds nothing."""
    from gto.constants import VersionSort
    from gto.exceptions import ArtifactNotFound
    from gto.registry import GitRegistry

    with translated():
        try:
            with GitRegistry.from_url(repo) as registry:
                assigned = registry.find_artifact(name).get_vstages(
                    assignments_per_version=-1, versions_per_stage=-1, sort=VersionSort.Timestamp
                )
        except ArtifactNotFound:
            return []
    return [vstage.version for vstage in assigned.get(stage, [])]
