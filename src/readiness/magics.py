"""``%readiness`` and ``%%readiness``: the notebook front end, thin over the commands."""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from readiness.core.errors import UsageError


@magics_class
class ReadinessMagics(Magics):
    @line_cell_magic
    def readiness(self, line: str, cell: str | None = None) -> Any:
        from readiness.commands import Context, HelpShown, build_parser

        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%readiness: {exc}") from None
        if not argv:
            print(_usage())
            return None
        try:
            args = build_parser("%readiness").parse_args(argv)
        except HelpShown:
            return None
        if getattr(args, "_command", None) is None:
            raise UsageError("%readiness needs a command: " + _usage())
        namespace = self.shell.user_ns if self.shell is not None else None
        context = Context.from_args(args, "magic", body=cell, namespace=namespace)
        return args._command.execute(args, context)


def _usage() -> str:
    from readiness.commands import usage_text

    return usage_text("%readiness")


_DOC = """Readiness: success criteria, evidence and the production gate, from the notebook.

Use ``%readiness COMMAND --help`` for one command's options. Results display as
tables; ``r = %readiness check`` keeps the result object. Errors fail the cell
with a one-line message, so papermill stops at them.

Cell form: ``%%readiness criteria [--amend REASON]`` with YAML in the cell body.

"""


def _set_doc() -> None:
    # Built from the command table, so %readiness? never lists a stale command.
    try:
        ReadinessMagics.readiness.__doc__ = _DOC + _usage()
    except Exception:  # help text must never break loading the extension
        ReadinessMagics.readiness.__doc__ = _DOC


_set_doc()


def load_ipython_extension(shell: Any) -> None:
    shell.register_magics(ReadinessMagics)
