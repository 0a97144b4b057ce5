"""``readiness retrain`` and ``readiness monitor``: the retraining loop, by hand or from cron."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag


def _args(parser: argparse.ArgumentParser, current_required: bool) -> None:
    parser.add_argument("name", help="the registered model")
    parser.add_argument(
        "--current",
        metavar="DATA",
        required=current_required,
        help="new labelled data: compared with the production model's training data",
    )
    parser.add_argument("--force", action="store_true", help="retrain even without drift")
    parser.add_argument(
        "--notebook",
        default=None,
        help="the retraining notebook (default: the one that trained the production version, "
        "as its run record names it; else notebooks/retrain.ipynb)",
    )
    parser.add_argument(
        "--data-param", default="train_csv", help="the notebook parameter that receives the data"
    )
    add_json_flag(parser)


def _execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.gate.retrain import retrain

    project = ctx.project()
    current = None
    if args.current:
        full = (ctx.cwd / args.current).resolve()
        if not full.is_relative_to(project.root):
            from readiness.core.errors import UsageError

            raise UsageError(f"--current {args.current} is outside the project: copy it inside")
        current = str(full.relative_to(project.root))
    return retrain(
        project,
        args.name,
        current=current,
        force=args.force,
        notebook=args.notebook,
        data_param=args.data_param,
    )


RETRAIN = Command(
    "retrain",
    "retrain when the data drifted (or --force), register, promote through the gate",
    lambda p: _args(p, current_required=False),
    _execute,
    "exit codes: 0 promoted or nothing to do, 1 retrained but not promoted, 2 bad input or failure",
)
MONITOR = Command(
    "monitor",
    "cron/CI entry point: drift check, and retraining when needed (exit 0/1/2)",
    lambda p: _args(p, current_required=True),
    _execute,
    "exit codes: 0 nothing to do or promoted, 1 retrained but not promoted, 2 bad input or failure",
)
