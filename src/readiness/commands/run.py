"""``readiness run NOTEBOOK``: execute a parameterized notebook as a recorded run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", help="the notebook to execute (a cell tagged 'parameters')")
    parser.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter value (JSON, e.g. 0.3, true, [1,2]; else text)",
    )
    parser.add_argument("--params-file", metavar="YAML", help="parameters from a YAML file")
    parser.add_argument(
        "--params-key", metavar="KEY", help="take the parameters under this key of --params-file"
    )
    parser.add_argument(
        "--output", metavar="PATH", help="executed notebook (default runs/NAME-RUNID.ipynb)"
    )
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds allowed per cell")
    parser.add_argument("--kernel", metavar="NAME", help="kernel name (default: the notebook's)")
    parser.add_argument(
        "--cwd", metavar="DIR", help="kernel working directory (default: the notebook's)"
    )
    parser.add_argument("--metrics-file", metavar="PATH", help="DVC metrics file the run writes")
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="PATH",
        help="a data file the notebook reads (recorded; reproduce restores it)",
    )
    parser.add_argument(
        "--allow-extra", action="store_true", help="pass parameters the notebook does not declare"
    )
    add_json_flag(parser)


def collect_params(args: argparse.Namespace, cwd: Path) -> dict[str, Any]:
    from readiness import yamlio
    from readiness.fsutil import require_file
    from readiness.jobs import parse_value

    params: dict[str, Any] = {}
    if args.params_key and not args.params_file:
        raise UsageError("--params-key needs --params-file")
    if args.params_file:
        path = cwd / args.params_file
        require_file(path, f"params file {args.params_file}")
        data = yamlio.load_file(path, "params file", args.params_file).data
        if args.params_key:
            if not isinstance(data, dict) or args.params_key not in data:
                raise UsageError(f"{args.params_file} has no key {args.params_key!r}")
            data = data[args.params_key]
        if not isinstance(data, dict):
            raise UsageError(f"{args.params_file} must map parameter names to values")
        params.update(data)
    for name, value in args.param:
        params[name] = parse_value(value)
    return params


def _output(path: str | None, ctx: Context) -> Any:
    """A local path (relative to the working folder) or a URL papermill writes to."""
    if path is None:
        return None
    return path if "://" in path else ctx.cwd / path


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.jobs import run_notebook

    return run_notebook(
        ctx.cwd / args.notebook,
        params=collect_params(args, ctx.cwd),
        project=ctx.project(),
        output=_output(args.output, ctx),
        timeout=args.timeout,
        kernel=args.kernel,
        cwd=(ctx.cwd / args.cwd) if args.cwd else None,
        metrics_file=args.metrics_file,
        inputs=args.input,
        allow_extra=args.allow_extra,
    )


COMMAND = Command(
    name="run",
    summary="execute a parameterized notebook with papermill as a recorded run",
    configure=configure,
    execute=execute,
    usage_example="examples:\n  readiness run notebooks/train.ipynb -p seed 1 -p C 0.5",
)
