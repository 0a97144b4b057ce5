"""The production readiness checklist: a pass and a fail for every probe, scoring, attestations."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from readiness.checklist.items import ProbeContext
from readiness.checklist.probes import ITEMS
from readiness.checklist.scorecard import ItemResult, Scorecard, attestation_status, evaluate
from readiness.core.project import Project

from .conftest import SCREENING, cli, commit_all, dvc, git_init

pytestmark = pytest.mark.slow

SETUP = (
    SCREENING
    + """
fairness:
  sensitive_features: [site]
  metric: recall
  max_difference: 0.5
  data: data/fairness.csv
"""
)
RUNBOOK = "\n".join(
    f"## {s}\nWritten down.\n"
    for s in ("Serving", "Retraining", "Rollback", "Monitoring alerts", "On-call", "Escalation")
)
ATTESTED = (  # security.api_auth: automated by the serving contract test
    "security.pentest",
    "governance.rai_review",
    "operational.oncall",
    "operational.escalation",
    "operational.adoption",
)


def readiness_cli(*args, cwd):
    done = cli(*args, cwd=cwd)
    assert done.returncode == 0, (args, done.stdout[-1500:], done.stderr[-1500:])
    return done


@pytest.fixture(scope="session")
def ready(tmp_path_factory):
    """A project where every item is satisfied, built once for all xdist workers.

    Tests only read it; those that break something copy it first (``broken``).
    """
    from readiness.core.fsutil import file_lock

    # under xdist, the parent of each worker's base temp is this run's own shared folder
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "ready" / "project"
    with file_lock(shared / "ready.lock"):
        if not (root.parent / "built").is_file():
            shutil.rmtree(root.parent, ignore_errors=True)
            root.parent.mkdir(parents=True)
            with pytest.MonkeyPatch.context() as env:
                env.setenv("READINESS_REMOTE_HOME", str(root.parent / "remotes"))
                build_ready_project(root)
            (root.parent / "built").write_text("ok")
    return root


def build_ready_project(root: Path) -> None:
    import pandas as pd

    from readiness.examples import breast_cancer

    base = root.parent
    readiness_cli("init", str(root), cwd=base)
    git_init(root)
    breast_cancer(root / "data" / "breast_cancer")
    holdout = pd.read_csv(root / "data" / "breast_cancer" / "holdout.csv")
    holdout.assign(site=["A", "B"] * (len(holdout) // 2) + ["A"] * (len(holdout) % 2)).to_csv(
        root / "data" / "fairness.csv", index=False
    )
    (root / "setup.yaml").write_text(SETUP)
    readiness_cli("criteria", "declare", "--file", "setup.yaml", cwd=root)
    readiness_cli("track", "data/breast_cancer", cwd=root)
    assert (
        dvc(
            "stage",
            "add",
            "-n",
            "copy",
            "-d",
            "data/breast_cancer/train.csv",
            "-o",
            "data/copy.csv",
            "cp data/breast_cancer/train.csv data/copy.csv",
            cwd=root,
        ).returncode
        == 0
    )
    assert dvc("repro", "-q", cwd=root).returncode == 0
    (root / "docs" / "runbook.md").write_text(RUNBOOK)
    (root / "requirements.txt").write_text("readiness==0.1.0\nscikit-learn==1.5.2\n")
    commit_all(root, "set-up")
    readiness_cli("run", "notebooks/retrain.ipynb", "-p", "model_name", '"screening"', cwd=root)
    readiness_cli("register", "screening", cwd=root)
    readiness_cli("promote", "screening", "1.0.0", "--to", "production", cwd=root)
    readiness_cli(
        "run",
        "notebooks/retrain.ipynb",
        "-p",
        "model_name",
        '"screening"',
        "-p",
        "C",
        "0.8",
        cwd=root,
    )
    readiness_cli("register", "screening", cwd=root)
    readiness_cli("rollback", "screening", "--drill", cwd=root)
    shutil.copyfile(root / "data" / "breast_cancer" / "holdout.csv", root / "data" / "sample.csv")
    readiness_cli("monitor", "screening", "--current", "data/sample.csv", cwd=root)
    readiness_cli("serve", "screening", "--check", cwd=root)  # the serving contract test
    readiness_cli("alerts", "prometheus", "-o", "monitoring/alerts.yml", cwd=root)
    readiness_cli("ci", "github", cwd=root)
    readiness_cli("card", cwd=root)
    for item in ATTESTED:
        readiness_cli(
            "attest",
            item,
            "--by",
            "owner@example.com",
            "--evidence",
            "https://example.com/x",
            cwd=root,
        )
    commit_all(root, "everything")


@pytest.fixture
def broken(ready, tmp_path):
    """A copy of the ready project to break one thing in."""
    root = tmp_path / "copy"
    shutil.copytree(ready, root, symlinks=True)
    return root


def probe(root: Path, item_id: str) -> tuple[bool | None, str]:
    item = next(i for i in ITEMS if i.id == item_id)
    return item.probe(ProbeContext(Project(root)))


def test_the_ready_project_passes_every_item(ready):
    card = evaluate(Project(ready))
    statuses = {i.id: i.status for i in card.items}
    assert {k for k, v in statuses.items() if v == "attested"} == set(ATTESTED)
    assert all(v == "automated" for k, v in statuses.items() if k not in ATTESTED), [
        (i.id, i.status, i.detail)
        for i in card.items
        if i.status != "automated" and i.id not in ATTESTED
    ]
    assert card.complete and card.overall == 0.625  # operational: 1 automated + 3 attested
    done = cli("check", cwd=ready)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "READY" in done.stdout


def test_check_json_schema(ready):
    import jsonschema

    data = json.loads(cli("check", "--json", cwd=ready).stdout)
    schema = {
        "type": "object",
        "required": ["verdict", "criteria", "amendments", "score", "checklist"],
        "properties": {
            "verdict": {"enum": ["READY", "NOT_READY"]},
            "criteria": {
                "type": "array",
                "items": {"type": "object", "required": ["metric", "split", "observed", "passed"]},
            },
            "score": {
                "type": "object",
                "required": ["overall", "categories"],
                "properties": {
                    "categories": {
                        "type": "object",
                        "required": ["technical", "data", "security", "governance", "operational"],
                    }
                },
            },
            "checklist": {
                "type": "array",
                "minItems": 20,
                "maxItems": 20,
                "items": {
                    "type": "object",
                    "required": ["id", "category", "title", "status", "points", "detail"],
                    "properties": {
                        "status": {"enum": ["automated", "attested", "failed", "missing"]},
                        "points": {"enum": [0, 0.5, 1, 0.0, 1.0]},
                    },
                },
            },
        },
    }
    jsonschema.validate(data, schema)
    assert {i["id"] for i in data["checklist"]} == {i.id for i in ITEMS}
    md = cli("check", "--format", "md", cwd=ready).stdout
    assert "| `technical.registry` | pass |" in md
    html = cli("check", "--format", "html", cwd=ready).stdout
    assert "<details" in html and "<script" not in html


def test_scoring_rule():
    def item(category: str, points: float, status: str) -> ItemResult:
        return ItemResult(f"{category}.x", category, "x", status, points, "")

    card = Scorecard(
        [
            item("technical", 1, "automated"),
            item("technical", 0.5, "attested"),
            item("data", 1, "automated"),
            item("security", 0, "missing"),
            item("governance", 1, "automated"),
            item("operational", 0.5, "attested"),
        ]
    )
    assert card.categories == {
        "technical": 0.75,
        "data": 1.0,
        "security": 0.0,
        "governance": 1.0,
        "operational": 0.5,
    }
    assert card.overall == 0.0 and not card.complete


def test_attestations_expire_and_malformed_ones_say_why():
    today = dt.date(2026, 11, 26)
    ok = {"by": "a", "date": "2026-10-01", "evidence": "https://x"}
    assert attestation_status(ok, today)[0]
    assert "expired on 2026-06-29" in attestation_status({**ok, "date": "2025-12-31"}, today)[1]
    assert "expired on 2026-11-01" in attestation_status({**ok, "expires": "2026-11-01"}, today)[1]
    valid, why = attestation_status({"by": "a", "date": "not a date"}, today)
    assert not valid and "malformed" in why and "evidence" in why


def _set(root: Path, section: str, value) -> None:
    from readiness.core.config import merged_text
    from readiness.core.fsutil import atomic_write_text

    atomic_write_text(root / "readiness.yaml", merged_text(Project(root), {section: value}))


def test_an_expired_attestation_counts_as_missing(broken):
    from readiness.core import yamlio

    data = yamlio.parse((broken / "readiness.yaml").read_text()).data
    data["attestations"]["security.pentest"]["date"] = "2020-01-01"
    _set(broken, "attestations", data["attestations"])
    item = next(i for i in evaluate(Project(broken)).items if i.id == "security.pentest")
    assert item.status == "missing" and "expired" in item.detail
    assert cli("check", cwd=broken).returncode == 1


def test_registry_missing(empty_dir):
    assert probe(empty_dir, "technical.registry")[0] is None


def test_cicd_fails_without_data_validation(broken):
    workflow = broken / ".github" / "workflows" / "readiness.yml"
    workflow.write_text(workflow.read_text().replace("readiness validate", "echo skip"))
    passed, detail = probe(broken, "technical.cicd")
    assert passed is False and "data validation" in detail


def test_monitoring_fails_without_a_monitor_run(broken):
    for path in (broken / ".readiness" / "runs").glob("retrain-*.json"):
        path.unlink()
    passed, detail = probe(broken, "technical.monitoring")
    assert passed is False and "no monitor run" in detail


def test_api_auth_and_monitoring_come_from_the_serving_contract_test(ready, broken):
    passed, detail = probe(ready, "security.api_auth")
    assert passed and "401 without a key" in detail
    workflow = (ready / ".github" / "workflows" / "readiness.yml").read_text()
    assert "run: readiness serve screening --check" in workflow  # CI runs the contract test
    assert probe(ready, "technical.monitoring")[0]
    audit_log = broken / ".readiness" / "audit.jsonl"
    kept = [line for line in audit_log.read_text().splitlines() if "serve.contract" not in line]
    audit_log.write_text("\n".join(kept) + "\n")
    passed, detail = probe(broken, "security.api_auth")
    assert passed is None and "no contract test" in detail
    passed, detail = probe(broken, "technical.monitoring")
    assert passed is False and "infrastructure layer" in detail


def test_monitoring_fails_when_the_alert_rules_do_not_follow_the_criteria(ready, broken):
    assert "alert rules monitoring/alerts.yml follow" in probe(ready, "technical.monitoring")[1]
    rules = broken / "monitoring" / "alerts.yml"
    text = rules.read_text()
    rules.write_text(text.replace("# criteria hash: sha256:", "# criteria hash: sha256:0"))
    passed, detail = probe(broken, "technical.monitoring")
    assert passed is False and "older criteria" in detail
    rules.unlink()
    passed, detail = probe(broken, "technical.monitoring")
    assert passed is False and "is gone" in detail
    rules.write_text(text)  # back, then a ceiling of the rules changes in readiness.yaml
    assert probe(broken, "technical.monitoring")[0]
    _set(broken, "serving", {"max_error_rate": 0.05})
    passed, detail = probe(broken, "technical.monitoring")
    assert passed is False and "older drift or error-rate ceiling" in detail


def test_monitoring_accepts_a_monitor_window_of_logged_traffic(broken):
    from readiness.core import audit

    for path in (broken / ".readiness" / "runs").glob("retrain-*.json"):
        path.unlink()
    assert probe(broken, "technical.monitoring")[0] is False
    audit.append(Project(broken), "monitor.window", name="screening", requests=10)
    passed, detail = probe(broken, "technical.monitoring")
    assert passed, detail


def test_monitoring_fails_when_the_last_monitor_run_is_older_than_declared(broken):
    from readiness.core import audit
    from readiness.monitoring.alerts import prometheus_rules

    project = Project(broken)
    _set(broken, "serving", {"monitor_max_age": "1s"})
    prometheus_rules(project, output="monitoring/alerts.yml")  # the age is an input of the rules
    audit.append(project, "monitor.window", name="screening", requests=10)
    assert probe(broken, "technical.monitoring")[0], "a run this second is within 1s"
    time.sleep(1.2)
    passed, detail = probe(broken, "technical.monitoring")
    assert passed is False and "is older than 1s" in detail


def test_rollback_fails_after_a_failed_drill(broken):
    from readiness.core import audit

    audit.append(Project(broken), "rollback.drill", name="screening", ok=False, detail="boom")
    assert probe(broken, "technical.rollback")[0] is False


def test_pipeline_fails_when_dvc_status_is_not_clean(broken):
    (broken / "data" / "copy.csv").write_text("changed\n")
    passed, detail = probe(broken, "data.pipeline")
    assert passed is False and "dvc status is not clean" in detail


def test_quality_fails_on_invalid_data(broken):
    path = broken / "data" / "breast_cancer" / "holdout.csv"
    path.write_text(path.read_text().replace(",1\n", ",7\n", 1))
    passed, detail = probe(broken, "data.quality")
    assert passed is False and "holdout" in detail


def test_lineage_fails_when_the_run_is_unknown(broken):
    model_run = ProbeContext(Project(broken)).model.run_id
    (broken / ".readiness" / "runs" / f"{model_run}.json").unlink()
    passed, detail = probe(broken, "data.lineage")
    assert passed is False and "run record is not here" in detail


def test_holdout_fails_when_production_looks_different(broken):
    from readiness.examples import shifted_sample

    shifted_sample(
        broken / "data" / "breast_cancer" / "holdout.csv", broken / "data" / "sample.csv"
    )
    passed, detail = probe(broken, "data.holdout")
    assert passed is False and "columns drifted" in detail


def test_holdout_probe_reuses_its_drift_result_until_a_file_changes(broken):
    from readiness.examples import shifted_sample

    assert probe(broken, "data.holdout")[0] is True
    cache = broken / ".readiness" / "cache" / "holdout-drift.json"
    entries = json.loads(cache.read_text())
    assert entries and (broken / ".readiness" / "cache" / ".gitignore").read_text() == "*\n"
    # a planted answer for the same inputs comes back: evidently did not run again
    cache.write_text(json.dumps(dict.fromkeys(entries, 99)))
    assert probe(broken, "data.holdout") == (
        False,
        "data/breast_cancer/holdout.csv differs from production (data/sample.csv): "
        "99 columns drifted",
    )
    shifted_sample(
        broken / "data" / "breast_cancer" / "holdout.csv", broken / "data" / "sample.csv"
    )
    passed, detail = probe(broken, "data.holdout")
    assert passed is False and "99 columns" not in detail and "columns drifted" in detail
    assert len(json.loads(cache.read_text())) == len(entries) + 1


def test_secrets_in_a_notebook_output_not_its_source(broken):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(get_token())")])
    notebook.cells[0].outputs = [
        nbformat.v4.new_output(
            "stream", name="stdout", text="aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        )
    ]
    nbformat.write(notebook, broken / "notebooks" / "leaky.ipynb")
    passed, detail = probe(broken, "security.secrets")
    assert passed is False and "notebooks/leaky.ipynb" in detail and "AWS" in detail


def test_supply_chain_fails_on_a_tracked_pickle(broken):
    (broken / "model.pkl").write_bytes(b"not really")
    subprocess.run(["git", "add", "model.pkl"], cwd=broken, check=True)
    passed, detail = probe(broken, "security.supply_chain")
    assert passed is False and "model.pkl" in detail


def test_model_card_goes_stale_when_criteria_change(broken):
    from readiness.criteria.declaration import amend

    text = (broken / "readiness.yaml").read_text().replace("min: 0.85", "min: 0.86")
    (broken / "readiness.yaml").write_text(text)
    amend(Project(broken), "recall bound raised")
    passed, detail = probe(broken, "governance.performance")
    assert passed is False and "out of date" in detail


def test_bias_fails_beyond_its_bound(broken):
    from readiness.core import yamlio

    fairness = yamlio.parse((broken / "readiness.yaml").read_text()).data["fairness"]
    _set(broken, "fairness", {**fairness, "max_difference": 0.0001})
    passed, detail = probe(broken, "governance.bias")
    assert passed is False and "largest recall difference" in detail


def test_criteria_first_fails_when_evidence_came_first(empty_dir):
    import readiness
    from readiness.criteria.declaration import declare

    readiness.record("roc_auc", 0.9)
    declare(Project(empty_dir), SETUP.split("drift:")[0])
    passed, detail = probe(empty_dir, "governance.criteria_first")
    assert passed is False and "after evidence" in detail


def test_runbook_from_the_template_is_not_done(broken):
    shutil.copyfile(
        Path(__file__).resolve().parents[1] / "templates" / "runbook.md",
        broken / "docs" / "runbook.md",
    )
    passed, detail = probe(broken, "operational.runbook")
    assert passed is False and "TODO" in detail


def test_attest_refuses_unknown_items(ready):
    done = cli("attest", "security.magic", "--by", "a", "--evidence", "x", cwd=ready)
    assert done.returncode == 2 and "unknown checklist item" in done.stderr


def test_report_writes_the_scorecard(broken):
    done = cli("report", cwd=broken)
    assert done.returncode == 0, done.stderr
    assert (broken / "reports" / "scorecard.html").is_file()
    assert json.loads((broken / "reports" / "scorecard.json").read_text())["verdict"] == "READY"
    assert "### Readiness checklist" in (broken / "reports" / "scorecard.md").read_text()
