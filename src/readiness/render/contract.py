"""The serving contract test (``readiness serve NAME --check``)."""

from __future__ import annotations

from typing import Any

from readiness.render import badge, md, renders, table_html, table_text
from readiness.serve.contract import ContractResult

HEADER = ("check", "result", "detail")


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("pass" if ok else "FAIL")


def _rows(obj: Any) -> list[list[Any]]:
    return [[s.name, _mark(s.ok), s.detail] for s in obj.steps]


def _headline(obj: Any) -> str:
    verdict = "PASSED" if obj.ok else "FAILED"
    return (
        f"contract test of {obj.name} {obj.version or '?'} ({obj.stage}): {verdict} "
        f"({obj.requests} requests on {obj.data})"
    )


@renders("text", ContractResult)
def _text(obj: Any) -> str:
    return "\n".join([_headline(obj), table_text(HEADER, _rows(obj))])


@renders("html", ContractResult)
def _html(obj: Any) -> str:
    return f"<div>{badge(obj.ok, _headline(obj))}</div>" + table_html(HEADER, _rows(obj))


@renders("md", ContractResult)
def _md(obj: Any) -> str:
    lines = [f"**{md(_headline(obj))}**", "", "| check | result | detail |", "|---|---|---|"]
    lines += [f"| {md(s.name)} | {_mark(s.ok)} | {md(s.detail)} |" for s in obj.steps]
    return "\n".join(lines)
