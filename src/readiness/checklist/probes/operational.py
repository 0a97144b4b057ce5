"""operational: runbook, on-call, escalation, adoption."""

from __future__ import annotations

from typing import Any

from readiness.checklist.items import Item

RUNBOOK = "docs/runbook.md"
SECTIONS = ("Serving", "Retraining", "Rollback", "Monitoring alerts", "On-call", "Escalation")


def runbook(ctx: Any) -> tuple[bool | None, str]:
    path = ctx.root / RUNBOOK
    if not path.is_file():
        return None, f"no runbook ({RUNBOOK}; readiness init writes the template)"
    text = path.read_text(encoding="utf-8")
    headings = {
        line.lstrip("#").strip().lower() for line in text.splitlines() if line.startswith("#")
    }
    missing = [s for s in SECTIONS if s.lower() not in headings]
    if missing:
        return False, f"{RUNBOOK} lacks sections: {', '.join(missing)}"
    if "TODO" in text:
        return False, f"{RUNBOOK} still has TODO placeholders from the template"
    return True, f"{RUNBOOK} covers {', '.join(SECTIONS)}"


ITEMS = [
    Item(
        "operational.runbook",
        "a runbook: serving, retraining, rollback, alerts, on-call, escalation",
        f"fill in {RUNBOOK} (the template comes with readiness init)",
        runbook,
    ),
    Item(
        "operational.oncall",
        "an on-call rotation for the model",
        "readiness attest operational.oncall --by NAME --evidence URL",
    ),
    Item(
        "operational.escalation",
        "an escalation path",
        "readiness attest operational.escalation --by NAME --evidence URL",
    ),
    Item(
        "operational.adoption",
        "business owner's sign-off and a change-management plan",
        "readiness attest operational.adoption --by OWNER --evidence URL",
    ),
]
