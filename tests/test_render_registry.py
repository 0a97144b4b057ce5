"""Every result object renders as text, script-free HTML and JSON, through one registry.

Renderers are registered per result type (``@renders(kind, Type)``) and found along the
MRO. The test discovers every ``Renderable`` subclass in the package, so a new result type
without a registered renderer fails here before it shows a raw dict in a notebook.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import typing
from typing import Any

import pytest

import readiness
from readiness import render
from readiness.core.results import Renderable


def _import_everything() -> None:
    for module in pkgutil.walk_packages(readiness.__path__, "readiness."):
        if not module.name.endswith("__main__"):  # __main__ would run the CLI
            importlib.import_module(module.name)


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("readiness."):
            found += [sub, *_subclasses(sub)]
    return found


_import_everything()
RESULT_TYPES = sorted(set(_subclasses(Renderable)), key=lambda c: c.__qualname__)


def _config() -> Any:
    from readiness.core.schema import Config

    return Config.model_validate(
        {
            "use_case": {"name": "churn", "owner": "ana@example.org", "business_metric": "churn"},
            "criteria": {"technical": [{"metric": "f1", "split": "holdout", "min": 0.7}]},
        }
    )


def _timeline() -> Any:
    from readiness.monitoring.timeline import Timeline

    return Timeline("churn", 0.0, 3600.0, [0.0, 3600.0])


# fields a generic placeholder cannot stand in for (the renderer reads into them)
FACTORIES: dict[str, dict[str, Any]] = {
    "Declaration": {"config": _config, "event": lambda: "declared"},
    "DriftResult": {"rows": lambda: {"reference": 100, "current": 80}},
    "DashboardWritten": {"timeline": lambda: _timeline()},
    "Attested": {
        "entry": lambda: {"by": "ana@example.org", "date": "2026-01-01", "evidence": "https://x"}
    },
}

PLACEHOLDERS = {"str": "x", "int": 1, "float": 0.5, "bool": True, "Any": 1}


def _placeholder(annotation: str) -> Any:
    if "| None" in annotation:
        return None
    if annotation.startswith("list"):
        return []
    if annotation.startswith("dict"):
        return {}
    if annotation in PLACEHOLDERS:
        return PLACEHOLDERS[annotation]
    raise AssertionError(f"no placeholder for a {annotation} field: add a factory to FACTORIES")


def minimal(cls: type) -> Renderable:
    """An instance of a result dataclass with every required field filled in."""
    assert dataclasses.is_dataclass(cls), f"{cls.__qualname__}: give the test a factory"
    overrides = FACTORIES.get(cls.__name__, {})
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in overrides:
            kwargs[f.name] = overrides[f.name]()
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            kwargs[f.name] = _placeholder(str(f.type))
    return typing.cast(Renderable, cls(**kwargs))


def test_every_result_type_is_found():
    names = {c.__name__ for c in RESULT_TYPES}
    # a sample from each capability: the discovery walks the whole package
    assert {"CheckResult", "ValidationResult", "Promotion", "DriftResult", "BatchResult"} <= names
    assert len(RESULT_TYPES) >= 20


@pytest.mark.parametrize("cls", RESULT_TYPES, ids=lambda c: c.__qualname__)
def test_every_result_type_has_a_registered_renderer(cls):
    assert render.renderer_for(cls, "text") is not None, (
        f"{cls.__module__}.{cls.__qualname__} has no text renderer: register one with "
        "@renders('text', ...) (and 'html' for a richer view)"
    )


@pytest.mark.parametrize("cls", RESULT_TYPES, ids=lambda c: c.__qualname__)
def test_every_result_renders_as_text_html_and_json(cls):
    bundle = minimal(cls)._repr_mimebundle_()
    assert bundle["text/plain"].strip()
    assert bundle["text/html"].strip()
    assert "<script" not in bundle["text/html"].lower()
    json.dumps(bundle["application/json"], default=str)  # serialisable
    assert str(minimal(cls)) == bundle["text/plain"]


def test_a_result_type_without_a_renderer_is_caught():
    @dataclasses.dataclass
    class Unregistered(Renderable):
        value: int = 1

        def to_dict(self) -> dict[str, Any]:
            return {"value": self.value}

    assert render.renderer_for(Unregistered, "text") is None
    # it still displays (the generic view), but the registry check above would fail it


def test_a_subclass_renders_like_its_base_by_type_not_by_name():
    from readiness.data.validation import ValidationResult

    class Special(ValidationResult):  # a different class name, found through the MRO
        pass

    base = render.renderer_for(ValidationResult, "text")
    assert base is not None and render.renderer_for(Special, "text") is base


def test_renders_refuses_what_is_not_a_result_type():
    with pytest.raises(TypeError):
        render.renders("text", "ValidationResult")  # type: ignore[arg-type]  # names are refused


def test_validate_shows_a_table_not_a_raw_dict(project):
    config = project.root / "readiness.yaml"
    config.write_text(
        config.read_text()
        + "datasets:\n  customers: {path: data/c.csv, columns: {age: {type: int, min: 0}}}\n"
    )
    (project.root / "data").mkdir()
    (project.root / "data" / "c.csv").write_text("age\n30\n-1\n-5\n")
    result = readiness.validate("data/c.csv")
    bundle = result._repr_mimebundle_()
    text = bundle["text/plain"]
    assert text.startswith("customers (data/c.csv): INVALID (1 failing rules), 3 rows x 1 columns")
    assert "age" in text and "-1" in text
    assert "{" not in text and "failures:" not in text  # not the dict's repr
    assert "INVALID" in bundle["text/html"] and "<table" in bundle["text/html"]
    # the fields stay readable as before
    assert result.valid is False and result.failures[0].column == "age"
    assert bundle["application/json"]["failures"][0]["column"] == "age"


# public functions that return something other than one result object, and why
NOT_A_RESULT = {
    "new_run": "a run id",
    "save_model": "the recorded model entry (name, path, sha256)",
    "load_model": "the model itself",
    "read_notebook_evidence": "a list of Evidence results",
    "load_ipython_extension": "nothing",
    "serve": "a running server (background=True) or nothing: it serves until stopped",
}


def test_every_public_function_returns_a_renderable():
    namespace = {c.__name__: c for c in RESULT_TYPES} | {"Any": Any}
    functions = [n for n in readiness.__all__ if callable(getattr(readiness, n))
                 and not isinstance(getattr(readiness, n), type)]
    assert "validate" in functions and "check" in functions
    for name in functions:
        if name in NOT_A_RESULT:
            continue
        returned = typing.get_type_hints(getattr(readiness, name), localns=namespace)["return"]
        assert isinstance(returned, type) and issubclass(returned, Renderable), name
        assert render.renderer_for(returned, "text") is not None, name
