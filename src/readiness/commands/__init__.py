"""Subcommands shared by the ``readiness`` CLI and the ``%readiness`` magic.

Each subcommand module defines one :class:`Command`: how to parse its arguments and
which core function to call. Front ends only parse, call and render, so the CLI
and the magic can never disagree.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readiness.core.errors import UsageError


@dataclass
class Context:
    """What a front end hands a command besides its arguments."""

    cwd: Path
    body: str | None = None  # the cell of %%readiness
    front_end: str = "cli"  # "cli" or "magic"
    project_dir: Path | None = None  # -C/--project
    namespace: dict[str, Any] | None = None  # a notebook's variables (the magic only)

    def project(self) -> Any:
        """The project: -C, else READINESS_PROJECT, else found from the working directory."""
        from readiness.core.project import Project, current_project

        return Project(self.project_dir) if self.project_dir else current_project()

    def widgets(self) -> bool:
        """Whether results may come as widgets: the magic, in a kernel that can hold them."""
        if self.front_end != "magic":
            return False
        from readiness.widgets.frontend import available

        return available()

    @classmethod
    def from_args(
        cls,
        args: argparse.Namespace,
        front_end: str,
        body: str | None = None,
        namespace: dict[str, Any] | None = None,
    ) -> Context:
        """The context of parsed arguments; checks that -C names a folder."""
        project_dir = None
        if args.project:
            project_dir = Path(args.project).resolve()
            if not project_dir.is_dir():
                raise UsageError(f"project folder {args.project} does not exist")
        return cls(
            cwd=project_dir or Path.cwd(),
            body=body,
            front_end=front_end,
            project_dir=project_dir,
            namespace=namespace,
        )


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    configure: Callable[[argparse.ArgumentParser], None]
    execute: Callable[[argparse.Namespace, Context], Any]
    usage_example: str = ""


class HelpShown(Exception):
    """argparse printed help (or a version) and asked to exit with ``status``."""

    def __init__(self, status: int = 0) -> None:
        super().__init__(status)
        self.status = status


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so a magic never kills a kernel."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            print(message)
        raise HelpShown(status)


def all_commands() -> list[Command]:
    """Every subcommand, in the order help lists them."""
    from readiness.commands import (
        alerts,
        batch,
        check,
        checklist,
        criteria,
        dashboard,
        drift,
        init,
        lineage,
        log,
        pipeline,
        portfolio,
        registry,
        reproduce,
        retrain,
        run,
        serve,
        track,
        validate,
    )

    return [
        init.COMMAND,
        criteria.COMMAND,
        log.COMMAND,
        track.COMMAND,
        validate.COMMAND,
        drift.COMMAND,
        run.COMMAND,
        batch.COMMAND,
        pipeline.COMMAND,
        reproduce.COMMAND,
        lineage.COMMAND,
        registry.REGISTER,
        registry.MODELS,
        registry.PROMOTE,
        registry.ROLLBACK,
        retrain.RETRAIN,
        retrain.MONITOR,
        serve.COMMAND,
        dashboard.COMMAND,
        portfolio.COMMAND,
        alerts.COMMAND,
        check.COMMAND,
        checklist.ATTEST,
        checklist.CARD,
        checklist.CI,
        checklist.REPORT,
    ]


def build_parser(prog: str = "readiness") -> Parser:
    """The argument parser of every subcommand."""
    parser = Parser(
        prog=prog,
        description="readiness: from notebook PoC to production model, gated by success "
        "criteria declared before the PoC.",
        epilog="Exit codes: 0 success/READY, 1 criteria not met, 2 bad input.",
    )
    from readiness import __version__

    parser.add_argument("--version", action="version", version=f"readiness {__version__}")
    parser.add_argument(
        "-C",
        "--project",
        metavar="DIR",
        help="project folder (default: found from the working directory)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in all_commands():
        child = sub.add_parser(
            command.name,
            help=command.summary,
            description=command.summary,
            epilog=command.usage_example or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.configure(child)
        child.set_defaults(_command=command)
    return parser


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def usage_text(prog: str = "%readiness") -> str:
    """One line per subcommand, for ``%readiness?`` and the README."""
    lines = [f"{prog} COMMAND [options]   ({prog} COMMAND --help for each)", ""]
    for command in all_commands():
        lines.append(f"  {command.name:<10} {command.summary}")
    return "\n".join(lines)
