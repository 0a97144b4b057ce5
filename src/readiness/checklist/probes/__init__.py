"""The twenty checklist items and the probes that establish them automatically.

One module per category; this one holds the item table in its stable order (what every
probe reads, ``ProbeContext``, is in :mod:`readiness.checklist.items`).
"""

from __future__ import annotations

from typing import Any


def _items() -> list[Any]:
    from readiness.checklist.probes import data, governance, operational, security, technical

    return [*technical.ITEMS, *data.ITEMS, *security.ITEMS, *governance.ITEMS, *operational.ITEMS]


ITEMS = _items()
