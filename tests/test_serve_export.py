"""The scale-out files: a Dockerfile and Kubernetes objects, checked offline.

The structure is checked by parsing (every YAML document, every Dockerfile instruction);
the tools that validate such files offline (kubeconform, hadolint, kubectl's kustomize)
run too when they are on PATH, and are skipped with the reason when not.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from readiness import render
from readiness.core.errors import ReadinessError
from readiness.serve.export import ExportError, export

from . import test_registry as base

registry_project = base.registry_project  # a DVC + GTO project with the example data

NAME = "churn-model"


def _k8s(project, name=NAME, **kwargs) -> tuple[Path, list[dict]]:
    result = export(project, name, "kubernetes", **kwargs)
    path = project.root / result.files[0]
    docs = [d for d in YAML(typ="safe").load_all(path.read_text()) if d is not None]
    return path, docs


def _by_kind(docs: list[dict]) -> dict[str, dict]:
    return {d["kind"]: d for d in docs}


def test_kubernetes_objects_fit_together(project):
    path, docs = _k8s(project, port=8123, workers=3, image="registry.example/churn-model:v1.2.0")
    assert path == project.root / "deploy" / "kubernetes" / f"{NAME}.yaml"
    objects = _by_kind(docs)
    assert [d["kind"] for d in docs] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    expected_api = {"Deployment": "apps/v1", "Service": "v1",
                    "HorizontalPodAutoscaler": "autoscaling/v2"}
    for kind, doc in objects.items():
        assert doc["apiVersion"] == expected_api[kind]
        assert doc["metadata"]["name"] == NAME

    deployment, service, hpa = (objects[k] for k in expected_api)
    spec = deployment["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"] == labels
    assert service["spec"]["selector"] == labels and service["spec"]["type"] == "ClusterIP"
    (container,) = spec["template"]["spec"]["containers"]
    assert container["image"] == "registry.example/churn-model:v1.2.0"
    assert container["args"] == ["readiness", "serve", NAME, "--stage", "production", "--host",
                                 "0.0.0.0", "--port", "8123", "--workers", "3"]
    (container_port,) = container["ports"]
    assert container_port["containerPort"] == 8123
    (service_port,) = service["spec"]["ports"]
    assert service_port["port"] == 80
    assert service_port["targetPort"] in (8123, container_port["name"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in (8123, container_port["name"])
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and set(resources["limits"])

    annotations = spec["template"]["metadata"]["annotations"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": "8123",
                           "prometheus.io/path": "/metrics"}  # strings, as Kubernetes wants

    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == ("apps/v1", "Deployment",
                                                                      NAME)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}


def test_kubernetes_secrets_are_references_only(project):
    path, docs = _k8s(project)
    deployment = _by_kind(docs)["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["READINESS_PREDICTION_LOG_URL"] == {
        "name": "READINESS_PREDICTION_LOG_URL",
        "valueFrom": {"secretKeyRef": {"name": f"{NAME}-prediction-log", "key": "url"}},
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    keys_volume = volumes["api-keys"]["secret"]
    assert keys_volume["secretName"] == f"{NAME}-api-keys"
    assert "items" not in keys_volume  # every key of the Secret is a file: keys.json is one
    keys_file = Path(mounts["api-keys"]["mountPath"]) / "keys.json"
    assert env["READINESS_API_KEYS_FILE"]["value"] == str(keys_file)
    assert mounts["api-keys"]["readOnly"] is True
    # the non-root user reads the Secret through its group
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"] != 0
    assert keys_volume["defaultMode"] & 0o040
    multiproc = env["PROMETHEUS_MULTIPROC_DIR"]["value"]
    assert "emptyDir" in volumes["metrics"] and mounts["metrics"]["mountPath"] == multiproc
    # every mount has its volume
    assert set(mounts) <= set(volumes)
    # no value of a secret anywhere: no Secret object, nothing that looks like a URL or key
    assert all(d["kind"] != "Secret" for d in docs)
    body = "\n".join(ln for ln in path.read_text().splitlines() if not ln.startswith("#"))
    assert not re.search(r"postgres(ql)?(\+\w+)?://|rdy_[0-9a-f]{8}_|password", body, re.I)
    for item in container["env"]:
        if "value" in item:
            assert item["name"] in ("READINESS_API_KEYS_FILE", "PROMETHEUS_MULTIPROC_DIR")


def test_the_secret_scan_of_the_checklist_finds_nothing_in_the_files(project):
    from readiness.checklist.probes.security import find_secrets
    from readiness.serve.keys import add_key

    add_key(project, "web")
    export(project, NAME, "kubernetes")
    export(project, NAME, "docker")
    assert find_secrets(project.root) == []


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_dockerfile_runs_the_model_as_a_non_root_user(project):
    result = export(project, NAME, "docker", port=8080, workers=4, stage="staging")
    assert result.files == ["deploy/Dockerfile", "deploy/Dockerfile.dockerignore"]
    steps = _instructions((project.root / "deploy" / "Dockerfile").read_text())
    kinds = [k for k, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert kinds.count("CMD") == 1 and kinds[-1] == "CMD"
    users = [arg for kind, arg in steps[: kinds.index("CMD")] if kind == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert dict(steps)["EXPOSE"] == "8080"
    assert json.loads(dict(steps)["CMD"]) == [
        "readiness", "serve", NAME, "--stage", "staging", "--host", "0.0.0.0",
        "--port", "8080", "--workers", "4",
    ]
    health = dict(steps)["HEALTHCHECK"]
    assert "CMD" in health and "127.0.0.1:8080/healthz" in health
    # the models come from DVC at their tags; git is there to read those tags
    runs = " ".join(arg for kind, arg in steps if kind == "RUN")
    assert f"dvc fetch --all-tags models/{NAME}.skops" in runs and "git" in runs
    assert 'pip install "readiness==' in runs  # no lock file in this project
    assert any(k == "COPY" and ".git" in a for k, a in steps)
    assert any("no lock file" in note for note in result.notes)


def test_the_dockerfile_installs_the_pinned_requirements(project):
    (project.root / "requirements.txt").write_text("scikit-learn==1.5.0\nreadiness==0.1.0\n")
    export(project, NAME, "docker")
    steps = _instructions((project.root / "deploy" / "Dockerfile").read_text())
    copies = [a for k, a in steps if k == "COPY"]
    assert "requirements.txt /tmp/deps/" in copies
    assert any("pip install -r requirements.txt" in a for k, a in steps if k == "RUN")
    # copied and installed before the project, as the build cache wants
    kinds = [k for k, _ in steps]
    assert copies.index("requirements.txt /tmp/deps/") < len(copies) - 1
    assert kinds.index("RUN") < kinds.index("USER")


def test_the_docker_context_sends_the_repository_and_no_secret(project):
    export(project, NAME, "docker")
    ignore = (project.root / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [p for p in ignore if p and not p.startswith("#")]
    assert patterns[0] == "*"  # everything is excluded ...
    assert set(patterns[1:]) <= {"!.git", "!requirements.txt", "!requirements.lock",
                                 "!pyproject.toml", "!uv.lock", "!poetry.lock"}
    assert "!.git" in patterns  # ... but the repository the image checks out


def test_existing_files_are_refused_unless_forced(project):
    export(project, NAME, "kubernetes")
    path = project.root / "deploy" / "kubernetes" / f"{NAME}.yaml"
    path.write_text("# edited by hand\n")
    with pytest.raises(ExportError, match=f"not overwriting deploy/kubernetes/{NAME}.yaml"):
        export(project, NAME, "kubernetes")
    assert path.read_text() == "# edited by hand\n"
    export(project, NAME, "kubernetes", force=True)
    assert "kind: Deployment" in path.read_text()

    export(project, NAME, "docker")
    with pytest.raises(ExportError, match=re.escape("deploy/Dockerfile, deploy/Dockerfile.dockerignore")):
        export(project, NAME, "docker")


def test_several_models_one_image_one_deployment(project):
    """readiness serve A B@staging --export: the image fetches both models' tagged versions,
    one Deployment serves both; the files and objects take the names joined."""
    models = [NAME, "fraud@staging"]
    result = export(project, models, "docker", port=8080)
    steps = _instructions((project.root / "deploy" / "Dockerfile").read_text())
    runs = " ".join(arg for kind, arg in steps if kind == "RUN")
    assert f"dvc fetch --all-tags models/{NAME}.skops models/fraud.skops" in runs
    assert json.loads(dict(steps)["CMD"])[:5] == ["readiness", "serve", NAME, "fraud@staging",
                                                   "--stage"]
    assert f"-t {NAME}-fraud:VERSION" in result.commands[0]

    path, docs = _k8s(project, models)
    assert path.name == f"{NAME}-fraud.yaml"
    objects = _by_kind(docs)
    assert {d["metadata"]["name"] for d in docs} == {f"{NAME}-fraud"}
    (container,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["args"][:5] == ["readiness", "serve", NAME, "fraud@staging", "--stage"]
    with pytest.raises(ExportError, match="joined name"):
        export(project, [NAME, "a" * 40], "kubernetes")
    with pytest.raises(ReadinessError, match="named twice"):
        export(project, [NAME, NAME], "kubernetes", force=True)


def test_out_moves_the_files(project, tmp_path):
    result = export(project, NAME, "kubernetes", out=tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "kubernetes" / f"{NAME}.yaml").is_file()
    assert result.files == [str(tmp_path / "elsewhere" / "kubernetes" / f"{NAME}.yaml")]


@pytest.mark.parametrize(
    ("name", "kind", "kwargs", "message"),
    [
        (NAME, "helm", {}, "unknown export 'helm'"),
        (NAME, "docker", {"stage": "prod"}, "unknown stage 'prod'"),
        (NAME, "docker", {"port": 0}, "not a TCP port"),
        (NAME, "docker", {"workers": 0}, "workers must be 1-64"),
        ("Churn", "docker", {}, "lowercase letters"),
        ("9lives", "kubernetes", {}, "must start with a letter"),
        ("a" * 60, "kubernetes", {}, "at most 48 characters"),
    ],
)
def test_bad_requests_are_one_line_errors(project, name, kind, kwargs, message):
    with pytest.raises(ReadinessError, match=message) as info:
        export(project, name, kind, **kwargs)
    assert "\n" not in str(info.value)
    assert not (project.root / "deploy").exists()


def test_the_result_renders_the_files_and_the_next_steps(project):
    text = render.text(export(project, NAME, "kubernetes"))
    assert f"deploy/kubernetes/{NAME}.yaml" in text
    assert f"kubectl create secret generic {NAME}-api-keys" in text
    assert f"kubectl apply -f deploy/kubernetes/{NAME}.yaml" in text


# -- the tools that validate these files offline, where installed ------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not on PATH: the files are checked by parsing only")
    return path


def test_kubeconform_accepts_the_objects(project):
    tool = _tool("kubeconform")
    path, _ = _k8s(project)
    # -strict: unknown fields fail; schemas come with kubeconform or its cache
    done = subprocess.run([tool, "-strict", "-summary", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_kubectl_kustomize_reads_the_objects_offline(project, tmp_path):
    tool = _tool("kubectl")
    path, docs = _k8s(project)
    folder = tmp_path / "kustomize"
    folder.mkdir()
    shutil.copy(path, folder / path.name)
    (folder / "kustomization.yaml").write_text(f"resources:\n  - {path.name}\n")
    # `kubectl apply --dry-run=client` asks a cluster for its schemas; kustomize needs none
    done = subprocess.run([tool, "kustomize", str(folder)], capture_output=True, text=True,
                          timeout=120, env={"KUBECONFIG": "/dev/null", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    rendered = [d for d in YAML(typ="safe").load_all(done.stdout) if d]
    assert sorted(d["kind"] for d in rendered) == sorted(d["kind"] for d in docs)


def test_hadolint_accepts_the_dockerfile(project):
    tool = _tool("hadolint")
    export(project, NAME, "docker")
    # DL3008: apt packages unpinned (git from the base image's release is what we want)
    done = subprocess.run([tool, "--ignore", "DL3008", str(project.root / "deploy" / "Dockerfile")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the image's build steps, run for real without Docker ---------------------------------


def _build_steps(dockerfile: str) -> list[str]:
    """The shell commands of the Dockerfile's RUN steps after the repository is copied in."""
    steps = _instructions(dockerfile)
    copied = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and ".git" in a)
    commands = []
    for kind, arg in steps[copied + 1:]:
        if kind == "RUN":
            commands.append(re.sub(r"^(--mount=\S+\s+)+", "", arg))
    return commands


def test_the_image_build_steps_give_the_server_its_model_offline(registry_project, tmp_path,
                                                                 monkeypatch):
    """COPY .git, then the Dockerfile's own RUN lines: the production model loads from the
    result with no way back to the project (its remote's config is gone, as the build
    secret is after its step)."""
    import numpy as np
    import pandas as pd

    from readiness.core.project import Project
    from readiness.gate.promotion import promote
    from readiness.registry.versions import load_model, register

    project = registry_project
    model = base.train(project)
    register(project, "screening")
    assert promote(project, "screening", "1.0.0", "staging").promoted
    assert promote(project, "screening", "1.0.0", "production", force=True,
                   reason="build test").promoted
    export(project, "screening", "docker")
    commands = _build_steps((project.root / "deploy" / "Dockerfile").read_text())
    assert commands[0].startswith("git reset") and commands[-1].startswith("dvc fetch")

    image = tmp_path / "image" / "app"
    image.mkdir(parents=True)
    shutil.copytree(project.root / ".git", image / ".git")  # COPY .git /app/.git
    secret = image / ".dvc" / "config.local"
    for command in commands:
        if command.startswith("dvc "):  # the build secret is mounted for this step only
            secret.parent.mkdir(exist_ok=True)
            shutil.copy(project.root / ".dvc" / "config.local", secret)
        done = subprocess.run(command, shell=True, cwd=image, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        secret.unlink(missing_ok=True)
    assert not (image / "models" / "screening.skops").exists()  # fetched, not checked out
    assert not (image / ".readiness" / "serve").exists()  # no keys in the image

    monkeypatch.chdir(image)
    served = load_model(Project(image), "screening", "production")
    holdout = pd.read_csv(project.root / "data" / "breast_cancer" / "holdout.csv")
    features = holdout.drop(columns="malignant")
    assert np.array_equal(served.predict(features), model.predict(features))
