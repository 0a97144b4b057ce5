"""``readiness log name=value``: record evidence by hand (a magic or a shell step)."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.commands.values import parse_pairs
from readiness.core.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "values", nargs="+", metavar="NAME=VALUE", help="metric values (JSON or numbers)"
    )
    parser.add_argument(
        "--split", default="holdout", help="the split they were measured on (default holdout)"
    )
    parser.add_argument(
        "--run",
        metavar="RUN_ID",
        help="add to this run ('latest': the latest run) instead of starting a new one",
    )
    parser.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="a tag for every value"
    )
    parser.add_argument(
        "--period",
        metavar="PERIOD",
        help="instead of evidence: the business metric's value over a period (2026-12-01, "
        "2026-12, or START/END), which readiness monitor correlates with the model's "
        "realised performance",
    )
    parser.add_argument(
        "--model", metavar="NAME", help="with --period: the served model it concerns (default: any)"
    )
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.evidence.record import Recorded, make_evidence, record_many
    from readiness.evidence.runs import latest_run_with_evidence

    values = parse_pairs(args.values, "NAME=VALUE")
    if args.period is not None:
        return _business(args, ctx, values)
    if args.model is not None:
        raise UsageError("--model goes with --period (a business metric of a served model)")
    tags = parse_pairs(args.tag, "KEY=VALUE")
    items = [make_evidence(name, value, args.split, **tags) for name, value in values.items()]
    project = ctx.project()
    run_id = args.run
    if run_id == "latest":
        latest = latest_run_with_evidence(project)
        if latest is None:
            raise UsageError("--run latest: no run with evidence yet")
        run_id = latest["id"]
    in_notebook = ctx.front_end == "magic"
    # In a notebook the evidence output (our MIME type) is the confirmation, and it is what
    # papermill-executed notebooks are read back from; the CLI prints the result instead.
    recorded = record_many(items, project, display=in_notebook, run_id=run_id)
    return None if in_notebook else Recorded(recorded)


def _business(args: argparse.Namespace, ctx: Context, values: dict[str, Any]) -> Any:
    from readiness.monitoring.business_metric import log_business

    if args.run or args.tag or args.split != "holdout":
        raise UsageError("--period records a business metric: not with --run, --tag or --split")
    return log_business(ctx.project(), values, args.period, model=args.model)


COMMAND = Command(
    name="log",
    summary="record evidence: log roc_auc=0.91 latency_p95_ms=12 --split holdout",
    configure=configure,
    execute=execute,
)
