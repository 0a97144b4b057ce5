"""``readiness init [DIR]``: a new project from the templates."""

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
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.scaffold import init_project

    target = Path(args.directory)
    return init_project(target if target.is_absolute() else ctx.cwd / target, force=args.force)


COMMAND = Command(
    name="init",
    summary="create a project: readiness.yaml from the template and a starter notebook",
    configure=configure,
    execute=execute,
)
