"""security: API auth, secrets, pen test, supply chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from readiness.checklist.items import Item
from readiness.checklist.probes.secret_scan import Finding
from readiness.checklist.probes.secret_scan import find_secrets as scan_files
from readiness.core.project import Project
from readiness.integrations.dvc import SKIP_DIRS as WORK_TREE_SKIP

SCANNED = ("*.ipynb", "*.yaml", "*.yml", "*.json", "*.toml", "*.cfg", "*.ini", "*.env", "*.py")
# generated state and reports hold hashes, not credentials
SKIP_DIRS = {*WORK_TREE_SKIP, "reports"}
SKIP_FILES = {"dvc.lock"}
LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "conda-lock.yml",
    "requirements.lock",
    "requirements.txt",
)
PICKLES = (".pkl", ".pickle", ".joblib")


def files_to_scan(root: Path) -> list[Path]:
    """Configs, code and notebooks anywhere in the work tree, and the committed run records."""
    found = []
    for pattern in SCANNED:
        for path in root.rglob(pattern):
            parts = path.relative_to(root).parts
            if not any(part in SKIP_DIRS for part in parts) and path.name not in SKIP_FILES:
                found.append(path)
    # run records are committed, and a parameter given with -p is written into them
    found.extend(Project(root).runs_dir.glob("*.json"))
    return sorted({p for p in found if p.is_file()})


def find_secrets(root: Path) -> list[Finding]:
    """Every possible credential detect-secrets' detectors (and ours) find in the project."""
    return scan_files(root, files_to_scan(root))


def secrets(ctx: Any) -> tuple[bool | None, str]:
    found = find_secrets(ctx.root)
    if found:
        listed = "; ".join(map(str, found))
        return False, f"{len(found)} possible credential{'s' * (len(found) != 1)}: {listed}"
    return True, "no credentials in notebooks (sources and outputs), parameters or configs"


CONTRACT_MAX_AGE_DAYS = 30


def latest_contract(ctx: Any, name: str | None) -> dict[str, Any] | None:
    """The newest ``readiness serve NAME --check`` on record (the audit log), for ``name``."""
    return next(
        (
            e
            for e in reversed(ctx.audit)
            if e.get("event") == "serve.contract" and (name is None or e.get("name") == name)
        ),
        None,
    )


def contract_is_recent(entry: dict[str, Any]) -> bool:
    import datetime as dt

    when = dt.datetime.fromisoformat(entry["at"])
    return dt.datetime.now(dt.UTC) - when <= dt.timedelta(days=CONTRACT_MAX_AGE_DAYS)


def api_auth(ctx: Any) -> tuple[bool | None, str]:
    serving = ctx.config.serving if ctx.config is not None else None
    if serving is not None and not serving.auth:
        return False, "serving: {auth: false} in readiness.yaml: the API takes calls without a key"
    name = ctx.model.name if ctx.model is not None else None
    contract = latest_contract(ctx, name)
    if contract is None:
        return None, "no contract test on record: readiness serve NAME --check"
    if not contract.get("auth_enforced"):
        return False, f"the contract test of {contract['at']} did not get 401 without a key"
    if not contract_is_recent(contract):
        return False, f"the last contract test ({contract['at']}) is older than 30 days"
    return True, (
        f"keys required; contract test {contract['at']} ({contract.get('name')} "
        f"{contract.get('version')}): 401 without a key or with a wrong one"
    )


def _git_files(root: Path) -> list[str]:
    from readiness.integrations.git import tracked_files

    return tracked_files(root)


def supply_chain(ctx: Any) -> tuple[bool | None, str]:
    locks = [name for name in LOCK_FILES if (ctx.root / name).is_file()]
    pinned = [n for n in locks if n != "requirements.txt" or _all_pinned(ctx.root / n)]
    tracked = _git_files(ctx.root) + list(ctx.data_versions)
    pickles = [p for p in tracked if p.endswith(PICKLES)]
    problems = []
    if not pinned:
        problems.append(
            "no lock file with pinned dependencies (uv.lock, poetry.lock, requirements.txt with ==)"
        )
    if pickles:
        problems.append(f"pickle files tracked: {', '.join(pickles[:5])} (save models with skops)")
    if problems:
        return (None if not locks and not pickles else False), "; ".join(problems)
    return True, f"dependencies pinned in {pinned[0]}; no pickle files tracked"


def _all_pinned(path: Path) -> bool:
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    requirements = [ln for ln in lines if ln and not ln.startswith(("#", "-"))]
    return bool(requirements) and all("==" in ln for ln in requirements)


ITEMS = [
    Item(
        "security.api_auth",
        "the serving API authenticates callers",
        "readiness serve keys add NAME, then readiness serve MODEL --check (proves 401 without "
        "a key); or readiness attest security.api_auth --by NAME --evidence URL",
        api_auth,
    ),
    Item(
        "security.secrets",
        "no credentials in notebooks, outputs, parameters or configs",
        "remove the credentials (and clear the notebook outputs), use environment variables",
        secrets,
    ),
    Item(
        "security.pentest",
        "penetration test of the serving stack",
        "readiness attest security.pentest --by NAME --evidence URL",
    ),
    Item(
        "security.supply_chain",
        "dependencies pinned; models stored with skops, no pickles",
        "pin dependencies in a lock file; save models with readiness.save_model",
        supply_chain,
    ),
]
