"""What a server runs with: decided once by ``readiness serve``, handed to every worker."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

CONFIG_ENV = "READINESS_SERVE_CONFIG"  # the options, as JSON, for uvicorn's worker processes


@dataclass
class ServeOptions:
    """Everything a worker needs to serve its models (what ``readiness serve`` decided).

    ``name`` and ``stage`` are the first (often the only) model; ``models`` lists every
    served ``[name, stage]`` when there are several (empty: just ``name``).
    """

    root: str
    name: str
    stage: str = "production"
    models: list[list[str]] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    auth: bool = True
    metrics_public: bool = False
    log_url: str = ""
    use_case: str | None = None  # readiness.yaml's use_case.name: the log rows' use case
    server_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    poll_seconds: float = 3.0
    max_body_bytes: int = 1_048_576
    max_rows: int = 10_000
    sample_rate: float = 1.0
    cost_per_hour: float | None = None
    extra_keys: list[dict[str, Any]] = field(default_factory=list)  # the contract test's key

    @property
    def served(self) -> list[tuple[str, str]]:
        """Each served model and the registry stage it follows, in the order given."""
        return [(n, s) for n, s in self.models] or [(self.name, self.stage)]

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.served]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeOptions:
        raw = os.environ.get(CONFIG_ENV)
        if not raw:
            raise RuntimeError(f"{CONFIG_ENV} is not set: start the server with readiness serve")
        return cls(**json.loads(raw))
