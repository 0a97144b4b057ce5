"""readiness portfolio over real projects: one READY, one failing, one breaching in monitoring.

The READY project is the checklist's (every item satisfied, screening v1.0.0 in production,
a rollback drill); the failing one is a copy without its runbook; the breaching one is a
copy served for real, sent shifted traffic over HTTP and monitored from its prediction log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from readiness.gate.portfolio import PRODUCTION_AT_RISK, portfolio

from .conftest import cli
from .test_checklist import ready  # noqa: F401  (the session fixture: a READY project)

SOON = (dt.date.today() + dt.timedelta(days=10)).isoformat()


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    (target / ".readiness" / "serve" / "predictions.db").unlink(missing_ok=True)
    return target


@pytest.fixture(scope="module")
def three(ready, tmp_path_factory):  # noqa: F811
    """READY (with an attestation expiring in 10 days), failing, breaching."""
    import pandas as pd

    import readiness
    from readiness.core.project import Project
    from readiness.examples import shifted_sample

    from .test_serve import Http, add_key

    base = tmp_path_factory.mktemp("portfolio")
    good = _copy(ready, base / "good")
    done = cli("attest", "security.pentest", "--by", "sec@example.com", "--evidence",
               "https://example.com/pentest", "--expires", SOON, cwd=good)
    assert done.returncode == 0, done.stderr
    failing = _copy(ready, base / "failing")
    (failing / "docs" / "runbook.md").unlink()
    breaching = _copy(ready, base / "breaching")
    shifted = pd.read_csv(shifted_sample(breaching / "data/breast_cancer/holdout.csv",
                                         base / "shifted.csv"))
    rows = json.loads(shifted.drop(columns="malignant").to_json(orient="records"))
    key = add_key(breaching)
    with readiness.serve("screening", background=True, project=str(breaching)) as server:
        call = Http(server.url, key)
        for at in range(0, len(rows), 20):
            status, body = call("POST", "/v1/models/screening:predict", {"rows": rows[at:at + 20]})
            assert status == 200, body
    done = cli("monitor", "screening", "--window", "1h", cwd=breaching)
    assert done.returncode == 1, (done.stdout[-800:], done.stderr[-800:])  # it breaches
    assert (Project(breaching).monitor_dir / "screening.json").is_file()
    return good, failing, breaching


@pytest.mark.slow
def test_attention_first_and_exit_1_when_production_is_at_risk(three):
    good, failing, breaching = three
    result = portfolio([good, failing, breaching])
    by_project = {Path(r.project).name: r for r in result.rows}
    shown = [(Path(r.project).name, r.attention, r.reasons, r.failing) for r in result.rows]
    assert result.exit_code == 1, shown
    assert [Path(r.project).name for r in result.rows][-1] == "good", shown  # the fine one last
    assert {Path(r.project).name for r in result.at_risk} == {"failing", "breaching"}

    row = by_project["good"]
    assert row.verdict == "READY" and 0.5 <= row.score <= 1.0 and not row.failing  # attested: 0.5
    assert row.use_case == "screening" and row.owner == "head@example.com"
    assert [(p["name"], p["version"]) for p in row.production] == [("screening", "v1.0.0")]
    assert row.production[0]["since"]  # the promotion's time, from the audit log
    assert row.drill and row.drill["ok"] is True
    assert row.expiring == [
        {"item": "security.pentest", "by": "sec@example.com", "expires": SOON}
    ]
    assert row.attention == "watch" and row.monitor is None

    row = by_project["failing"]
    assert row.verdict == "NOT_READY" and "operational.runbook" in row.failing
    assert row.rank == PRODUCTION_AT_RISK and not row.breaching

    row = by_project["breaching"]
    assert row.breaching and row.rank == PRODUCTION_AT_RISK
    assert row.monitor["drift_share"] > 0.1 and row.monitor["requests"] > 0
    assert any("feature drift" in b for b in row.monitor["breaches"])

    text = str(result)
    assert "BREACH" in text and "PRODUCTION AT RISK" in text


@pytest.mark.slow
def test_the_ready_project_alone_exits_0_and_an_unreadable_one_is_a_row(three, tmp_path):
    good, _, _ = three
    assert portfolio([good]).exit_code == 0
    (tmp_path / "plain").mkdir()
    result = portfolio([good, tmp_path / "plain", tmp_path / "gone"])
    assert result.exit_code == 2
    assert [r.error is not None for r in result.rows] == [True, True, False]
    assert "not a readiness project" in result.rows[0].error + result.rows[1].error


@pytest.mark.slow
def test_the_cli_reads_a_portfolio_file_in_every_format(three, tmp_path):
    good, failing, breaching = three
    folder = tmp_path / "platform"
    folder.mkdir()
    (folder / "portfolio.yaml").write_text(
        "projects:\n"
        f"  - {{path: {os.path.relpath(good, folder)}, "
        "use_case: screening-eu, owner: eu@example.com}\n"
        f"  - {failing}\n"
    )
    done = cli("portfolio", "--file", "portfolio.yaml", "--json", cwd=folder)
    assert done.returncode == 1, done.stderr  # failing is NOT_READY in production
    rows = json.loads(done.stdout)["rows"]
    assert [r["use_case"] for r in rows] == ["screening", "screening-eu"]
    assert rows[1]["owner"] == "eu@example.com" and rows[1]["verdict"] == "READY"

    done = cli("portfolio", str(good), "--markdown", "--html", "page.html", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("### portfolio: 1 use case(s)")
    assert "| watch | screening |" in done.stdout
    page = (folder / "page.html").read_text()
    assert page.startswith("<!doctype html>") and "security.pentest" in page
    assert "<script" not in page

    # ./portfolio.yaml is the default
    done = cli("portfolio", cwd=folder)
    assert done.returncode == 1 and "screening-eu" in done.stdout

    # and a section of the served model's dashboard
    done = cli("dashboard", "screening", "--portfolio", str(folder / "portfolio.yaml"),
               "-o", str(tmp_path / "dash.html"), cwd=breaching)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "dash.html").read_text()
    assert "<h2 style='font-size:16px'>Use cases</h2>" in page and "screening-eu" in page
    assert "<script" not in page


def test_a_bad_portfolio_file_is_one_line_and_exit_2(tmp_path):
    for text, expected in (
        ("projects: []\n", "list the project folders"),
        ("- {path: a, team: x}\n", "unknown key(s) team"),
        ("- 3\n", "a folder, or a mapping with path"),
    ):
        (tmp_path / "portfolio.yaml").write_text(text)
        done = cli("portfolio", "--file", "portfolio.yaml", cwd=tmp_path)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_new_project_is_not_ready_but_not_at_risk(tmp_path):
    done = cli("init", "fresh", "--no-data", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = cli("portfolio", "fresh", str(tmp_path / "gone"), "--json", cwd=tmp_path)
    out = json.loads(done.stdout)
    assert done.returncode == 2, done.stderr  # nothing in production; one folder is missing
    assert [r["attention"] for r in out["rows"]] == ["cannot be read", "not ready"]
    assert out["rows"][1]["production"] == [] and "no evidence" in out["rows"][1]["failing"]


def test_the_magic_and_the_api_return_the_portfolio(tmp_path, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    import readiness
    from readiness import render

    assert cli("init", "fresh", "--no-data", cwd=tmp_path).returncode == 0
    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "readiness")
    result = shell.run_line_magic("readiness", "portfolio fresh")
    assert result.rows[0].verdict == "NOT_READY"
    assert "<table" in render.html_of(result) and "| NOT READY |" in render.markdown(result)
    assert readiness.portfolio(["fresh"]).to_dict()["rows"][0]["use_case"] == result.rows[0].use_case


def test_the_widget_shows_the_table_and_refreshes(tmp_path):
    from readiness.widgets import portfolio_table

    assert cli("init", "fresh", "--no-data", cwd=tmp_path).returncode == 0
    view = portfolio_table(dirs=["fresh"], cwd=tmp_path)
    assert "NOT READY" in view.table.value and view.fallback_html() == view.table.value
    (tmp_path / "fresh" / "readiness.yaml").unlink()
    view.refresh()  # the Refresh button: read again, now a row saying why
    assert "not a readiness project" in view.table.value
    assert view.result.exit_code == 2
