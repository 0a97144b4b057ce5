"""``readiness run NOTEBOOK``: execute a parameterized notebook as a recorded run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.core.errors import UsageError


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
    add_papermill_options(parser)
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


def add_papermill_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``run`` and ``batch``, spelled as papermill's command line."""
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds allowed per cell")
    parser.add_argument(
        "-k", "--kernel", metavar="NAME", help="kernel name (default: the notebook's)"
    )
    parser.add_argument(
        "--start-timeout",
        type=float,
        metavar="S",
        help="seconds the kernel gets to start (default 60)",
    )
    parser.add_argument(
        "--report-mode", action="store_true", help="hide code input in the executed notebook"
    )
    parser.add_argument(
        "--log-output", action="store_true", help="show the cells' outputs on stderr as they come"
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="write the parameterized notebook without executing it (nothing is recorded)",
    )


def papermill_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "timeout": args.timeout,
        "kernel": args.kernel,
        "start_timeout": args.start_timeout,
        "report_mode": args.report_mode,
        "log_output": args.log_output,
        "prepare_only": args.prepare_only,
    }


def collect_params(args: argparse.Namespace, cwd: Path) -> dict[str, Any]:
    from readiness.commands.values import parse_value
    from readiness.core import yamlio
    from readiness.core.fsutil import require_file

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
        params[name] = parse_value(value, f"-p {name}")
    return params


def _output(path: str | None, ctx: Context) -> Any:
    """A local path (relative to the working folder) or a URL papermill writes to."""
    if path is None:
        return None
    return path if "://" in path else ctx.cwd / path


def _cell_progress(notebook: Path, ctx: Context) -> Any:
    """Off a terminal (a CI log), a line per finished cell; on one, nothing until the end."""
    from readiness.jobs.progress import cell_lines, lines_wanted

    if not lines_wanted(ctx.front_end):
        return None
    from readiness.jobs.parameters import read_notebook

    return cell_lines(read_notebook(notebook.resolve()), notebook.stem)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.jobs.notebook import run_notebook

    notebook = ctx.cwd / args.notebook
    return run_notebook(
        notebook,
        params=collect_params(args, ctx.cwd),
        project=ctx.project(),
        output=_output(args.output, ctx),
        cwd=(ctx.cwd / args.cwd) if args.cwd else None,
        metrics_file=args.metrics_file,
        inputs=args.input,
        allow_extra=args.allow_extra,
        on_cell=_cell_progress(notebook, ctx),
        **papermill_options(args),
    )


COMMAND = Command(
    name="run",
    summary="execute a parameterized notebook with papermill as a recorded run",
    configure=configure,
    execute=execute,
    usage_example="examples:\n  readiness run notebooks/train.ipynb -p seed 1 -p C 0.5",
)
