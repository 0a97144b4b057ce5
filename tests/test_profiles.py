"""Reference profiles: `readiness register` stores the training data's profile with the
version (DVC-tracked, committed with the model); `readiness drift --profile NAME@VERSION`
and the monitor judge against it with the same verdicts as against the data itself."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import cli
from .test_monitor_log import SETUP
from .test_serve import build_served_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    import pandas as pd

    from readiness.examples import shifted_sample

    root = tmp_path_factory.mktemp("profiles") / "proj"
    project = build_served_project(root, SETUP, strengths=(1.0,))
    shifted = pd.read_csv(shifted_sample(root / "data/breast_cancer/holdout.csv",
                                         root.parent / "shifted.csv"))
    shifted.drop(columns="malignant").to_csv(root / "shifted.csv", index=False)
    return project


def test_register_commits_the_training_data_profile_with_the_version(registered):
    import pandas as pd

    from readiness.monitoring.engine import profile_frame
    from readiness.registry.profiles import read_profile
    from readiness.registry.versions import get_version

    root = registered.root
    shown = subprocess.run(["git", "show", "screening@v1.0.0:models/screening.profile.json.dvc"],
                           cwd=root, capture_output=True, text=True)
    assert shown.returncode == 0 and "md5" in shown.stdout, shown.stderr
    version = get_version(registered, "screening", "v1.0.0")
    profiles, source = read_profile(registered, version)
    assert source == "data/breast_cancer/train.csv"
    train = pd.read_csv(root / source)
    expected = profile_frame(train)
    assert list(profiles) == list(train.columns)
    for name, profile in profiles.items():
        assert profile.to_dict() == expected[name].to_dict(), name


def _verdicts(done: subprocess.CompletedProcess) -> tuple[list, float]:
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    return ([(c["column"], c["kind"], c["method"], c["score"], c["drifted"])
             for c in data["columns"]], data["drift_share"])


def test_drift_on_the_profile_equals_drift_on_the_training_data(registered):
    root = registered.root
    on_data = _verdicts(cli("drift", "data/breast_cancer/train.csv", "shifted.csv", "--rev",
                            "screening@v1.0.0", "--columns", _features(root), "--json",
                            cwd=root))
    on_profile = _verdicts(cli("drift", "--profile", "screening@v1.0.0", "shifted.csv",
                               "--columns", _features(root), "--json", cwd=root))
    assert on_profile == on_data
    assert on_data[1] > 0 and any(c[4] for c in on_data[0])  # the shifted columns drift
    production = _verdicts(cli("drift", "--profile", "screening", "shifted.csv", "--columns",
                               _features(root), "--json", cwd=root))
    assert production == on_data  # NAME alone: the production version's profile
    text = cli("drift", "--profile", "screening@v1.0.0", "shifted.csv", "--columns",
               _features(root), cwd=root)
    assert "drifted" in text.stdout and "Traceback" not in text.stderr


def _features(root) -> str:
    import pandas as pd

    return ",".join(pd.read_csv(root / "shifted.csv", nrows=1).columns)


@pytest.mark.parametrize("args, message", [
    (["--profile", "screening@v9.9.9", "shifted.csv"], "no version v9.9.9"),
    (["--profile", "screening@v1.0.0", "shifted.csv", "--html"], "needs the reference data"),
    (["--profile", "screening@v1.0.0", "data/breast_cancer/train.csv", "shifted.csv"],
     "give only the current sample"),
    (["shifted.csv"], "give the reference and the current sample"),
    (["--profile", "missing.json", "shifted.csv"], "missing.json"),
])
def test_bad_profile_requests_are_one_line_errors(registered, args, message):
    done = cli("drift", *args, cwd=registered.root)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_profile_holds_the_versions_holdout_predictions(registered):
    """The reference of the monitor's prediction drift travels with the version: the profile
    of the model's own scores and labels on the holdout, and the drift judged on it equals
    the drift judged on those predictions computed now from the loaded model."""
    import pandas as pd

    from readiness.monitoring.drift import drift
    from readiness.monitoring.engine import profile_frame
    from readiness.registry.profiles import read_stored
    from readiness.registry.versions import get_version, load_model

    version = get_version(registered, "screening", "v1.0.0")
    stored = read_stored(registered, version)
    assert set(stored.predictions) == {"label", "probability"}
    model = load_model(registered, "screening", version="v1.0.0")
    holdout = pd.read_csv(registered.root / "data/breast_cancer/holdout.csv")
    X = holdout[list(model.feature_names_in_)]
    scores = pd.DataFrame({"prediction": model.predict_proba(X)[:, -1]})
    labels = pd.DataFrame({"prediction": model.predict(X)})
    assert stored.predictions["probability"].to_dict() == (
        profile_frame(scores)["prediction"].to_dict())
    assert stored.predictions["label"].to_dict() == profile_frame(labels)["prediction"].to_dict()
    from readiness.core.schema import DriftPolicy

    policy = DriftPolicy()  # as the monitor judges predictions: no column roles
    current = pd.DataFrame({"prediction": scores["prediction"].to_numpy()[::-1] ** 2})
    on_profile = drift({"prediction": stored.predictions["probability"]}, current,
                       project=registered, policy=policy, save=False)
    on_data = drift(scores, current, project=registered, policy=policy, save=False)
    assert [(c.method, c.score, c.drifted) for c in on_profile.columns] == [
        (c.method, c.score, c.drifted) for c in on_data.columns]
    assert on_profile.columns[0].drifted  # squaring the scores moves their distribution
