"""Files readiness writes for a project: the model card, a CI workflow, the reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from readiness.core.errors import UsageError
from readiness.core.fsutil import atomic_write_text
from readiness.core.project import Project
from readiness.core.results import Renderable


@dataclass
class Written(Renderable):
    what: str
    paths: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what it still needs to work

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "paths": self.paths, "missing": self.missing}


def model_card(project: Project) -> Written:
    """``docs/model-card.md`` from the criteria, the model's evidence and the checklist facts."""
    from readiness.checklist.items import ProbeContext
    from readiness.checklist.probes.governance import CARD, bias, card_fingerprint
    from readiness.core.config import load_config
    from readiness.evidence.verdict import check
    from readiness.render import md, md_code
    from readiness.render.criteria import interval_cell

    config = load_config(project)
    ctx = ProbeContext(project)
    model = ctx.model
    if model is None:
        raise UsageError("no registered model: readiness register NAME first")
    result = check(project, run_id=model.run_id)
    run = ctx.model_run or {}
    u = config.use_case
    lines = [
        f"<!-- readiness:card {card_fingerprint(ctx)} -->",
        f"# Model card: {md(model.name)} {md(model.version)}",
        "",
        "## Intended use",
        f"{md(u.description or u.name)}. Business owner: {md(u.owner)}. "
        f"Business metric: {md(u.business_metric)}.",
        "",
        "## Owners",
        f"- business owner: {md(u.owner)}",
        f"- registered by: {md(model.author)} on {md(model.created_at)}",
        "",
        "## Data versions",
        *[
            f"- {md_code(p)}: md5 {md_code((v.get('md5') or '')[:12])}"
            for p, v in (run.get("data_versions") or {}).items()
        ],
        "",
        "## Performance against the success criteria",
        f"Evidence: run {md_code(model.run_id)} (notebook {md_code(run.get('notebook', '-'))}, "
        f"parameters {md_code(run.get('params', {}))}).",
        "",
        "| metric | split | required | observed | result |",
        "|---|---|---|---|---|",
        *[
            "| "
            + " | ".join(
                md(cell)
                for cell in (
                    c.metric,
                    c.split,
                    f"{'>=' if c.direction == 'min' else '<='} {c.required:g}",
                    (str(c.observed) if c.observed is not None else "-")
                    + (f" {interval_cell(c)}" if c.low is not None else ""),
                    "pass" if c.passed else "inconclusive" if c.inconclusive else "FAIL",
                )
            )
            + " |"
            for c in result.criteria
        ],
        "",
        "## Bias",
        md(_bias_line(bias, ctx)),
        "",
        "## Limitations",
        "- Judged on the held-out split named above; data that drifts away from it voids "
        "the numbers (readiness monitor watches for that).",
        *[f"- {md(flag)}" for flag in result.flags],
        "",
    ]
    path = project.root / CARD
    atomic_write_text(path, "\n".join(lines))
    return Written("model card", [CARD])


def _bias_line(probe: Any, ctx: Any) -> str:
    try:
        passed, detail = probe(ctx)
    except Exception as exc:  # the probe runs the user's model: the card is still written
        return f"not assessed: {type(exc).__name__}: {exc}"
    return (
        "within bound: " if passed else "not assessed: " if passed is None else "OUT OF BOUND: "
    ) + detail


# where each CI looks for its workflow
CI_TARGETS = {"github": ".github/workflows/readiness.yml", "gitlab": ".gitlab-ci.yml"}


def ci_workflow(project: Project, kind: str, force: bool = False) -> Written:
    """The CI workflow of ``kind``, from the project's files; ``missing`` says what it lacks."""
    from readiness.gate import ci

    if kind not in CI_TARGETS:
        raise UsageError(f"unknown CI {kind!r}; choose from {', '.join(CI_TARGETS)}")
    relative = CI_TARGETS[kind]
    path = project.root / relative
    if path.exists() and not force:
        raise UsageError(f"{relative} exists: --force replaces it")
    facts = ci.facts(project)
    atomic_write_text(path, ci.BUILDERS[kind](facts))
    return Written(f"{kind} CI workflow", [relative], missing=facts.missing)


def report(project: Project) -> Written:
    """The scorecard (HTML, markdown, JSON), model card and latest drift summary in reports/."""
    import contextlib
    import json

    from readiness import render
    from readiness.gate.check import full_check

    result = full_check(project)
    folder = project.reports_dir
    paths = []
    for name, content in (
        (
            "scorecard.html",
            f"<!doctype html><meta charset='utf-8'><title>readiness scorecard</title>"
            f"{render.html_of(result)}",
        ),
        ("scorecard.md", render.markdown(result)),
        ("scorecard.json", result.to_json()),
    ):
        atomic_write_text(folder / name, content)
        paths.append(f"reports/{name}")
    with contextlib.suppress(UsageError):  # no registered model yet: the scorecard says so
        paths += model_card(project).paths
    drifts = sorted(folder.glob("drift-2*.json"))  # the reports drift writes, not our summary
    if drifts:
        page = drifts[-1].with_suffix(".html")  # evidently's, only when --html made one
        summary = {
            "latest_drift_report": drifts[-1].relative_to(project.root).as_posix(),
            "html": page.relative_to(project.root).as_posix() if page.is_file() else None,
        }
        atomic_write_text(folder / "drift-latest.json", json.dumps(summary, indent=2))
        paths.append("reports/drift-latest.json")
    return Written("reports", paths)
