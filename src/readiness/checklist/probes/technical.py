"""technical: registry, CI/CD, monitoring, rollback."""

from __future__ import annotations

import datetime as dt
from typing import Any

from readiness.checklist.items import Item
from readiness.core.schema import DEFAULT_MONITOR_CHECKLIST_AGE, Serving

CI_FILES = (".github/workflows", ".gitlab-ci.yml")


def registry(ctx: Any) -> tuple[bool | None, str]:
    if not ctx.versions:
        return None, "no registered model version"
    v = ctx.versions[0]
    return True, f"{len(ctx.versions)} registered version(s); newest {v.name} {v.version}"


def ci_workflows(root: Any) -> list[Any]:
    found = []
    workflows = root / ".github" / "workflows"
    if workflows.is_dir():
        found += sorted(p for p in workflows.iterdir() if p.suffix in (".yml", ".yaml"))
    if (root / ".gitlab-ci.yml").is_file():
        found.append(root / ".gitlab-ci.yml")
    return found


def cicd(ctx: Any) -> tuple[bool | None, str]:
    files = ci_workflows(ctx.root)
    if not files:
        return None, "no CI workflow (.github/workflows/*.yml or .gitlab-ci.yml)"
    needed = {"data validation": "readiness validate", "the gate": "readiness check"}
    gaps = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        missing = [what for what, command in needed.items() if command not in text]
        if not missing:
            return True, f"{path.relative_to(ctx.root)} validates data and runs readiness check"
        gaps.append(f"{path.relative_to(ctx.root)} lacks {', '.join(missing)}")
    return False, "; ".join(gaps)


def monitoring(ctx: Any) -> tuple[bool | None, str]:
    """Both layers run: infrastructure metrics served (a passing contract test proved
    /metrics), alert rules generated from the current readiness.yaml, and model quality
    (a drift policy, the pinned reference, a monitor run within the declared period)."""
    from readiness.checklist.probes.security import contract_is_recent, latest_contract
    from readiness.monitoring.alerts import current_rules_problem

    if ctx.config is None or ctx.config.drift is None:
        return None, "no drift policy in readiness.yaml"
    if ctx.model is None or not ctx.model.run_id:
        return False, "no registered model whose training data version is pinned"
    name = ctx.model.name
    contract = latest_contract(ctx, name)
    if contract is None or not contract.get("metrics") or not contract_is_recent(contract):
        return False, (
            f"no recent contract test of {name} that proved its metrics are served "
            f"(infrastructure layer): readiness serve {name} --check"
        )
    stale_rules = current_rules_problem(ctx.project, ctx.audit)
    if stale_rules:
        return False, stale_rules
    last = _last_monitor(ctx, name)
    if last is None:
        return False, f"no monitor run for {name}: schedule readiness monitor {name}"
    max_age = (ctx.config.serving or Serving()).monitor_max_age_seconds(
        DEFAULT_MONITOR_CHECKLIST_AGE
    )
    if dt.datetime.now(dt.UTC) - _when(last) > dt.timedelta(seconds=max_age):
        declared = ctx.config.serving.monitor_max_age if ctx.config.serving else None
        return False, (
            f"last monitor run {last} is older than {declared or DEFAULT_MONITOR_CHECKLIST_AGE}"
            + ("" if declared else " (serving.monitor_max_age sets the period)")
        )
    generated = [e for e in ctx.audit if e.get("event") == "alerts.generated"][-1]
    return (
        True,
        f"metrics served (contract test {contract['at']}); alert rules {generated['path']} "
        f"follow the current criteria; drift policy, {name} {ctx.model.version} pinned, "
        f"monitored {last}",
    )


def _last_monitor(ctx: Any, name: str) -> str | None:
    """When ``name`` was last monitored: a window of logged traffic (``monitor.window``) or
    a monitor run of the retraining loop, whichever is newer."""
    stamps = [
        str(e["at"])
        for e in ctx.audit
        if e.get("event") == "monitor.window"
        and name in (e.get("name"), e.get("model"))
        and e.get("at")
    ]
    stamps += [
        str(r["updated_at"])
        for r in ctx.runs
        if r.get("kind") == "retrain" and r.get("model") == name and r.get("updated_at")
    ]
    return max(stamps, key=_when) if stamps else None


def _when(stamp: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(stamp)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def rollback(ctx: Any) -> tuple[bool | None, str]:
    from readiness.registry.versions import DRILL_MAX_AGE_DAYS, drill_is_recent

    name = ctx.model.name if ctx.model is not None else None
    drills = [
        e
        for e in ctx.audit
        if e.get("event") == "rollback.drill" and (name is None or e.get("name") == name)
    ]
    if not drills:
        return None, "no rollback drill on record" + (f" for {name}" if name else "")
    last = drills[-1]
    if drill_is_recent(last):
        return True, f"drill {last['at']}: {last.get('detail')}"
    why = "failed" if not last.get("ok") else f"older than {DRILL_MAX_AGE_DAYS} days"
    return False, f"last drill {last['at']} {why}"


ITEMS = [
    Item(
        "technical.registry",
        "model registry with a registered version",
        "readiness.save_model(model, NAME) in the notebook, then readiness register NAME",
        registry,
    ),
    Item(
        "technical.cicd",
        "CI runs data validation, the criteria and readiness check",
        "readiness ci github (or gitlab) writes the workflow",
        cicd,
    ),
    Item(
        "technical.monitoring",
        "both layers run: metrics served, alert rules from the current criteria, a recent "
        "monitor run on pinned reference data",
        "readiness serve NAME --check (metrics); readiness alerts prometheus -o "
        "monitoring/alerts.yml (rules, loaded by Prometheus); declare drift: in readiness.yaml "
        "and schedule readiness monitor NAME",
        monitoring,
    ),
    Item(
        "technical.rollback",
        "rollback drill within 90 days",
        "readiness rollback NAME --drill",
        rollback,
    ),
]
