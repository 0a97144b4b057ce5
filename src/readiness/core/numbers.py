"""The finite-number rule: every number readiness declares, records or compares is a finite float.

NaN compares false with everything, so ``nan < bound`` never flags a failure; infinity
and integers beyond the float range (about ±1.8e308) cannot be compared as floats at
all (``float(10**400)`` raises ``OverflowError``). The schema of readiness.yaml and the
evidence recorder refuse them with :func:`problem`; the judge, reading records written
before (or by hand), treats them as failures with :func:`as_finite`.
"""

from __future__ import annotations

import math
import re
from typing import Any

RULE = "numbers must be finite and within the float range (about ±1.8e308)"
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_HINT = "a positive length with a unit (s, m, h, d, w), e.g. 30m, 24h, 7d"


def duration_seconds(text: Any) -> float | None:
    """Seconds in a duration such as ``30m``, ``24h``, ``7d``; None when it is not one."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", str(text))
    if not found or float(found.group(1)) <= 0:
        return None
    return float(found.group(1)) * DURATION_UNITS[found.group(2)]


def _digits(value: int) -> int:
    """Decimal digits of ``value``, without ``str()`` (which refuses over 4,300 digits)."""
    return max(1, math.ceil(abs(value).bit_length() * math.log10(2)))


def problem(value: Any) -> str | None:
    """Why ``value`` is not a finite float-representable number; None when it is one.

    Booleans and non-numbers are not this rule's concern (None).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return f"an integer of about {_digits(value)} digits"
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "infinity" if value > 0 else "-infinity"
    return None


def first_problem(data: Any, where: str = "") -> tuple[str, str] | None:
    """The first number inside JSON-like ``data`` that breaks the rule: (where, why)."""
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, (list, tuple)):
        items = enumerate(data)
    else:
        reason = problem(data)
        return (where, reason) if reason else None
    for key, item in items:
        found = first_problem(item, f"{where}[{key!r}]")
        if found:
            return found
    return None


def as_finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (not a number, a boolean, NaN, infinite, huge)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if problem(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def describe(value: Any) -> str:
    """A short text of ``value`` for messages (never the 5,000 digits of a huge integer)."""
    reason = problem(value)
    if reason:
        return reason
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
