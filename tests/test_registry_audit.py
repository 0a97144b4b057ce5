"""Every registry tag has its audit entry: intents first, then reconciled (real git and GTO)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from readiness.core import audit
from readiness.registry import audit as registry_audit

from .conftest import cli, git_init


def _tags(root: Path) -> list[str]:
    out = subprocess.run(["git", "tag"], cwd=root, capture_output=True, text=True, check=True)
    return sorted(out.stdout.split())


def _logged_tags(project) -> list[str]:
    return sorted(e["tag"] for e in audit.read(project) if e.get("tag"))


def _head(root: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_tags_left_by_killed_commands_are_reconciled_from_their_intents(project):
    import gto.api

    root = str(project.root)
    git_init(project.root)
    # register and a forced promotion, each killed after its tag, before its completion:
    # the intent and the tag exactly as registry.register / registry.promote write them
    registry_audit.new_intent(
        project,
        "register",
        name="screening",
        commit=_head(project.root),
        version="v1.0.0",
        run="r1",
    )
    message = json.dumps({"run": "r1"})
    gto.api.register(root, "screening", "HEAD", version="v1.0.0", message=message)
    registry_audit.new_intent(
        project,
        "assign",
        name="screening",
        version="v1.0.0",
        stage="production",
        forced=True,
        reason="demo day",
        failed=["success criteria"],
    )
    gto.api.assign(root, "screening", "production", version="v1.0.0", force=True)
    # and a stage tag made with plain gto: no intent at all
    gto_cli = Path(sys.executable).with_name("gto")
    subprocess.run(
        [str(gto_cli), "assign", "screening", "--version", "v1.0.0", "--stage", "staging"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    assert len(_tags(project.root)) == 3 and _logged_tags(project) == []

    listed = cli("models", cwd=project.root)
    assert listed.returncode == 0, listed.stderr
    assert "the forced promotion of screening v1.0.0 to production (reason: demo day)" in (
        listed.stdout
    )
    assert "reconciled: tag screening#staging#2 found without audit entry" in listed.stdout
    assert _logged_tags(project) == _tags(project.root)  # one entry per tag
    events = {e["tag"]: e for e in audit.read(project) if e.get("tag")}
    registered = events["screening@v1.0.0"]
    assert registered["event"] == "model.registered" and registered["run"] == "r1"
    forced = events["screening#production#1"]
    assert forced["event"] == "model.promoted.forced" and forced["reason"] == "demo day"
    assert forced["failed"] == ["success criteria"] and forced["reconciled"]
    assert events["screening#staging#2"]["event"] == "registry.reconciled"

    before = audit.read(project)
    again = json.loads(cli("models", "--json", cwd=project.root).stdout)
    assert again["reconciled"] == [] and audit.read(project) == before  # nothing twice


def test_entries_written_before_tags_were_logged_still_match(project):
    import gto.api

    git_init(project.root)
    gto.api.register(str(project.root), "screening", "HEAD", version="v1.0.0")
    gto.api.assign(str(project.root), "screening", "production", version="v1.0.0")
    audit.append(project, "model.registered", name="screening", version="v1.0.0", run=None)
    audit.append(project, "model.promoted", name="screening", version="v1.0.0", stage="production")
    assert registry_audit.reconcile(project) == []
    gto.api.assign(str(project.root), "screening", "production", version="v1.0.0", force=True)
    (entry,) = registry_audit.reconcile(project)  # the second assignment has no entry
    assert entry["event"] == "registry.reconciled" and entry["tag"] == "screening#production#2"


def test_no_registry_no_reconciling(project):
    git_init(project.root)
    assert registry_audit.reconcile_if_idle(project) == []
    assert not (project.state_dir / "registry.lock").exists()
