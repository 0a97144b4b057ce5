"""Every skops call of readiness (model files without pickle), its errors translated here.

skops raises whatever the object or the archive leads it to (``TypeError`` for an object
it cannot represent, ``zipfile.BadZipFile``, ``KeyError``, ``json`` errors for a damaged
file, and any exception a model class's own ``__setstate__`` raises while loading): no
common base class exists, so each call here is the one place that catches them broadly
and raises :class:`~readiness.core.errors.SkopsError` ("TypeName: message").
Which types to trust is readiness's policy and stays in ``registry.models``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from readiness.core.errors import SkopsError


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # skops' failures share no base class (see the module's doc)
        raise SkopsError(f"{type(exc).__name__}: {' '.join(str(exc).split())}") from None


def dumps(model: Any) -> bytes:
    """The skops bytes of ``model`` (a SkopsError for what skops cannot represent)."""
    import skops.io

    with _translated():
        return bytes(skops.io.dumps(model))


def untrusted_types(data: bytes) -> list[str]:
    """The types in skops bytes that skops does not trust by default (nothing is loaded).

    A file that is not skops' (zip, JSON or schema errors) is a SkopsError.
    """
    import skops.io

    with _translated():
        return list(skops.io.get_untrusted_types(data=data))


def loads(data: bytes, trusted: list[str]) -> Any:
    """The object in skops bytes, loading only skops' defaults and ``trusted`` types.

    Damaged content, or a trusted class's own state code failing, is a SkopsError.
    """
    import skops.io

    with _translated():
        return skops.io.loads(data, trusted=trusted)
