"""``readiness validate [PATH]``: data quality against the schema in readiness.yaml."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.core.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", help="CSV, TSV or Parquet file (default: every dataset with a path)"
    )
    parser.add_argument("--dataset", metavar="NAME", help="the dataset schema to use")
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.data.validation import ValidationReport, validate, validate_declared

    project = ctx.project()
    if args.path:
        return ValidationReport([validate(project, args.path, args.dataset, cwd=ctx.cwd)])
    if args.dataset:
        raise UsageError("--dataset needs a PATH to validate")
    results = validate_declared(project)
    if not results:
        raise UsageError("no dataset in readiness.yaml names a path: give PATH and --dataset")
    return ValidationReport(results)


COMMAND = Command(
    name="validate",
    summary="check data against its declared schema (exit 0 valid, 1 invalid, 2 bad input)",
    configure=configure,
    execute=execute,
    usage_example=(
        "examples:\n  readiness validate data/train.csv\n"
        "  readiness validate    # every declared dataset"
    ),
)
