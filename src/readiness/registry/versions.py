"""The model registry: GTO versions and stages on git tags, the promotion gate, rollback.

The public functions here (versions, in_stage, register, load_model, rollback, drill)
go through the project's registry backend (:mod:`readiness.registry.backend`); the
GTO backend, the default, is the code below them.

Git tags are the source of truth (``name@vX.Y.Z`` for versions, ``name#stage#N`` for
stage assignments, GTO's format). A version's tag message carries the run that
produced it, its data versions and key metrics, so ``readiness models`` can be rebuilt
from the tags alone. Rollback is GTO's ``unassign`` of the bad version's stage (a
forced re-assign of the old version would leave semver-ordered reads on the new one).
Every registry write holds ``.readiness/registry.lock``: two promotions never interleave.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import GTOError, ReadinessError
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.integrations import git, gto
from readiness.integrations.dvc import share_cache
from readiness.registry import audit as registry_audit
from readiness.registry.backend import backend_for
from readiness.registry.entities import (  # re-exported: every caller imports them from here
    DRILL_MAX_AGE_DAYS,
    STAGES,
    AlreadyRegistered,
    FeaturesUnknown,
    ModelVersion,
    Registration,
    RegistryError,
    Rollback,
    backend_name,
    fault_point,
    gto_stage,
    key_metrics,
    refuse_if_staged,
    registry_lock,
    stage_names,
    version_tag,
)
from readiness.registry.models import ModelError, check_name, declare_artifact, model_path

__all__ = [
    "DRILL_MAX_AGE_DAYS",
    "STAGES",
    "AlreadyRegistered",
    "Deleted",
    "FeaturesUnknown",
    "ModelVersion",
    "Registration",
    "RegistryError",
    "Rollback",
    "backend_name",
    "fault_point",
    "gto_stage",
    "registry_lock",
    "stage_names",
]


def _git(root: Path, *args: str) -> str:
    return git.output(root, *args)  # a failure is a GitError with git's own line


def past_last_tag(project: Project) -> None:
    """Wait until the clock is past the second of the newest tag, before a stage tag.

    GTO orders assignments and unassignments by their tags' times, in whole seconds: a
    stage tag written in the same second as the previous one would tie with it, and GTO
    would break the tie by tag name, not by which came last. (A tag dated ahead of this
    clock is not waited for: the rollback's check catches what it does.)
    """
    import time

    from readiness.integrations.git import newest_tag_time

    newest = newest_tag_time(project.root)
    if newest is not None:
        wait = newest + 1 - time.time()
        if 0 < wait <= 1:
            time.sleep(wait)


# -- reading ---------------------------------------------------------------------------------


@dataclass
class ModelList(Renderable):
    versions: list[ModelVersion]
    reconciled: list[str] = field(default_factory=list)  # tags given their audit entry now

    def to_dict(self) -> dict[str, Any]:
        return {"versions": [v.to_dict() for v in self.versions], "reconciled": self.reconciled}


def list_models(project: Project, name: str | None = None) -> ModelList:
    """``readiness models``: the versions, after giving every tag its audit entry."""
    written = backend_for(project).reconcile(project, idle=True)
    return ModelList(versions(project, name), [registry_audit.describe(e) for e in written])


def _message(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _gto(call: str, *args: Any, **kwargs: Any) -> Any:
    """A read through gto.api; an artifact without versions is empty, not an error."""
    try:
        return gto.read(call, *args, **kwargs)
    except GTOError as exc:
        raise RegistryError(f"GTO: {exc}") from None


def versions(project: Project, name: str | None = None) -> list[ModelVersion]:
    """Every registered version (newest first), with its active stages, from the backend."""
    return backend_for(project).versions(project, name)


def _gto_versions(project: Project, name: str | None = None) -> list[ModelVersion]:
    """Every registered version (newest first), with its active stages, from the git tags.

    The stages are ``gto show``'s (the one call every reader goes through): a stage is
    served by the version whose active assignment is the most recent, simple
    (``name#stage``) and numbered (``name#stage#N``) tags alike. Stage names are
    readiness's (``production``), mapped from GTO's through ``registry.stages``.
    """
    root = str(project.root)
    back = {gto: ours for ours, gto in stage_names(project).items()}
    names = [name] if name else list(_gto("show", root) or {})
    out = []
    for artifact in names:
        for row in _gto("show", root, artifact):
            registrations = row.get("registrations") or []
            if not registrations:
                continue
            info = _message(registrations[-1].get("message", ""))
            active = [s["stage"] for s in row.get("stages") or [] if s.get("is_active")]
            stages = sorted(back.get(stage, stage) for stage in active)
            out.append(
                ModelVersion(
                    name=artifact,
                    version=row["version"],
                    commit=row["commit_hexsha"],
                    created_at=row["created_at"].isoformat(timespec="seconds"),
                    author=row.get("author", ""),
                    stages=stages,
                    run_id=info.get("run"),
                    metrics=info.get("metrics") or {},
                    md5=info.get("md5"),
                )
            )
    return out


def in_stage(project: Project, name: str, stage: str) -> ModelVersion | None:
    """The version that serves ``stage`` now: ``gto show``'s answer, for every command."""
    gto_stage(project, stage)  # an unknown stage is an error, not "nothing in it"
    return next((v for v in versions(project, name) if stage in v.stages), None)


def stage_holders(project: Project, name: str, stage: str) -> list[str]:
    """The version serving ``stage`` first, then the ones a rollback would land on."""
    gto_stage(project, stage)  # an unknown stage is an error
    return backend_for(project).stage_holders(project, name, stage)


def _gto_stage_holders(project: Project, name: str, stage: str) -> list[str]:
    """Every version with an active assignment of ``stage``, the serving one first.

    GTO's own ordering (``gto show``'s: by assignment time, newest first), without its
    one-per-stage cut: the second is the one that serves once the first is unassigned.
    """
    try:
        return gto.stage_assignments(str(project.root), name, gto_stage(project, stage))
    except GTOError as exc:
        raise RegistryError(f"GTO: {exc}") from None


def get_version(project: Project, name: str, version: str) -> ModelVersion:
    found = next((v for v in versions(project, name) if v.version == version), None)
    if found is None:
        known = ", ".join(v.version for v in versions(project, name)) or "none registered"
        raise RegistryError(f"{name} has no version {version} (versions: {known})")
    return found


# -- registering ---------------------------------------------------------------------------------


def _saved_model(run: dict[str, Any], name: str) -> dict[str, Any] | None:
    """What ``run`` recorded saving model ``name`` (path, sha256), or None."""
    from readiness.registry.models import MODEL_EVIDENCE

    for item in reversed(run.get("evidence") or []):
        if item.get("name") == MODEL_EVIDENCE and item.get("split") == name:
            value = item.get("value")
            return value if isinstance(value, dict) else {}
    return None


def _producing_run(project: Project, name: str) -> dict[str, Any] | None:
    """The latest run that saved model ``name`` (its evidence says so)."""
    from readiness.evidence.runs import list_runs

    runs = reversed(list_runs(project))
    return next((r for r in runs if _saved_model(r, name) is not None), None)


def _best_of_batch(project: Project, batch_id: str, name: str) -> dict[str, Any]:
    """The best run of a batch (the batch's own verdict), which must have saved ``name``."""
    from readiness.evidence.runs import read_batch, read_run

    try:
        summary = read_batch(project, batch_id)
    except ReadinessError as exc:
        raise RegistryError(f"{exc}: name the run to register with --run RUN_ID") from None
    best = summary.get("best")
    if not best:
        raise RegistryError(
            f"batch {batch_id} has no best run ({summary.get('best_reason') or 'none ranked'}): "
            "name the run to register with --run RUN_ID"
        )
    run = read_run(project, best)
    if _saved_model(run, name) is None:
        raise RegistryError(
            f"the best run {best} of batch {batch_id} saved no model {name}: "
            "name the run to register with --run RUN_ID"
        )
    return run


def _model_source(
    project: Project, name: str, run_id: str | None
) -> tuple[dict[str, Any] | None, str]:
    """The run whose model ``register`` takes, and where that run saved it.

    ``run_id`` when given; else the latest run that saved ``name``, or, when that run is
    part of a batch, the batch's best run (each batch run saves into its own folder).
    """
    from readiness.evidence.runs import read_run

    run: dict[str, Any] | None
    if run_id is not None:
        run = read_run(project, run_id)
        if _saved_model(run, name) is None:
            raise RegistryError(f"run {run_id} saved no model {name}")
    else:
        run = _producing_run(project, name)
        if run is None:
            return None, model_path(name)
        if run.get("batch"):
            run = _best_of_batch(project, run["batch"], name)
        elif (_saved_model(run, name) or {}).get("path") in (None, model_path(name)):
            return run, model_path(name)  # an interactive or single run: the file as it is now
    saved = _saved_model(run, name) or {}
    path = str(saved.get("path") or model_path(name))
    _check_saved(project, run, path, saved.get("sha256"))
    return run, path


def _check_saved(project: Project, run: dict[str, Any], path: str, sha256: str | None) -> None:
    """The file at ``path`` is still the model ``run`` saved there (nothing saved over it)."""
    import hashlib

    from readiness.core.fsutil import require_file

    file = require_file(project.root / path, path, RegistryError)
    if sha256 and hashlib.sha256(file.read_bytes()).hexdigest() != sha256:
        raise RegistryError(
            f"{path} no longer holds the model run {run.get('id')} saved (another run saved "
            "over it since): re-run that run, or register the run that saved it last"
        )


def _place_model(project: Project, name: str, source: str) -> None:
    """A batch run's model copied to ``models/<name>.skops``, the path DVC and GTO version."""
    from readiness.core.fsutil import write_error

    if source == model_path(name):
        return
    target = project.root / model_path(name)
    tmp = target.with_suffix(".skops.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes((project.root / source).read_bytes())
        os.replace(tmp, target)
    except OSError as exc:
        raise write_error(target, exc) from None


def _new_version(project: Project, name: str, version: str) -> str:
    """``version`` as GTO tags it (``v1.2.0``), refused unless it is new semver (GTO's rule)."""
    tag = version_tag(version)
    if any(v.version == tag for v in versions(project, name)):
        raise RegistryError(f"{name} {tag} is already registered: choose a new version")
    return tag


def register(
    project: Project, name: str, version: str | None = None, run_id: str | None = None
) -> Registration:
    """Register a saved model as a new version in the project's registry backend.

    The model is the one ``run_id`` saved, else the latest run's (a batch's best run's
    when that run is part of a batch). On GTO it goes to ``models/<name>.skops``, tracked
    with DVC if needed; its pointer files (only those) are committed and the commit tagged
    ``name@vX.Y.Z`` with the producing run and its metrics. On MLflow it becomes a model
    version of its own run (:mod:`readiness.registry.mlflow_registry`).
    """
    check_name(name)
    if version is not None:
        version_tag(version)  # a bad version is refused before the model is even read
    run, source = _model_source(project, name, run_id)
    _inspect_before_register(project, name, source)
    return backend_for(project).register(project, name, version, run, source)


def _gto_register(
    project: Project, name: str, version: str | None, run: dict[str, Any] | None, source: str
) -> Registration:
    """GTO: the model committed (DVC pointers only) and the commit tagged ``name@vX.Y.Z``."""
    from readiness.integrations.dvc import data_versions
    from readiness.registry.models import track_model
    from readiness.registry.profiles import write_profile

    with registry_lock(project):
        registry_audit.reconcile(project)
        if version is not None:  # checked before anything is committed
            version = _new_version(project, name, version)
        _place_model(project, name, source)
        # the training data's profile travels with the version (drift without the data)
        profile = write_profile(project, name, run.get("id") if run else None)
        md5 = track_model(project, name, beside=[profile] if profile else None)
        if md5 is None:  # a pipeline stage outputs the model: dvc.lock holds its hash
            md5 = data_versions(project).get(model_path(name), {}).get("md5")
        declare_artifact(project, name)
        pointers = [f"{model_path(name)}.dvc", "dvc.yaml", "dvc.lock", "models/.gitignore"]
        if profile:
            pointers.append(f"{profile}.dvc")
        existing = [p for p in pointers if (project.root / p).exists()]
        _git(project.root, "add", "--", *existing)
        if git.has_staged_changes(project.root, existing):
            _git(
                project.root,
                "commit",
                "-q",
                "-m",
                f"readiness: model {name} ({(md5 or '')[:8]})",
                "--",
                *existing,
            )
        fault_point("register:committed")
        metrics = key_metrics(project, run)
        message: dict[str, Any] = {
            "run": run.get("id") if run else None,
            "md5": md5,
            "metrics": metrics,
            "data": {
                p: v.get("md5")
                for p, v in data_versions(project).items()
                if not p.startswith("models/")
            },
        }
        commit = _git(project.root, "rev-parse", "HEAD")
        known = versions(project, name)
        already = next((v for v in known if v.commit == commit or (md5 and v.md5 == md5)), None)
        if already is not None:
            raise AlreadyRegistered(
                f"this model file is already {name} {already.version}: nothing new to register"
            )
        if version is not None and not version.startswith("v"):
            version = f"v{version}"
        if version is None and not versions(project, name):
            version = "v1.0.0"
        intent = registry_audit.new_intent(
            project, "register", name=name, commit=commit, version=version, run=message["run"]
        )
        try:
            event = gto.register(
                str(project.root),
                name,
                "HEAD",
                version=version,
                message=json.dumps(message),
                bump_patch=version is None,
            )
        except GTOError as exc:  # bad version, version exists
            raise RegistryError(f"GTO could not register {name}: {exc}") from None
        fault_point("register:tagged")
        created = next(v for v in versions(project, name) if v.commit == commit)
        audit.append(
            project,
            "model.registered",
            name=name,
            version=created.version,
            run=message["run"],
            tag=getattr(event, "tag", f"{name}@{created.version}"),
            intent=intent,
        )
    return Registration(name, created.version, commit, message["run"], metrics)


def _inspect_before_register(project: Project, name: str, source: str) -> None:
    """What load_model would refuse is refused before anything is committed or tagged."""
    from readiness.registry.models import check_types, declared_path, project_trusted_types

    dvc_yaml = project.root / "dvc.yaml"
    declared_path(dvc_yaml.read_text(encoding="utf-8") if dvc_yaml.is_file() else None, name)
    path = project.root / source
    if not path.is_file():
        raise RegistryError(
            f"no {source}: save the model first, readiness.save_model(model, {name!r})"
        )
    check_types(path.read_bytes(), project_trusted_types(project), source=source)


def _path_at(project: Project, name: str, commit: str) -> str:
    """The model's path as dvc.yaml declared it at ``commit`` (a foreign registry may differ)."""
    from readiness.registry.models import declared_path

    return declared_path(git.show(project.root, commit, "dvc.yaml"), name)


@dataclass
class Deleted(Renderable):
    """A version deleted from the registry, and what was removed (tags, an MLflow version)."""

    name: str
    version: str
    removed: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def delete_version(project: Project, name: str, version: str) -> Deleted:
    """Delete a registered version; refused while a stage (an alias, a tag) points to it, or
    while it is where a rollback of production would land. Audited (``model.deleted``)."""
    check_name(name)
    version = version if version.startswith("v") else f"v{version}"
    found = get_version(project, name, version)
    if not found.stages and version in stage_holders(project, name, "production")[1:]:
        raise RegistryError(
            f"{name} {version} is where a rollback of production lands: promote another "
            "version first; it is not deleted"
        )
    removed = backend_for(project).delete_version(project, name, version)
    return Deleted(name, version, removed)


# -- loading -----------------------------------------------------------------------------------


def load_model(
    project: Project,
    name: str,
    stage: str | None = "production",
    version: str | None = None,
    trusted: list[str] | None = None,
) -> Any:
    """The model of a stage (or a version), read through DVC at its tagged commit.

    The skops file's types are checked against the trusted ones before anything loads.
    """
    from readiness.registry.models import loads, project_trusted_types

    chosen: ModelVersion | None
    if version is not None:
        chosen = get_version(project, name, version if version.startswith("v") else f"v{version}")
    else:
        chosen = in_stage(project, name, stage or "production")
        if chosen is None:
            raise RegistryError(f"no version of {name} is in {stage}")
    data = backend_for(project).model_bytes(project, chosen)
    wanted = [*(trusted or []), *project_trusted_types(project)]
    return loads(data, wanted, source=f"{name} {chosen.version}")


def _gto_model_bytes(project: Project, chosen: ModelVersion) -> bytes:
    """The skops file at the version's tagged commit, read through DVC."""
    from readiness.integrations.dvc import DataError, read_bytes

    path = _path_at(project, chosen.name, chosen.commit)
    try:
        data: bytes = read_bytes(project, path, chosen.commit)
    except DataError as exc:  # missing in cache and remote, unknown path at that commit
        raise ModelError(f"{chosen.name} {chosen.version}: cannot read {path}: {exc}") from None
    return data


# -- the gate ------------------------------------------------------------------------------------


def latest_drill(project: Project, name: str) -> dict[str, Any] | None:
    return next(
        (
            e
            for e in reversed(audit.read(project))
            if e.get("event") == "rollback.drill" and e.get("name") == name
        ),
        None,
    )


def drill_is_recent(drill: dict[str, Any] | None) -> bool:
    import datetime as dt

    if not drill or not drill.get("ok"):
        return False
    when = dt.datetime.fromisoformat(drill["at"])
    return dt.datetime.now(dt.UTC) - when <= dt.timedelta(days=DRILL_MAX_AGE_DAYS)


# -- rollback ------------------------------------------------------------------------------------


def rollback(project: Project, name: str) -> Rollback:
    """Production back on the version that served before the current one (the backend's way)."""
    return backend_for(project).rollback(project, name)


def _gto_rollback(project: Project, name: str) -> Rollback:
    """Unassign production from the current version, so the previous one serves again.

    Which version serves before and after is the one resolver's (``gto show``'s) answer.
    The effect is checked before anything is reported or audited: an unassignment that
    leaves the same version serving (a stage tag dated ahead of this clock, say) is
    deleted again and refused.
    """
    stage = gto_stage(project, "production")
    with registry_lock(project):
        registry_audit.reconcile(project)
        current = in_stage(project, name, "production")
        if current is None:
            raise RegistryError(f"no version of {name} is in production: nothing to roll back")
        holders = [
            v for v in _gto_stage_holders(project, name, "production") if v != current.version
        ]
        if not holders:
            raise RegistryError(
                f"no version of {name} other than {current.version} still holds a production "
                "assignment: there is nothing to roll back to"
            )
        intent = registry_audit.new_intent(
            project, "unassign", name=name, version=current.version, stage=stage
        )
        past_last_tag(project)
        try:
            event = gto.unassign(str(project.root), name, version=current.version, stage=stage)
        except GTOError as exc:
            raise RegistryError(f"GTO could not roll back {name}: {exc}") from None
        tag = getattr(event, "tag", None)
        now = in_stage(project, name, "production")
        if now is None or now.version != holders[0]:
            if tag:  # the tag changed nothing it was meant to: take it back
                _git(project.root, "tag", "-d", tag)
            serving = now.version if now else "no version"
            raise RegistryError(
                f"rolling back {name} did not take effect: after unassigning {current.version}, "
                f"{serving} would serve instead of {holders[0]} (check the stage tags' dates); "
                "nothing was changed"
            )
        audit.append(
            project,
            "model.rolled_back",
            name=name,
            from_version=current.version,
            to_version=now.version,
            stage="production",
            tag=tag,
            intent=intent,
        )
    return Rollback(name, current.version, now.version)


def drill(
    project: Project, name: str, sample: str | Path | None = None, candidate: str | None = None
) -> Rollback:
    """Rehearse a rollback in a temporary clone; the version it lands on must load and predict.

    With a candidate (by default the newest registered version not in production), the
    clone first promotes it, as the real promotion would, then rolls back, so the drill
    proves the way back from the promotion about to happen. Without one, it rolls back
    the current production version. The real stage assignments are never touched; the
    drill and its result go to the audit log, where the gate and the checklist read them.
    """
    import shutil
    import tempfile

    current = in_stage(project, name, "production")
    if current is None:
        raise RegistryError(f"no version of {name} is in production: nothing to rehearse")
    if sample is not None:  # a typo is not a failed drill
        from readiness.core.fsutil import require_file

        require_file(Path(sample), f"drill sample {sample}", RegistryError)
    if candidate is None:
        newer = [v for v in versions(project, name) if "production" not in v.stages]
        candidate = (
            newer[0].version if newer and newer[0].created_at >= current.created_at else None
        )
    elif not candidate.startswith("v"):
        candidate = f"v{candidate}"
    from readiness.registry.models import project_trusted_types

    trusted = project_trusted_types(project)
    try:  # no sample at all is the drill's finding (recorded), as it always was
        frame, target, where = sample_frame(project, sample)
        missing_sample: RegistryError | None = None
    except RegistryError as exc:
        frame, target, where, missing_sample = None, None, "", exc
    if missing_sample is None:  # refused before the drill: nothing is recorded
        _check_features_known(project, name, current, candidate, frame, target, where, trusted)
    result = Rollback(name, candidate or current.version, None, drill=True, ok=False)
    if backend_name(project) != "gto":  # a registry server: nothing to clone, nothing moved
        try:
            result.to_version = backend_for(project).rollback_target(
                project, name, current, candidate
            )
            if result.to_version is None:
                raise RegistryError(f"no earlier production version of {name} to roll back to")
            model = load_model(project, name, version=result.to_version, trusted=trusted)
            _predict_sample(result, model, missing_sample, frame, target, where)
        except ReadinessError as exc:
            result.detail = str(exc)
        except Exception as exc:  # the previous model fails to load here: that is the finding
            result.detail = f"{type(exc).__name__}: {exc}"
    else:
        folder = Path(tempfile.mkdtemp(prefix=f"readiness-drill-{name}-"))
        try:
            git.clone(project.root, folder)
            _git(folder, "fetch", "--quiet", "--tags", str(project.root))
            for key, value in (
                ("user.name", "readiness drill"),
                ("user.email", "drill@readiness.invalid"),
            ):
                _git(folder, "config", key, value)
            clone = Project(folder)
            if project.config_path.is_file():  # its stage names as they stand, committed or not
                shutil.copyfile(project.config_path, clone.config_path)
            share_cache(project, clone)
            try:
                if candidate is not None:
                    past_last_tag(clone)
                    try:
                        gto.assign(
                            str(folder),
                            name,
                            gto_stage(project, "production"),
                            version=candidate,
                            force=True,
                        )
                    except GTOError as exc:
                        raise RegistryError(f"GTO could not assign {candidate}: {exc}") from None
                rehearsal = _gto_rollback(clone, name)
                result.to_version = rehearsal.to_version
                # the project's trust, not the clone's committed readiness.yaml
                model = load_model(clone, name, stage="production", trusted=trusted)
                _predict_sample(result, model, missing_sample, frame, target, where)
            except ReadinessError as exc:
                result.detail = str(exc)
            except Exception as exc:  # the previous model fails to load: that is the finding
                result.detail = f"{type(exc).__name__}: {exc}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    audit.append(
        project,
        "rollback.drill",
        name=name,
        from_version=result.from_version,
        to_version=result.to_version,
        ok=result.ok,
        detail=result.detail,
    )
    return result


def _predict_sample(
    result: Rollback,
    model: Any,
    missing_sample: RegistryError | None,
    frame: Any,
    target: str | None,
    where: str,
) -> None:
    """The drill's finding: the version it landed on predicts the sample (or why not)."""
    if missing_sample is not None:
        raise missing_sample
    try:
        features = features_for(model, frame, target, where)
        predictions = model.predict(features)
    except ReadinessError:
        raise
    except Exception as exc:  # the previous model fails on today's data: that is the finding
        result.detail = f"{type(exc).__name__}: {exc}"
        return
    result.ok = len(predictions) == len(features)
    result.detail = f"{result.to_version} loaded and predicted {len(features)} rows"


def sample_frame(
    project: Project, sample: str | Path | None, rows: int = 50
) -> tuple[Any, str | None, str]:
    """Rows to predict on (``sample``, else the declared holdout dataset), the label column
    readiness.yaml declares for them (the dataset's ``target``, else drift's), and their path.
    """
    from readiness.core.config import load_config
    from readiness.data.validation import read_table

    config = load_config(project)
    path = Path(sample) if sample else None
    targets = [d.target for d in config.datasets.values() if d.target]
    target = targets[0] if len(set(targets)) == 1 else None
    if path is None:
        found = [(n, d) for n, d in config.datasets.items() if d.path and "holdout" in (n + d.path)]
        if not found:
            raise RegistryError(
                "no sample to predict on: pass --sample DATA, or declare a holdout dataset"
            )
        path, target = project.root / str(found[0][1].path), found[0][1].target
    if target is None and config.drift and config.drift.target:
        target = config.drift.target
    full = path if path.is_absolute() else project.root / path
    where = os.path.relpath(full, project.root) if full.is_relative_to(project.root) else str(full)
    return read_table(full).head(rows), target, where


def features_for(model: Any, frame: Any, target: str | None, where: str) -> Any:
    """The columns the model predicts from: its own ``feature_names_in_``, else all but the label.

    Neither known: refused, naming what to declare (a label would be fed in as a feature).
    """
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        missing = [str(c) for c in names if c not in frame.columns]
        if missing:
            raise ModelError(f"{where} lacks the model's feature(s) {', '.join(missing[:10])}")
        return frame[list(names)]
    if target is not None:
        return frame.drop(columns=[target]) if target in frame.columns else frame
    raise FeaturesUnknown(
        f"the rollback drill cannot tell the features from the label in {where}: the model "
        "records no feature names (feature_names_in_) and readiness.yaml declares no label "
        "column: declare it as datasets: {NAME: {path: ..., target: COLUMN}} (or drift: "
        "{target: COLUMN})"
    )


def _check_features_known(
    project: Project,
    name: str,
    current: ModelVersion,
    candidate: str | None,
    frame: Any,
    target: str | None,
    where: str,
    trusted: list[str],
) -> None:
    """Before the drill: the version it lands on must say which columns are its features.

    Anything else that goes wrong here (a model that does not load) is left for the drill
    to find and record.
    """
    if target is not None:
        return
    landing = backend_for(project).rollback_target(project, name, current, candidate)
    if landing is None:
        return
    try:
        model = load_model(project, name, version=landing, trusted=trusted)
        features_for(model, frame, target, where)
    except FeaturesUnknown:
        raise
    except ReadinessError:
        return


# -- the GTO backend -----------------------------------------------------------------------------


class GTORegistry:
    """The default backend: versions and stages in git tags (GTO's format), models in DVC."""

    name = "gto"

    def versions(self, project: Project, name: str | None) -> list[ModelVersion]:
        return _gto_versions(project, name)

    def stage_holders(self, project: Project, name: str, stage: str) -> list[str]:
        return _gto_stage_holders(project, name, stage)

    def register(
        self,
        project: Project,
        name: str,
        version: str | None,
        run: dict[str, Any] | None,
        source: str,
    ) -> Registration:
        return _gto_register(project, name, version, run, source)

    def assign(self, project: Project, name: str, version: str, stage: str) -> str | None:
        past_last_tag(project)  # GTO orders stage tags by their times, in whole seconds
        try:
            event = gto.assign(
                str(project.root), name, gto_stage(project, stage), version=version, force=True
            )
        except GTOError as exc:
            raise RegistryError(
                f"GTO could not assign {stage} to {name} {version}: {exc}"
            ) from None
        return getattr(event, "tag", None)

    def rollback(self, project: Project, name: str) -> Rollback:
        return _gto_rollback(project, name)

    def rollback_target(
        self, project: Project, name: str, current: ModelVersion, candidate: str | None
    ) -> str | None:
        if candidate is not None:
            return current.version
        holders = _gto_stage_holders(project, name, "production")
        others = [v for v in holders if v != current.version]
        return others[0] if others else None

    def model_bytes(self, project: Project, chosen: ModelVersion) -> bytes:
        return _gto_model_bytes(project, chosen)

    def profile_bytes(self, project: Project, chosen: ModelVersion) -> bytes | None:
        """``models/NAME.profile.json`` at the version's commit, read through DVC."""
        from readiness.integrations.dvc import DataError, read_bytes
        from readiness.registry.profiles import profile_path

        try:
            data: bytes = read_bytes(project, profile_path(chosen.name), chosen.commit)
        except DataError:  # registered before profiles, or its cache is missing
            return None
        return data

    def reconcile(self, project: Project, idle: bool = False) -> list[dict[str, Any]]:
        if idle:
            return registry_audit.reconcile_if_idle(project)
        return registry_audit.reconcile(project)

    def delete_version(self, project: Project, name: str, version: str) -> list[str]:
        """The version's git tags deleted: its registration and its (inactive) stage tags,
        every GTO tag of ``name`` at its commit (a commit holds one version of a model)."""
        with registry_lock(project):
            registry_audit.reconcile(project)
            found = get_version(project, name, version)
            refuse_if_staged(found, "a stage tag")
            at = _git(project.root, "tag", "--points-at", found.commit).split()
            tags = [t for t in at if (gto.parse_tag(t) or {}).get("name") == name]
            tags.sort(key=lambda t: ("@" not in t, t))  # the version's own tag first
            if tags:
                _git(project.root, "tag", "-d", *tags)
            audit.append(project, "model.deleted", name=name, version=version, removed=tags)
        return tags
