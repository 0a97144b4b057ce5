"""``readiness pipeline add NOTEBOOK --name STAGE``: a DVC stage that executes a notebook."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.core.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["add"], help="add: write a stage to dvc.yaml")
    parser.add_argument("notebook", help="the notebook the stage executes")
    parser.add_argument("--name", required=True, help="stage name (and params.yaml section)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter value (default: the notebook's parameters cell)",
    )
    parser.add_argument("--dep", action="append", default=[], metavar="PATH", help="data it reads")
    parser.add_argument(
        "--out", action="append", default=[], metavar="PATH", help="files it writes"
    )
    parser.add_argument(
        "--metrics", metavar="PATH", help="metrics file (default metrics/STAGE.json)"
    )
    parser.add_argument("--force", action="store_true", help="replace a stage of the same name")
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.commands.values import parse_pairs
    from readiness.data.pipeline import add_stage

    if args.action != "add":
        raise UsageError(f"unknown pipeline action {args.action}")
    return add_stage(
        ctx.project(),
        args.notebook,
        args.name,
        params=parse_pairs(args.param, "NAME=VALUE"),
        deps=args.dep,
        outs=args.out,
        metrics=args.metrics,
        force=args.force,
        cwd=ctx.cwd,
    )


COMMAND = Command(
    name="pipeline",
    summary="add a DVC stage that executes a notebook with papermill (params from params.yaml)",
    configure=configure,
    execute=execute,
    usage_example=(
        "examples:\n"
        "  readiness pipeline add notebooks/train.ipynb --name train --dep data/train.csv \\\n"
        "      --out models/model.skops\n"
        "  dvc repro && dvc exp run -S train.seed=2 && dvc exp show"
    ),
)
