"""Registry commands: register, models, promote, rollback (one module: one small concern each)."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.core.errors import UsageError


def _register_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the model name (models/NAME.skops)")
    parser.add_argument("--version", help="X.Y.Z (default: v1.0.0, then the next patch)")
    parser.add_argument(
        "--run",
        metavar="RUN_ID",
        help="register the model this run saved (default: the latest run's; a batch's best run's)",
    )
    add_json_flag(parser)


def _register(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.registry.versions import register

    return register(ctx.project(), args.name, args.version, run_id=args.run)


def _models_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="one model (default: all), or 'delete'")
    parser.add_argument(
        "target", nargs="?", metavar="NAME@VERSION", help="after 'delete': the version to delete"
    )
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    add_json_flag(parser)


def _models(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.registry.versions import list_models

    if args.name == "delete":
        return _delete(args, ctx)
    if args.target is not None or args.yes:
        raise UsageError("readiness models takes one NAME; to delete: models delete NAME@VERSION")
    return list_models(ctx.project(), args.name)


def _delete(args: argparse.Namespace, ctx: Context) -> Any:
    """``readiness models delete NAME@VERSION``: asked first on a terminal, else --yes."""
    import sys

    from readiness.registry.versions import delete_version

    name, _, version = (args.target or "").partition("@")
    if not name or not version:
        raise UsageError("readiness models delete NAME@VERSION (e.g. screening@1.0.1)")
    if not args.yes:
        if ctx.front_end != "cli" or not sys.stdin.isatty():
            raise UsageError(f"deleting {name} {version} is not undone: add --yes")
        answer = input(f"delete {name} {version} from the registry? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise UsageError(f"{name} {version} is not deleted")
    return delete_version(ctx.project(), name, version)


def _promote_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("version", help="X.Y.Z or vX.Y.Z")
    parser.add_argument("--to", required=True, choices=["staging", "production"], dest="stage")
    parser.add_argument("--force", action="store_true", help="promote although the gate fails")
    parser.add_argument("--reason", help="why (required with --force; goes to the audit log)")
    add_json_flag(parser)


def _promote(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.gate.promotion import promote

    return promote(ctx.project(), args.name, args.version, args.stage, args.force, args.reason)


def _rollback_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument(
        "--drill",
        action="store_true",
        help="rehearse in a temporary clone: the previous version must load and predict",
    )
    parser.add_argument("--sample", metavar="DATA", help="rows to predict on in the drill")
    parser.add_argument(
        "--candidate",
        metavar="VERSION",
        help="drill the way back from this version's promotion "
        "(default: the newest version not in production)",
    )
    add_json_flag(parser)


def _rollback(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.registry.versions import drill, rollback

    if args.drill:
        sample = ctx.cwd / args.sample if args.sample else None
        return drill(ctx.project(), args.name, sample=sample, candidate=args.candidate)
    return rollback(ctx.project(), args.name)


REGISTER = Command(
    "register",
    "register the saved model as a new version (a GTO git tag or an MLflow model version)",
    _register_args,
    _register,
)
MODELS = Command(
    "models",
    "list model versions, stages, who and when, and key metrics (or delete one)",
    _models_args,
    _models,
    "examples:\n  readiness models screening --json\n"
    "  readiness models delete screening@1.0.1 --yes   # refused while a stage points to it",
)
PROMOTE = Command(
    "promote",
    "promote a version to staging or production through the gate",
    _promote_args,
    _promote,
    "examples:\n  readiness promote churn 1.0.0 --to staging\n"
    '  readiness promote churn 1.0.1 --to production --force --reason "hotfix"',
)
ROLLBACK = Command(
    "rollback",
    "take production back to the previous version (or --drill it)",
    _rollback_args,
    _rollback,
)
