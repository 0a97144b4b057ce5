"""``readiness check``: criteria and the readiness checklist; exit 0 READY / 1 not."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--run",
        metavar="RUN_ID",
        help="judge this run's evidence (default: the production version's run once a model "
        "is in production, else the latest run)",
    )
    which.add_argument(
        "--model",
        metavar="NAME@VERSION",
        help="judge the run of this registered version (e.g. a candidate: churn@1.0.1)",
    )
    parser.add_argument(
        "--criteria-only",
        action="store_true",
        help="judge the success criteria only, not the production readiness checklist",
    )
    parser.add_argument(
        "--format",
        choices=["text", "html", "md", "json"],
        default="text",
        help="text (default), script-free html, markdown (pull-request comments) or json",
    )
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument(
        "--full",
        action="store_true",
        help="in a notebook, list every checklist item even before a model is registered",
    )


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.gate.check import criteria_check, full_check

    project = ctx.project()
    judge = criteria_check if args.criteria_only else full_check
    result = judge(project, args.run, args.model)
    result.output_format = "json" if args.json else args.format
    if result.checklist is not None and ctx.front_end == "magic" and not args.full:
        # Before a model exists most items are "missing": a notebook shows one line for them
        # (the scorecard widget stays: its categories are folded, one bar each).
        result.checklist_summary = not _any_model(project)
    if result.output_format == "text" and ctx.widgets():
        from readiness.widgets import scorecard

        result.interactive = lambda: scorecard(  # a refresh judges the same run
            result, project, run_id=result.run_id, criteria_only=args.criteria_only
        )
    return result


def _any_model(project: Any) -> bool:
    """Whether the registry holds a version of any model."""
    from readiness.registry.backend import any_registered

    return any_registered(project)


COMMAND = Command(
    name="check",
    summary="judge the success criteria and the readiness checklist (exit 0 READY, 1 not)",
    configure=configure,
    execute=execute,
    usage_example=(
        "examples:\n  readiness check\n  readiness check --model churn@1.0.1\n"
        "  readiness check --json > verdict.json\n"
        "  readiness check --format md >> $GITHUB_STEP_SUMMARY"
    ),
)
