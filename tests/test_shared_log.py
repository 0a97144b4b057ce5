"""One PostgreSQL prediction log shared by two projects: both servers (real uvicorn) log
into the same database under the same model name, and each project's monitor judges only
its own use case's rows."""

from __future__ import annotations

import pytest

from .pg_server import postgres_url  # noqa: F401  (a fixture)
from .test_serve import SETUP, Http, build_served_project, holdout_rows

pytestmark = pytest.mark.slow

# use cases no other test has: the session's PostgreSQL database is shared with test_serve,
# whose projects serve "screening" too
USE_CASES = {"intake": 3, "triage": 5}  # use case -> requests its server answers
MODEL = "screening"


def test_two_projects_share_one_log_and_each_monitor_sees_its_own(
    tmp_path_factory, postgres_url, monkeypatch  # noqa: F811
):
    import readiness
    from readiness.monitoring.from_log import monitor_log
    from readiness.serve.keys import add_key
    from readiness.serve.predlog import read_predictions

    projects = {
        use_case: build_served_project(tmp_path_factory.mktemp(use_case) / "proj", SETUP,
                                       strengths=(1.0,), name=MODEL, use_case=use_case)
        for use_case in USE_CASES
    }
    ids: dict[str, set[str]] = {}
    for use_case, project in projects.items():
        key = add_key(project, "ci").key
        rows, _ = holdout_rows(project.root, USE_CASES[use_case])
        with readiness.serve(MODEL, background=True, project=str(project.root),
                             log_url=postgres_url) as server:
            call = Http(server.url, key)
            answers = [call("POST", f"/v1/models/{MODEL}:predict", {"rows": [row]})
                       for row in rows]
        assert all(status == 200 for status, _ in answers), answers
        ids[use_case] = {body["request_id"] for _, body in answers}
    shared = read_predictions(postgres_url, model=MODEL)
    assert ids["intake"] | ids["triage"] <= set(shared["request_id"])  # one database
    by_id = dict(zip(shared["request_id"], shared["use_case"], strict=True))
    assert {by_id[i] for i in ids["intake"]} == {"intake"}
    monkeypatch.setenv("READINESS_PREDICTION_LOG_URL", postgres_url)
    for use_case, project in projects.items():
        monkeypatch.chdir(project.root)
        watched = monitor_log(project, MODEL, window="1h")
        assert [(v.version, v.predictions) for v in watched.versions] == [
            ("v1.0.0", USE_CASES[use_case])], (use_case, watched.to_dict())
        assert set(watched.rows["__request"]) == ids[use_case]
