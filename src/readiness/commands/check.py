"""``readiness check``: criteria against the latest evidence, exit 0 READY / 1 not."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run", metavar="RUN_ID", help="judge this run's evidence (default: the latest)"
    )
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.verdict import check

    return check(ctx.project(), run_id=args.run)


COMMAND = Command(
    name="check",
    summary="judge the success criteria against the latest evidence (exit 0 READY, 1 not)",
    configure=configure,
    execute=execute,
    usage_example="examples:\n  readiness check\n  readiness check --json > verdict.json",
)
