"""Every skops call of readiness (model files without pickle), its errors translated here.

skops raises whatever the object or the archive leads it to (``TypeError`` for an object
it cannot represent, ``zipfile.BadZipFile``, ``KeyError``, ``json`` errors for a damaged
file, and any exception a model class's own ``__setstate__`` raises while loading): no
common base class exists, so each call here is the one place that catches them broadly
and raises :class:`~readiness.core.errors.SkopsError` ("TypeName: message").
Which types to trust is readiness's policy and stays in ``registry.models``.
"""

from __future__ import annotations

from typing import Any

from readiness.core.errors import SkopsError


def _error(exc: Exception) -> SkopsError:
    return SkopsError(f"{type(exc).__name__}: {' '.join(str(exc).split())}")


def dumps(model: Any) -> bytes:
    """The skops bytes of ``model``."""
    import skops.io

    try:
        return bytes(skops.io.dumps(model))
    except Exception as exc:  # skops refuses what it cannot represent, each in its own way
        raise _error(exc) from None


def untrusted_types(data: bytes) -> list[str]:
    """The types in skops bytes that skops does not trust by default (nothing is loaded)."""
    import skops.io

    try:
        return list(skops.io.get_untrusted_types(data=data))
    except Exception as exc:  # not a skops file: zip, JSON and schema errors share no base
        raise _error(exc) from None


def loads(data: bytes, trusted: list[str]) -> Any:
    """The object in skops bytes, loading only skops' defaults and ``trusted`` types."""
    import skops.io

    try:
        return skops.io.loads(data, trusted=trusted)
    except Exception as exc:  # damaged content, or a trusted class's own state code failing
        raise _error(exc) from None
