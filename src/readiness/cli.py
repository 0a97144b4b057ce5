"""The ``readiness`` command: parse, call the core, print, exit with the result's code."""

from __future__ import annotations

import os
import sys

# jsonschema (imported by nbformat, so by papermill) imports rfc3987-syntax when it is
# installed (JupyterLab's jsonschema[format-nongpl] brings it), and that compiles a grammar
# on import: 3 s of CPU per command that touches a notebook. Its one use, the "iri" format
# check of jsonschema, is not one this process makes; notebooks' kernels are not affected.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from readiness.commands import Context, HelpShown, build_parser  # noqa: E402
from readiness.core.errors import ReadinessError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; return 0 success, 1 criteria not met, 2 bad input."""
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    parser = build_parser("readiness")
    try:
        args = parser.parse_args(argv)
        if getattr(args, "_command", None) is None:
            parser.print_help()
            return 2
        result = args._command.execute(args, Context.from_args(args, "cli"))
    except HelpShown as shown:
        return shown.status
    except ReadinessError as exc:
        print(f"readiness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError as exc:
        if stdout_closed():
            raise  # run() handles a reader that went away (`| head`)
        # a socket or a child's pipe: a real failure, not our reader leaving
        print(f"readiness: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A read or write that no helper translated (a read-only project, a full disk):
        # still one line and exit 2, never a traceback or 1 (which means NOT_READY).
        print(f"readiness: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("readiness: interrupted", file=sys.stderr)
        return 130
    if result is not None:
        print(_formatted(result, "json" if getattr(args, "json", False) else None))
    return getattr(result, "exit_code", 0)


def _os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f)
    return f"{where}: {reason}" if where else reason


def stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (poll reports an error)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        events = poller.poll(0)
    except (OSError, ValueError, AttributeError):
        return True  # no pollable stdout (replaced or closed): assume it is what broke
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in events)


def _formatted(result: object, wanted: str | None) -> str:
    """The result as text (default), json, html or markdown."""
    from readiness import render

    kind = wanted or getattr(result, "output_format", "text")
    if kind == "json":
        return result.to_json()  # type: ignore[attr-defined]
    if kind == "html":
        return render.html_of(result)  # type: ignore[arg-type]
    if kind == "md":
        return render.markdown(result)  # type: ignore[arg-type]
    return str(result)


def run() -> None:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    run()
