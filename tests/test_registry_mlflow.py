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


def _project(dvc_project, registry: str, setup: str = SCREENING):
    from readiness.criteria.declaration import declare
    from readiness.data.tracking import track
    from readiness.examples import breast_cancer

    breast_cancer(dvc_project.root / "data" / "breast_cancer")
    declare(dvc_project, setup)
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
    refused = cli("models", "delete", "screening@1.0.0", "--yes", cwd=mlflow_project.root)
    assert refused.returncode == 2 and "an alias points to it" in refused.stderr, refused.stderr
    done = cli("models", "delete", "screening@1.0.1", "--yes", cwd=mlflow_project.root)
    assert done.returncode == 0 and "deleted screening v1.0.1 (mlflow:" in done.stdout, done.stderr
    mlflow_client, name = client(mlflow_project)
    assert [str(v.version) for v in mlflow_client.search_model_versions(f"name = '{name}'")] == ["1"]
    from readiness.core import audit

    event = audit.read(mlflow_project)[-1]
    assert (event["event"], event["version"]) == ("model.deleted", "v1.0.1")


@needs_mlflow
def test_a_moved_project_folder_still_loads_its_models(dvc_project, tmp_path):
    from readiness.core.project import Project
    from readiness.gate.promotion import promote
    from readiness.registry.profiles import read_stored
    from readiness.registry.versions import in_stage, load_model, register

    from .test_serve import SETUP

    project = _project(dvc_project, "{backend: mlflow, tracking_uri: 'sqlite:///.readiness/m.db'}",
                       SETUP)
    train(project)
    register(project, "screening")
    promote(project, "screening", "1.0.0", "production")
    moved = tmp_path / "elsewhere"
    shutil.move(project.root, moved)
    os.chdir(moved)
    model = load_model(Project(moved), "screening", stage="production")
    assert model.get_params()["logisticregression__C"] == 1.0
    # the reference profile is an artifact of the version's run: it moved with the folder
    stored = read_stored(Project(moved), in_stage(Project(moved), "screening", "production"))
    assert stored is not None and stored.source == "data/breast_cancer/train.csv"


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
def test_monitor_retrains_and_promotes_through_the_gate_on_mlflow(
    registry_template, tmp_path, monkeypatch
):
    """The retraining loop on the MLflow backend: production trained by the retraining
    notebook, drift on new data, the notebook run again, the candidate registered and moved
    to production by the gate, as on GTO (test_registry's twin of this test)."""
    from readiness.examples import shifted_sample
    from readiness.gate.promotion import promote
    from readiness.registry.versions import in_stage, register

    from .conftest import use_copy

    project = use_copy(registry_template, tmp_path / "dvcproj", monkeypatch)
    root = project.root
    with (root / "readiness.yaml").open("a") as config:
        config.write("registry: {backend: mlflow, tracking_uri: 'sqlite:///.readiness/m.db'}\n")
    commit_all(root, "the mlflow registry")
    STORES[root] = (f"sqlite:///{root}/.readiness/m.db", "")
    done = cli("run", "notebooks/retrain.ipynb", "-p", "model_name", '"screening"', cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    register(project, "screening")
    assert promote(project, "screening", "1.0.0", "production").promoted

    shifted_sample(root / "data/breast_cancer/train.csv", root / "data" / "new.csv")
    done = cli("monitor", "screening", "--current", "data/new.csv", "--json", cwd=root)
    result = json.loads(done.stdout)
    assert [s["step"] for s in result["steps"]][:5] == [
        "start", "drift", "data", "train", "register"
    ], done.stderr
    assert result["candidate"] == "v1.0.1"
    assert done.returncode == 0 and result["outcome"] == "promoted", done.stdout
    assert in_stage(project, "screening", "production").version == "v1.0.1"
    assert alias_holder(project, "production") == "v1.0.1"  # MLflow's own client agrees


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


# -- one registered project on the server, shared by the tests below --------------------------


@pytest.fixture(scope="module")
def served_on_mlflow(mlflow_server, tmp_path_factory):
    """test_serve's project on the module's tracking server: v1.0.0 in production, its
    training data profiled, a shifted sample beside it."""
    import pandas as pd

    from readiness.examples import shifted_sample

    from .test_monitor_log import SETUP
    from .test_serve import build_served_project

    root = tmp_path_factory.mktemp("mlflow-served") / "proj"
    prefix = "served-"
    project = build_served_project(
        root, SETUP, strengths=(1.0,),
        registry=f"{{backend: mlflow, tracking_uri: '{mlflow_server}', model_prefix: {prefix}}}",
    )
    STORES[project.root] = (mlflow_server, prefix)
    shifted = pd.read_csv(shifted_sample(root / "data/breast_cancer/holdout.csv",
                                         root.parent / "shifted.csv"))
    shifted.drop(columns="malignant").to_csv(root / "shifted.csv", index=False)
    return project


@needs_mlflow
def test_the_reference_profile_is_stored_with_the_mlflow_version(served_on_mlflow):
    from .test_profiles import _features, _verdicts

    root = served_on_mlflow.root
    mlflow_client, name = client(served_on_mlflow)
    held = mlflow_client.get_model_version_by_alias(name, "production")
    listed = [a.path for a in mlflow_client.list_artifacts(held.run_id, "profile")]
    assert listed == ["profile/screening.profile.json"] and not (
        root / "models" / "screening.profile.json").exists()  # MLflow holds it, not the tree
    import pandas as pd

    from readiness.monitoring.drift import drift, reference_profile

    columns = _features(root)
    shifted = pd.read_csv(root / "shifted.csv")
    # the GTO path's verdicts: test_profiles shows its stored profile judges as the data does
    train_df = pd.read_csv(root / "data/breast_cancer/train.csv")
    on_data = drift(train_df, shifted, columns=columns.split(","), project=served_on_mlflow,
                    save=False)
    expected = _verdicts(subprocess.CompletedProcess([], 0, on_data.to_json(), ""))
    done = cli("drift", "--profile", "screening@1.0.0", "shifted.csv", "--columns", columns,
               "--json", cwd=root)
    assert "Downloading artifacts" not in done.stderr, done.stderr  # no MLflow progress bar
    on_profile = _verdicts(done)
    assert on_profile == expected and any(c[4] for c in expected[0])
    production, label = reference_profile(served_on_mlflow, "screening")  # NAME: production's
    assert label == "screening v1.0.0 (profile of data/breast_cancer/train.csv)"
    on_production = drift(production, shifted, columns=columns.split(","),
                          project=served_on_mlflow, save=False)
    assert _verdicts(subprocess.CompletedProcess([], 0, on_production.to_json(), "")) == expected


@needs_mlflow
def test_each_record_logs_its_evidence_to_the_runs_mlflow_run(served_on_mlflow):
    from readiness.evidence.record import make_evidence, record_many
    from readiness.evidence.runs import read_run
    from readiness.registry.versions import in_stage

    mlflow_client, _ = client(served_on_mlflow)
    run_id = in_stage(served_on_mlflow, "screening", "production").run_id
    recorded = read_run(served_on_mlflow, run_id)
    assert "mlflow" not in recorded  # nothing was missed

    def mirrored():
        return mlflow_client.search_runs(
            [mlflow_client.get_experiment_by_name("served-screening").experiment_id],
            filter_string=f"tags.`readiness.evidence_run` = '{run_id}'",
        )

    found = mirrored()
    assert len(found) == 1  # one MLflow run per readiness run, whatever recorded into it
    wanted = {f"{e['name']}/{e['split']}": e["value"] for e in recorded["evidence"]
              if isinstance(e["value"], (int, float)) and not isinstance(e["value"], bool)}
    assert wanted and {k: found[0].data.metrics[k] for k in wanted} == pytest.approx(wanted)
    # recording again into the run (another process): the same MLflow run, one more metric
    with pytest.MonkeyPatch.context() as env:
        env.chdir(served_on_mlflow.root)
        record_many([make_evidence("calibration_error", 0.03)], display=False, run_id=run_id)
    again = mirrored()
    assert [r.info.run_id for r in again] == [found[0].info.run_id]
    assert again[0].data.metrics["calibration_error/holdout"] == 0.03


@needs_mlflow
def test_a_tracking_server_that_is_down_never_fails_a_record(project, capfd):
    import time as clock

    from readiness.evidence.record import make_evidence, record_many
    from readiness.evidence.runs import read_run

    with (project.root / "readiness.yaml").open("a") as config:
        config.write(f"registry: {{backend: mlflow, tracking_uri: 'http://127.0.0.1:{_free_port()}'}}\n")
    started = clock.monotonic()
    items = record_many([make_evidence("roc_auc", 0.97)], display=False)
    record_many([make_evidence("recall", 0.9)], display=False)  # no second wait
    took = clock.monotonic() - started
    err = capfd.readouterr().err
    assert err.count("not logged to MLflow") == 1 and "Traceback" not in err, err
    run = read_run(project, items[0].run_id)
    assert [e["name"] for e in run["evidence"]] == ["roc_auc", "recall"]
    assert run["mlflow"]["logged"] is False and "127.0.0.1" in run["mlflow"]["error"]
    assert took < HANG


@needs_mlflow
def test_probes_card_serve_monitor_and_dashboard_read_the_mlflow_registry(served_on_mlflow):
    """In process but serve (a real uvicorn): the same functions as the commands, which a
    spawned CLI would only import again."""
    import time as clock

    from readiness.gate.check import full_check
    from readiness.gate.reports import model_card
    from readiness.monitoring.from_log import monitor_log
    from readiness.monitoring.timeline import timeline
    from readiness.serve.keys import add_key

    from .test_serve import PREDICT, Http, holdout_rows, start

    root = served_on_mlflow.root
    result = json.loads(full_check(served_on_mlflow).to_json())
    assert result["model"].startswith("screening v1.0.0 (production)"), result.get("model")
    details = " ".join(i["detail"] for i in result["checklist"])
    assert "no registered model" not in details and "GTO" not in details, details
    assert model_card(served_on_mlflow).paths == ["docs/model-card.md"]
    text = (root / "docs" / "model-card.md").read_text()
    assert "# Model card: screening v1.0.0" in text and "registered by: Test User" in text
    key = add_key(served_on_mlflow, "ci").key
    rows, _ = holdout_rows(root, 5)
    with start(served_on_mlflow) as server:
        call = Http(server.url, key)
        status, body = call("POST", PREDICT, {"rows": rows})
        assert status == 200 and body["model_version"] == "v1.0.0", body
        status, ready = call("GET", "/readyz", key=False)
        assert status == 200 and ready["serving"] == "v1.0.0" and ready["in_sync"], ready
    watched = monitor_log(served_on_mlflow, "screening", window="1h")
    # drift judged against the profile stored with the MLflow version, not the training data
    assert [(v.version, v.reference) for v in watched.versions] == [
        ("v1.0.0", "data/breast_cancer/train.csv (profile of v1.0.0)")]
    assert watched.versions[0].prediction_kind == "label"  # /predict was called
    shown = timeline(served_on_mlflow, "screening", clock.time() - 3600, clock.time(), 6)
    assert shown.requests >= 1 and "v1.0.0" in shown.versions, shown.to_dict()
