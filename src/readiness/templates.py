"""Where the shipped templates are: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

from readiness.errors import ProjectError


def templates_dir() -> Path:
    """The folder holding ``readiness.yaml``, notebooks and other templates."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "templates"  # editable install
    if checkout.is_dir():
        return checkout
    raise ProjectError(
        "the readiness templates are missing from this installation; reinstall readiness"
    )


def template(name: str) -> Path:
    path = templates_dir() / name
    if not path.exists():
        raise ProjectError(f"template {name} is missing from {templates_dir()}")
    return path
