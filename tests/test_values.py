"""One parser for command-line values, one for notebook parameters cells, and they agree.

``run -p``, ``log NAME=VALUE`` and ``pipeline add --param`` read values through
``readiness.commands.values``; ``run``'s parameter check and ``pipeline add``'s defaults
read a parameters cell through ``readiness.jobs.parameters``.
"""

from __future__ import annotations

import pytest

from readiness.commands.values import parse_pairs, parse_value
from readiness.core.errors import UsageError
from readiness.data.pipeline import notebook_parameters
from readiness.jobs.parameters import literal_defaults

from .conftest import cli, write_notebook

# name: (what a parameters cell says, what a command line says, the value)
CASES = {
    "none_word": ("None", "None", None),
    "none_lower": ("None", "none", None),
    "null": ("None", "null", None),
    "tilde": ("None", "~", None),
    "true": ("True", "true", True),
    "true_python": ("True", "True", True),
    "false": ("False", "FALSE", False),
    "integer": ("3", "3", 3),
    "negative": ("-2", "-2", -2),
    "real": ("0.5", "0.5", 0.5),
    "text": ('"rbf"', "rbf", "rbf"),
    "quoted": ('"2"', '"2"', "2"),
    "numbers": ("[1, 2]", "[1, 2]", [1, 2]),
    "texts": ('["a", "b"]', '["a", "b"]', ["a", "b"]),
    "mapping": ('{"penalty": "l1"}', '{"penalty": "l1"}', {"penalty": "l1"}),
}


@pytest.fixture
def cell_defaults(tmp_path):
    cell = "\n".join(f"{name} = {python}" for name, (python, _, _) in CASES.items())
    cell += "\nexpression = 2 * 8\nannotated: int | None = None"
    return write_notebook(tmp_path / "nb.ipynb", cell, "print(1)")


def test_a_parameters_cell_and_the_command_line_agree(cell_defaults):
    from_cell = literal_defaults(cell_defaults)
    for name, (_, typed, expected) in CASES.items():
        assert from_cell[name] == expected and type(from_cell[name]) is type(expected), name
        assert parse_value(typed) == expected, name
        assert type(parse_value(typed)) is type(expected), name
    assert from_cell["annotated"] is None
    assert "expression" not in from_cell  # an expression is not a literal default


def test_pipeline_reads_the_cell_with_the_same_parser(cell_defaults):
    assert notebook_parameters(cell_defaults) == literal_defaults(cell_defaults)


def test_log_and_run_read_values_alike():
    pairs = parse_pairs([f"{name}={typed}" for name, (_, typed, _) in CASES.items()], "NAME=VALUE")
    assert pairs == {name: parse_value(typed) for name, (_, typed, _) in CASES.items()}
    assert parse_pairs(["x=None", "y=~", "z=null"], "NAME=VALUE") == dict.fromkeys("xyz")


@pytest.mark.parametrize("raw", ["9" * 5000, "1e400", "-1e400", "NaN", "[1, Infinity]"])
def test_numbers_past_the_float_range_are_one_line_errors(raw):
    with pytest.raises(UsageError, match="finite") as caught:
        parse_value(raw, "-p n")
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_a_5000_digit_run_parameter_exits_2_with_one_line(project):
    write_notebook(project.root / "nb.ipynb", "n = 0", "print(n)")
    done = cli("run", "nb.ipynb", "-p", "n", "9" * 5000, cwd=project.root)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "ValueError" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "-p n" in done.stderr
    assert not project.runs_dir.is_dir() or not any(project.runs_dir.iterdir())
