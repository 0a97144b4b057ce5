"""The MLflow registry backend: versions in an MLflow model registry, stages as aliases.

``registry: {backend: mlflow, tracking_uri: ..., model_prefix: ...}`` in readiness.yaml.
What MLflow holds: one run per version (the model in mlflow.sklearn's skops flavour,
with the very bytes readiness saved, and the producing run's evidence as params and
metrics, so MLflow's UI shows it) and one model version tagged with readiness's
version, run, data versions, criteria hash and key metrics. What stays readiness's:
the gate (the only thing that moves an alias), the registry lock and the audit log,
which is the history of alias moves (MLflow keeps none): rollback lands on the
previous production version by that history.

Artifacts: a tracking server proxies them (``mlflow-artifacts:`` URIs, valid wherever
the project is); a ``sqlite:///`` store keeps them under the project
(``.readiness/mlflow-artifacts``), and every version records its path relative to
that folder, so a moved project folder still reads its models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from readiness.core import audit
from readiness.core.errors import GitError, ReadinessError
from readiness.core.project import Project
from readiness.integrations import mlflow
from readiness.registry import audit as registry_audit
from readiness.registry.entities import (
    AlreadyRegistered,
    ModelVersion,
    Registration,
    RegistryError,
    Rollback,
    fault_point,
    gto_stage,
    key_metrics,
    refuse_if_staged,
    registry_lock,
    registry_policy,
    stage_names,
    version_tag,
)

TAG = "readiness."  # prefix of the tags readiness writes on runs and versions
PROMOTIONS = ("model.promoted", "model.promoted.forced")


def _settings(project: Project) -> tuple[str, str, Path | None]:
    """The tracking URI, the model name prefix and a sqlite store's artifact folder."""
    policy = registry_policy(project)
    if policy is None or policy.backend != "mlflow" or not policy.tracking_uri:
        raise RegistryError("readiness.yaml names no mlflow registry (registry: {backend: mlflow})")
    return mlflow.store_of(policy, project.root)


def _uri(project: Project) -> str:
    uri, _, _ = _settings(project)
    mlflow.prepare_store(uri, project.state_dir / "mlflow-store.lock")
    return uri


def _mlflow_name(project: Project, name: str) -> str:
    return f"{_settings(project)[1]}{name}"


def _semver(tag: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in tag.removeprefix("v").split("."))
    except ValueError:
        return (0,)


def _next_version(known: list[ModelVersion], version: str | None) -> str:
    """``version`` as readiness tags it (``v1.2.0``), new; else v1.0.0, then the next patch."""
    if version is not None:
        tag = version_tag(version)
        if any(v.version == tag for v in known):
            raise RegistryError(
                f"{known[0].name} {tag} is already registered: choose a new version"
            )
        return tag
    if not known:
        return "v1.0.0"
    major, minor, patch = [*max(_semver(v.version) for v in known), 0, 0, 0][:3]
    return f"v{major}.{minor}.{patch + 1}"


def _git_commit(project: Project) -> str:
    from readiness.integrations import git

    try:
        return git.output(project.root, "rev-parse", "HEAD")
    except GitError:  # not a git repository, or no commit yet: MLflow holds the model anyway
        return ""


def _author(project: Project) -> str:
    """Who registers: git's user.name, as a GTO tag's tagger (else the login name)."""
    import getpass

    from readiness.integrations import git

    try:
        return git.output(project.root, "config", "user.name") or getpass.getuser()
    except GitError:  # not a git repository, or no name configured
        return getpass.getuser()


def _criteria_hash(project: Project) -> str:
    from readiness.core.config import load_config
    from readiness.criteria.declaration import criteria_hash

    try:
        return criteria_hash(load_config(project).criteria)
    except ReadinessError:  # no criteria declared yet: the version records none
        return ""


def _run_evidence(run: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, float]]:
    """A readiness run as MLflow params (its parameters) and metrics (its numeric evidence)."""
    from readiness.evidence.record import latest_values

    if run is None:
        return {}, {}
    params = {f"{TAG}run": str(run.get("id"))}
    for key, value in (run.get("params") or {}).items():
        params[str(key)] = json.dumps(value)[:6000]  # MLflow's limit on a param's value
    metrics = {}
    for (metric, split), evidence in latest_values(run).items():
        value = evidence.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[f"{metric}/{split}" if split else metric] = float(value)
    return params, metrics


def production_history(project: Project, name: str) -> list[str]:
    """The versions production served, oldest first, by readiness's audit log: promotions
    push, rollbacks pop (MLflow keeps no history of its aliases)."""
    stack: list[str] = []
    for event in audit.read(project):
        if event.get("name") != name or event.get("stage") != "production":
            continue
        if event.get("event") in PROMOTIONS:
            version = str(event.get("version"))
            if not stack or stack[-1] != version:
                stack.append(version)
        elif event.get("event") == "model.rolled_back" and stack:
            if stack[-1] == event.get("from_version"):
                stack.pop()
            if event.get("to_version") and (not stack or stack[-1] != event["to_version"]):
                stack.append(str(event["to_version"]))
    return stack


class MLflowRegistry:
    """Versions, aliases and model files in MLflow; the gate and the history in readiness."""

    name = "mlflow"

    # -- reading ---------------------------------------------------------------------------

    def _rows(self, project: Project, name: str) -> list[dict[str, Any]]:
        """MLflow's versions of ``name`` that readiness registered (they carry its version)."""
        rows = mlflow.versions(_uri(project), _mlflow_name(project, name))
        return [r for r in rows if f"{TAG}version" in r["tags"]]

    def versions(self, project: Project, name: str | None) -> list[ModelVersion]:
        prefix = _settings(project)[1]
        uri = _uri(project)
        names = [name] if name else [n[len(prefix) :] for n in mlflow.model_names(uri, prefix)]
        aliases = {alias: ours for ours, alias in stage_names(project).items()}
        out = []
        for artifact in names:
            rows = self._rows(project, artifact)
            rows.sort(key=lambda r: (r["created_ms"], int(r["version"])), reverse=True)
            for row in rows:
                tags = row["tags"]
                created = dt.datetime.fromtimestamp(row["created_ms"] / 1000, dt.UTC)
                out.append(
                    ModelVersion(
                        name=artifact,
                        version=tags[f"{TAG}version"],
                        commit=tags.get(f"{TAG}commit", ""),
                        created_at=created.isoformat(timespec="seconds"),
                        author=tags.get(f"{TAG}author") or row["user"],
                        stages=sorted(aliases[a] for a in row["aliases"] if a in aliases),
                        run_id=tags.get(f"{TAG}run") or None,
                        metrics=json.loads(tags.get(f"{TAG}metrics") or "{}"),
                        md5=tags.get(f"{TAG}md5") or None,
                    )
                )
        return out

    def _row(self, project: Project, name: str, version: str) -> dict[str, Any]:
        row = next(
            (r for r in self._rows(project, name) if r["tags"][f"{TAG}version"] == version), None
        )
        if row is None:
            raise RegistryError(f"{name} has no version {version} in MLflow")
        return row

    def _holder(self, project: Project, name: str, stage: str) -> str | None:
        alias = gto_stage(project, stage)
        row = next((r for r in self._rows(project, name) if alias in r["aliases"]), None)
        return row["tags"][f"{TAG}version"] if row else None

    def stage_holders(self, project: Project, name: str, stage: str) -> list[str]:
        current = self._holder(project, name, stage)
        if current is None:
            return []
        if stage != "production":
            return [current]
        known = {v.version for v in self.versions(project, name)}
        earlier = [v for v in reversed(production_history(project, name)) if v != current]
        return [current, *dict.fromkeys(v for v in earlier if v in known)]

    # -- writing ---------------------------------------------------------------------------

    def register(
        self,
        project: Project,
        name: str,
        version: str | None,
        run: dict[str, Any] | None,
        source: str,
    ) -> Registration:
        from readiness.integrations.dvc import data_versions
        from readiness.registry.models import check_types, project_trusted_types
        from readiness.registry.profiles import profile_text

        uri, prefix, artifact_root = _settings(project)
        uri = _uri(project)
        model_name = f"{prefix}{name}"
        with registry_lock(project):
            self.reconcile(project)
            known = self.versions(project, name)
            version = _next_version(known, version)
            data = (project.root / source).read_bytes()
            md5 = hashlib.md5(data).hexdigest()  # DVC's hash of the file: the same model twice
            already = next((v for v in known if v.md5 == md5), None)
            if already is not None:
                raise AlreadyRegistered(
                    f"this model file is already {name} {already.version}: nothing new to register"
                )
            trusted = project_trusted_types(project)
            check_types(data, trusted, source=source)  # refused as load_model would refuse it
            metrics = key_metrics(project, run)
            run_id = run.get("id") if run else None
            data_md5 = {
                p: v.get("md5")
                for p, v in data_versions(project).items()
                if not p.startswith("models/")
            }
            commit = _git_commit(project)
            intent = registry_audit.new_intent(
                project, "register", name=name, version=version, run=run_id, backend="mlflow"
            )
            # the training data's profile travels with the version (drift without the data)
            profile = profile_text(project, name, run_id, project.root / source)
            params, evidence = _run_evidence(run)
            params.update({f"{TAG}data/{p}": str(m) for p, m in data_md5.items()})
            location = (artifact_root / name).as_uri() if artifact_root else None
            logged = mlflow.log_version(
                uri,
                experiment_id=mlflow.experiment(uri, model_name, location),
                model_name=model_name,
                model_file=project.root / source,
                trusted=trusted,
                pip_requirements=_requirements(),
                params=params,
                metrics=evidence,
                run_tags={f"{TAG}run": str(run_id), f"{TAG}version": version},
                version_tags={
                    f"{TAG}version": version,
                    f"{TAG}run": str(run_id or ""),
                    f"{TAG}md5": md5,
                    f"{TAG}commit": commit,
                    f"{TAG}author": _author(project),
                    f"{TAG}metrics": json.dumps(metrics, sort_keys=True),
                    f"{TAG}data": json.dumps(data_md5, sort_keys=True),
                    f"{TAG}criteria_hash": _criteria_hash(project),
                    f"{TAG}intent": intent,
                    f"{TAG}profile": _profile_artifact(name) if profile else "",
                },
                files={_profile_artifact(name): profile} if profile else None,
            )
            fault_point("register:tagged")
            audit.append(
                project,
                "model.registered",
                name=name,
                version=version,
                run=run_id,
                tag=f"mlflow:{model_name}/{logged['version']}",
                mlflow_run=logged["run_id"],
                intent=intent,
            )
        return Registration(name, version, commit, run_id, metrics)

    def assign(self, project: Project, name: str, version: str, stage: str) -> str | None:
        row = self._row(project, name, version)
        alias = gto_stage(project, stage)
        model_name = _mlflow_name(project, name)
        mlflow.set_alias(_uri(project), model_name, alias, row["version"])
        return f"mlflow:{model_name}@{alias}"

    def rollback_target(
        self, project: Project, name: str, current: ModelVersion, candidate: str | None
    ) -> str | None:
        if candidate is not None:  # promoting it, then rolling back, lands on today's
            return current.version
        holders = self.stage_holders(project, name, "production")
        return holders[1] if len(holders) > 1 else None

    def rollback(self, project: Project, name: str) -> Rollback:
        alias = gto_stage(project, "production")
        with registry_lock(project):
            self.reconcile(project)
            current = self._holder(project, name, "production")
            if current is None:
                raise RegistryError(f"no version of {name} is in production: nothing to roll back")
            history = production_history(project, name)
            if not history or history[-1] != current:
                raise RegistryError(
                    f"the {alias} alias of {name} points at {current}, which readiness's audit log "
                    "did not put there (moved outside readiness): promote through readiness first"
                )
            holders = self.stage_holders(project, name, "production")
            if len(holders) < 2:
                raise RegistryError(
                    f"no version of {name} served production before {current}: there is "
                    "nothing to roll back to"
                )
            target = holders[1]
            intent = registry_audit.new_intent(
                project, "unassign", name=name, version=current, stage=alias, to_version=target
            )
            written = self.assign(project, name, target, "production")
            audit.append(
                project,
                "model.rolled_back",
                name=name,
                from_version=current,
                to_version=target,
                stage="production",
                tag=written,
                intent=intent,
            )
        return Rollback(name, current, target)

    def delete_version(self, project: Project, name: str, version: str) -> list[str]:
        with registry_lock(project):
            self.reconcile(project)
            row = self._row(project, name, version)
            found = next(v for v in self.versions(project, name) if v.version == version)
            refuse_if_staged(found, "an alias")
            if row["aliases"]:  # an alias readiness does not name (moved outside readiness)
                raise RegistryError(
                    f"{name} {version} has the MLflow alias(es) {', '.join(row['aliases'])}: "
                    "remove them first; it is not deleted"
                )
            model_name = _mlflow_name(project, name)
            mlflow.delete_version(_uri(project), model_name, row["version"])
            removed = [f"mlflow:{model_name}/{row['version']}"]
            audit.append(project, "model.deleted", name=name, version=version, removed=removed)
        return removed

    # -- model files -----------------------------------------------------------------------

    def model_bytes(self, project: Project, chosen: ModelVersion) -> bytes:
        row = self._row(project, chosen.name, chosen.version)
        data = self._artifact(project, row, f"{mlflow.MODEL_DIR}/{mlflow.SKOPS_FILE}")
        if data is None:
            what = f"{chosen.name} {chosen.version}"
            raise RegistryError(f"{what}: MLflow's artifacts hold no {mlflow.SKOPS_FILE}")
        return data

    def profile_bytes(self, project: Project, chosen: ModelVersion) -> bytes | None:
        """The version run's ``profile/NAME.profile.json`` (its tag says whether it has one)."""
        row = self._row(project, chosen.name, chosen.version)
        relative = row["tags"].get(f"{TAG}profile")
        return self._artifact(project, row, relative) if relative else None

    def _artifact(self, project: Project, row: dict[str, Any], relative: str) -> bytes | None:
        """A file of a version's run by its path in the run's artifacts (None: absent).

        A sqlite store's are read under this project's artifact folder, wherever the
        project was when it was registered (MLflow records absolute URIs); otherwise they
        are downloaded (a server's through its proxy; a server that is down is an error).
        """
        import tempfile

        # the model version's source is the run's model/ folder: its parent is the run's
        base = str(row["source"]).removesuffix("/").removesuffix(f"/{mlflow.MODEL_DIR}")
        _, _, root = _settings(project)
        marker = f"/{root.name}/" if root is not None else ""
        if root is not None and base.startswith("file:") and marker in base:
            file = root / base.split(marker, 1)[1] / relative
            if file.is_file():
                return file.read_bytes()
        with tempfile.TemporaryDirectory(prefix="readiness-mlflow-") as folder:
            path = mlflow.download(_uri(project), f"{base}/{relative}", Path(folder))
            return path.read_bytes() if path.is_file() else None

    # -- interrupted commands --------------------------------------------------------------

    def reconcile(self, project: Project, idle: bool = False) -> list[dict[str, Any]]:
        """Complete the audit entries of alias moves and registrations whose command was
        killed after MLflow made them (a kill before leaves MLflow as it was)."""
        if idle:
            from readiness.core.fsutil import file_lock

            lock = project.state_dir / "registry.lock"
            try:
                with file_lock(lock, timeout=2, what="the registry lock"):
                    return self.reconcile(project)
            except RegistryError:
                raise
            except ReadinessError:  # another command holds the lock: its write is in flight
                return []
        events = audit.read(project)
        consumed = {e.get("intent") for e in events if e.get("event") != registry_audit.INTENT}
        open_intents = [
            e
            for e in events
            if e.get("event") == registry_audit.INTENT
            and e.get("intent") not in consumed
            and e.get("action") in ("assign", "unassign", "register")
        ]
        written = []
        for intent in open_intents:
            entry = self._complete(project, intent)
            if entry is not None:
                written.append(entry)
        return written

    def _complete(self, project: Project, intent: dict[str, Any]) -> dict[str, Any] | None:
        name = str(intent.get("name"))
        common = {"name": name, "intent": intent["intent"], "reconciled": True}
        back = {alias: stage for stage, alias in stage_names(project).items()}
        action = intent.get("action")
        if action == "register":
            rows = self._rows(project, name)
            row = next((r for r in rows if r["tags"].get(f"{TAG}intent") == intent["intent"]), None)
            if row is None:
                return None
            version = row["tags"][f"{TAG}version"]
            tag = f"mlflow:{_mlflow_name(project, name)}/{row['version']}"
            return audit.append(
                project,
                "model.registered",
                version=version,
                run=intent.get("run"),
                tag=tag,
                **common,
            )
        stage = back.get(str(intent.get("stage")))
        if stage is None:
            return None
        target = intent.get("to_version") if action == "unassign" else intent.get("version")
        if self._holder(project, name, stage) != target:
            return None  # killed before MLflow moved the alias: nothing happened
        tag = f"mlflow:{_mlflow_name(project, name)}@{intent.get('stage')}"
        if action == "unassign":
            return audit.append(
                project,
                "model.rolled_back",
                from_version=intent.get("version"),
                to_version=target,
                stage=stage,
                tag=tag,
                **common,
            )
        event = "model.promoted.forced" if intent.get("forced") else "model.promoted"
        extra = {"reason": intent.get("reason"), "failed": intent.get("failed") or []}
        return audit.append(
            project,
            event,
            version=target,
            stage=stage,
            tag=tag,
            **(extra if intent.get("forced") else {}),
            **common,
        )


def _profile_artifact(name: str) -> str:
    """Where a version's reference profile is among its run's artifacts."""
    return f"profile/{name}.profile.json"


def _requirements() -> list[str]:
    """What the model needs to load and predict, pinned to what saved it (no inference)."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for package in ("scikit-learn", "skops", "numpy", "scipy"):
        try:
            out.append(f"{package}=={version(package)}")
        except PackageNotFoundError:  # scipy comes with scikit-learn; a missing one is left out
            continue
    return out
