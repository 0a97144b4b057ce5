"""``readiness serve``: serve a registry stage over HTTP, test its contract, manage its keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from readiness.commands import Command, Context, add_json_flag
from readiness.core.errors import UsageError

KEY_ACTIONS = ("add", "list", "revoke")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        metavar="NAME",
        help="the model to serve, NAME@STAGE for its own stage (or 'keys' to manage API keys)",
    )
    parser.add_argument(
        "key_args",
        nargs="*",
        metavar="NAME",
        help="more models served by the same server, each at /v1/models/NAME:predict; "
        "after 'keys': add NAME | list | revoke NAME_OR_ID",
    )
    parser.add_argument(
        "--stage",
        default="production",
        choices=["production", "staging"],
        help="the registry stage each model follows (NAME@STAGE overrides it for one)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers", type=int, help="uvicorn worker processes (default: serving.workers, 1)"
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help="no API keys (allowed on 127.0.0.1 only; it says so loudly)",
    )
    parser.add_argument(
        "--metrics-public", action="store_true", help="serve /metrics without a key"
    )
    parser.add_argument(
        "--log-url",
        metavar="URL",
        help="SQLAlchemy URL of the prediction log (default: serving.log_url, "
        "READINESS_PREDICTION_LOG_URL, else SQLite in .readiness/serve)",
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--check",
        action="store_true",
        help="contract test: start on a free localhost port, replay held-out rows, check "
        "predictions, 422s, auth and p95 latency; exit 0/1 and record the result",
    )
    what.add_argument(
        "--export",
        choices=["docker", "kubernetes"],
        help="write a Dockerfile, or a Kubernetes Deployment + Service + autoscaler",
    )
    parser.add_argument("--data", metavar="FILE", help="rows --check replays (default: holdout)")
    parser.add_argument("--image", help="the image --export kubernetes runs")
    parser.add_argument("--force", action="store_true", help="--export overwrites its files")
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    project = ctx.project()
    if args.name == "keys":
        return _keys(project, args.key_args)
    names = [args.name, *args.key_args]
    if args.export:
        from readiness.serve.export import export

        return export(
            project,
            names if len(names) > 1 else args.name,
            args.export,
            stage=args.stage,
            port=args.port,
            workers=args.workers or 2,
            image=args.image,
            force=args.force,
        )
    from readiness.serve.runner import options_for

    options = options_for(
        project,
        names,
        stage=args.stage,
        host=args.host,
        port=args.port,
        workers=args.workers,
        auth=False if args.no_auth else None,
        metrics_public=args.metrics_public,
        log_url=args.log_url,
    )
    if args.check:
        from readiness.serve.contract import contract_tests

        data = ctx.cwd / args.data if args.data else None
        return contract_tests(project, options, data)
    if ctx.front_end == "magic":
        raise UsageError(
            "a notebook cannot block on a server: use readiness.serve(NAME, background=True), "
            "or readiness serve NAME in a terminal"
        )
    _serve_here(options)
    return None


def _serve_here(options: Any) -> None:
    from readiness.serve.runner import preflight, run

    ready = preflight(options)
    where = f"http://{options.host}:{options.port}"
    auth = f"API keys required ({ready.keys} active)" if options.auth else "NO AUTHENTICATION"
    if len(options.served) == 1:
        lines = [
            f"readiness: serving {options.name} {ready.version} ({options.stage}) at {where}",
            f"  POST {where}/v1/models/{options.name}:predict  ({ready.features} features)",
        ]
    else:
        lines = [f"readiness: serving {len(options.served)} models at {where}"]
        lines += [
            f"  POST {where}/v1/models/{name}:predict  {ready.versions[name]} ({stage}, "
            f"{ready.feature_counts[name]} features)"
            for name, stage in options.served
        ]
    lines += [
        f"  {options.workers} worker(s); {auth}; /metrics "
        + ("public" if options.metrics_public else "needs a key"),
        f"  prediction log: {ready.log}",
        f"  following the registry every {options.poll_seconds:g} s; Ctrl-C stops",
    ]
    if not options.auth:
        lines.insert(
            0,
            "readiness: WARNING: --no-auth: anyone who can reach "
            f"{options.host}:{options.port} can call the model without a key",
        )
    print("\n".join(lines), file=sys.stderr, flush=True)
    run(options)


def _keys(project: Any, key_args: list[str]) -> Any:
    from readiness.serve.keys import add_key, list_keys, revoke_key

    action, *rest = key_args or ["list"]
    if action not in KEY_ACTIONS:
        raise UsageError(f"readiness serve keys {action}: use add NAME, list or revoke NAME_OR_ID")
    if action == "list":
        if rest:
            raise UsageError("readiness serve keys list takes no argument")
        return list_keys(project)
    if len(rest) != 1:
        raise UsageError(f"readiness serve keys {action} takes one NAME")
    return add_key(project, rest[0]) if action == "add" else revoke_key(project, rest[0])


COMMAND = Command(
    "serve",
    "serve models' production versions over HTTP with API keys, metrics and a prediction log",
    configure,
    execute,
    "examples:\n"
    "  readiness serve keys add ci            # prints the key once, on the last line\n"
    "  readiness serve churn --port 8000 --workers 2\n"
    "  readiness serve churn fraud@staging    # two models, one server\n"
    "  readiness serve churn --check          # the contract test (CI)\n"
    "  readiness serve churn --export kubernetes\n"
    "  readiness serve keys list | readiness serve keys revoke ci",
)
