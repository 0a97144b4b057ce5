"""``readiness batch NOTEBOOK --grid GRID.yaml``: every combination, in parallel."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.commands.run import add_papermill_options, papermill_options


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", help="the parameterized notebook")
    parser.add_argument(
        "--grid",
        required=True,
        metavar="YAML",
        help="parameter -> list of values (every combination runs), or a list of runs",
    )
    parser.add_argument("-j", "--jobs", type=int, default=2, help="runs at once (default 2)")
    parser.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="local process pool (default) or a Dask cluster",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786"
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR_OR_URL",
        help="where executed notebooks go; every worker must reach it (default runs/BATCH_ID/)",
    )
    add_papermill_options(parser)
    parser.add_argument("--input", action="append", default=[], metavar="PATH", help="data read")
    parser.add_argument(
        "--allow-extra", action="store_true", help="pass parameters the notebook does not declare"
    )
    add_json_flag(parser)


def _output_dir(path: str | None, ctx: Context) -> str | None:
    if path is None or "://" in path:
        return path
    return str(ctx.cwd / path)


def _front_end(args: argparse.Namespace, ctx: Context) -> str:
    """Off a terminal (a CI log) a line per finished run; else a bar (none with --json)."""
    from readiness.jobs.progress import lines_wanted

    if lines_wanted(ctx.front_end):
        return "lines"
    return "quiet" if args.json else ctx.front_end


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.jobs.batches import batch, load_grid

    if args.jobs < 1:
        from readiness.core.errors import UsageError

        raise UsageError("-j must be at least 1")
    return batch(
        ctx.project(),
        ctx.cwd / args.notebook,
        load_grid(ctx.cwd / Path(args.grid)),
        workers=args.jobs,
        executor=args.executor,
        scheduler=args.scheduler,
        output_dir=_output_dir(args.output_dir, ctx),
        inputs=args.input,
        allow_extra=args.allow_extra,
        front_end=_front_end(args, ctx),
        **papermill_options(args),
    )


COMMAND = Command(
    name="batch",
    summary="run a notebook for every parameter combination of a grid, in parallel",
    configure=configure,
    execute=execute,
    usage_example=(
        "grid.yaml:\n  C: [0.1, 1.0, 10.0]\n  seed: [0, 1]\n"
        "examples:\n  readiness batch notebooks/train.ipynb --grid grid.yaml -j 2\n"
        "  readiness batch notebooks/train.ipynb --grid grid.yaml --executor dask "
        "--scheduler tcp://10.0.0.5:8786 --output-dir /shared/runs"
    ),
)
