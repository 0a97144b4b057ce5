"""``readiness portfolio``: every use case in one table, what needs attention first.

Each project is read where it lies (no copy, no server): its verdict and checklist score
(the full check), the failing items, the version in production and since when (the audit
log), the last monitor run of the prediction log (``.readiness/monitor/<name>.json``: its
breaches, drift share and net value per 1,000 predictions), the attestations expiring
within 30 days and the last rollback drill. A project that cannot be read is a row saying
why; it never hides the others.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.errors import ReadinessError, UsageError
from readiness.core.project import CONFIG_NAME, Project
from readiness.core.results import Renderable

EXPIRY_DAYS = 30  # an attestation expiring within this many days is listed
FILE_NAME = "portfolio.yaml"

# attention ranks, most urgent first (the table's order)
PRODUCTION_AT_RISK, UNREADABLE, NOT_READY, WATCH, FINE = range(5)
RANKS = {
    PRODUCTION_AT_RISK: "production at risk",
    UNREADABLE: "cannot be read",
    NOT_READY: "not ready",
    WATCH: "watch",
    FINE: "fine",
}


@dataclass
class Entry:
    """One line of portfolio.yaml (or one PROJECT_DIR): a folder, optionally named."""

    path: Path
    use_case: str | None = None
    owner: str | None = None


@dataclass
class PortfolioRow:
    project: str
    use_case: str
    owner: str = ""
    verdict: str | None = None  # READY / NOT_READY; None when the project cannot be read
    score: float | None = None
    failing: list[str] = field(default_factory=list)  # checklist items and criteria not met
    production: list[dict[str, Any]] = field(default_factory=list)  # name, version, since
    monitor: dict[str, Any] | None = None  # the last monitor run of the production model(s)
    net_value_per_1000: float | None = None
    expiring: list[dict[str, str]] = field(default_factory=list)  # item, by, expires
    drill: dict[str, Any] | None = None  # the last rollback drill: at, ok, versions
    error: str | None = None
    rank: int = FINE
    reasons: list[str] = field(default_factory=list)  # why the row needs attention

    @property
    def attention(self) -> str:
        return RANKS[self.rank]

    @property
    def breaching(self) -> bool:
        return bool(self.monitor and self.monitor.get("breaches"))

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "attention": self.attention, "breaching": self.breaching}


@dataclass
class Portfolio(Renderable):
    """The use cases, sorted by what needs attention first."""

    rows: list[PortfolioRow]
    source: str | None = None  # the portfolio.yaml read, if any
    html_file: str | None = None  # where ``--html FILE`` wrote the page

    @property
    def at_risk(self) -> list[PortfolioRow]:
        return [r for r in self.rows if r.rank == PRODUCTION_AT_RISK]

    @property
    def exit_code(self) -> int:
        """1: a production model is NOT_READY or breaching; else 2: a project is unreadable."""
        if self.at_risk:
            return 1
        return 2 if any(r.error for r in self.rows) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": [r.to_dict() for r in self.rows],
            "at_risk": [r.use_case for r in self.at_risk],
            "exit_code": self.exit_code,
        }


# -- portfolio.yaml ---------------------------------------------------------------------


def read_entries(path: Path) -> list[Entry]:
    """The projects a portfolio.yaml lists, their folders relative to the file.

    Either a list, or a mapping with a ``projects:`` list; each element a folder, or a
    mapping ``{path: DIR, use_case: NAME, owner: WHO}`` (use_case and owner optional).
    """
    from readiness.core import yamlio

    data = yamlio.load_file(path, "portfolio file", error=UsageError).data
    items = data.get("projects") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise UsageError(f"{path}: list the project folders (projects: [DIR, ...])")
    entries = []
    for number, item in enumerate(items, 1):
        raw = {"path": item} if isinstance(item, str) else item
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
            raise UsageError(f"{path}: project {number}: a folder, or a mapping with path:")
        unknown = set(raw) - {"path", "use_case", "owner"}
        if unknown:
            raise UsageError(
                f"{path}: project {number}: unknown key(s) {', '.join(sorted(unknown))} "
                "(path, use_case, owner)"
            )
        folder = Path(raw["path"]).expanduser()
        folder = folder if folder.is_absolute() else path.parent / folder
        entries.append(Entry(folder, _text(raw.get("use_case")), _text(raw.get("owner"))))
    return entries


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# -- one project -----------------------------------------------------------------------


def _since(events: list[dict[str, Any]], name: str, version: str) -> str | None:
    """When ``version`` last became ``name``'s production version (a promotion or rollback)."""
    for event in reversed(events):
        if event.get("name") != name:
            continue
        kind = event.get("event", "")
        promoted = kind.startswith("model.promoted") and event.get("stage") == "production"
        if promoted and event.get("version") == version:
            return str(event["at"])
        if kind == "model.rolled_back" and event.get("to_version") == version:
            return str(event["at"])
    return None


def _last_monitor(project: Project, names: list[str]) -> dict[str, Any] | None:
    """The newest monitor run over the production models, with every model's breaches."""
    runs = []
    for name in names:
        path = project.monitor_dir / f"{name}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # no monitor run yet, or a torn file: nothing to show
            continue
        if isinstance(data, dict):
            runs.append(data)
    if not runs:
        return None
    newest = max(runs, key=lambda r: str(r.get("at", "")))
    shares = [r["drift_share"] for r in runs if isinstance(r.get("drift_share"), (int, float))]
    values = [
        r["net_value_per_1000"]
        for r in runs
        if isinstance(r.get("net_value_per_1000"), (int, float))
    ]
    return {
        "at": newest.get("at"),
        "requests": sum(int(r.get("requests") or 0) for r in runs),
        "drift_share": max(shares) if shares else None,
        "net_value_per_1000": min(values) if values else None,
        "breaches": [f"{r.get('name')} {b}" for r in runs for b in r.get("breaches") or []],
    }


def _expiring(project: Project, today: dt.date) -> list[dict[str, str]]:
    """Attestations that still count today but stop within :data:`EXPIRY_DAYS` days."""
    from readiness.checklist.items import ProbeContext
    from readiness.checklist.scorecard import ATTESTATION_DAYS, attestation_status

    out = []
    for item, raw in sorted(ProbeContext(project).raw_attestations().items()):
        valid, _ = attestation_status(raw, today)
        if not valid:  # expired or malformed: the checklist already lists it as failing
            continue
        date = dt.date.fromisoformat(str(raw["date"]))
        expires = raw.get("expires")
        end = (
            dt.date.fromisoformat(str(expires))
            if expires
            else date + dt.timedelta(days=ATTESTATION_DAYS)
        )
        if end <= today + dt.timedelta(days=EXPIRY_DAYS):
            out.append({"item": item, "by": str(raw.get("by", "")), "expires": end.isoformat()})
    return out


def _last_drill(events: list[dict[str, Any]], names: list[str]) -> dict[str, Any] | None:
    drills = [
        e
        for e in events
        if e.get("event") == "rollback.drill" and (not names or e.get("name") in names)
    ]
    if not drills:
        return None
    last = drills[-1]
    return {k: last.get(k) for k in ("at", "name", "ok", "from_version", "to_version", "detail")}


def _failing(result: Any) -> list[str]:
    out = [f"criterion {c.metric}" for c in result.criteria if not c.passed]
    if result.business is not None and not result.business.passed:
        out.append("business criteria")
    if result.run_id is None:
        out.append("no evidence")
    out += [i.id for i in result.checklist or [] if i.status in ("failed", "missing")]
    return out


def _judge(row: PortfolioRow) -> None:
    """The row's attention rank and its reasons."""
    in_production = bool(row.production)
    if row.error:
        row.rank, row.reasons = UNREADABLE, [row.error]
        return
    if row.verdict != "READY":
        row.reasons.append(f"{row.verdict}: {len(row.failing)} item(s) failing")
    if row.breaching:
        row.reasons += [f"breach {b}" for b in row.monitor["breaches"]]  # type: ignore[index]
    if in_production and (row.verdict != "READY" or row.breaching):
        row.rank = PRODUCTION_AT_RISK
        return
    if row.verdict != "READY":
        row.rank = NOT_READY
        return
    # what the checklist does not say yet (a failed drill or a missing monitor run already
    # make it NOT_READY): a manual check that stops counting soon
    watch = [f"attestation {e['item']} expires {e['expires']}" for e in row.expiring]
    row.reasons += watch
    row.rank = WATCH if watch else FINE


def project_row(entry: Entry, today: dt.date | None = None) -> PortfolioRow:
    """One use case's row; a project that cannot be read is a row with ``error``."""
    folder = entry.path.expanduser().resolve()
    row = PortfolioRow(
        project=str(folder), use_case=entry.use_case or folder.name, owner=entry.owner or ""
    )
    if not folder.is_dir():
        row.error = f"{entry.path}: no such folder"
    elif not (folder / CONFIG_NAME).is_file():
        row.error = f"{entry.path}: not a readiness project (no {CONFIG_NAME})"
    else:
        try:
            _fill(row, Project(folder), entry, today or dt.date.today())
        except ReadinessError as exc:
            row.error = str(exc)
        except Exception as exc:  # one project's fault must not hide every other use case
            row.error = f"{type(exc).__name__}: {exc}"
    _judge(row)
    return row


def _fill(row: PortfolioRow, project: Project, entry: Entry, today: dt.date) -> None:
    from readiness.core import audit
    from readiness.core.config import load_config
    from readiness.gate.check import _registered, full_check

    config = load_config(project)
    row.use_case = entry.use_case or config.use_case.name
    row.owner = entry.owner or config.use_case.owner
    result = full_check(project)
    row.verdict, row.score = result.verdict, (result.score or {}).get("overall")
    row.failing = _failing(result)
    events = audit.read(project)
    serving = [v for v in _registered(project) if "production" in v.stages]
    row.production = [
        {"name": v.name, "version": v.version, "since": _since(events, v.name, v.version)}
        for v in serving
    ]
    names = [v.name for v in serving]
    row.monitor = _last_monitor(project, names)
    row.net_value_per_1000 = row.monitor["net_value_per_1000"] if row.monitor else None
    row.expiring = _expiring(project, today)
    row.drill = _last_drill(events, names)


# -- the portfolio ----------------------------------------------------------------------


def entries_from(
    dirs: Sequence[str | Path] | None = None,
    file: str | Path | None = None,
    cwd: Path | None = None,
) -> tuple[list[Entry], str | None]:
    """The projects to show: PROJECT_DIRs and/or a portfolio file's; ``./portfolio.yaml``
    when neither is given, else the current project alone."""
    cwd = cwd or Path.cwd()
    entries = [Entry(Path(d) if Path(d).is_absolute() else cwd / d) for d in dirs or []]
    source = None
    if file is None and not entries and (cwd / FILE_NAME).is_file():
        file = cwd / FILE_NAME
    if file is not None:
        path = Path(file) if Path(file).is_absolute() else cwd / file
        entries += read_entries(path)
        source = str(path)
    if not entries:
        from readiness.core.project import find_root

        entries = [Entry(find_root(cwd))]
    return entries, source


def portfolio(
    dirs: Sequence[str | Path] | None = None,
    file: str | Path | None = None,
    cwd: Path | None = None,
    today: dt.date | None = None,
) -> Portfolio:
    """Every use case's readiness in one table, what needs attention first.

    ``dirs``: project folders; ``file``: a portfolio.yaml (docs/portfolio.md). Exit code
    1 when a production model is NOT_READY or breaching, else 2 when a project cannot
    be read, else 0.
    """
    entries, source = entries_from(dirs, file, cwd)
    rows = [project_row(e, today) for e in entries]
    rows.sort(key=lambda r: (r.rank, r.score if r.score is not None else -1.0, r.use_case))
    return Portfolio(rows, source)
