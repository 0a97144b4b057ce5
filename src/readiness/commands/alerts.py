"""``readiness alerts prometheus|grafana``: alert rules and a dashboard from readiness.yaml."""

from __future__ import annotations

import argparse
from typing import Any

from readiness.commands import Command, Context, add_json_flag

KINDS = ("prometheus", "grafana")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "kind", choices=KINDS, help="prometheus: alerting rules (YAML); grafana: dashboard (JSON)"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (default: standard output)"
    )
    parser.add_argument(
        "--model", metavar="NAME", help="only this model's series (default: every model's)"
    )
    add_json_flag(parser)


def execute(args: argparse.Namespace, ctx: Context) -> Any:
    from readiness.monitoring.alerts import prometheus_rules
    from readiness.monitoring.grafana import grafana_dashboard

    project = ctx.project()
    output = None
    if args.output:
        output = ctx.cwd / args.output
    if args.kind == "prometheus":
        return prometheus_rules(project, output, model=args.model)
    return grafana_dashboard(project, output, model=args.model)


COMMAND = Command(
    name="alerts",
    summary="Prometheus alerting rules or a Grafana dashboard derived from readiness.yaml",
    configure=configure,
    execute=execute,
    usage_example=(
        "examples:\n"
        "  readiness alerts prometheus -o monitoring/alerts.yml\n"
        "  readiness alerts prometheus > /etc/prometheus/rules/readiness.yml\n"
        "  readiness alerts grafana -o monitoring/dashboard.json"
    ),
)
