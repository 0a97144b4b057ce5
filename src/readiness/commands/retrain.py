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


def _monitor_args(parser: argparse.ArgumentParser) -> None:
    _args(parser, current_required=False)
    parser.add_argument(
        "--window",
        default=None,
        help="without --current: the prediction log since now minus this (30m, 24h, 7d; "
        "default 24h)",
    )
    parser.add_argument(
        "--last", type=int, default=None, metavar="N",
        help="without --current: the prediction log's last N successful requests",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="the seed of the labelled metrics' bootstrap"
    )
    parser.add_argument(
        "--business",
        metavar="FILE",
        help="without --current: the business metric per period (CSV/Parquet: a period column "
        "and a column per metric), correlated with the model's realised performance",
    )
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="without --current: when the window breaches, retrain on its labelled rows "
        "(written to production/window-<time>.csv) through the gate",
    )


def _monitor(args: argparse.Namespace, ctx: Context) -> Any:
    if args.current:
        if args.window or args.last is not None or args.retrain or args.business:
            from readiness.core.errors import UsageError

            raise UsageError(
                "--window, --last, --business and --retrain read the prediction log: not with "
                "--current "
                "(which retrains when its data drifted)"
            )
        return _execute(args, ctx)
    from readiness.monitoring.from_log import monitor_log

    project = ctx.project()
    business = ctx.cwd / args.business if args.business else None
    result = monitor_log(project, args.name, window=args.window, last=args.last, seed=args.seed,
                         business_file=business)
    if ctx.front_end == "magic" and result.until > result.since:  # the pictures, inline
        from readiness.monitoring.timeline import timeline

        result.timeline = timeline(project, args.name, result.since, result.until, seed=args.seed)
    if args.retrain and result.breaches:
        result.retrain = _retrain_on_window(project, args, result)
    return result


def _retrain_on_window(project: Any, args: argparse.Namespace, result: Any) -> Any:
    """The window's labelled rows as new training data, handed to the retraining loop."""
    from readiness.core.config import load_config
    from readiness.core.errors import UsageError
    from readiness.gate.retrain import retrain
    from readiness.monitoring.window import labelled_frame

    config = load_config(project)
    target = next(
        (d.target for n, d in config.datasets.items() if "train" in n and d.target), None
    ) or (config.drift.target if config.drift else None)
    if target is None:
        raise UsageError(
            "--retrain needs the target's name: declare datasets: train: target: (or drift: "
            "target:)"
        )
    frame = labelled_frame(result.rows, target)
    if frame.empty:
        raise UsageError("--retrain: the window has no labelled rows to train on")
    stamp = result.at.replace(":", "").replace("-", "").split("+")[0]
    path = project.root / "production" / f"window-{stamp}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return retrain(
        project,
        args.name,
        current=path.relative_to(project.root).as_posix(),
        force=True,  # the window's breach is the reason: retrain whatever the drift check says
        notebook=args.notebook,
        data_param=args.data_param,
    )


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
    "cron/CI entry point: the prediction log's window (or --current DATA: drift check and "
    "retraining when needed) (exit 0/1/2)",
    _monitor_args,
    _monitor,
    "exit codes: from the log, 0 no breach, 1 a breach; with --current, 0 nothing to do or "
    "promoted, 1 retrained but not promoted; 2 bad input or failure",
)
