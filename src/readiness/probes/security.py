"""security: API auth, secrets, pen test, supply chain."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from readiness.checklist import Item
from readiness.dvcstore import SKIP_DIRS as WORK_TREE_SKIP

SCANNED = ("*.ipynb", "*.yaml", "*.yml", "*.json", "*.toml", "*.cfg", "*.ini", "*.env", "*.py")
# generated state and reports hold hashes, not credentials
SKIP_DIRS = {*WORK_TREE_SKIP, "reports"}
SKIP_FILES = {"dvc.lock"}
# content hashes (md5, sha256) look like hex secrets to the entropy detector: not credentials
IGNORED_TYPES = {"Hex High Entropy String"}
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


def notebook_text(path: Path) -> str:
    """A notebook's sources and text outputs, decoded (images skipped)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return ""
    lines = []
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        lines.append("".join(source) if isinstance(source, list) else source)
        for output in cell.get("outputs", []):
            text = output.get("text")
            if text:
                lines.append("".join(text) if isinstance(text, list) else text)
            for mime, value in (output.get("data") or {}).items():
                if mime.startswith("image/"):
                    continue
                lines.append(
                    "".join(value)
                    if isinstance(value, list)
                    else json.dumps(value)
                    if not isinstance(value, str)
                    else value
                )
            if output.get("traceback"):
                lines.append("\n".join(output["traceback"]))
    return "\n".join(lines)


def files_to_scan(root: Path) -> list[Path]:
    found = []
    for pattern in SCANNED:
        for path in root.rglob(pattern):
            parts = path.relative_to(root).parts
            if not any(part in SKIP_DIRS for part in parts) and path.name not in SKIP_FILES:
                found.append(path)
    return sorted(set(found))


def find_secrets(root: Path) -> list[str]:
    """``file:line type`` for every secret detect-secrets' detectors find."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    findings = []
    with tempfile.TemporaryDirectory() as folder, default_settings():
        for path in files_to_scan(root):
            target = path
            if path.suffix == ".ipynb":  # decoded text: JSON escaping hides secrets otherwise
                target = Path(folder) / (path.name + ".txt")
                target.write_text(notebook_text(path), encoding="utf-8")
            secrets = SecretsCollection()
            secrets.scan_file(str(target))
            for _, secret in secrets:
                if secret.type not in IGNORED_TYPES:
                    findings.append(f"{path.relative_to(root)}:{secret.line_number} {secret.type}")
    return findings


def secrets(ctx: Any) -> tuple[bool | None, str]:
    found = find_secrets(ctx.root)
    if found:
        return False, "possible credentials: " + "; ".join(found[:5]) + (
            " ..." if len(found) > 5 else ""
        )
    return True, "no credentials in notebooks (sources and outputs), parameters or configs"


def _git_files(root: Path) -> list[str]:
    done = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    return done.stdout.split() if done.returncode == 0 else []


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
        "readiness attest security.api_auth --by NAME --evidence URL",
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
