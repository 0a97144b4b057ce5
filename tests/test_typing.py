"""What mypy found when it joined ``make lint``: calls of a module where a function was meant.

After the regroup ``readiness.evidence.record`` and ``readiness.registry.versions`` are
modules; ``from readiness.evidence import record`` then gave the module, so the public
``readiness.record`` and the checklist's registry read failed with "module is not callable".
"""

from __future__ import annotations

import json

import readiness

from .conftest import git_init


def test_the_public_record_records(project):
    evidence = readiness.record("f1", 0.81)
    assert evidence.name == "f1" and evidence.value == 0.81
    records = [json.loads(p.read_text()) for p in project.runs_dir.glob("*.json")]
    journals = list(project.root.joinpath(".readiness").rglob("*"))
    assert records or journals  # written somewhere under .readiness/


def test_the_checklist_reads_the_registry_versions(project):
    from readiness.checklist.items import ProbeContext

    git_init(project.root)
    assert ProbeContext(project).versions == []  # a git repo without registered models
