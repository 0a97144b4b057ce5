"""The criteria schema: real targets accepted, relative or leaky ones refused with the fix."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness.core.config import parse_config
from readiness.core.errors import ConfigError, ReadinessError

from .conftest import TEMPLATES

HEAD = "use_case: {name: churn, owner: jane@example.com, business_metric: revenue}\n"


def config_with(technical: str, business: str = "") -> str:
    return HEAD + "criteria:\n  technical:\n" + technical + business


def test_template_is_valid():
    config = parse_config((TEMPLATES / "readiness.yaml").read_text())
    assert config.use_case.name == "churn-prediction"
    auc = config.criteria.technical[0]
    assert (auc.metric, auc.split, auc.direction) == ("roc_auc", "holdout", "min")
    assert auc.required == pytest.approx(0.85)
    assert config.criteria.business.value_per_outcome == {"tp": 120, "fp": -15, "fn": -40, "tn": 0}


def test_baseline_plus_margin_tightens_the_bound():
    config = parse_config(
        config_with(
            "    - {metric: auc, split: holdout, min: 0.8, baseline: 0.79, min_margin: 0.03}\n"
        )
    )
    assert config.criteria.technical[0].required == pytest.approx(0.82)
    lower = parse_config(
        config_with("    - {metric: mae, split: holdout, max: 10, baseline: 9, min_margin: 2}\n")
    )
    assert lower.criteria.technical[0].required == pytest.approx(7)


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        ("{metric: auc, split: holdout, baseline: 0.8, min_margin: 0.02}", "no absolute bound"),
        ("{metric: auc, split: holdout, baseline: 0.8, min_margin: 0.02}", "min: 0.82"),
        (
            "{metric: auc, split: holdout, min: 0.8, baseline: 0.8, min_margin: 0}",
            "positive margin",
        ),
        (
            "{metric: auc, split: holdout, min: 0.8, baseline: 0.8, min_margin: -0.1}",
            "zero or less",
        ),
        ("{metric: auc, split: holdout, min: 0.8, baseline: 0.8}", "without min_margin"),
        ("{metric: auc, split: train, min: 0.8}", "training data"),
        ("{metric: auc, split: Training, min: 0.8}", "training data"),
        (
            "{metric: auc, split: holdout, min: 0.8, better_than: baseline}",
            "unknown key 'better_than'",
        ),
        ("{metric: auc, split: holdout, gt: 0.8}", "unknown key 'gt'"),
        ("{metric: auc, split: holdout, min: 0.8, max: 0.9}", "both min and max"),
    ],
)
def test_refused_criteria_say_why(criterion, expected):
    with pytest.raises(ConfigError, match=expected):
        parse_config(config_with(f"    - {criterion}\n"))


def test_metric_declared_twice():
    text = config_with(
        "    - {metric: auc, split: holdout, min: 0.8}\n    - {metric: auc, split: holdout, min: 0.9}\n"
    )
    with pytest.raises(ConfigError, match="declared twice"):
        parse_config(text)
    # the same metric on another held-out split is a different criterion
    other = config_with(
        "    - {metric: auc, split: holdout, min: 0.8}\n    - {metric: auc, split: out_of_time, min: 0.75}\n"
    )
    assert len(parse_config(other).criteria.technical) == 2


def test_errors_carry_line_and_column():
    text = config_with("    - metric: auc\n      split: train\n      min: 0.8\n")
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="readiness.yaml")
    assert "readiness.yaml:5:7:" in str(info.value)
    with pytest.raises(ConfigError, match=r"readiness.yaml:3:\d+: invalid YAML"):
        parse_config("criteria:\n  technical: [\n  - : :\n", source="readiness.yaml")


def test_business_rules():
    base = "    - {metric: auc, split: holdout, min: 0.8}\n  business:\n"
    ok = parse_config(
        config_with("", "").replace("  technical:\n", "  technical: []\n")
        + "  business:\n    value_per_outcome: {tp: 10, fp: -1}\n    reviews: [2026-12-15]\n"
    )
    assert ok.criteria.business.value_per_outcome == {"tp": 10, "fp": -1, "fn": 0, "tn": 0}
    with pytest.raises(ConfigError, match="unknown key 'true_pos'"):
        parse_config(config_with(base, "    value_per_outcome: {true_pos: 10}\n"))
    with pytest.raises(ConfigError, match="needs value_per_outcome"):
        parse_config(config_with(base, "    min_net_value_per_1000: 10\n"))
    with pytest.raises(ConfigError, match="max_latency_ms"):
        parse_config(config_with(base, "    max_latency_ms: -5\n"))


def test_unknown_section_and_missing_use_case():
    with pytest.raises(ConfigError, match="unknown key 'criterias'"):
        parse_config(HEAD + "criterias: {}\n")
    with pytest.raises(ConfigError, match=r"use_case: required but missing"):
        parse_config("criteria:\n  technical:\n    - {metric: auc, split: holdout, min: 0.8}\n")
    with pytest.raises(ConfigError, match="at least one"):
        parse_config(HEAD + "criteria: {technical: []}\n")


# -- fuzzing: any input gives a Config or a ReadinessError, never another exception ----

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["holdout", "train", "0.8", "2026-12-15", "min"]),
)
keys = st.sampled_from(
    [
        "use_case",
        "criteria",
        "technical",
        "business",
        "metric",
        "split",
        "min",
        "max",
        "baseline",
        "min_margin",
        "value_per_outcome",
        "tp",
        "fp",
        "reviews",
        "name",
        "owner",
        "business_metric",
        "drift",
        "attestations",
        "datasets",
        "by",
        "date",
        "evidence",
        "bogus",
    ]
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_fuzz_structured_yaml(tree):
    from readiness.core import yamlio

    try:
        text = yamlio.dump(tree)
    except Exception:  # hypothesis can build values ruamel cannot dump; not our input
        return
    with contextlib.suppress(ReadinessError):
        parse_config(text)


TOKENS = [
    *list("{}[]:,-!&*#|>'\"\n\t ?%@`abc01."),
    "!!python/object:os.system ",
    "use_case:",
    "criteria:",
    "technical:",
    "  - ",
    "min: ",
    "&a ",
    "*a",
    "!!binary ",
    "<<: ",
    "2026-13-45",
    "1e999",
    ".nan",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_fuzz_raw_text(text):
    with contextlib.suppress(ReadinessError):
        parse_config(text)
