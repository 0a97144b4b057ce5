"""The schema of ``readiness.yaml``: use case, success criteria, drift policy, attestations.

The rules that make a criterion a real target (an absolute bound, a held-out split,
a positive margin over a baseline) live here, with messages that say how to fix them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from readiness.core import metric_info, numbers
from readiness.core.errors import ConfigError

TRAINING_SPLITS = {"train", "training", "trainset", "train_set", "in_sample", "in-sample", "fit"}
OUTCOMES = ("tp", "fp", "fn", "tn")


def _finite(value: Any) -> Any:
    """The finite-number rule (:mod:`readiness.core.numbers`) for every number of readiness.yaml."""
    reason = numbers.problem(value)
    if reason:
        raise ValueError(f"got {reason}; {numbers.RULE}")
    return value


# Every numeric field of readiness.yaml is one of these: NaN, infinity (.nan, .inf, 1e400)
# and integers beyond the float range are refused with the key and its line.
Number = Annotated[float, BeforeValidator(_finite)]
Count = Annotated[int, BeforeValidator(_finite)]


class _Strict(BaseModel):
    """Frozen models that refuse unknown keys with the list of allowed ones."""

    # allow_inf_nan=False also catches text such as "nan" that pydantic turns into a float
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    _label: ClassVar[str] = "this section"

    @classmethod
    def _what(cls, values: Any) -> str:
        return cls._label

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, values: Any) -> Any:
        _reject_unknown(values, set(cls.model_fields), cls._what(values))
        return values


def _reject_unknown(values: Any, allowed: set[str], what: str) -> None:
    if isinstance(values, dict):
        unknown = sorted(str(k) for k in values if k not in allowed)
        if unknown:
            guesses = [
                f"{k!r}: did you mean {g!r}?" for k in unknown if (g := _did_you_mean(k, allowed))
            ]
            raise ValueError(
                f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                f"in {what}"
                + (f" ({'; '.join(guesses)})" if guesses else "")
                + f"; allowed: {', '.join(sorted(allowed))}"
            )


# Words people write for a key readiness spells differently.
_SYNONYMS = {"minimum": "min", "maximum": "max", "margin": "min_margin", "threshold": "min"}


def _did_you_mean(key: str, allowed: set[str]) -> str | None:
    """The allowed key a misspelt one most likely means (``maxx`` -> ``max``)."""
    import difflib

    lowered = key.strip().lower()
    if lowered in allowed:
        return lowered
    if _SYNONYMS.get(lowered) in allowed:
        return _SYNONYMS[lowered]
    close = difflib.get_close_matches(lowered, sorted(allowed), n=1, cutoff=0.7)
    return close[0] if close else None


def held_out_split(split: str) -> str:
    """Refuse training splits: criteria are judged on data the model never saw."""
    if split.strip().lower() in TRAINING_SPLITS or split.strip().lower().startswith("train"):
        raise ValueError(
            f"split {split!r} is training data: success criteria are measured on held-out "
            "data. Use a split the model never saw, e.g. split: holdout"
        )
    return split


def _confidence(value: float | None) -> float | None:
    """A confidence level strictly between 0 and 1 (0.95: 95 % intervals)."""
    if value is not None and not 0 < value < 1:
        raise ValueError(
            f"confidence {value:g} must be between 0 and 1 (exclusive), e.g. confidence: 0.95"
        )
    return value


class _WithConfidence(_Strict):
    """A section with an optional ``confidence:``; an absent one is not dumped, so the
    criteria hash (and every lock) of criteria without it stays what it was."""

    confidence: Number | None = None

    @field_validator("confidence")
    @classmethod
    def _level(cls, value: float | None) -> float | None:
        return _confidence(value)

    @model_serializer(mode="wrap")
    def _drop_unset_confidence(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if isinstance(out, dict) and out.get("confidence") is None:
            out.pop("confidence", None)
        return out


class UseCase(_Strict):
    """Who the model is for and how the business measures it."""

    _label: ClassVar[str] = "use_case"

    name: str = Field(min_length=1, description="Short name of the use case.")
    owner: str = Field(min_length=1, description="The business owner who evaluates the PoC.")
    business_metric: str = Field(min_length=1, description="The business KPI the model moves.")
    description: str | None = None


class TechnicalCriterion(_WithConfidence):
    """An absolute bound on a recorded metric, measured on a held-out split.

    ``confidence`` (overrides ``criteria.confidence``): judge on the bootstrap interval at
    that level instead of the point value.
    """

    metric: str = Field(min_length=1)
    split: str = Field(min_length=1)
    min: Number | None = None
    max: Number | None = None
    baseline: Number | None = None
    min_margin: Number | None = None

    @classmethod
    def _what(cls, values: Any) -> str:
        return (
            f"criterion {values.get('metric', '?')!r}" if isinstance(values, dict) else "criterion"
        )

    @field_validator("split")
    @classmethod
    def _held_out(cls, split: str) -> str:
        return held_out_split(split)

    @model_validator(mode="after")
    def _absolute_target(self) -> TechnicalCriterion:
        name = f"criterion {self.metric!r} on {self.split!r}"
        if self.min is None and self.max is None:
            hint = _relative_hint(self.metric, self.baseline, self.min_margin)
            raise ValueError(
                f"{name} has no absolute bound: 'better than today' is not a target. "
                f"Add min: <value> (higher is better) or max: <value> (lower is better).{hint}"
            )
        if self.min is not None and self.max is not None:
            raise ValueError(f"{name} gives both min and max: give one absolute bound")
        if self.baseline is not None and self.min_margin is None:
            raise ValueError(
                f"{name} gives a baseline without min_margin: say how much better than the "
                "current practice the model must be, e.g. min_margin: 0.02"
            )
        if self.min_margin is not None and self.baseline is None:
            raise ValueError(f"{name} gives min_margin without a baseline to measure it from")
        if self.min_margin is not None and self.min_margin <= 0:
            raise ValueError(
                f"{name} has min_margin {self.min_margin:g}: a margin of zero or less accepts a "
                "model no better than today. Give a positive margin, e.g. min_margin: 0.02"
            )
        if not math.isfinite(self.required):
            raise ValueError(f"{name}: baseline and min_margin overflow: {numbers.RULE}")
        return self

    def level(self, criteria: Criteria) -> float | None:
        """The confidence this criterion is judged at (its own, else the criteria's)."""
        return self.confidence if self.confidence is not None else criteria.confidence

    @property
    def direction(self) -> Literal["min", "max"]:
        return "min" if self.min is not None else "max"

    @property
    def bound(self) -> float:
        return self.min if self.min is not None else self.max  # type: ignore[return-value]

    @property
    def required(self) -> float:
        """The value the metric must reach: the bound, tightened by baseline + margin."""
        if self.baseline is None or self.min_margin is None:
            return self.bound
        if self.direction == "min":
            return max(self.bound, self.baseline + self.min_margin)
        return min(self.bound, self.baseline - self.min_margin)


def _relative_hint(metric: str, baseline: float | None, margin: float | None) -> str:
    """The absolute bound a baseline and margin point to, the right way round for the metric."""
    if baseline is None or margin is None:
        return ""
    better = metric_info.direction(metric)
    up = f"min: {baseline + margin:g} (baseline {baseline:g} + margin {margin:g})"
    down = f"max: {baseline - margin:g} (baseline {baseline:g} - margin {margin:g})"
    if better == "lower":
        return f" For example {down}: {metric} is lower-is-better."
    if better == "higher":
        return f" For example {up}: {metric} is higher-is-better."
    return f" For example {up} if higher is better, or {down} if lower is better."


class BusinessCriteria(_WithConfidence):
    """The ROI, latency and decision rule that the business owner judges by.

    ``confidence`` (overrides ``criteria.confidence``): the net value per 1,000 predictions
    is judged on its bootstrap interval.
    """

    _label: ClassVar[str] = "criteria.business"

    value_per_outcome: dict[str, Number] | None = Field(
        default=None, description="Value of each outcome: tp, fp, fn, tn (missing ones count 0)."
    )
    min_net_value_per_1000: Number | None = Field(
        default=None, description="Minimum net value per 1,000 predictions (default 0: break even)."
    )
    max_latency_ms: Number | None = Field(default=None, gt=0)
    split: str = "holdout"
    decision_rule: str | None = None
    reviews: list[dt.date] = Field(default_factory=list)

    @field_validator("split")
    @classmethod
    def _held_out(cls, split: str) -> str:
        return held_out_split(split)

    @field_validator("value_per_outcome")
    @classmethod
    def _outcomes(cls, values: dict[str, float] | None) -> dict[str, float] | None:
        if values is None:
            return None
        _reject_unknown(values, set(OUTCOMES), "value_per_outcome")
        return {k: float(values.get(k, 0.0)) for k in OUTCOMES}

    @model_validator(mode="after")
    def _roi_needs_values(self) -> BusinessCriteria:
        if self.min_net_value_per_1000 is not None and self.value_per_outcome is None:
            raise ValueError(
                "min_net_value_per_1000 needs value_per_outcome (the value of tp, fp, fn, tn)"
            )
        return self


class Criteria(_WithConfidence):
    """The success criteria: technical thresholds and business criteria.

    ``confidence`` (e.g. 0.95) judges every criterion on its bootstrap interval at that level:
    a ``min`` passes when the interval's lower end reaches the required value, a ``max`` when
    its upper end does; an interval that straddles it is inconclusive.
    """

    _label: ClassVar[str] = "criteria"

    technical: list[TechnicalCriterion] = Field(default_factory=list)
    business: BusinessCriteria | None = None

    @model_validator(mode="after")
    def _not_empty_and_unique(self) -> Criteria:
        if not self.technical and self.business is None:
            raise ValueError("declare at least one technical criterion or the business criteria")
        seen: set[tuple[str, str]] = set()
        for item in self.technical:
            key = (item.metric, item.split)
            if key in seen:
                raise ValueError(
                    f"metric {item.metric!r} on split {item.split!r} is declared twice: "
                    "keep one criterion per metric and split"
                )
            seen.add(key)
        return self


class ColumnDrift(_Strict):
    _label: ClassVar[str] = "a drift column override"
    method: str | None = None
    threshold: Number | None = None


# evidently 0.7's stattest names (checked when readiness.yaml is read, not when drift runs)
STATTESTS = {
    "abs_text_content_drift",
    "anderson",
    "chisquare",
    "cramer_von_mises",
    "ed",
    "empirical_mmd",
    "es",
    "fisher_exact",
    "g_test",
    "hellinger",
    "jensenshannon",
    "kl_div",
    "ks",
    "mannw",
    "perc_text_content_drift",
    "psi",
    "t_test",
    "TVD",
    "wasserstein",
    "z",
}

COLUMN_TYPES = ("int", "float", "number", "str", "bool", "datetime", "category")


class ColumnSchema(_Strict):
    """Rules for one column of a dataset."""

    _label: ClassVar[str] = "a dataset column"

    type: Literal["int", "float", "number", "str", "bool", "datetime", "category"] | None = None
    min: Number | None = None
    max: Number | None = None
    allowed: list[Any] | None = Field(default=None, min_length=1)
    max_missing: Number = Field(
        default=0.0, ge=0, le=1, description="largest share of missing values"
    )
    unique: bool = False

    @field_validator("allowed")
    @classmethod
    def _finite_allowed(cls, values: list[Any] | None) -> list[Any] | None:
        for value in values or []:
            _finite(value)
        return values

    @model_validator(mode="after")
    def _range(self) -> ColumnSchema:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class DatasetSchema(_Strict):
    """What a dataset must look like before a job may use it."""

    _label: ClassVar[str] = "a dataset"

    path: str | None = Field(default=None, description="the file this schema applies to")
    columns: dict[str, ColumnSchema] = Field(min_length=1)
    min_rows: Count | None = Field(default=None, ge=0)
    unique: list[str] = Field(default_factory=list, description="key columns, unique together")
    strict: bool = Field(default=False, description="refuse columns that are not declared")
    target: str | None = Field(
        default=None, description="the label column: not a feature (a rollback drill drops it)"
    )

    @model_validator(mode="after")
    def _keys_declared(self) -> DatasetSchema:
        missing = [c for c in self.unique if c not in self.columns]
        if missing:
            raise ValueError(f"unique key column(s) {', '.join(missing)} are not in columns")
        if self.target is not None and self.target not in self.columns:
            raise ValueError(f"target column {self.target} is not in columns")
        return self


class DriftPolicy(_Strict):
    """How drift is judged (the drift capability reads it)."""

    _label: ClassVar[str] = "drift"

    max_drift_share: Number | None = Field(default=None, gt=0, le=1)
    ignore: list[str] = Field(default_factory=list)
    columns: dict[str, ColumnDrift] = Field(default_factory=dict)
    target: str | None = None
    prediction: str | None = None
    method: str | None = Field(default=None, description="every column (evidently stattest name)")
    threshold: Number | None = None
    num_method: str | None = Field(default=None, description="numeric columns, e.g. wasserstein")
    cat_method: str | None = Field(
        default=None, description="categorical columns, e.g. jensenshannon"
    )
    num_threshold: Number | None = None
    cat_threshold: Number | None = None
    profile_exact_rows: Count = Field(
        default=20_000,
        gt=1000,
        description="a model version's reference profile keeps every value of a numeric "
        "column up to this many; above, 10,000 quantiles with a stated score-error bound",
    )

    @model_validator(mode="after")
    def _known_methods(self) -> DriftPolicy:
        names = [
            self.method,
            self.num_method,
            self.cat_method,
            *(c.method for c in self.columns.values()),
        ]
        unknown = sorted({n for n in names if n and n not in STATTESTS})
        if unknown:
            raise ValueError(
                f"unknown drift method(s) {', '.join(unknown)}; evidently's methods: "
                f"{', '.join(sorted(STATTESTS))}"
            )
        return self


class Attestation(_Strict):
    """A dated, named manual check with an evidence link (the checklist reads it)."""

    _label: ClassVar[str] = "an attestation"

    by: str = Field(min_length=1)
    date: dt.date
    evidence: str = Field(min_length=1, description="a URL of the proof")
    expires: dt.date | None = None
    note: str | None = None

    @field_validator("evidence")
    @classmethod
    def _a_url(cls, evidence: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(evidence.strip())
        if not (parts.scheme and parts.netloc) or " " in evidence.strip():
            raise ValueError(
                f"evidence {evidence!r} is not a URL: link the proof, "
                "e.g. https://wiki.example.com/runbook-review"
            )
        return evidence.strip()


class Fairness(_Strict):
    """The bias check: the largest between-group difference of a metric, and its bound."""

    _label: ClassVar[str] = "fairness"

    sensitive_features: list[str] = Field(min_length=1)
    metric: Literal["recall", "precision", "accuracy", "selection_rate"] = "recall"
    max_difference: Number = Field(gt=0, le=1)
    data: str = Field(min_length=1, description="labelled held-out data with the features")
    target: str | None = None


REGISTRY_STAGES = ("staging", "production")


REGISTRY_BACKENDS = ("gto", "mlflow")


class RegistryPolicy(_Strict):
    """Where the registry lives (GTO git tags, or an MLflow model registry) and how
    readiness's stages are named there (GTO stages, or MLflow aliases)."""

    _label: ClassVar[str] = "registry"

    backend: str = Field(
        default="gto", description="gto (git tags, the default) or mlflow (a model registry)"
    )
    tracking_uri: str | None = Field(
        default=None,
        description="mlflow: http://host:port (a tracking server) or sqlite:///PATH "
        "(a relative PATH is the project's)",
    )
    model_prefix: str = Field(
        default="", description="mlflow: prefix of registered model names (shared servers)"
    )
    artifact_root: str | None = Field(
        default=None,
        description="mlflow with sqlite: the artifact folder (project-relative; default "
        ".readiness/mlflow-artifacts)",
    )
    stages: dict[str, str] = Field(
        default_factory=dict,
        description="readiness stage -> GTO stage name, e.g. {production: prod, staging: staging}",
    )

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, backend: str) -> str:
        if backend not in REGISTRY_BACKENDS:
            raise ValueError(
                f"unknown registry backend {backend!r}; backends: {', '.join(REGISTRY_BACKENDS)}"
            )
        return backend

    @model_validator(mode="after")
    def _backend_settings(self) -> RegistryPolicy:
        if self.backend == "mlflow":
            uri = self.tracking_uri or ""
            if not uri.startswith(("http://", "https://", "sqlite:///")):
                raise ValueError(
                    "backend mlflow needs tracking_uri: http://HOST:PORT (a tracking server) "
                    "or sqlite:///PATH (a local store)"
                )
            if self.artifact_root and not uri.startswith("sqlite:///"):
                raise ValueError("artifact_root is for a sqlite:/// store: a server has its own")
            if self.model_prefix and not re.fullmatch(r"[A-Za-z0-9._/-]+", self.model_prefix):
                raise ValueError("model_prefix: letters, digits, '.', '_', '-' or '/'")
        elif self.tracking_uri or self.model_prefix or self.artifact_root:
            raise ValueError(
                "tracking_uri, model_prefix and artifact_root are for backend: mlflow "
                "(the gto backend keeps the registry in git tags)"
            )
        return self

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, stages: dict[str, str]) -> dict[str, str]:
        unknown = sorted(k for k in stages if k not in REGISTRY_STAGES)
        if unknown:
            raise ValueError(
                f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(REGISTRY_STAGES)}"
            )
        for gto_name in stages.values():
            if not re.fullmatch(r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?", gto_name):  # GTO's
                raise ValueError(f"GTO stage name {gto_name!r}: letters, digits, -, _ or /")
        if len(set(stages.values())) != len(stages):
            raise ValueError("two stages map to the same GTO stage name")
        return stages


DEFAULT_MONITOR_ALERT_AGE = "2d"  # a daily cron run may be late once before the alert
DEFAULT_MONITOR_CHECKLIST_AGE = "30d"  # the readiness review's horizon, like the contract test


class Serving(_Strict):
    """How ``readiness serve`` runs the production model (the serve capability reads it)."""

    _label: ClassVar[str] = "serving"

    cost_per_hour: Number | None = Field(
        default=None, ge=0, description="instance price per hour, for cost per 1,000 predictions"
    )
    auth: bool = Field(
        default=True, description="require API keys (--no-auth is allowed on 127.0.0.1 only)"
    )
    log_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the prediction log (default: SQLite in .readiness/serve); "
        "credentials belong in READINESS_PREDICTION_LOG_URL, not here",
    )
    log_sample_rate: Number = Field(
        default=1.0, gt=0, le=1, description="share of successful requests written to the log"
    )
    max_body_bytes: Count = Field(default=1_048_576, gt=0, description="larger bodies get 413")
    max_rows: Count = Field(default=10_000, gt=0, description="rows per request, at most")
    poll_seconds: Number = Field(
        default=3.0, gt=0, le=3600, description="how often the server looks for a new version"
    )
    workers: Count = Field(default=1, ge=1, le=64, description="uvicorn worker processes")
    max_error_rate: Number | None = Field(
        default=None, ge=0, le=1, description="error-rate ceiling that alerts fire above"
    )
    min_labelled: Count = Field(
        default=30, ge=1, description="labelled rows a monitored window needs to judge metrics"
    )
    monitor_max_age: str | None = Field(
        default=None,
        description="monitor figures older than this are stale: the alert "
        "ReadinessMonitorStale fires and technical.monitoring fails (e.g. 36h; default: "
        f"the alert after {DEFAULT_MONITOR_ALERT_AGE}, the checklist after "
        f"{DEFAULT_MONITOR_CHECKLIST_AGE})",
    )

    @field_validator("monitor_max_age")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and numbers.duration_seconds(value) is None:
            raise ValueError(f"monitor_max_age {value!r}: give {numbers.DURATION_HINT}")
        return value

    def monitor_max_age_seconds(self, default: str) -> float:
        """The declared monitor_max_age in seconds, else ``default``'s."""
        seconds = numbers.duration_seconds(self.monitor_max_age or default)
        assert seconds is not None  # validated above; defaults are constants
        return seconds


class Config(_Strict):
    """All of ``readiness.yaml``."""

    _label: ClassVar[str] = "readiness.yaml"

    use_case: UseCase
    criteria: Criteria
    drift: DriftPolicy | None = None
    datasets: dict[str, DatasetSchema] = Field(default_factory=dict)
    fairness: Fairness | None = None
    registry: RegistryPolicy | None = None
    serving: Serving | None = None
    trusted_types: list[str] | None = Field(
        default=None,
        description="exact type names (module.Class) that model files may hold beyond the "
        "default allow-list, e.g. a custom transformer of the project; review their code first",
    )
    # checked item by item by the checklist: one malformed attestation costs only its item
    attestations: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            raise ValueError("readiness.yaml must be a mapping with use_case and criteria")
        return values


SECTIONS = tuple(Config.model_fields)


def _describe(error: Mapping[str, object]) -> str:  # pydantic's ErrorDetails
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error.get("type") == "missing":
        message = "required but missing"
    elif error.get("type") == "extra_forbidden":
        message = "unknown key"
    elif error.get("type") == "finite_number":
        message = f"got {error.get('input')!r}; {numbers.RULE}"
    return message


def _loc_text(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate(data: Any, positions: Any = None, source: str = "readiness.yaml") -> Config:
    """Validate parsed YAML into a :class:`Config` or raise a :class:`ConfigError`.

    ``positions`` (a :class:`readiness.core.yamlio.Document`) adds line:column to messages.
    """
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error.get("loc", ()) if isinstance(p, (str, int)))
            where = source
            if positions is not None:
                pos = positions.position(loc)
                if pos:
                    where = f"{source}:{pos[0]}:{pos[1]}"
            field = _loc_text(loc)
            lines.append(f"{where}: {field + ': ' if field else ''}{_describe(error)}")
        raise ConfigError("\n".join(lines)) from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{source}: {exc}") from None
