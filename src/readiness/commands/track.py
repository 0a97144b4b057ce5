"""``readiness track PATH...``: version data with DVC and push it."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders in the project")
    parser.add_argument(
        "--no-push", dest="push", action="store_false", help="track in the local cache only"
    )
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.data.tracking import track

    return track(ctx.project(), args.paths, cwd=ctx.cwd, push=args.push)


COMMAND = Command(
    name="track",
    summary="version files or folders with DVC (one batched add) and push them to the remote",
    configure=configure,
    execute=execute,
    usage_example=(
        "examples:\n  readiness track data/train.csv data/holdout.csv\n  readiness track data/"
    ),
)
