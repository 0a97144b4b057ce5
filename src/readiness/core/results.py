"""The base of every result object: one dict, rendered as text, HTML and JSON."""

from __future__ import annotations

import json
from typing import Any

EVIDENCE_MIME = "application/vnd.readiness.evidence+json"


class Renderable:
    """Mixin for result dataclasses: ``to_dict`` is the data, ``render`` draws it.

    Jupyter front ends (JupyterLab, Notebook 7, VS Code, Colab) and papermill
    outputs pick the richest MIME type they support from ``_repr_mimebundle_``.
    """

    # Set by the notebook front end when a widget manager may be present: a factory of
    # the widget view (see readiness.widgets); the text and HTML stay as the fallback.
    interactive: Any = None
    shown_live: bool = False  # a live widget (batch progress) already shows it in full
    output_format: str = "text"  # how the CLI prints it: text, json, html or md (check --format)

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    @property
    def exit_code(self) -> int:
        """What the CLI exits with after showing this result (0: success)."""
        return 0

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from readiness import render

        return render.mimebundle(self)

    def __str__(self) -> str:
        from readiness import render

        return render.text(self)
