"""One PostgreSQL prediction log shared by two projects: both servers (real uvicorn) log
into the same database, and each project's monitor judges only its own model's rows."""

from __future__ import annotations

import pytest

from .pg_server import postgres_url  # noqa: F401  (a fixture)
from .test_serve import SETUP, Http, build_served_project, holdout_rows

pytestmark = pytest.mark.slow

# names no other test serves: the session's PostgreSQL database is shared with test_serve
MODELS = {"intake": 3, "triage": 5}  # model -> requests its server answers


def test_two_projects_share_one_log_and_each_monitor_sees_its_own(
    tmp_path_factory, postgres_url, monkeypatch  # noqa: F811
):
    import readiness
    from readiness.monitoring.from_log import monitor_log
    from readiness.serve.keys import add_key
    from readiness.serve.predlog import read_predictions

    projects = {
        name: build_served_project(tmp_path_factory.mktemp(name) / "proj", SETUP,
                                   strengths=(1.0,), name=name)
        for name in MODELS
    }
    ids: dict[str, set[str]] = {}
    for name, project in projects.items():
        key = add_key(project, "ci").key
        rows, _ = holdout_rows(project.root, MODELS[name])
        with readiness.serve(name, background=True, project=str(project.root),
                             log_url=postgres_url) as server:
            call = Http(server.url, key)
            answers = [call("POST", f"/v1/models/{name}:predict", {"rows": [row]})
                       for row in rows]
        assert all(status == 200 for status, _ in answers), answers
        ids[name] = {body["request_id"] for _, body in answers}
    shared = read_predictions(postgres_url)
    assert ids["intake"] | ids["triage"] <= set(shared["request_id"])  # one database
    monkeypatch.setenv("READINESS_PREDICTION_LOG_URL", postgres_url)
    for name, project in projects.items():
        monkeypatch.chdir(project.root)
        watched = monitor_log(project, name, window="1h")
        assert [(v.version, v.predictions) for v in watched.versions] == [
            ("v1.0.0", MODELS[name])], (name, watched.to_dict())
        assert set(watched.rows["__request"]) == ids[name]
