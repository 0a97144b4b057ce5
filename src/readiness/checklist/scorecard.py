"""The production readiness checklist: twenty items, five categories, scored like the ML Test Score.

An item is satisfied by an automated probe of the project (1 point), by a dated
attestation with a named person and an evidence link (0.5 point), or not at all
(0). A category's score is its share of points; the overall score is the minimum
over the categories: every area matters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from readiness.checklist.items import Item
from readiness.core.project import Project

CATEGORIES = ("technical", "data", "security", "governance", "operational")
ATTESTATION_DAYS = 180


@dataclass
class ItemResult:
    id: str
    category: str
    title: str
    status: str  # automated | attested | failed | missing
    points: float
    detail: str
    next_step: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Scorecard:
    items: list[ItemResult] = field(default_factory=list)

    @property
    def categories(self) -> dict[str, float]:
        out = {}
        for category in CATEGORIES:
            members = [i for i in self.items if i.category == category]
            out[category] = (
                round(sum(i.points for i in members) / len(members), 3) if members else 0.0
            )
        return out

    @property
    def overall(self) -> float:
        return min(self.categories.values()) if self.items else 0.0

    @property
    def complete(self) -> bool:
        return all(i.status in ("automated", "attested") for i in self.items)


def attestation_status(raw: Any, today: dt.date | None = None) -> tuple[bool, str]:
    """Whether an attestation counts, and why not (malformed, expired)."""
    from pydantic import ValidationError

    from readiness.core.schema import Attestation

    today = today or dt.date.today()
    try:
        attestation = Attestation.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'attestation'}: {e['msg']}" for e in exc.errors()
        )
        return False, f"attestation malformed ({problems})"
    expires = attestation.expires or attestation.date + dt.timedelta(days=ATTESTATION_DAYS)
    if attestation.date > today:
        return False, f"attestation dated in the future ({attestation.date})"
    if expires < today:
        return False, f"attestation by {attestation.by} expired on {expires}"
    return True, f"attested by {attestation.by} on {attestation.date}: {attestation.evidence}"


def evaluate(project: Project, items: list[Item] | None = None) -> Scorecard:
    """Probe every item, then fall back to its attestation."""
    from readiness.checklist.items import ProbeContext
    from readiness.checklist.probes import ITEMS

    context = ProbeContext(project)
    attestations = context.raw_attestations()
    card = Scorecard()
    for item in items or ITEMS:
        passed: bool | None = None
        detail = "no automated probe: attest it"
        if item.probe is not None:
            try:
                passed, detail = item.probe(context)
            except Exception as exc:  # a probe that breaks must not break the scorecard
                passed, detail = False, f"probe error: {type(exc).__name__}: {exc}"
        if passed:
            card.items.append(
                ItemResult(item.id, item.category, item.title, "automated", 1.0, detail)
            )
            continue
        raw = attestations.get(item.id)
        if raw is not None:
            valid, why = attestation_status(raw)
            if valid:
                card.items.append(
                    ItemResult(item.id, item.category, item.title, "attested", 0.5, why)
                )
                continue
            detail = f"{detail}; {why}" if item.probe else why
        status = "failed" if passed is False else "missing"
        card.items.append(
            ItemResult(item.id, item.category, item.title, status, 0.0, detail, item.next_step)
        )
    return card
