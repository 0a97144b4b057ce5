"""CI workflows built from what the project has, and what it still lacks for them to pass.

A workflow that installs from a ``requirements.txt`` that does not exist, or pulls data
from a remote only this machine knows, fails on its first run: the steps follow the
project's files, and every gap is said when the workflow is written.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from pathlib import Path

from readiness.core.project import Project

# How a project pins its dependencies, most specific first: file -> install command.
LOCK_FILES = {
    "requirements.txt": "pip install -r requirements.txt",
    # each CI step is a new shell: install into the job's Python, not a virtualenv
    "uv.lock": "pip install uv && uv export --frozen --no-hashes -o /tmp/req.txt "
    "&& pip install -r /tmp/req.txt",
    "poetry.lock": "pip install poetry && poetry config virtualenvs.create false "
    "&& poetry install --no-root",
    "pyproject.toml": "pip install .",
}
# DVC's optional extras for a remote's scheme
DVC_EXTRAS = {"s3": "s3", "gs": "gs", "gcs": "gs", "azure": "azure", "ssh": "ssh", "hdfs": "hdfs"}


@dataclass
class Facts:
    """What a CI run of this project can count on."""

    install: str
    dvc: bool = False
    remote: str | None = None  # the shared default remote's URL (.dvc/config)
    missing: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)  # models in production: contract-tested


def _dvc_remote(root: Path, which: str) -> tuple[str | None, str | None]:
    """The default remote (name, url) of ``.dvc/<which>``, when it names one."""
    path = root / ".dvc" / which
    if not path.is_file():
        return None, None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (configparser.Error, UnicodeDecodeError):
        return None, None
    name = parser.get("core", "remote", fallback=None)
    if not name:
        return None, None
    section = f"'remote \"{name}\"'"
    url = parser.get(section, "url", fallback=None)
    return name, url


def facts(project: Project) -> Facts:
    """The install command, DVC and its shared remote, and what is missing for CI."""
    from readiness import __version__

    root = project.root
    install = next((cmd for name, cmd in LOCK_FILES.items() if (root / name).is_file()), None)
    out = Facts(install=install or "", served=_served_models(project))
    dvc = (root / ".dvc").is_dir()
    name, url = _dvc_remote(root, "config")
    local_name, local_url = _dvc_remote(root, "config.local")
    extra = DVC_EXTRAS.get((url or "").split("://", 1)[0]) if url and "://" in url else None
    if install is None:
        dvc_pkg = f"dvc[{extra}]" if extra else "dvc"
        out.install = f"pip install readiness=={__version__} {dvc_pkg}"
        out.missing.append(
            "no lock file (requirements.txt, uv.lock, poetry.lock or pyproject.toml): CI "
            "installs readiness alone, so a notebook's own imports are missing there; pin "
            "them, e.g. pip freeze > requirements.txt, then rerun readiness ci with --force"
        )
    if dvc:
        out.dvc = True
        if url and not local_name:
            out.remote = url
        elif url and local_name:
            out.remote = url
            out.missing.append(
                f"this machine's default DVC remote is {local_name!r} (.dvc/config.local), "
                f"not the shared {name!r}: check that CI can read {url}"
            )
        else:
            where = f" ({local_name!r} -> {local_url} is in .dvc/config.local, this machine only)"
            out.missing.append(
                "no shared DVC remote"
                + (where if local_name else "")
                + ": CI cannot pull the data. Add one that CI can reach: "
                "readiness init --remote URL (or dvc remote add -d NAME URL), commit "
                ".dvc/config, then rerun readiness ci with --force"
            )
    return out


def _served_models(project: Project) -> list[str]:
    """Models with a production version: CI runs their serving contract test."""
    from readiness.core.errors import ReadinessError
    from readiness.registry.versions import versions

    if not (project.root / ".git").exists():
        return []
    try:
        return sorted({v.name for v in versions(project) if "production" in v.stages})
    except ReadinessError:  # no registry yet: nothing is served
        return []


def github(f: Facts) -> str:
    steps = [
        "      - uses: actions/checkout@v4",
        "        with: {fetch-depth: 0}          # GTO reads the registry from git tags",
        "      - uses: actions/setup-python@v5",
        '        with: {python-version: "3.11"}',
        "      - name: Install",
        f"        run: {f.install}",
    ]
    if f.remote:
        steps += [
            "      - name: Data",
            f"        run: dvc pull                 # from {f.remote}; its credentials: "
            "repository secrets",
        ]
    elif f.dvc:
        steps.append("      # no shared DVC remote yet: add one, then a `dvc pull` step here")
    steps += [
        "      - name: Data validation",
        "        run: readiness validate",
        "      - name: Success criteria of the candidate",
        "        run: readiness check --criteria-only",
        *(
            line
            for name in f.served
            for line in (
                f"      - name: Serving contract test of {name}",
                f"        run: readiness serve {name} --check",
            )
        ),
        "      - name: Production readiness gate",
        '        run: readiness check --format md >> "$GITHUB_STEP_SUMMARY" && readiness check',
    ]
    head = [
        "# Written by `readiness ci github`: the production readiness gate on every push.",
        "name: readiness",
        "on: [push, pull_request]",
        "jobs:",
        "  gate:",
        "    runs-on: ubuntu-latest",
        "    steps:",
    ]
    return "\n".join([*head, *steps]) + "\n"


def gitlab(f: Facts) -> str:
    script = [f"    - {f.install}"]
    if f.remote:
        script.append(f"    - dvc pull                           # from {f.remote}")
    elif f.dvc:
        script.append("    # no shared DVC remote yet: add one, then `- dvc pull` here")
    script += [
        "    - readiness validate                 # data validation",
        "    - readiness check --criteria-only    # success criteria of the candidate",
        *(f"    - readiness serve {name} --check   # serving contract test" for name in f.served),
        "    - readiness check                    # production readiness gate",
    ]
    head = [
        "# Written by `readiness ci gitlab`: the production readiness gate on every push.",
        "readiness:",
        "  image: python:3.11",
        '  variables: {GIT_DEPTH: "0"}           # GTO reads the registry from git tags',
        "  script:",
    ]
    return "\n".join([*head, *script]) + "\n"


BUILDERS = {"github": github, "gitlab": gitlab}
