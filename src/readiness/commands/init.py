"""``readiness init [DIR]``: a new project from the templates, with git and DVC."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from readiness.commands import Command, Context, add_json_flag


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", nargs="?", default=".", help="project folder (default: here)")
    parser.add_argument(
        "--force", action="store_true", help="overwrite files the templates provide"
    )
    parser.add_argument(
        "--remote",
        metavar="URL",
        help="default DVC remote (any DVC URL: a folder, s3://, gs://, azure://, ssh://); "
        "default: a local folder outside the work tree",
    )
    parser.add_argument(
        "--task",
        choices=("binary", "multiclass", "regression"),
        default="binary",
        help="what the model predicts: picks readiness.yaml, the PoC and the retraining "
        "notebook (default: binary classification)",
    )
    parser.add_argument(
        "--no-data",
        dest="data",
        action="store_false",
        help="skip the git and DVC set-up (criteria and evidence only)",
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="OTHER_PROJECT",
        help="reuse another project's retraining notebook, CI workflow, runbook skeleton and "
        "dataset schemas (not its data, evidence or criteria)",
    )
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.data.scaffold import init_project

    target = Path(args.directory)
    root = target if target.is_absolute() else ctx.cwd / target
    source = None
    if args.source:
        source = Path(args.source)
        source = source if source.is_absolute() else ctx.cwd / source
    return init_project(
        root, force=args.force, remote=args.remote, data=args.data, task=args.task, source=source
    )


COMMAND = Command(
    name="init",
    summary="create a project: readiness.yaml, a starter notebook, git, DVC and a default remote",
    configure=configure,
    execute=execute,
)
