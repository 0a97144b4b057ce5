"""``readiness criteria``: show, validate, declare, amend or plan the success criteria."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.core.errors import ProjectError, UsageError

ACTIONS = ("show", "validate", "declare", "amend", "plan")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=ACTIONS,
        default=None,
        help="show (default), validate readiness.yaml, declare from --file/stdin/cell, "
        "amend: record a hand edit with --reason, plan: the holdout size the gate needs",
    )
    parser.add_argument("--file", metavar="YAML", help="declare or validate this file ('-': stdin)")
    parser.add_argument(
        "--amend",
        "--reason",
        dest="reason",
        metavar="REASON",
        help="why criteria change after evidence exists (required then; written to the audit log)",
    )
    plan = parser.add_argument_group("plan (before the PoC)")
    plan.add_argument(
        "--expect",
        action="append",
        metavar="METRIC=VALUE",
        help="the value a metric is expected to reach (repeatable; default: its baseline)",
    )
    plan.add_argument(
        "--prevalence",
        type=float,
        metavar="P",
        help="the share of positives in the holdout (recall, precision, F1, AUC need it)",
    )
    plan.add_argument(
        "--power",
        type=float,
        default=0.8,
        metavar="P",
        help="the chance the gate decides when the metric is as expected (default 0.8)",
    )
    plan.add_argument(
        "--write",
        action="store_true",
        help="write the plan into the criteria lock (after evidence only with --reason)",
    )
    add_json_flag(parser)


def _read_file(name: str) -> str:
    from readiness.core.fsutil import require_file

    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    require_file(path, f"criteria file {name}", ProjectError)
    from readiness.core import yamlio
    from readiness.core.fsutil import read_text_file

    return read_text_file(path, "criteria file", max_bytes=yamlio.MAX_YAML_BYTES)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.core.metric_info import criteria_warnings
    from readiness.evidence.record import recorded_names

    project = ctx.project()
    if args.action == "plan":
        from readiness.criteria.plan import plan

        return plan(project, args.expect, args.prevalence, args.power, args.write, args.reason)
    if args.expect or args.prevalence is not None or args.write:
        raise UsageError("--expect, --prevalence, --power and --write are for plan")
    result = _declaration(args, ctx, project)
    result.warnings = criteria_warnings(result.config.criteria, recorded_names(project))
    return result


def _declaration(args: argparse.Namespace, ctx: Context, project: Any) -> Any:
    from readiness.criteria import declaration as criteria

    body = ctx.body if ctx.body and ctx.body.strip() else None
    action = args.action or ("declare" if body or args.file else "show")
    if action == "declare":
        if args.file:
            body = _read_file(args.file)
        if body is None:
            raise UsageError(
                "declare needs YAML: a %%readiness criteria cell body, --file FILE, "
                "or --file - (stdin)"
            )
        return criteria.declare(project, body, amend=args.reason, source=args.file or "criteria")
    if args.file and action in ("show", "amend"):
        raise UsageError(f"--file is for declare and validate, not {action}")
    if action == "amend":
        return criteria.amend(project, args.reason or "")
    if action == "validate" and (args.file or body):
        text = _read_file(args.file) if args.file else (body or "")
        config = criteria.preview(project, text, source=args.file or "criteria")
        return criteria.Declaration(config=config, event="valid")
    declaration = criteria.show(project)
    if action == "validate":
        declaration.event = f"valid ({declaration.event})"
    return declaration


COMMAND = Command(
    name="criteria",
    summary="show, validate, declare, amend or plan the success criteria (locked before evidence)",
    configure=configure,
    execute=execute,
    usage_example=(
        "examples:\n"
        "  readiness criteria                       # show, with lock state\n"
        "  readiness criteria validate\n"
        "  readiness criteria declare --file criteria.yaml\n"
        '  readiness criteria amend --reason "holdout grew; recalibrated the bound"\n'
        "  readiness criteria plan --expect roc_auc=0.97 --prevalence 0.37 --write\n"
        "in a notebook:\n"
        "  %%readiness criteria [--amend REASON]    # the cell body is YAML"
    ),
)
