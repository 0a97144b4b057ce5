"""The criteria form: use case, technical criteria, business values, latency, drift policy.

The form builds the same YAML sections a ``%%readiness criteria`` cell holds and
saves them through :func:`readiness.criteria.declaration.declare`, so locking, revisions and
amendments behave exactly as with the magic. Keys the form does not show (review
dates, per-column drift overrides) are carried over untouched.
"""

from __future__ import annotations

import html
import re
from typing import Any

import ipywidgets as w

from readiness.core.errors import ConfigError, ReadinessError
from readiness.core.project import Project
from readiness.core.schema import OUTCOMES, STATTESTS
from readiness.render import FAIL, PASS, STYLE
from readiness.widgets.frontend import WidgetView, error_html

LABEL = {"description_width": "150px"}
WIDE = w.Layout(width="460px")
NUMBER = w.Layout(width="110px")
METHODS = [("evidently's default", ""), *((m, m) for m in sorted(STATTESTS, key=str.lower))]


def _number(widget: w.Text, what: str, errors: list[str]) -> float | None:
    """The number typed in ``widget``; None when empty; an error message when not a number."""
    raw = widget.value.strip()
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        errors.append(f"{what}: {raw!r} is not a number")
        return None
    return (
        int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    )


def _mapping(value: Any) -> dict[str, Any]:
    """A copy of ``value`` when it is a mapping (hand-edited YAML may hold anything)."""
    return dict(value) if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    """A value as the form shows it; floats exactly (repr round-trips), without a bare .0."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value).removesuffix(".0")
    return str(value)


def _set(section: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` when the form has a value for it, remove it when the field is empty."""
    if value is None or value == "" or value == []:
        section.pop(key, None)
    else:
        section[key] = value


class CriterionRow:
    """One technical criterion: metric, held-out split, an absolute bound, optional baseline."""

    def __init__(self, form: CriteriaForm, data: dict[str, Any] | None = None) -> None:
        data = data or {}
        direction = "max" if data.get("max") is not None else "min"
        # suggestions, not a list to choose from: any recorded metric may be a criterion
        self.metric = w.Combobox(
            value=_text(data.get("metric")),
            options=form.metric_names,
            ensure_option=False,
            placeholder="roc_auc",
        )
        self.split = w.Text(value=_text(data.get("split", "holdout")), placeholder="holdout")
        self.direction = w.Dropdown(
            options=[("min (higher is better)", "min"), ("max (lower is better)", "max")],
            value=direction,
            layout=w.Layout(width="190px"),
        )
        self.bound = w.Text(value=_text(data.get(direction)), placeholder="0.85", layout=NUMBER)
        self.baseline = w.Text(
            value=_text(data.get("baseline")), placeholder="optional", layout=NUMBER
        )
        self.margin = w.Text(
            value=_text(data.get("min_margin")), placeholder="optional", layout=NUMBER
        )
        for text in (self.metric, self.split):
            text.layout = w.Layout(width="140px")
        self.remove = w.Button(
            icon="trash", tooltip="remove this criterion", layout=w.Layout(width="40px")
        )
        self.remove.on_click(lambda _: form.remove_row(self))
        self.inputs = (
            self.metric,
            self.split,
            self.direction,
            self.bound,
            self.baseline,
            self.margin,
        )
        self.box = w.HBox([*self.inputs, self.remove])
        self.box.add_class("readiness-criterion")

    def values(self, number: int, errors: list[str]) -> dict[str, Any]:
        what = f"criterion {number}"
        out: dict[str, Any] = {}
        _set(out, "metric", self.metric.value.strip())
        _set(out, "split", self.split.value.strip())
        _set(out, self.direction.value, _number(self.bound, f"{what} bound", errors))
        _set(out, "baseline", _number(self.baseline, f"{what} baseline", errors))
        _set(out, "min_margin", _number(self.margin, f"{what} margin", errors))
        return out


class CriteriaForm(WidgetView):
    """Declare or edit criteria; ``save()`` (the Save button) writes ``readiness.yaml``."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._quiet = True  # no validation while the widgets are being filled
        self.metric_names = _metric_names(project)

        def text(label: str, holder: str = "", width: str = "460px") -> w.Text:
            layout = w.Layout(width=width)
            return w.Text(description=label, placeholder=holder, style=LABEL, layout=layout)

        self.name = text("use case", "churn-prediction")
        self.owner = text("business owner", "jane.doe@example.com")
        self.business_metric = text("business metric", "retained revenue")
        self.description = w.Textarea(description="description", style=LABEL, layout=WIDE)

        self.rows: list[CriterionRow] = []
        self.rows_box = w.VBox()
        self.add_button = w.Button(description="add criterion", icon="plus")
        self.add_button.on_click(lambda _: self.add_row())

        self.outcome_values = {
            o: w.Text(
                placeholder="0",
                description=o,
                layout=w.Layout(width="150px"),
                style={"description_width": "30px"},
            )
            for o in OUTCOMES
        }
        self.min_net_value = text("min net value / 1000", "optional", "280px")
        self.max_latency = text("max latency (ms)", "optional", "280px")
        self.business_split = text("judged on split", "holdout", "280px")
        self.decision_rule = w.Textarea(description="decision rule", style=LABEL, layout=WIDE)

        self.max_drift_share = text("max drifted share", "optional", "280px")
        method = lambda label: w.Dropdown(  # noqa: E731
            options=METHODS, description=label, style=LABEL, layout=w.Layout(width="360px")
        )
        self.num_method = method("numeric columns")
        self.cat_method = method("categorical columns")
        self.drift_ignore = text("ignore columns", "customer_id, timestamp")

        self.expected = text("expected values", "roc_auc=0.9, recall=0.8 (default: baseline)")
        self.prevalence = text("share of positives", "e.g. 0.3", "280px")
        self.power = text("power", "0.8", "280px")
        self.plan_button = w.Button(description="Plan the holdout", icon="calculator")
        self.plan_button.on_click(lambda _: self.plan_holdout())
        self.plan_view = w.HTML()

        self.reason = text("amendment reason", "why the criteria change")
        self.save_button = w.Button(
            description="Save criteria", button_style="primary", icon="lock"
        )
        self.save_button.on_click(lambda _: self.save())
        self.lock_state = w.HTML()
        self.messages = w.HTML()
        self.status = w.HTML()

        heading = lambda title: w.HTML(f"<b style='{STYLE}'>{html.escape(title)}</b>")  # noqa: E731
        columns = w.HTML(
            f"<span style='{STYLE}color:#555'>metric · held-out split · bound · bound value · "
            "baseline (today) · margin over baseline</span>"
        )
        self.root = w.VBox(
            [
                heading("Use case"),
                self.name,
                self.owner,
                self.business_metric,
                self.description,
                heading("Technical criteria (absolute bounds on held-out data)"),
                columns,
                self.rows_box,
                self.add_button,
                heading("Business criteria (value of each outcome, ROI, latency)"),
                w.HBox(list(self.outcome_values.values())),
                self.min_net_value,
                self.max_latency,
                self.business_split,
                self.decision_rule,
                heading("Drift policy"),
                self.max_drift_share,
                self.num_method,
                self.cat_method,
                self.drift_ignore,
                heading("Holdout plan (how many held-out rows the gate needs to decide)"),
                self.expected,
                self.prevalence,
                self.power,
                self.plan_button,
                self.plan_view,
                heading("Save"),
                self.lock_state,
                self.reason,
                self.save_button,
                self.messages,
                self.status,
            ]
        )
        self.root.add_class("readiness-criteria-form")
        for widget in self._fixed_inputs():
            widget.observe(self._on_change, names="value")
        self.set_values(self._current_sections())
        if self.load_error:
            message = f"{self.load_error}\nThe form starts empty; saving needs the file fixed."
            self.status.value = error_html(message)

    def set_values(self, data: dict[str, Any]) -> None:
        """Fill the form from a mapping shaped like ``readiness.yaml`` (nothing is saved).

        Sections given replace the form's; keys the form does not show are kept for saving.
        """
        self._quiet = True
        try:
            self._base = {**self._current_sections(), **data}
            use_case = _mapping(self._base.get("use_case"))
            criteria = _mapping(self._base.get("criteria"))
            business = _mapping(criteria.get("business"))
            drift = _mapping(self._base.get("drift"))
            for key, widget in self._use_case_fields():
                widget.value = _text(use_case.get(key))
            for row in list(self.rows):
                self.remove_row(row)
            for item in criteria.get("technical") or [{}]:
                self.add_row(**_mapping(item))
            values = _mapping(business.get("value_per_outcome"))
            for outcome, widget in self.outcome_values.items():
                widget.value = _text(values.get(outcome))
            self.min_net_value.value = _text(business.get("min_net_value_per_1000"))
            self.max_latency.value = _text(business.get("max_latency_ms"))
            self.business_split.value = _text(business.get("split", "holdout"))
            self.decision_rule.value = _text(business.get("decision_rule"))
            self.max_drift_share.value = _text(drift.get("max_drift_share"))
            for key, widget in (("num_method", self.num_method), ("cat_method", self.cat_method)):
                widget.value = drift.get(key) if drift.get(key) in STATTESTS else ""
            self.drift_ignore.value = ", ".join(map(str, drift.get("ignore") or []))
        finally:
            self._quiet = False
        self.validate()

    # -- rows ---------------------------------------------------------------------------

    def add_row(self, **data: Any) -> CriterionRow:
        """Add a technical criterion row (the "add criterion" button), optionally filled:
        ``add_row(metric="recall", split="holdout", min=0.9)``."""
        row = CriterionRow(self, data)
        for widget in row.inputs:
            widget.observe(self._on_change, names="value")
        self.rows.append(row)
        self.rows_box.children = [r.box for r in self.rows]
        self.validate()
        return row

    def remove_row(self, row: CriterionRow) -> None:
        self.rows.remove(row)
        self.rows_box.children = [r.box for r in self.rows]
        self.validate()

    # -- values -------------------------------------------------------------------------

    def _use_case_fields(self) -> list[tuple[str, w.ValueWidget]]:
        return [
            ("name", self.name),
            ("owner", self.owner),
            ("business_metric", self.business_metric),
            ("description", self.description),
        ]

    def _fixed_inputs(self) -> list[w.ValueWidget]:
        return [
            *(widget for _, widget in self._use_case_fields()),
            *self.outcome_values.values(),
            self.min_net_value,
            self.max_latency,
            self.business_split,
            self.decision_rule,
            self.max_drift_share,
            self.num_method,
            self.cat_method,
            self.drift_ignore,
            self.reason,
        ]

    def sections(self) -> tuple[dict[str, Any], list[str]]:
        """The readiness.yaml sections the form holds, and the fields that are not numbers."""
        errors: list[str] = []
        use_case = _mapping(self._base.get("use_case"))
        for key, widget in self._use_case_fields():
            _set(use_case, key, widget.value.strip())

        criteria = _mapping(self._base.get("criteria"))
        criteria["technical"] = [r.values(i, errors) for i, r in enumerate(self.rows, start=1)]
        if not criteria["technical"]:
            criteria.pop("technical")
        business = _mapping(criteria.get("business"))
        values = {o: _number(t, f"value of {o}", errors) for o, t in self.outcome_values.items()}
        _set(
            business,
            "value_per_outcome",
            {o: v for o, v in values.items() if v is not None} or None,
        )
        _set(
            business, "min_net_value_per_1000", _number(self.min_net_value, "min net value", errors)
        )
        _set(business, "max_latency_ms", _number(self.max_latency, "max latency", errors))
        _set(business, "decision_rule", self.decision_rule.value.strip())
        meaningful = set(business) - {"split"}
        split = self.business_split.value.strip()
        _set(business, "split", split if meaningful and split != "holdout" else None)
        _set(criteria, "business", business if meaningful else None)

        drift = _mapping(self._base.get("drift"))
        _set(drift, "max_drift_share", _number(self.max_drift_share, "max drifted share", errors))
        _set(drift, "num_method", self.num_method.value)
        _set(drift, "cat_method", self.cat_method.value)
        ignore = [c.strip() for c in self.drift_ignore.value.split(",") if c.strip()]
        _set(drift, "ignore", ignore)
        out: dict[str, Any] = {"use_case": use_case, "criteria": criteria}
        if drift:
            out["drift"] = drift
        elif self._base.get("drift"):
            out["drift"] = None  # every field cleared: the policy goes (evidently's defaults)
        return out, errors

    def to_yaml(self) -> str:
        """The form as the YAML body of a ``%%readiness criteria`` cell."""
        from readiness.core import yamlio

        return yamlio.dump(self.sections()[0])

    # -- validation and saving ---------------------------------------------------------

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.status.value = ""
            self.validate()

    def problems(self) -> list[str]:
        """What stops the form from saving, in the schema's words (empty: it can be saved)."""
        from readiness.core.schema import validate

        sections, errors = self.sections()
        if errors:
            return errors
        try:
            config = validate({**self._current_sections(), **sections}, source="form")
        except ConfigError as exc:
            return [_friendly(line) for line in str(exc).splitlines()]
        if self._evidence_exists() and not self.reason.value.strip():
            from readiness.criteria.declaration import criteria_hash

            if criteria_hash(config.criteria) != (self._lock() or {}).get("hash"):
                return ["evidence exists: changing the criteria now needs an amendment reason"]
        return []

    def validate(self) -> bool:
        """Refresh the messages and the Save button; True when the form can be saved."""
        if self._quiet:
            return False
        problems = self.problems()
        self.save_button.disabled = bool(problems)
        self.lock_state.value = self._lock_html()
        if problems:
            items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
            style = f"{STYLE}color:{FAIL};margin:4px 0"
            self.messages.value = f"<ul class='readiness-problems' style='{style}'>{items}</ul>"
        else:
            self.messages.value = f"<span style='{STYLE}color:{PASS}'>valid: ready to save</span>"
        return not problems

    def save(self) -> Any:
        """Declare the form's criteria through the core (the Save button calls this).

        Returns the :class:`readiness.criteria.declaration.Declaration`, or None when the save
        was refused (the reason is shown under the button).
        """
        from readiness import render
        from readiness.criteria.declaration import declare

        if not self.validate():
            self.status.value = error_html("not saved: fix the problems listed above")
            return None
        reason = self.reason.value.strip() or None
        try:
            declaration = declare(
                self.project, self.to_yaml(), amend=reason, source="criteria form"
            )
        except ReadinessError as exc:
            self.status.value = error_html(f"not saved: {exc}")
            return None
        self._base = self._current_sections()
        self.reason.value = ""
        self.validate()
        self.status.value = render.html_of(declaration)
        self.update_display()
        return declaration

    def plan_holdout(self) -> Any:
        """The holdout plan of the form's criteria (``readiness criteria plan``), shown under
        the button; None when the form or the plan's inputs are invalid (shown why)."""
        from readiness import render
        from readiness.core.schema import validate
        from readiness.criteria.plan import make_plan

        sections, errors = self.sections()
        prevalence = _number(self.prevalence, "share of positives", errors)
        power = _number(self.power, "power", errors)
        expect = [x.strip() for x in self.expected.value.split(",") if x.strip()]
        try:
            if errors:
                raise ConfigError("; ".join(errors))
            config = validate({**self._current_sections(), **sections}, source="form")
            plan = make_plan(config.criteria, expect, prevalence,
                             power if power is not None else 0.8)
        except ReadinessError as exc:
            self.plan_view.value = error_html(f"no plan: {exc}")
            return None
        self.plan_view.value = render.html_of(plan)
        return plan

    # -- project state ----------------------------------------------------------------

    def _current_sections(self) -> dict[str, Any]:
        """readiness.yaml's sections; empty when it cannot be read (``load_error`` says why)."""
        from readiness.criteria.declaration import current_sections

        try:
            sections = current_sections(self.project)
        except ConfigError as exc:  # saving will report it too
            self.load_error: str | None = str(exc)
            return {}
        self.load_error = None
        return sections

    def _lock(self) -> dict[str, Any] | None:
        from readiness.criteria.declaration import read_lock

        try:
            return read_lock(self.project)
        except ConfigError:
            return None

    def _evidence_exists(self) -> bool:
        return bool((self._lock() or {}).get("first_evidence_at"))

    def _lock_html(self) -> str:
        lock = self._lock() or {}
        if not lock.get("hash"):
            text = "not declared yet: the first save locks the criteria (hash, time, git commit)"
        elif lock.get("first_evidence_at"):
            text = (
                f"locked {lock.get('locked_at')}; evidence recorded since "
                f"{lock['first_evidence_at']}: a change is an amendment and needs a reason"
            )
        else:
            text = f"locked {lock.get('locked_at')}; no evidence yet: changes are logged revisions"
        style = f"{STYLE}color:#555"
        return f"<span class='readiness-lock-state' style='{style}'>{html.escape(text)}</span>"

    # -- display -------------------------------------------------------------------------

    def fallback_text(self) -> str:
        return "readiness criteria form (needs a widget front end: JupyterLab, Notebook 7, VS Code)"

    def fallback_html(self) -> str:
        from readiness import render
        from readiness.criteria.declaration import show

        note = (
            f"<div style='{STYLE}color:#555'>The criteria form needs a widget front end "
            "(JupyterLab, Notebook 7, VS Code); without one, declare criteria with "
            "<code>%%readiness criteria</code>. The criteria as declared:</div>"
        )
        try:
            return note + render.html_of(show(self.project))
        except ReadinessError as exc:
            return note + error_html(str(exc))


def _metric_names(project: Project) -> list[str]:
    """Metric names to suggest: those the latest run recorded, then what evaluate() records."""
    from readiness.evidence.metrics import EVALUATED_METRICS
    from readiness.evidence.runs import latest_run_with_evidence

    try:
        run = latest_run_with_evidence(project) or {}
    except ReadinessError:
        run = {}
    recorded = [e.get("name") for e in run.get("evidence", []) if isinstance(e, dict)]
    names = [n for n in recorded if isinstance(n, str) and n != "confusion_matrix"]
    return list(dict.fromkeys([*names, *EVALUATED_METRICS]))


def _friendly(line: str) -> str:
    """A schema message for a form user: no file name, rows numbered from 1."""
    line = line.removeprefix("form: ")
    return re.sub(
        r"criteria\.technical\[(\d+)\]\.?", lambda m: f"criterion {int(m.group(1)) + 1} ", line
    ).replace(" :", ":")
