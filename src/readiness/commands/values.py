"""The one parser of values typed on a command line.

``readiness run -p NAME VALUE``, ``readiness log NAME=VALUE``, ``--tag KEY=VALUE`` and
``readiness pipeline add -p NAME=VALUE`` all read their values here, so a value means
the same everywhere:

- JSON when it parses: ``3``, ``0.5``, ``true``, ``null``, ``[1, 2]``, ``{"a": 1}``,
  ``"quoted text"``;
- ``None``/``none``/``null``/``~`` are None and ``True``/``False`` (any case) are booleans,
  as a notebook's parameters cell (Python) or a YAML params file would write them;
- anything else is the text as typed (``rbf`` is the string ``"rbf"``).

Numbers must be finite and within the float range (:mod:`readiness.core.numbers`): a
5,000-digit integer or ``1e400`` is a one-line error, not a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from readiness.core import numbers
from readiness.core.errors import UsageError

NONE_WORDS = frozenset({"none", "null", "~"})
BOOL_WORDS = {"true": True, "false": False}


def parse_value(raw: str, name: str = "value") -> Any:
    """``raw`` as typed on a command line, as the module docstring describes."""
    lowered = raw.strip().lower()
    if lowered in NONE_WORDS:
        return None
    if lowered in BOOL_WORDS:
        return BOOL_WORDS[lowered]
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    except ValueError:  # digits past Python's int-to-str limit (4,300)
        raise UsageError(
            f"{name}: a number of {len(raw.strip())} characters is refused; {numbers.RULE}"
        ) from None
    found = numbers.first_problem(value)
    if found:
        where, why = found
        raise UsageError(f"{name}{where}: {why} is refused; {numbers.RULE}")
    return value


def parse_pairs(pairs: list[str], placeholder: str) -> dict[str, Any]:
    """``name=value`` strings into a dict, each value read by :func:`parse_value`."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{pair!r} is not {placeholder}")
        out[name.strip()] = parse_value(raw, name.strip())
    return out
