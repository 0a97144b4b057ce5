"""``readiness reproduce RUN_ID``: re-execute a run on its data versions and compare."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_id", metavar="RUN_ID", help="a run of readiness run or a pipeline stage"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-6,
        help="allowed relative difference per metric (default 1e-6)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.jobs.reproduce import reproduce

    return reproduce(ctx.project(), args.run_id, tolerance=args.tolerance, keep=args.keep)


COMMAND = Command(
    name="reproduce",
    summary="re-execute a recorded run in a temporary workspace and compare its metrics",
    configure=configure,
    execute=execute,
)
