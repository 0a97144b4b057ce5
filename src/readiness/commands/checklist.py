"""Checklist commands: attest, card, ci, report."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from readiness.commands import Command, Context, add_json_flag


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _attest_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("item", help="a checklist item id, e.g. security.pentest")
    parser.add_argument("--by", required=True, help="who checked it")
    parser.add_argument("--evidence", required=True, metavar="URL", help="where the proof is")
    parser.add_argument("--date", type=_date, help="when (default today)")
    parser.add_argument("--expires", type=_date, help="valid until (default: date + 180 days)")
    parser.add_argument("--note")
    add_json_flag(parser)


def _attest(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.checklist.attestations import attest

    return attest(
        ctx.project(), args.item, args.by, args.evidence, args.date, args.expires, args.note
    )


def _card(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.gate.reports import model_card

    return model_card(ctx.project())


def _ci_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["github", "gitlab"])
    parser.add_argument("--force", action="store_true", help="replace an existing workflow")
    add_json_flag(parser)


def _ci(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.gate.reports import ci_workflow

    return ci_workflow(ctx.project(), args.kind, args.force)


def _report(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.gate.reports import report

    return report(ctx.project())


ATTEST = Command(
    "attest",
    "attest a checklist item: who, when, evidence link (counts half)",
    _attest_args,
    _attest,
)
CARD = Command("card", "write the model card (docs/model-card.md)", add_json_flag, _card)
CI = Command(
    "ci", "write a CI workflow that gates on readiness check (github or gitlab)", _ci_args, _ci
)
REPORT = Command(
    "report",
    "write the scorecard, model card and drift summary to reports/",
    add_json_flag,
    _report,
)
