"""The serving contract test (``readiness serve NAME --check``)."""

from __future__ import annotations

from typing import Any

from readiness.render import badge, md, renders, table_html, table_text
from readiness.serve.contract import ContractResult, ContractResults

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


def _overall(obj: Any) -> str:
    passed = sum(r.ok for r in obj.results)
    verdict = "PASSED" if obj.ok else "FAILED"
    return f"contract tests of {len(obj.results)} models: {verdict} ({passed} passed)"


@renders("text", ContractResults)
def _many_text(obj: Any) -> str:
    return "\n\n".join([_overall(obj), *(_text(r) for r in obj.results)])


@renders("html", ContractResults)
def _many_html(obj: Any) -> str:
    return f"<div>{badge(obj.ok, _overall(obj))}</div>" + "".join(_html(r) for r in obj.results)


@renders("md", ContractResults)
def _many_md(obj: Any) -> str:
    return "\n\n".join([f"**{md(_overall(obj))}**", *(_md(r) for r in obj.results)])
