"""Serving: the registry's production models behind an authenticated HTTP API.

One concern per module: ``keys`` (API keys, hashed), ``features`` (the request schema
from the dataset schema and the model's features), ``loaded`` (the served version and
its swap when the registry moves), ``predlog`` (the prediction log, SQLAlchemy),
``metrics`` (Prometheus), ``app`` (the thin ASGI front end), ``runner`` (uvicorn),
``contract`` (the CD4ML contract test) and ``export`` (Docker and Kubernetes files).
"""

from __future__ import annotations

import sys
import types
from typing import Any


def serve_model(
    name: str | list[str],
    stage: str = "production",
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    workers: int | None = None,
    auth: bool | None = None,
    metrics_public: bool = False,
    log_url: str | None = None,
    background: bool = False,
    project: str | None = None,
) -> Any:
    """Serve ``name``'s ``stage`` version over HTTP, as ``readiness serve NAME`` does.

    ``name`` may be a list: one server serves each model at ``/v1/models/NAME:predict``,
    each following its own stage (``"NAME@staging"`` picks one other than ``stage``).

    ``background=True`` (notebooks, scripts, tests) starts it in a child process on
    ``port`` (default: a free one) and returns a :class:`readiness.serve.runner.Server`
    once ``/readyz`` answers: its ``url``, and ``stop()`` (also a context manager).
    Otherwise it serves in this process until interrupted. ``auth=False`` is allowed on
    127.0.0.1 only.
    """
    from readiness.core.project import current_project
    from readiness.serve.runner import free_port, options_for, preflight, run, start_background

    chosen = port if port is not None else (free_port(host) if background else 8000)
    options = options_for(
        current_project(project),
        name,
        stage=stage,
        host=host,
        port=chosen,
        workers=workers,
        auth=auth,
        metrics_public=metrics_public,
        log_url=log_url,
    )
    preflight(options)
    if background:
        return start_background(options)
    run(options)
    return None


class _CallableModule(types.ModuleType):
    """``readiness.serve(...)`` calls :func:`serve_model`, although ``readiness.serve`` is
    this package (importing a submodule would otherwise replace a function of that name)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return serve_model(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
