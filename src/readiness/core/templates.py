"""Where the shipped templates are: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

from readiness.core.errors import ProjectError


def templates_dir() -> Path:
    """The folder holding ``readiness.yaml``, notebooks and other templates."""
    packaged = Path(__file__).parents[1] / "templates"  # readiness/templates in the wheel
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "templates"  # editable install
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


# The example owner every readiness.yaml template ships with: criteria naming it were never
# filled in, so they are not locked (the owner is who evaluates the PoC).
PLACEHOLDER_OWNER = "jane.doe@example.com"


def placeholder_problem(use_case: object) -> str | None:
    """Why ``use_case`` is still the template's example, or None when it is the user's own."""
    owner = getattr(use_case, "owner", "")
    if str(owner).strip().lower() != PLACEHOLDER_OWNER:
        return None
    return (
        f"readiness.yaml still holds the template's example use case "
        f"(name {getattr(use_case, 'name', '?')!r}, owner {owner!r}): put your own use case "
        "name and business owner under use_case: before the criteria are locked (declaring "
        "them, or recording the first evidence, locks them)"
    )
