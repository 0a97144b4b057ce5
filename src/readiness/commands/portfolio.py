"""``readiness portfolio``: every use case's readiness in one table (exit 0/1/2)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from readiness.commands import Command, Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "projects",
        nargs="*",
        metavar="PROJECT_DIR",
        help="project folders (default: ./portfolio.yaml's, else the current project)",
    )
    parser.add_argument(
        "--file",
        metavar="FILE",
        help="a portfolio.yaml listing the project folders, relative to the file",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the result as JSON")
    out.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument(
        "--html", metavar="FILE", help="also write the table as a self-contained HTML page"
    )


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.core.fsutil import atomic_write_text
    from readiness.gate.portfolio import portfolio

    result = portfolio(args.projects, args.file, ctx.cwd)
    if args.html:
        from readiness import render

        target = Path(args.html)
        target = target if target.is_absolute() else ctx.cwd / target
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            target,
            "<!doctype html><meta charset='utf-8'><title>readiness portfolio</title>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">" + render.html_of(result),
        )
        result.html_file = str(target)
    result.output_format = "json" if args.json else "md" if args.markdown else "text"
    if ctx.widgets() and result.output_format == "text":
        from readiness.widgets import portfolio_table

        result.interactive = lambda: portfolio_table(result, args.projects, args.file, ctx.cwd)
    return result


COMMAND = Command(
    "portfolio",
    "every use case in one table: verdict, production version, monitoring, expiring "
    "attestations, last drill; attention first (exit 1 if production is at risk)",
    configure,
    execute,
    "examples:\n  readiness portfolio ../churn ../fraud\n"
    "  readiness portfolio --file portfolio.yaml --html reports/portfolio.html\n"
    "  readiness portfolio --markdown >> $GITHUB_STEP_SUMMARY\n"
    "exit codes: 1 a production model is NOT_READY or breaching; else 2 a project "
    "cannot be read; else 0",
)
