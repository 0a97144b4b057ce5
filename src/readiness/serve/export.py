"""Scale-out files: a Dockerfile, and a Kubernetes Deployment + Service + autoscaler.

``readiness serve NAME --export docker|kubernetes`` writes them under ``deploy/``. They
reference secrets, never hold them: the API keys file and the prediction log's URL come
from Kubernetes Secrets (or ``docker run`` mounts and variables). docs/serving-deploy.md
says how they run behind a load balancer.

The image is one model version, frozen: the committed repository (git history and tags,
which GTO reads) plus the DVC objects of the model's tagged versions, fetched at build time
from the project's shared remote. ``readiness serve A B --export``: one image holds every
model's tagged versions and one Deployment serves them all. A replica serves what its
image's tags say; a new version is a new image and a rolling update (see the docs for why).
"""

from __future__ import annotations

import configparser
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.errors import ReadinessError
from readiness.core.fsutil import atomic_write_text, read_text_file
from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.serve.keys import KEYS_FILE_ENV

KINDS = ("docker", "kubernetes")
STAGES = ("production", "staging")
LOG_URL_ENV = "READINESS_PREDICTION_LOG_URL"
KEYS_DIR = "/etc/readiness/keys"  # where the image expects the keys file to be mounted
MULTIPROC_DIR = "/tmp/readiness-metrics"
UID = 10001
# How a project pins its dependencies (the same files `readiness ci` reads): the files to
# copy into the image, and the command that installs from them.
LOCK_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "requirements.lock": (("requirements.lock",), "pip install -r requirements.lock"),
    "requirements.txt": (("requirements.txt",), "pip install -r requirements.txt"),
    "uv.lock": (
        ("pyproject.toml", "uv.lock"),
        "pip install uv && uv export --frozen --no-hashes --no-emit-project -o /tmp/req.txt "
        "&& pip install -r /tmp/req.txt",
    ),
    "poetry.lock": (
        ("pyproject.toml", "poetry.lock"),
        "pip install poetry && poetry config virtualenvs.create false "
        "&& poetry install --no-root --only main",
    ),
}
DVC_EXTRAS = {"s3": "s3", "gs": "gs", "gcs": "gs", "azure": "azure", "ssh": "ssh", "hdfs": "hdfs"}


class ExportError(ReadinessError):
    """The deployment files cannot be written as asked (bad kind, name, or files in the way)."""


@dataclass
class Exported(Renderable):
    """The deployment files written, and what the user still has to do."""

    kind: str
    name: str
    files: list[str]
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- what the project has ------------------------------------------------------------


def _lock_file(root: Path) -> str | None:
    return next((name for name in LOCK_FILES if (root / name).is_file()), None)


def shared_remote(root: Path) -> str | None:
    """The URL of the default remote in ``.dvc/config`` (committed, so a build sees it)."""
    path = root / ".dvc" / "config"
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, configparser.Error, UnicodeDecodeError):
        return None
    name = parser.get("core", "remote", fallback=None)
    return parser.get(f"'remote \"{name}\"'", "url", fallback=None) if name else None


def _model_target(project: Project, name: str) -> str:
    from readiness.registry.models import declared_path

    dvc_yaml = project.root / "dvc.yaml"
    text = read_text_file(dvc_yaml, "dvc.yaml") if dvc_yaml.is_file() else None
    return declared_path(text, name)


def check_k8s_name(name: str) -> str:
    """A model name (lowercase, digits, dashes) that is also a Service name (RFC 1035)."""
    from readiness.registry.models import check_name

    check_name(name)
    longest = 63 - len("-prediction-log")
    if not name[0].isalpha() or len(name) > longest:
        raise ExportError(
            f"model name {name!r} must start with a letter and have at most {longest} characters "
            "to name Kubernetes objects (NAME-prediction-log included)"
        )
    return name


# -- Docker ---------------------------------------------------------------------------


def _install_lines(project: Project, notes: list[str]) -> list[str]:
    from readiness import __version__

    remote = shared_remote(project.root)
    scheme = remote.split("://", 1)[0] if remote and "://" in remote else ""
    dvc = f'"dvc[{DVC_EXTRAS[scheme]}]"' if scheme in DVC_EXTRAS else ""
    lock = _lock_file(project.root)
    lines = []
    if lock:
        files, command = LOCK_FILES[lock]
        lines += [
            f"# the project's pinned dependencies ({lock}): the model's own imports are there",
            f"COPY {' '.join(files)} /tmp/deps/",
            f"RUN cd /tmp/deps && {command} \\",
            "    && (pip show readiness >/dev/null 2>&1 "
            f'|| pip install "readiness=={__version__}")'
            + (f" \\\n    && pip install {dvc}" if dvc else ""),
        ]
    else:
        notes.append(
            "no lock file (requirements.txt, requirements.lock, uv.lock or poetry.lock): the "
            "image installs readiness alone, so a model that needs other packages fails to "
            "load; pin them (pip freeze > requirements.txt) and export again with --force"
        )
        lines += [
            "# no lock file in the project: readiness alone (pin your model's packages)",
            f'RUN pip install "readiness=={__version__}"' + (f" {dvc}" if dvc else ""),
        ]
    return lines


def dockerfile(project: Project, name: str, stage: str, port: int, workers: int,
               notes: list[str], models: list[tuple[str, str]] | None = None) -> str:
    """The Dockerfile's text (build context: the project root).

    ``models``: every served ``(name, stage)`` when there are several (``name`` then
    names the image); the image holds each model's tagged versions and serves them all.
    """
    served = models or [(name, stage)]
    targets = " ".join(_model_target(project, n) for n, _ in served)
    cmd = ["readiness", "serve", *_serve_args(served, stage), "--stage", stage,
           "--host", "0.0.0.0", "--port", str(port), "--workers", str(workers)]
    command = " ".join(_serve_args(served, stage))
    health = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{port}/healthz', timeout=3)"
    )
    return "\n".join([
        "# syntax=docker/dockerfile:1",
        f"# Written by `readiness serve {command} --export docker`. Build from the project root:",
        f"#   docker build -f deploy/Dockerfile -t {name}:VERSION "
        "--secret id=dvc-config,src=.dvc/config.local .",
        "# One image per model version: build it after `readiness promote` (or rollback) and",
        "# roll it out; see docs/serving-deploy.md.",
        "FROM python:3.11-slim",
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \\",
        "    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DVC_NO_ANALYTICS=1 \\",
        f"    {KEYS_FILE_ENV}={KEYS_DIR}/keys.json",
        "# git: the registry is the repository's tags (GTO), models are read at a tag's commit",
        "RUN apt-get update && apt-get install -y --no-install-recommends git \\",
        "    && rm -rf /var/lib/apt/lists/*",
        f"RUN useradd --create-home --uid {UID} --user-group readiness \\",
        "    && mkdir /app && chown readiness:readiness /app",
        *_install_lines(project, notes),
        "WORKDIR /app",
        "USER readiness",
        "# The committed repository, not the work tree: no unversioned data, notebooks' outputs,",
        "# virtualenvs or secrets (.readiness/serve/keys.json, .dvc/config.local) get in.",
        "COPY --chown=readiness:readiness .git /app/.git",
        "RUN git reset --quiet --hard HEAD",
        "# Models live in DVC: the server reads a version at its tagged commit, so the objects",
        "# of every tagged version (rollback targets too) must be in the image's DVC cache.",
        "# `dvc fetch --all-tags` (a pull without the checkout) takes them from the project's",
        "# shared remote at build time; its credentials come in as a build secret (your",
        "# .dvc/config.local) that stays out of the image's layers.",
        f"RUN --mount=type=secret,id=dvc-config,target=/app/.dvc/config.local,uid={UID} \\",
        f"    dvc fetch --all-tags {targets}",
        f"EXPOSE {port}",
        "HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \\",
        f'    CMD ["python", "-c", "{health}"]',
        "CMD " + json.dumps(cmd),
        "",
    ])


def dockerignore() -> str:
    """Everything but the repository and the lock files: the image is built from git."""
    files = sorted({f for files, _ in LOCK_FILES.values() for f in files})
    return "\n".join([
        "# Written by `readiness serve NAME --export docker`; BuildKit reads this file",
        "# (<Dockerfile>.dockerignore) in place of the context's .dockerignore.",
        "# The image is checked out from .git; nothing else of the work tree is sent to the",
        "# builder (data, runs, .readiness/serve/keys.json, .dvc/config.local, virtualenvs).",
        "*",
        "!.git",
        *(f"!{f}" for f in files),
        "",
    ])


# -- Kubernetes -----------------------------------------------------------------------


def _serve_args(models: list[tuple[str, str]], stage: str) -> list[str]:
    """The models as ``readiness serve`` takes them: NAME, or NAME@STAGE off ``--stage``."""
    return [n if s == stage else f"{n}@{s}" for n, s in models]


def kubernetes_objects(name: str, stage: str, port: int, workers: int, image: str,
                       models: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """The Deployment, Service and HorizontalPodAutoscaler, as plain data.

    ``models``: every served ``(name, stage)`` when there are several; ``name`` names the
    objects and the Secrets, and the one Deployment serves them all.
    """
    served = models or [(name, stage)]
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "model-server"}
    keys_secret, log_secret = f"{name}-api-keys", f"{name}-prediction-log"
    container = {
        "name": "server",
        "image": image,
        "args": ["readiness", "serve", *_serve_args(served, stage), "--stage", stage,
                 "--host", "0.0.0.0", "--port", str(port), "--workers", str(workers)],
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {"name": LOG_URL_ENV,
             "valueFrom": {"secretKeyRef": {"name": log_secret, "key": "url"}}},
            {"name": KEYS_FILE_ENV, "value": f"{KEYS_DIR}/keys.json"},
            {"name": "PROMETHEUS_MULTIPROC_DIR", "value": MULTIPROC_DIR},
        ],
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": "http"},
            "initialDelaySeconds": 5, "periodSeconds": 5, "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 30, "periodSeconds": 10, "failureThreshold": 3,
        },
        "resources": {
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"cpu": "2", "memory": "1Gi"},
        },
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [
            {"name": "api-keys", "mountPath": KEYS_DIR, "readOnly": True},
            {"name": "metrics", "mountPath": MULTIPROC_DIR},
        ],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": dict(labels)},
            # a new image (a new model version) replaces pods one by one, each taking
            # traffic only once /readyz says its model is loaded
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": dict(labels),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": UID,
                                        "runAsGroup": UID, "fsGroup": UID},
                    "terminationGracePeriodSeconds": 30,  # SIGTERM drains the log's batch
                    "containers": [container],
                    "volumes": [
                        {"name": "api-keys",
                         # the whole Secret as a folder: its key keys.json is the file (and
                         # a `key:` line here would read as a credential to secret scanners)
                         "secret": {"secretName": keys_secret, "defaultMode": 0o440}},
                        {"name": "metrics", "emptyDir": {}},
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "type": "ClusterIP",
            "selector": dict(labels),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [{
                "type": "Resource",
                "resource": {"name": "cpu",
                             "target": {"type": "Utilization", "averageUtilization": 70}},
            }],
        },
    }
    return [deployment, service, hpa]


def kubernetes_yaml(name: str, stage: str, port: int, workers: int, image: str,
                    models: list[tuple[str, str]] | None = None) -> str:
    from readiness.core import yamlio

    command = " ".join(_serve_args(models or [(name, stage)], stage))
    head = "\n".join([
        f"# Written by `readiness serve {command} --export kubernetes`: a Deployment, its Service",
        "# and a HorizontalPodAutoscaler. Secrets are referenced, never written here; create",
        "# them before applying (docs/serving-deploy.md):",
        f"#   kubectl create secret generic {name}-api-keys "
        "--from-file=keys.json=.readiness/serve/keys.json",
        f"#   kubectl create secret generic {name}-prediction-log "
        "--from-literal=url='postgresql+psycopg://USER:PASSWORD@HOST:5432/DB'",
        "",
    ])
    objects = kubernetes_objects(name, stage, port, workers, image, models)
    docs = [yamlio.dump(obj) for obj in objects]
    # `secretName: X` reads as a credential to secret scanners (the checklist's among them):
    # it names a Secret, so it carries detect-secrets' allow-list pragma
    text = head + "---\n" + "---\n".join(docs)
    return re.sub(r"^( *secretName: \S+)$", r"\1  # pragma: allowlist secret",
                  text, flags=re.M)


# -- the command ----------------------------------------------------------------------


def export(
    project: Project,
    name: str | list[str],
    kind: str,
    *,
    stage: str = "production",
    port: int = 8000,
    workers: int = 2,
    image: str | None = None,
    out: Path | None = None,
    force: bool = False,
) -> Exported:
    """Write the deployment files of model ``name`` for ``kind`` (docker or kubernetes).

    Parameters
    ----------
    name
        One model, or several served by one server (``NAME@STAGE`` for its own stage):
        the image fetches every model's tagged versions, the Deployment serves them all,
        and the files and objects are named after the names joined by dashes.
    out
        The folder to write into (default ``deploy/`` in the project).
    image
        The image the Kubernetes Deployment runs (default ``NAME:latest``).
    force
        Overwrite files that exist; without it they are refused, named.

    Raises
    ------
    ExportError
        An unknown kind or stage, a bad port or worker count, a name Kubernetes cannot
        use, or existing files without ``force``.
    """
    if kind not in KINDS:
        raise ExportError(f"unknown export {kind!r}: one of {', '.join(KINDS)}")
    if stage not in STAGES:
        raise ExportError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    if not 1 <= port <= 65535:
        raise ExportError(f"port {port} is not a TCP port (1-65535)")
    if not 1 <= workers <= 64:
        raise ExportError(f"workers must be 1-64, not {workers}")
    given = [name] if isinstance(name, str) else list(name)
    for item in given:
        check_k8s_name(str(item).partition("@")[0])
    from readiness.serve.runner import parse_models

    models = parse_models(given, stage)
    name = _deployment_name([n for n, _ in models])
    several = models if len(models) > 1 else None
    folder = Path(out) if out is not None else project.root / "deploy"
    notes: list[str] = []
    files: dict[Path, str] = {}
    commands: list[str] = []
    if kind == "docker":
        dockerfile_path = folder / "Dockerfile"
        files[dockerfile_path] = dockerfile(project, name, stage, port, workers, notes,
                                            several)
        files[folder / "Dockerfile.dockerignore"] = dockerignore()
        context = _relative(dockerfile_path, project.root)
        commands = [
            f"docker build -f {context} -t {name}:VERSION "
            "--secret id=dvc-config,src=.dvc/config.local .",
            f"docker run -p {port}:{port} -v $PWD/.readiness/serve/keys.json:{KEYS_DIR}/"
            f"keys.json:ro -e {LOG_URL_ENV} {name}:VERSION",
        ]
        _docker_notes(project, notes)
    else:
        files[folder / "kubernetes" / f"{name}.yaml"] = kubernetes_yaml(
            name, stage, port, workers, image or f"{name}:latest", several
        )
        if image is None:
            notes.append(
                f"the Deployment runs image {name}:latest: pass --image REGISTRY/{name}:VERSION "
                "(one tag per model version) for a cluster to pull it"
            )
        commands = [
            f"kubectl create secret generic {name}-api-keys "
            "--from-file=keys.json=.readiness/serve/keys.json",
            f"kubectl create secret generic {name}-prediction-log --from-literal=url=URL",
            f"kubectl apply -f {_relative(folder / 'kubernetes' / f'{name}.yaml', project.root)}",
        ]
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise ExportError(
            "not overwriting " + ", ".join(_relative(p, project.root) for p in existing)
            + ": pass --force to replace"
        )
    for path, text in files.items():
        atomic_write_text(path, text)
    return Exported(kind, name, [_relative(p, project.root) for p in files], notes, commands)


def _deployment_name(names: list[str]) -> str:
    """What the files, image and Kubernetes objects of ``names`` are called."""
    if len(names) == 1:
        return names[0]
    joined = "-".join(names)
    longest = 63 - len("-prediction-log")
    if len(joined) > longest:
        raise ExportError(
            f"the models' joined name {joined!r} has more than {longest} characters: Kubernetes "
            "names its objects after it; export fewer models per server"
        )
    return joined


def _docker_notes(project: Project, notes: list[str]) -> None:
    root = project.root
    if not (root / ".git").is_dir():
        notes.append(
            f"{root} is not the root of a git repository: the image is built from .git, so "
            "build with the repository's root as the context (adapt the COPY lines)"
        )
    remote = shared_remote(root)
    if remote is None:
        notes.append(
            "no shared DVC remote in .dvc/config: the build cannot fetch the models; add one "
            "the builder reaches (readiness init --remote URL), commit .dvc/config"
        )
    elif "://" not in remote:
        notes.append(
            f"the DVC remote {remote} is a local folder: a docker build reaches it only if it "
            "is mounted; prefer a shared remote (s3://, gs://, ssh://)"
        )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
