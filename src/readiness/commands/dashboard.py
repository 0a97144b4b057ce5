"""``readiness dashboard``: both monitoring layers over time, as one self-contained page."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.core.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the served model")
    parser.add_argument("--window", default="24h", help="how far back: 30m, 24h, 7d (default 24h)")
    parser.add_argument("--buckets", type=int, default=24, help="points per chart (default 24)")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="the page (default: reports/dashboard-NAME.html)"
    )
    parser.add_argument(
        "--portfolio",
        metavar="FILE",
        help="add a section listing the use cases of this portfolio.yaml (readiness portfolio)",
    )
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.core.fsutil import atomic_write_text
    from readiness.monitoring.timeline import DashboardWritten, timeline
    from readiness.monitoring.window import parse_window
    from readiness.registry.models import check_name
    from readiness.render.dashboard import page

    if not 1 <= args.buckets <= 500:
        raise UsageError("--buckets: between 1 and 500")
    project = ctx.project()
    until = time.time()
    result = timeline(
        project, check_name(args.name), until - parse_window(args.window), until, args.buckets
    )
    if args.json:
        return result
    default = project.root / "reports" / f"dashboard-{args.name}.html"
    target = Path(args.output) if args.output else default
    target = target if target.is_absolute() else ctx.cwd / target
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, page(result, _portfolio_section(args.portfolio, ctx)))
    if ctx.front_end == "magic":
        return result
    return DashboardWritten(str(target), result)


def _portfolio_section(file: str | None, ctx: Context) -> str:
    """The use cases of ``file`` as a section of the page ('' without one)."""
    if not file:
        return ""
    from readiness import render
    from readiness.gate.portfolio import portfolio

    return "<h2 style='font-size:16px'>Use cases</h2>" + render.html_of(
        portfolio(file=file, cwd=ctx.cwd)
    )


COMMAND = Command(
    "dashboard",
    "write a self-contained HTML dashboard of a served model: traffic, latency, errors, cost, "
    "drift and labelled quality over time, with the declared bounds",
    configure,
    execute,
    "examples:\n  readiness dashboard screening --window 7d\n"
    "  readiness dashboard screening -o /tmp/screening.html",
)
