"""``readiness lineage``: data -> notebook stage -> model -> metrics."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag


def configure(parser: argparse.ArgumentParser) -> None:
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.data.lineage import lineage

    return lineage(ctx.project())


COMMAND = Command(
    name="lineage",
    summary="show data -> notebook stage -> model -> metrics, from dvc.yaml and dvc.lock",
    configure=configure,
    execute=execute,
)
