"""Model files: the explicit skops allow-list, crafted payloads refused, reproducible saves."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import readiness
from readiness.core.errors import ReadinessError
from readiness.registry.models import (
    DEFAULT_TRUSTED_TYPES,
    ModelError,
    load_file,
    loads,
    reproducible,
)

from .conftest import SCREENING, cli, commit_all, use_copy

# -- crafted files ------------------------------------------------------------------------


def crafted(module: str, name: str, args: tuple) -> bytes:
    """A real skops archive whose schema calls ``module.name(*args)`` on load.

    skops' LossNode takes its constructor from the schema: the file names the callable,
    and loading calls it with the archived arguments (a real dump of ``args``).
    """
    import skops.io

    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(tuple(args)))) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    arguments = json.loads(members["schema.json"])
    meta = {key: arguments.pop(key) for key in ("protocol", "_skops_version")}
    nothing = {"__class__": "NoneType", "__module__": "builtins", "__loader__": "JsonNode"}
    schema = {
        "__class__": name,
        "__module__": module,
        "__loader__": "LossNode",
        "__reduce__": {"args": arguments},
        "content": {**nothing, "content": "null", "is_json": True, "__id__": 1},
        "__id__": 2,
        **meta,
    }
    members["schema.json"] = json.dumps(schema).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buffer.getvalue()


def payloads(marker: Path) -> dict[str, tuple]:
    """Type name -> arguments; those that run write ``marker`` (or import a module that does)."""
    write = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    return {
        "builtins.exec": (write,),
        "builtins.eval": (write,),
        "builtins.compile": (write, "<model>", "exec"),
        "builtins.open": (str(marker), "w"),
        "builtins.getattr": (str(marker), "upper"),
        "builtins.__import__": ("trust_payload",),
        "os.system": (f"touch {marker}",),
        "subprocess.Popen": (["touch", str(marker)],),
        "functools.partial": (print, "ran"),
        "operator.attrgetter": ("__class__",),
    }


@pytest.fixture
def marker(tmp_path, monkeypatch):
    """A file the payloads create if they run, and a module that creates it on import."""
    path = tmp_path / "payload-ran"
    (tmp_path / "trust_payload.py").write_text(
        f"import pathlib\npathlib.Path({str(path)!r}).write_text('ran')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("trust_payload", None)
    return path


def test_the_payloads_are_real(marker):
    """Plain skops trusting what a file names runs it: these payloads are not inert."""
    import skops.io

    for type_name in ("builtins.exec", "builtins.eval", "builtins.open", "os.system"):
        data = crafted(*type_name.rsplit(".", 1), payloads(marker)[type_name])
        skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))
        assert marker.exists(), type_name
        marker.unlink()


def test_every_dangerous_type_is_refused_before_anything_runs(marker, tmp_path):
    for type_name, args in payloads(marker).items():
        data = crafted(*type_name.rsplit(".", 1), args)
        with pytest.raises(ModelError, match=rf"not trusted: .*{type_name.replace('.', '[.]')}"):
            loads(data, source="evil.skops")
        path = tmp_path / "evil.skops"
        path.write_bytes(data)
        with pytest.raises(ModelError, match=r"evil\.skops contains types that are not trusted"):
            load_file(path)
        assert not marker.exists(), f"{type_name} ran"
    assert "trust_payload" not in sys.modules


def test_a_payload_inside_a_real_model_is_refused(marker):
    """The payload node replaces an attribute of a fitted model: the whole tree is checked."""
    import skops.io
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(model))) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    schema = json.loads(members["schema.json"])
    evil = json.loads(
        zipfile.ZipFile(io.BytesIO(crafted("builtins", "exec", ("1",)))).read("schema.json")
    )
    for key in ("protocol", "_skops_version"):
        evil.pop(key)
    schema["content"]["content"]["C"] = payload = evil
    payload["__reduce__"]["args"]["content"][0]["content"] = json.dumps(
        f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    )
    members["schema.json"] = json.dumps(schema).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    with pytest.raises(ModelError, match=r"not trusted: builtins\.exec"):
        loads(buffer.getvalue())
    assert not marker.exists()


@pytest.mark.parametrize(
    "type_name",
    [
        "builtins.exec",
        "numpy.load",
        "numpy.save",
        "scipy.io.savemat",
        "collections.namedtuple",
        "sklearn.utils.validation.check_array",
    ],
)
def test_no_module_prefix_is_trusted(type_name):
    """The old rule trusted every name under builtins./numpy./scipy./sklearn./collections."""
    with pytest.raises(ModelError, match=rf"not trusted: {type_name.replace('.', '[.]')}"):
        loads(crafted(*type_name.rsplit(".", 1), ("x",)))


def test_the_default_allow_list_holds_no_callable():
    """Every default is a class that holds fitted data, never a function or a builtin."""
    import importlib
    import inspect

    for type_name in sorted(DEFAULT_TRUSTED_TYPES):
        module, name = type_name.rsplit(".", 1)
        found = getattr(importlib.import_module(module), name)
        assert inspect.isclass(found), type_name
        assert not type_name.startswith(("builtins.", "functools.", "operator.", "os."))


# -- standard models load with no trusted= -----------------------------------------------------


def _standard_models():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC, SVR
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    def prep():
        return ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["a", "b"]),
                ("cat", OneHotEncoder(handle_unknown="ignore"), ["c"]),
            ]
        )

    classifiers = {
        "logistic": LogisticRegression(),
        "tree": DecisionTreeClassifier(random_state=0),
        "forest": RandomForestClassifier(10, random_state=0),
        "gradient boosting": GradientBoostingClassifier(n_estimators=10, random_state=0),
        "hist gradient boosting": HistGradientBoostingClassifier(max_iter=10),
        "knn": KNeighborsClassifier(3),
        "knn ball tree": KNeighborsClassifier(3, algorithm="ball_tree"),
        "knn kd tree manhattan": KNeighborsClassifier(3, algorithm="kd_tree", metric="manhattan"),
        "svc": SVC(random_state=0),
        "calibrated svc": CalibratedClassifierCV(SVC(random_state=0), cv=3),
    }
    regressors = {
        "linear": LinearRegression(),
        "ridge": Ridge(),
        "tree regressor": DecisionTreeRegressor(random_state=0),
        "forest regressor": RandomForestRegressor(10, random_state=0),
        "gradient boosting regressor": GradientBoostingRegressor(n_estimators=10),
        "hist gradient boosting regressor": HistGradientBoostingRegressor(max_iter=10),
        "knn regressor": KNeighborsRegressor(3),
        "svr": SVR(),
    }
    for name, model in classifiers.items():
        yield name, make_pipeline(prep(), model), "class"
    for name, model in regressors.items():
        yield name, make_pipeline(prep(), model), "value"


def _frame():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=120),
            "b": rng.normal(size=120),
            "c": rng.choice(["north", "south", "east"], 120),
        }
    )
    frame.loc[::17, "b"] = np.nan
    frame["class"] = ((frame.a + (frame.c == "north")) > 0.4).astype(int)
    frame["value"] = 3 * frame.a + (frame.c == "south") + rng.normal(scale=0.1, size=120)
    return frame


def test_standard_sklearn_models_load_with_no_trusted_types():
    import numpy as np
    import skops.io

    frame = _frame()
    features = frame[["a", "b", "c"]]
    for name, model, target in _standard_models():
        model.fit(features, frame[target])
        back = loads(skops.io.dumps(model), source=name)
        np.testing.assert_array_equal(back.predict(features), model.predict(features), name)


# -- reproducible saves ----------------------------------------------------------------------

TRAIN = """
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4))
y = (X[:, 0] > 0).astype(int)
model = RandomForestClassifier(8, random_state=0).fit(X, y)
texts = ["red apple", "green apple", "blue sky", "grey sky"]
vectorizer = TfidfVectorizer(stop_words=["the", "a", "of", "and"]).fit(texts)
"""


def test_two_saves_of_one_model_are_byte_identical(project):
    import numpy as np

    namespace: dict = {}
    exec(TRAIN, namespace)
    model, X = namespace["model"], namespace["X"]
    readiness.new_run()
    first = readiness.save_model(model, "forest")
    one = (project.root / first["path"]).read_bytes()
    second = readiness.save_model(model, "forest")
    two = (project.root / second["path"]).read_bytes()
    assert one == two and first["sha256"] == second["sha256"]
    assert hashlib.sha256(one).hexdigest() == first["sha256"]
    assert zipfile.ZipFile(io.BytesIO(one)).infolist()[0].date_time == (1980, 1, 1, 0, 0, 0)
    back = load_file(project.root / first["path"])
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_a_rerun_in_another_process_saves_the_same_bytes():
    """Node ids (memory addresses), blob names and set order no longer leak into the file."""
    import skops.io

    namespace: dict = {}
    exec(TRAIN, namespace)
    objects = {"model": namespace["model"], "words": {"alpha", "beta", "gamma"}, "raw": b"\x00"}
    here = hashlib.sha256(reproducible(skops.io.dumps(objects))).hexdigest()
    script = (
        TRAIN
        + "import hashlib, skops.io\nfrom readiness.registry.models import reproducible\n"
        + "objects = {'model': model, 'words': {'alpha', 'beta', 'gamma'}, 'raw': b'\\x00'}\n"
        + "print(hashlib.sha256(reproducible(skops.io.dumps(objects))).hexdigest())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONHASHSEED": "12345"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == here
    data = reproducible(skops.io.dumps(objects))
    assert sorted(loads(data, trusted=["builtins.bytes"])["words"]) == ["alpha", "beta", "gamma"]


# -- widening: trusted= and trusted_types -----------------------------------------------------

CLIPPER = """
import os
import pathlib

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class Clipper(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        if hasattr(X, "columns"):  # what the bias probe selects from its data
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X):
        return np.clip(X, -1e6, 1e6)

    def __setstate__(self, state):  # runs when a model file holding a Clipper loads
        pathlib.Path(os.environ["CLIPPER_MARKER"]).write_text("loaded")
        super().__setstate__(state)
"""


@pytest.fixture
def clipper(tmp_path, monkeypatch):
    """A project's own transformer; its marker file says whether its code ran."""
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "trust_clipper.py").write_text(CLIPPER)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("CLIPPER_MARKER", str(tmp_path / "clipper-ran"))
    import trust_clipper

    return trust_clipper, tmp_path / "clipper-ran"


def test_trusted_and_trusted_types_widen_for_a_custom_type(project, clipper):
    import skops.io
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from readiness.core.config import load_config

    module, ran = clipper
    model = make_pipeline(module.Clipper(), LogisticRegression())
    model.fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    path = project.root / "clipped.skops"
    path.write_bytes(skops.io.dumps(model))
    with pytest.raises(ModelError, match=r"not trusted: trust_clipper\.Clipper.*trusted_types"):
        load_file(path, project=project)
    assert not ran.exists()
    assert load_file(path, trusted=["trust_clipper.Clipper"]).predict([[3.0]]) == [1]
    assert ran.exists()
    ran.unlink()
    with project.config_path.open("a") as handle:
        handle.write("trusted_types: [trust_clipper.Clipper]\n")
    assert load_config(project).trusted_types == ["trust_clipper.Clipper"]
    assert load_file(path, project=project).predict([[3.0]]) == [1] and ran.exists()


def test_trusted_types_must_be_a_list_of_names(project):
    from readiness.core.config import load_config

    with project.config_path.open("a") as handle:
        handle.write("trusted_types: trust_clipper.Clipper\n")
    with pytest.raises(ReadinessError, match=r"trusted_types"):
        load_config(project)


# -- the registry: register, load_model, the drill, the bias probe ------------------------


@pytest.mark.slow
def test_register_refuses_crafted_files_and_tags_nothing(dvc_project, marker):
    def tags():
        return subprocess.run(
            ["git", "tag"], cwd=dvc_project.root, capture_output=True, text=True
        ).stdout

    def head():
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=dvc_project.root, capture_output=True, text=True
        ).stdout

    from readiness.registry.versions import register

    before = (tags(), head())
    model = dvc_project.root / "models" / "evil.skops"
    model.parent.mkdir(exist_ok=True)
    for type_name, args in payloads(marker).items():
        model.write_bytes(crafted(*type_name.rsplit(".", 1), args))
        with pytest.raises(ModelError, match=rf"not trusted: .*{type_name.replace('.', '[.]')}"):
            register(dvc_project, "evil")
        assert not marker.exists(), type_name
        assert (tags(), head()) == before
    assert not (dvc_project.root / "models" / "evil.skops.dvc").exists()
    done = cli("register", "evil", cwd=dvc_project.root)
    assert done.returncode == 2 and "not trusted: operator.attrgetter" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert (tags(), head()) == before and not marker.exists()


@pytest.mark.slow
def test_a_declared_artifact_that_is_not_skops_is_named(dvc_project):
    from readiness.registry.versions import load_model, register

    (dvc_project.root / "dvc.yaml").write_text(
        "artifacts:\n  churn:\n    path: models/churn.pkl\n    type: model\n"
    )
    (dvc_project.root / "models").mkdir(exist_ok=True)
    (dvc_project.root / "models" / "churn.pkl").write_bytes(b"pickle")
    with pytest.raises(ModelError, match=r"path models/churn\.pkl, which is not a \.skops file"):
        register(dvc_project, "churn")
    done = cli("register", "churn", cwd=dvc_project.root)
    assert done.returncode == 2 and "models/churn.pkl" in done.stderr
    # a registry made with plain GTO: load_model reads the path declared at the version
    import gto.api

    commit_all(dvc_project.root, "a pickled model, registered with gto")
    gto.api.register(str(dvc_project.root), "churn", "HEAD", version="v1.0.0")
    with pytest.raises(ModelError, match=r"path models/churn\.pkl, which is not a \.skops file"):
        load_model(dvc_project, "churn", version="1.0.0")


FAIRNESS = """
fairness:
  sensitive_features: [site]
  metric: recall
  max_difference: 0.9
  data: data/fairness.csv
"""


@pytest.mark.slow
def test_every_registry_load_uses_the_project_trust(dvc_project, clipper):
    """register, load_model, the drill (in its clone) and the bias probe: one loader."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from readiness.checklist.items import ProbeContext
    from readiness.checklist.probes.governance import bias
    from readiness.criteria.declaration import declare
    from readiness.data.tracking import track
    from readiness.examples import breast_cancer
    from readiness.gate.promotion import promote
    from readiness.registry.versions import drill, load_model, register

    module, ran = clipper
    root = dvc_project.root
    breast_cancer(root / "data" / "breast_cancer")
    holdout = pd.read_csv(root / "data" / "breast_cancer" / "holdout.csv")
    holdout.assign(site=["A", "B"] * (len(holdout) // 2) + ["A"] * (len(holdout) % 2)).to_csv(
        root / "data" / "fairness.csv", index=False
    )
    declare(dvc_project, SCREENING + FAIRNESS)
    track(dvc_project, ["data/breast_cancer"])
    commit_all(root, "criteria and data")  # the committed readiness.yaml trusts nothing
    trusting = dvc_project.config_path.read_text() + "trusted_types: [trust_clipper.Clipper]\n"
    strict = dvc_project.config_path.read_text()

    train = pd.read_csv(root / "data" / "breast_cancer" / "train.csv")
    for C in (1.0, 0.5):
        readiness.new_run()
        model = make_pipeline(module.Clipper(), StandardScaler(), LogisticRegression(C=C))
        model.fit(train.drop(columns="malignant"), train["malignant"])
        readiness.evaluate(
            model,
            holdout.drop(columns="malignant"),
            holdout["malignant"],
            latency_samples=2,
        )
        readiness.save_model(model, "clipped")
        dvc_project.config_path.write_text(strict)
        with pytest.raises(ModelError, match=r"not trusted: trust_clipper\.Clipper"):
            register(dvc_project, "clipped")
        dvc_project.config_path.write_text(trusting)
        register(dvc_project, "clipped")
        if C == 1.0:
            assert promote(dvc_project, "clipped", "1.0.0", "production").promoted
    assert not ran.exists()  # registering inspects, it never loads

    assert load_model(dvc_project, "clipped", version="1.0.1") is not None and ran.exists()
    ran.unlink()
    rehearsal = drill(dvc_project, "clipped")
    assert rehearsal.ok, rehearsal.detail  # the clone's readiness.yaml has no trusted_types
    passed, detail = bias(ProbeContext(dvc_project))
    assert passed is not None and "difference between groups" in detail, detail
    ran.unlink()

    dvc_project.config_path.write_text(strict)
    with pytest.raises(ModelError, match=r"clipped v1\.0\.0 contains types that are not trusted"):
        load_model(dvc_project, "clipped", stage="production")
    rehearsal = drill(dvc_project, "clipped")
    assert not rehearsal.ok and "not trusted: trust_clipper.Clipper" in rehearsal.detail
    passed, detail = bias(ProbeContext(dvc_project))
    assert passed is False and "not trusted: trust_clipper.Clipper" in detail
    assert not ran.exists()


@pytest.mark.slow
def test_retraining_on_the_same_data_is_nothing_to_do(production_template, tmp_path, monkeypatch):
    """The same data and notebook give production's model file again: nothing new, no error."""
    import shutil

    from readiness.registry.versions import in_stage, versions

    # screening v1.0.0 in production, trained by the retraining notebook (the test's copy)
    registry_project = use_copy(production_template, tmp_path / "dvcproj", monkeypatch)
    shutil.copyfile(
        registry_project.root / "data" / "breast_cancer" / "train.csv",
        registry_project.root / "data" / "new.csv",
    )
    done = cli(
        "retrain",
        "screening",
        "--current",
        "data/new.csv",
        "--force",
        "--json",
        cwd=registry_project.root,
    )
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["outcome"] == "nothing to do", done.stderr
    register_step = next(s for s in result["steps"] if s["step"] == "register")
    assert (
        register_step["status"] == "unchanged"
        and "already screening v1.0.0" in (register_step["detail"])
    )
    assert [v.version for v in versions(registry_project, "screening")] == ["v1.0.0"]
    assert in_stage(registry_project, "screening", "production").version == "v1.0.0"
