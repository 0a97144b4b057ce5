"""``readiness drift REF CUR``: drift between two samples, with evidently's tests."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.core.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "reference", help="reference data: CSV, TSV or Parquet (in a notebook: a DataFrame name)"
    )
    parser.add_argument(
        "current", nargs="?", help="current data, e.g. a production sample (with --profile: "
        "the only sample given)"
    )
    parser.add_argument(
        "--profile",
        metavar="NAME@VERSION",
        help="compare with a model version's stored reference profile instead of reference "
        "data (NAME alone: its production version; or a profile .json file)",
    )
    parser.add_argument("--columns", metavar="A,B", help="compare only these columns")
    parser.add_argument(
        "--rev",
        metavar="REV",
        help="read the reference (a DVC-tracked path) as it was at this git revision",
    )
    parser.add_argument(
        "--sample", type=int, metavar="N", help="compare at most N rows of each (seeded sample)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    parser.add_argument(
        "--fail-on-drift", action="store_true", help="exit 1 when the dataset drifted (CI, cron)"
    )
    parser.add_argument(
        "--no-save", dest="save", action="store_false", help="do not save the result under reports/"
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="also save evidently's full interactive HTML report (slower: evidently runs too)",
    )
    parser.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read the current sample (Parquet) one row group at a time, for a sample larger "
        "than memory (default: only when it would not fit in half the available memory)",
    )
    parser.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="where a streamed sample is computed: local threads (default) or a Dask cluster "
        "(a dask.dataframe, one partition per row group, read by the workers at the same "
        "path; needs --scheduler)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="the Dask scheduler for --executor dask, e.g. tcp://host:8786",
    )
    add_json_flag(parser)


def _input(name: str, ctx: Context) -> Any:
    """In a notebook, a variable holding a DataFrame; else a path (relative to the cwd)."""
    value = (ctx.namespace or {}).get(name)
    if value is not None and hasattr(value, "columns"):
        return value
    path = ctx.cwd / name
    if ctx.namespace is not None and name.isidentifier() and not path.exists():
        from readiness.monitoring.drift import DriftError

        raise DriftError(f"{name} is neither a DataFrame in this notebook nor a file")
    return path


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.monitoring.drift import drift

    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    project = ctx.project()
    if args.profile:
        if args.current is not None:
            raise UsageError("--profile is the reference: give only the current sample")
        from readiness.monitoring.drift import reference_profile

        reference, _ = reference_profile(project, args.profile)
        current = _input(args.reference, ctx)  # the one sample given
    elif args.current is None:
        raise UsageError("give the reference and the current sample (or --profile NAME@VERSION)")
    else:
        reference, current = _input(args.reference, ctx), _input(args.current, ctx)
    same = dict(columns=columns, project=project, rev=args.rev, sample=args.sample,
                seed=args.seed)
    result = drift(
        reference,
        current,
        **same,
        save=args.save,
        fail_on_drift=args.fail_on_drift,
        html=args.html,
        stream=args.stream,
        executor=args.executor,
        scheduler=args.scheduler,
    )
    if ctx.widgets():
        from readiness.widgets import drift_table

        def build_report() -> str | None:
            # evidently on request: the same comparison again, with its report this time
            return drift(reference, current, **same, save=False, html=True).report_html

        offered = not (args.profile or args.html or result.streamed)  # it needs the data
        result.interactive = lambda: drift_table(result, build_report if offered else None)
    return result


COMMAND = Command(
    name="drift",
    summary="drift between a reference and a current sample, evidently's tests (exit 1 on "
    "drift with --fail-on-drift; --html for evidently's report)",
    configure=configure,
    execute=execute,
    usage_example=(
        "examples:\n"
        "  readiness drift data/train.csv prod/2026-11.csv\n"
        "  readiness drift data/train.csv prod/latest.parquet --rev model@v1.2.0 --fail-on-drift\n"
        "  readiness drift --profile model@v1.2.0 prod/latest.parquet   (no training data read)\n"
        "  readiness drift data/train.csv prod/2026-11.csv --html   (evidently's full report)\n"
        "  readiness drift --profile model prod/huge.parquet --executor dask --scheduler "
        "tcp://host:8786\n"
        "in a notebook:\n"
        "  %readiness drift train_df prod_df --columns age,plan"
    ),
)
