"""The mlflow registry backend against a real MLflow: a tracking server started here on
127.0.0.1 (SQLite backend store, local artifact root, artifacts proxied) and a direct
``sqlite:///`` store. MLflow's own client checks where the aliases are."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import readiness
from readiness.core.errors import ConfigError, ReadinessError
from readiness.integrations.mlflow import available

from .conftest import HANG, SCREENING, cli, commit_all

pytestmark = pytest.mark.slow
needs_mlflow = pytest.mark.skipif(
    not available(), reason="mlflow is not installed: pip install 'readiness[mlflow]'"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """``mlflow server`` on a free port: SQLite store, artifacts under a local folder."""
    if not available():
        pytest.skip("mlflow is not installed: pip install 'readiness[mlflow]'")
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    exe = Path(sys.executable).with_name("mlflow")
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(exe), "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination", str(folder / "artifacts"), "--workers", "1",
        ],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder,
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + HANG
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=5) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"mlflow server did not start:\n{(folder / 'server.log').read_text()}")
        time.sleep(0.5)
    yield uri
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _project(dvc_project, registry: str):
    from readiness.criteria.declaration import declare
    from readiness.data.tracking import track
    from readiness.examples import breast_cancer

    breast_cancer(dvc_project.root / "data" / "breast_cancer")
    declare(dvc_project, SCREENING)
    track(dvc_project, ["data/breast_cancer"])
    with (dvc_project.root / "readiness.yaml").open("a") as config:
        config.write(f"registry: {registry}\n")
    commit_all(dvc_project.root, "criteria, data and the mlflow registry")
    return dvc_project


@pytest.fixture(params=["server", "sqlite"])
def mlflow_project(request, dvc_project):
    """A registry project on the module's tracking server (its own model prefix) or on a
    sqlite:/// store inside the project."""
    if not available():
        pytest.skip("mlflow is not installed: pip install 'readiness[mlflow]'")
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    if request.param == "server":
        uri = request.getfixturevalue("mlflow_server")
    else:
        uri = "sqlite:///.readiness/mlflow.db"
    project = _project(
        dvc_project, f"{{backend: mlflow, tracking_uri: '{uri}', model_prefix: {prefix}}}"
    )
    local = f"sqlite:///{project.root}/.readiness/mlflow.db"
    STORES[project.root] = (uri if uri.startswith("http") else local, prefix)
    return project


STORES: dict[Path, tuple[str, str]] = {}  # project root -> its tracking URI, its model prefix


def client(project):
    from mlflow.tracking import MlflowClient

    uri, prefix = STORES[project.root]
    return MlflowClient(tracking_uri=uri, registry_uri=uri), f"{prefix}screening"


def alias_holder(project, alias: str) -> str | None:
    """Which readiness version MLflow's own client says ``alias`` points at."""
    from mlflow.exceptions import MlflowException

    mlflow_client, name = client(project)
    try:
        found = mlflow_client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    return found.tags["readiness.version"]


def train(project, C: float = 1.0):
    from .test_registry import train as train_here

    return train_here(project, C)


# -- readiness.yaml ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("{backend: mlflow}", "backend mlflow needs tracking_uri"),
        ("{backend: mlflow, tracking_uri: 'file:/x'}", "backend mlflow needs tracking_uri"),
        ("{backend: neptune}", "unknown registry backend 'neptune'; backends: gto, mlflow"),
        ("{tracking_uri: 'http://h:5000'}", "are for backend: mlflow"),
        ("{backend: mlflow, tracking_uri: 'http://h:5000', artifact_root: a}", "artifact_root is"),
    ],
)
def test_the_registry_section_is_checked(project, section, message):
    from readiness.core.config import load_config

    with (project.root / "readiness.yaml").open("a") as config:
        config.write(f"registry: {section}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(project)


# -- the backend -------------------------------------------------------------------------------


@needs_mlflow
def test_register_and_promote_move_mlflow_aliases(mlflow_project):
    from readiness.gate.promotion import promote
    from readiness.registry.versions import register, versions

    trained = train(mlflow_project)
    first = register(mlflow_project, "screening")
    assert first.version == "v1.0.0" and first.metrics["roc_auc/holdout"] > 0.95
    with pytest.raises(ReadinessError, match=r"already screening v1\.0\.0: nothing new"):
        register(mlflow_project, "screening")
    assert alias_holder(mlflow_project, "staging") is None
    assert promote(mlflow_project, "screening", "1.0.0", "staging").promoted
    assert alias_holder(mlflow_project, "staging") == "v1.0.0"
    assert alias_holder(mlflow_project, "production") is None
    assert promote(mlflow_project, "screening", "1.0.0", "production").promoted
    assert alias_holder(mlflow_project, "production") == "v1.0.0"
    assert versions(mlflow_project)[0].stages == ["production", "staging"]

    # what MLflow holds: the version's tags, the run's params and metrics, the skops flavour
    mlflow_client, name = client(mlflow_project)
    held = mlflow_client.get_model_version_by_alias(name, "production")
    assert held.tags["readiness.run"] == first.run_id
    assert json.loads(held.tags["readiness.metrics"]) == first.metrics
    assert len(held.tags["readiness.criteria_hash"]) >= 12
    assert "data/breast_cancer" in json.loads(held.tags["readiness.data"])
    run = mlflow_client.get_run(held.run_id)
    assert run.data.metrics["roc_auc/holdout"] == first.metrics["roc_auc/holdout"]
    assert run.data.params["readiness.run"] == first.run_id
    folder = mlflow_project.root / "downloaded"
    import mlflow.artifacts

    local = mlflow.artifacts.download_artifacts(
        artifact_uri=held.source, dst_path=str(folder), tracking_uri=STORES[mlflow_project.root][0]
    )
    mlmodel = (Path(local) / "MLmodel").read_text()
    assert "serialization_format: skops" in mlmodel and "loader_module: mlflow.sklearn" in mlmodel
    requirements = (Path(local) / "requirements.txt").read_text()
    assert "scikit-learn==" in requirements and "skops==" in requirements

    loaded = readiness.load_model("screening", stage="production")
    assert loaded.get_params()["logisticregression__C"] == trained.get_params()[
        "logisticregression__C"
    ]
    done = cli("models", "screening", "--json", cwd=mlflow_project.root)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["versions"][0]["stages"] == ["production", "staging"]


@needs_mlflow
def test_a_gate_refusal_leaves_the_aliases_alone(mlflow_project):
    from readiness.gate.promotion import promote
    from readiness.registry.versions import register

    train(mlflow_project)
    register(mlflow_project, "screening")
    assert promote(mlflow_project, "screening", "1.0.0", "production").promoted
    train(mlflow_project, C=0.0005)  # a weak model: misses the recall bound
    register(mlflow_project, "screening")
    refused = promote(mlflow_project, "screening", "1.0.1", "production")
    assert not refused.promoted and refused.exit_code == 1
    assert alias_holder(mlflow_project, "production") == "v1.0.0"
    done = cli("promote", "screening", "1.0.1", "--to", "staging", cwd=mlflow_project.root)
    assert done.returncode == 1 and "REFUSED" in done.stdout
    assert alias_holder(mlflow_project, "staging") is None


@needs_mlflow
def test_drill_rollback_and_delete_follow_the_audit_history(mlflow_project):
    from readiness.gate.promotion import promote
    from readiness.registry.versions import delete_version, drill, register, rollback

    train(mlflow_project)
    register(mlflow_project, "screening")
    promote(mlflow_project, "screening", "1.0.0", "production")
    with pytest.raises(ReadinessError, match="nothing to roll back to"):
        rollback(mlflow_project, "screening")
    train(mlflow_project, C=0.5)
    register(mlflow_project, "screening")
    rehearsal = drill(mlflow_project, "screening")
    assert rehearsal.ok, rehearsal.detail
    assert (rehearsal.from_version, rehearsal.to_version) == ("v1.0.1", "v1.0.0")
    assert alias_holder(mlflow_project, "production") == "v1.0.0"  # a drill moves nothing
    assert promote(mlflow_project, "screening", "1.0.1", "production").promoted
    assert readiness.load_model("screening").get_params()["logisticregression__C"] == 0.5

    back = rollback(mlflow_project, "screening")
    assert (back.from_version, back.to_version) == ("v1.0.1", "v1.0.0")
    assert alias_holder(mlflow_project, "production") == "v1.0.0"
    assert readiness.load_model("screening").get_params()["logisticregression__C"] == 1.0
    with pytest.raises(ReadinessError, match="nothing to roll back to"):
        rollback(mlflow_project, "screening")

    with pytest.raises(ReadinessError, match=r"v1\.0\.0 is in production \(an alias points"):
        delete_version(mlflow_project, "screening", "1.0.0")
    delete_version(mlflow_project, "screening", "1.0.1")
    mlflow_client, name = client(mlflow_project)
    assert [str(v.version) for v in mlflow_client.search_model_versions(f"name = '{name}'")] == ["1"]


@needs_mlflow
def test_a_moved_project_folder_still_loads_its_models(dvc_project, tmp_path):
    from readiness.core.project import Project
    from readiness.gate.promotion import promote
    from readiness.registry.versions import load_model, register

    project = _project(dvc_project, "{backend: mlflow, tracking_uri: 'sqlite:///.readiness/m.db'}")
    train(project)
    register(project, "screening")
    promote(project, "screening", "1.0.0", "production")
    moved = tmp_path / "elsewhere"
    shutil.move(project.root, moved)
    os.chdir(moved)
    model = load_model(Project(moved), "screening", stage="production")
    assert model.get_params()["logisticregression__C"] == 1.0


@needs_mlflow
@pytest.mark.parametrize(
    ("step", "serving"), [("promote:production:before", "v1.0.0"),
                          ("promote:production:assigned", "v1.0.1")]
)
def test_a_sigkill_during_promotion_leaves_production_on_a_gated_version(
    mlflow_project, step, serving
):
    from readiness.core import audit
    from readiness.gate.promotion import promote
    from readiness.registry.versions import drill, register

    train(mlflow_project)
    register(mlflow_project, "screening")
    promote(mlflow_project, "screening", "1.0.0", "production")
    train(mlflow_project, C=0.5)
    register(mlflow_project, "screening")
    assert drill(mlflow_project, "screening").ok
    exe = Path(sys.executable).with_name("readiness")
    killed = subprocess.run(
        [str(exe), "promote", "screening", "1.0.1", "--to", "production"],
        cwd=mlflow_project.root, capture_output=True, text=True, timeout=HANG,
        env={**os.environ, "READINESS_FAULT_AT": step},
    )
    assert killed.returncode == -9, killed.stderr
    assert alias_holder(mlflow_project, "production") == serving  # both passed their gate
    done = cli("models", "screening", cwd=mlflow_project.root)
    assert done.returncode == 0, done.stderr
    promoted = [
        e for e in audit.read(mlflow_project)
        if e.get("event") == "model.promoted" and e.get("version") == "v1.0.1"
    ]
    # a move MLflow made is on record now, from its intent; one it never made is not
    assert [e.get("reconciled") for e in promoted] == ([True] if serving == "v1.0.1" else [])


@needs_mlflow
def test_concurrent_first_use_of_a_fresh_sqlite_store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    code = (
        "import sys; from pathlib import Path; from readiness.integrations import mlflow; "
        f"mlflow.prepare_store({uri!r}, Path({str(tmp_path / 'lock')!r})); "
        f"mlflow.client({uri!r}).create_experiment('e' + sys.argv[1])"
    )
    both = [
        subprocess.Popen([sys.executable, "-c", code, str(i)], stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    for process in both:
        _, err = process.communicate(timeout=HANG)
        assert process.returncode == 0, err


@pytest.mark.skipif(available(), reason="mlflow is installed: this is the message without it")
def test_without_mlflow_the_backend_says_what_to_install(project):
    from readiness.registry.versions import versions

    with (project.root / "readiness.yaml").open("a") as config:
        config.write("registry: {backend: mlflow, tracking_uri: 'sqlite:///.readiness/m.db'}\n")
    with pytest.raises(ReadinessError, match=r"needs MLflow: pip install 'readiness\[mlflow\]'"):
        versions(project)
