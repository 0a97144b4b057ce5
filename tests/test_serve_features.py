"""The request schema of a served model: features, rules from readiness.yaml, checked rows."""

from __future__ import annotations

import pandas as pd
import pytest

from readiness.core.schema import validate
from readiness.serve.features import FeaturesError, FieldRule, build_schema

CONFIG = {
    "use_case": {"name": "x", "owner": "o@example.com", "business_metric": "m"},
    "criteria": {"technical": [{"metric": "roc_auc", "split": "holdout", "min": 0.9}]},
    "datasets": {
        "holdout": {"path": "holdout.csv", "columns": {"age": {"type": "int", "min": 0}}},
        "train": {
            "path": "train.csv",
            "target": "label",
            "columns": {
                "age": {"type": "int", "min": 18, "max": 120},
                "plan": {"type": "category", "allowed": ["basic", "pro"]},
                "income": {"type": "float", "max_missing": 0.1},
                "label": {"type": "int", "allowed": [0, 1]},
            },
        },
    },
}


class Fitted:
    feature_names_in_ = ("age", "plan", "income", "tenure", "city")


@pytest.fixture
def schema(tmp_path):
    pd.DataFrame(
        {"tenure": [1, 2], "city": ["a", "b"], "age": [20, 30], "label": [0, 1]}
    ).to_csv(tmp_path / "train.csv", index=False)
    return build_schema(Fitted(), validate(CONFIG), tmp_path)


def test_rules_come_from_the_training_dataset_first_then_from_its_file(schema):
    assert schema.features == ["age", "plan", "income", "tenure", "city"]
    assert schema.rules["age"] == FieldRule("age", "int", 18, 120, None, False, "datasets.train")
    assert schema.rules["income"].nullable
    assert schema.rules["tenure"].type == "number" and schema.rules["city"].type == "str"
    assert schema.label_rule.allowed == (0, 1)
    assert any("inferred from train.csv" in s for s in schema.sources)


GOOD = {"age": 30, "plan": "pro", "income": 10.5, "tenure": 3, "city": "x"}


@pytest.mark.parametrize(
    "change, field, rule",
    [
        ({"age": 17}, "age", "min 18: got 17"),
        ({"age": 121}, "age", "max 120: got 121"),
        ({"age": 30.5}, "age", "type int: got 30.5"),
        ({"age": True}, "age", "type int: got a boolean"),
        ({"age": "30"}, "age", "type int: got a text"),
        ({"plan": "gold"}, "plan", "allowed ['basic', 'pro']: got 'gold'"),
        ({"plan": 1}, "plan", "type category: got a number"),
        ({"age": None}, "age", "required: null is not allowed"),
        ({"tenure": [1]}, "tenure", "type number: got a list"),
        ({"city": {"a": 1}}, "city", "type str: got an object"),
    ],
)
def test_each_broken_rule_names_row_field_and_rule(schema, change, field, rule):
    problems, count = schema.problems([GOOD, {**GOOD, **change}], max_rows=10)
    assert count == 1 and [p.to_dict() for p in problems] == [
        {"row": 1, "field": field, "rule": rule}
    ]


def test_good_rows_nulls_where_allowed_and_limits(schema):
    assert schema.problems([GOOD, {**GOOD, "income": None, "age": 30.0}], 10) == ([], 0)
    missing = {k: v for k, v in GOOD.items() if k != "city"}
    assert schema.problems([missing], 10)[0][0].rule == "missing"
    assert schema.problems([], 10)[0][0].rule.startswith("rows is empty")
    assert schema.problems([GOOD] * 3, 2)[0][0].rule == "at most 2 rows per request: got 3"
    assert schema.problems("rows", 10)[0][0].rule.startswith("rows must be a list")
    assert schema.problems([1], 10)[0][0].rule == "a row is an object: got a number"
    many, count = schema.problems([{}] * 500, 1000)
    assert len(many) == 100 and count == 2500  # the first hundred, and how many in all


def test_the_frame_keeps_the_model_order_and_ignores_extra_fields(schema):
    frame = schema.frame([{**GOOD, "extra": 1}])
    assert list(frame.columns) == schema.features


def test_json_schema_of_a_row(schema):
    row = schema.json_schema()
    assert row["required"] == schema.features
    assert row["properties"]["age"] == {"type": "integer", "minimum": 18, "maximum": 120}
    assert row["properties"]["income"] == {"type": ["number", "null"]}
    assert row["properties"]["plan"]["enum"] == ["basic", "pro"]


def test_strict_datasets_refuse_unknown_fields(tmp_path):
    config = {**CONFIG, "datasets": {"train": {**CONFIG["datasets"]["train"], "strict": True}}}

    class Small:
        feature_names_in_ = ("age", "plan")

    schema = build_schema(Small(), validate(config), tmp_path)
    problems, _ = schema.problems([{"age": 30, "plan": "pro", "secret": 1}], 10)
    assert [p.to_dict() for p in problems] == [
        {"row": 0, "field": "secret", "rule": "unknown field (strict schema)"}
    ]


def test_features_from_the_dataset_when_the_model_has_no_names(tmp_path):
    schema = build_schema(object(), validate(CONFIG), tmp_path)
    assert schema.features == ["age", "plan", "income"]
    no_target = {**CONFIG, "datasets": {"holdout": CONFIG["datasets"]["holdout"]}}
    with pytest.raises(FeaturesError, match="feature_names_in_"):
        build_schema(object(), validate(no_target), tmp_path)
