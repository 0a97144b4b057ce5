"""Criteria are locked before evidence; later changes need a reason and are flagged."""

from __future__ import annotations

import pytest

from readiness.core import audit
from readiness.core.errors import ConfigError, CriteriaLockedError
from readiness.criteria.declaration import declare, read_lock, show
from readiness.evidence.verdict import check

from .conftest import GOOD_EVIDENCE, cli, git_init, record_all

CRITERIA = """
use_case: {name: churn, owner: jane@example.com, business_metric: revenue}
criteria:
  technical:
    - {metric: roc_auc, split: holdout, min: 0.85}
"""
STRICTER = CRITERIA.replace("0.85", "0.95")


def test_first_declaration_locks_with_hash_time_and_commit(empty_dir):
    from readiness.core.project import Project

    git_init(empty_dir)
    project = Project(empty_dir)
    declaration = declare(project, CRITERIA)
    assert declaration.event == "declared"
    lock = read_lock(project)
    assert lock["hash"].startswith("sha256:")
    assert lock["locked_at"] and len(lock["git_commit"]) == 40
    assert lock["first_evidence_at"] is None
    assert (empty_dir / "readiness.yaml").is_file()
    assert [e["event"] for e in audit.read(project)] == ["criteria.declared"]


def test_redeclaring_the_same_criteria_changes_nothing(project):
    declare(project, CRITERIA)
    before = read_lock(project)
    assert (
        declare(project, "# same, other layout\n" + CRITERIA.replace("0.85", "0.850")).event
        == "unchanged"
    )
    assert read_lock(project) == before


def test_revisions_before_evidence_are_free_but_logged(project):
    declare(project, CRITERIA)
    assert declare(project, STRICTER).event == "revised"
    lock = read_lock(project)
    assert [h["event"] for h in lock["history"]] == ["declared", "revised"]
    assert not check(project).amendments


def test_change_after_evidence_needs_a_reason(project):
    declare(project, CRITERIA)
    record_all({"roc_auc": 0.9})
    with pytest.raises(CriteriaLockedError, match="--amend"):
        declare(project, STRICTER)
    assert "0.85" in project.config_path.read_text()  # nothing written on refusal
    declaration = declare(project, STRICTER, amend="regulator asked for 0.95")
    assert declaration.event == "amended"
    result = check(project)
    assert [a["reason"] for a in result.amendments] == ["regulator asked for 0.95"]
    assert result.criteria[0].changed_after_results
    assert any("changed after results" in flag for flag in result.flags)
    assert result.verdict == "NOT_READY"  # 0.9 misses the amended 0.95


def test_hand_edit_after_evidence_blocks_until_amended(project):
    from readiness.criteria.declaration import amend

    record_all(GOOD_EVIDENCE)  # locks the template criteria as they stand
    assert check(project).verdict == "READY"
    text = project.config_path.read_text().replace("min: 0.70", "min: 0.75")
    project.config_path.write_text(text)
    result = check(project)
    assert result.verdict == "NOT_READY"
    assert any("no amendment on record" in flag for flag in result.flags)
    amend(project, "recall bound raised after review")
    result = check(project)
    assert result.verdict == "READY"
    assert result.amendments[0]["reason"] == "recall bound raised after review"
    assert [c.changed_after_results for c in result.criteria] == [False, True, False]


def test_evidence_before_any_declaration_is_flagged(empty_dir):
    from readiness.core.project import Project

    project = Project(empty_dir)
    record_all({"roc_auc": 0.9})
    declaration = declare(project, CRITERIA)
    assert declaration.event == "declared"
    assert any("after evidence" in flag for flag in check(project).flags)


def test_declaring_keeps_other_sections_and_comments(project):
    original = project.config_path.read_text()
    assert "# today's practice" in original
    declare(project, "drift: {max_drift_share: 0.3, ignore: [customer_id]}\n")
    text = project.config_path.read_text()
    assert "# today's practice" in text and "max_drift_share: 0.3" in text
    assert show(project).config.drift.ignore == ["customer_id"]


def test_invalid_body_writes_nothing(project):
    before = project.config_path.read_text()
    with pytest.raises(ConfigError, match=r"criteria\.technical\[0\].*no absolute bound"):
        declare(
            project,
            "criteria:\n  technical:\n    - {metric: auc, split: holdout, baseline: 0.8, min_margin: 0.1}\n",
        )
    with pytest.raises(ConfigError, match="unknown section"):
        declare(project, "critera: {}\n")
    assert project.config_path.read_text() == before
    assert not project.criteria_lock_path.exists()


def test_corrupt_lock_is_a_clear_error(project):
    project.state_dir.mkdir()
    project.criteria_lock_path.write_text("{not json")
    with pytest.raises(ConfigError, match="corrupt"):
        show(project)


def test_declaring_only_a_data_schema_does_not_lock_criteria(project):
    declaration = declare(project, "datasets:\n  d: {path: d.csv, columns: {a: {type: int}}}\n")
    assert declaration.event == "saved"
    assert read_lock(project) is None
    assert declare(project, CRITERIA).event == "declared"


LOWER = CRITERIA.replace("0.85", "0.60")


@pytest.mark.parametrize("content", ["{}", "[]", '{"hash": null}', '{"version": 1, "hash": 3}'])
def test_a_lock_that_is_not_a_lock_is_an_error_naming_it(project, content):
    declare(project, CRITERIA)
    record_all({"roc_auc": 0.9})
    project.criteria_lock_path.write_text(content)
    for call in (lambda: show(project), lambda: check(project), lambda: declare(project, LOWER)):
        with pytest.raises(ConfigError, match=r"criteria\.lock is not a criteria lock"):
            call()
    assert "0.85" in project.config_path.read_text()
    if content == "{}":
        done = cli("check", cwd=project.root)
        assert done.returncode == 2 and "is not a criteria lock" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_deleted_lock_keeps_the_criteria_locked(project):
    from readiness.checklist.items import ProbeContext
    from readiness.checklist.probes.governance import criteria_first

    declare(project, CRITERIA)
    record_all({"roc_auc": 0.9})
    declare(project, STRICTER.replace("0.95", "0.88"), amend="board review")
    assert check(project).verdict == "READY"
    project.criteria_lock_path.unlink()
    result = check(project)
    assert result.verdict == "NOT_READY" and not result.criteria_passed
    assert any("criteria.lock is missing while 1 run(s) hold evidence" in f for f in result.flags)
    passed, detail = criteria_first(ProbeContext(project))
    assert passed is False and "audit log records criteria declared" in detail
    record_all({"roc_auc": 0.91})  # more evidence does not quietly re-lock other criteria
    assert not project.criteria_lock_path.exists()
    with pytest.raises(CriteriaLockedError, match="--amend"):
        declare(project, LOWER)  # lowering a bound still needs a reason
    assert "0.88" in project.config_path.read_text()
    declaration = declare(project, LOWER, amend="bound relaxed after the audit")
    assert declaration.event == "amended"
    lock = read_lock(project)
    assert lock["rebuilt_from_audit_log"] and lock["first_evidence_at"]
    reasons = [a["reason"] for a in check(project).amendments]
    assert reasons == ["board review", "bound relaxed after the audit"]  # history kept
    assert any("rebuilt from the audit log" in f for f in check(project).flags)


def test_a_lock_emptied_to_never_declared_is_flagged(project):
    from readiness.criteria.declaration import amend

    declare(project, CRITERIA)
    record_all({"roc_auc": 0.9})
    project.criteria_lock_path.write_text(
        '{"version": 1, "hash": null, "locked_at": null, "git_commit": null, "history": []}'
    )
    result = check(project)
    assert result.verdict == "NOT_READY"
    assert any("criteria.lock holds no criteria" in f for f in result.flags)
    assert amend(project, "restore the lock").event == "rebuilt"  # same criteria: lock is back
    assert check(project).verdict == "READY"
