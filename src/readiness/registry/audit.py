"""The registry's audit trail: an intent before every tag, a completion after, reconciled.

A registry write creates a git tag (through GTO) and then an audit event. A process
killed between the two would leave a tag (a version, even a forced production
promotion) with no audit entry and its reason lost. So each write first appends an
intent (what is about to be tagged, and why), then creates the tag, then appends the
completion naming the tag and the intent. The next registry command reconciles the
tags with the log: a tag without an entry is completed from its intent (keeping a
forced promotion's reason) or, with none, recorded as found without an audit entry.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from readiness.core import audit
from readiness.core.errors import ReadinessError
from readiness.core.project import Project

INTENT = "model.intent"
RECONCILED = "registry.reconciled"
# completion events and the GTO action each records
COMPLETIONS = {
    "model.registered": "register",
    "model.promoted": "assign",
    "model.promoted.forced": "assign",
    "model.rolled_back": "unassign",
}


def new_intent(project: Project, action: str, **fields: Any) -> str:
    """Append what is about to be tagged (before the tag exists); returns the intent's id."""
    ident = uuid.uuid4().hex[:16]
    audit.append(project, INTENT, action=action, intent=ident, **fields)
    return ident


@dataclass
class Tag:
    """One GTO git tag, parsed the way GTO parses it."""

    name: str
    action: str  # register | assign | unassign | deregister | deprecate
    artifact: str
    commit: str
    version: str | None = None  # for stage tags: the version registered at the commit
    stage: str | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.action, self.artifact, self.version, self.stage)


def gto_tags(project: Project) -> list[Tag]:
    """Every GTO tag of the repository, oldest first (none outside a git repository)."""
    from readiness.integrations.git import tag_refs
    from readiness.integrations.gto import parse_tag

    tags = []
    for line in tag_refs(project.root):
        name, peeled, target = [*line.split("\t"), "", ""][:3]
        parsed = parse_tag(name)
        if not parsed or "action" not in parsed:
            continue
        tags.append(
            Tag(
                name=name,
                action=str(parsed["action"].value),
                artifact=parsed["name"],
                commit=peeled or target,
                version=parsed.get("version"),
                stage=parsed.get("stage"),
            )
        )
    registered = {(t.artifact, t.commit): t.version for t in tags if t.action == "register"}
    for tag in tags:
        if tag.stage is not None:
            tag.version = registered.get((tag.artifact, tag.commit))
    return tags


def _event_key(event: dict[str, Any]) -> tuple[Any, ...] | None:
    action = COMPLETIONS.get(str(event.get("event")))
    if action == "register":
        return (action, event.get("name"), event.get("version"), None)
    if action == "assign":
        return (action, event.get("name"), event.get("version"), event.get("stage"))
    if action == "unassign":
        version = event.get("from_version") or event.get("version")
        return (action, event.get("name"), version, event.get("stage") or "production")
    return None


def _intent_matches(intent: dict[str, Any], tag: Tag) -> bool:
    if intent.get("action") != tag.action or intent.get("name") != tag.artifact:
        return False
    if tag.action == "register":  # the version may be GTO's bump: the commit names it
        return intent.get("commit") == tag.commit
    return (intent.get("version"), intent.get("stage")) == (tag.version, tag.stage)


def _complete(project: Project, intent: dict[str, Any], tag: Tag) -> dict[str, Any]:
    """The completion the interrupted command would have written, from its intent."""
    common = {"name": tag.artifact, "tag": tag.name, "intent": intent["intent"], "reconciled": True}
    if tag.action == "register":
        return audit.append(
            project, "model.registered", version=tag.version, run=intent.get("run"), **common
        )
    if tag.action == "unassign":
        return audit.append(
            project, "model.rolled_back", from_version=tag.version, stage=tag.stage, **common
        )
    if intent.get("forced"):
        return audit.append(
            project,
            "model.promoted.forced",
            version=tag.version,
            stage=tag.stage,
            reason=intent.get("reason"),
            failed=intent.get("failed") or [],
            **common,
        )
    return audit.append(project, "model.promoted", version=tag.version, stage=tag.stage, **common)


def reconcile(project: Project) -> list[dict[str, Any]]:
    """Give every GTO tag its audit entry; returns the entries written now.

    Call it holding the registry lock, so a command between its tag and its completion
    is not taken for an interrupted one. Entries from before tags were named in the log
    are matched by what they record (action, model, version, stage).
    """
    events = audit.read(project)
    named = {e["tag"] for e in events if e.get("tag")}
    legacy = Counter(key for e in events if not e.get("tag") and (key := _event_key(e)) is not None)
    consumed = {e.get("intent") for e in events if e.get("event") != INTENT}
    intents = [e for e in events if e.get("event") == INTENT and e.get("intent") not in consumed]
    written = []
    for tag in gto_tags(project):
        if tag.name in named:
            continue
        if legacy[tag.key] > 0:
            legacy[tag.key] -= 1
            continue
        intent = next((i for i in reversed(intents) if _intent_matches(i, tag)), None)
        if intent is not None:
            intents.remove(intent)
            written.append(_complete(project, intent, tag))
            continue
        written.append(
            audit.append(
                project,
                RECONCILED,
                tag=tag.name,
                action=tag.action,
                name=tag.artifact,
                version=tag.version,
                stage=tag.stage,
                detail="reconciled: tag found without audit entry",
            )
        )
    return written


def reconcile_if_idle(project: Project) -> list[dict[str, Any]]:
    """Reconcile unless another registry command holds the lock (its tag is in flight)."""
    from readiness.core.fsutil import file_lock

    if not gto_tags(project):
        return []  # no registry: nothing to lock or reconcile
    try:
        with file_lock(project.state_dir / "registry.lock", timeout=2, what="the registry lock"):
            return reconcile(project)
    except ReadinessError:
        return []


def describe(entry: dict[str, Any]) -> str:
    """One line saying what reconciling recorded for a tag."""
    tag = entry.get("tag")
    if entry.get("event") == RECONCILED:
        return f"reconciled: tag {tag} found without audit entry (recorded now)"
    what = {
        "model.registered": f"registration of {entry.get('name')} {entry.get('version')}",
        "model.promoted": f"promotion of {entry.get('name')} {entry.get('version')} "
        f"to {entry.get('stage')}",
        "model.promoted.forced": f"forced promotion of {entry.get('name')} "
        f"{entry.get('version')} to {entry.get('stage')} (reason: {entry.get('reason')})",
        "model.rolled_back": f"rollback of {entry.get('name')} from {entry.get('from_version')}",
    }.get(str(entry.get("event")), str(entry.get("event")))
    return (
        f"reconciled: tag {tag} had no audit entry (its command was interrupted): "
        f"the {what} is now recorded from its intent"
    )
