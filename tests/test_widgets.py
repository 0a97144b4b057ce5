"""The notebook widgets without a browser: values, validation, clicks, what saving writes."""

from __future__ import annotations

import json

import pytest
from IPython.core.interactiveshell import InteractiveShell

from readiness.core.project import Project
from readiness.criteria.declaration import read_lock
from readiness.widgets import criteria_form, drift_table, scorecard
from readiness.widgets.frontend import WIDGET_VIEW_MIME

from .conftest import GOOD_EVIDENCE, record_all

# The same criteria, as a %%readiness criteria cell would hold them.
CELL = """use_case:
  name: screening
  owner: head@example.com
  business_metric: cost per patient
criteria:
  technical:
    - metric: roc_auc
      split: holdout
      min: 0.95
      baseline: 0.9
      min_margin: 0.03
    - metric: latency_p95_ms
      split: holdout
      max: 50
  business:
    value_per_outcome:
      tp: 800
      fp: -60
    max_latency_ms: 50
    decision_rule: Go when every criterion passes.
drift:
  max_drift_share: 0.3
  num_method: wasserstein
  ignore:
    - patient_id
"""


def fill(form):
    """Type the CELL's criteria into an empty form, field by field."""
    form.name.value = "screening"
    form.owner.value = "head@example.com"
    form.business_metric.value = "cost per patient"
    first = form.rows[0]
    first.metric.value, first.split.value, first.bound.value = "roc_auc", "holdout", "0.95"
    first.baseline.value, first.margin.value = "0.9", "0.03"
    form.add_button.click()
    second = form.rows[1]
    second.metric.value, second.direction.value, second.bound.value = "latency_p95_ms", "max", "50"
    form.outcome_values["tp"].value = "800"
    form.outcome_values["fp"].value = "-60"
    form.max_latency.value = "50"
    form.decision_rule.value = "Go when every criterion passes."
    form.max_drift_share.value = "0.3"
    form.num_method.value = "wasserstein"
    form.drift_ignore.value = "patient_id"


@pytest.fixture
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "readiness")
    return ip


def test_saving_the_form_writes_what_the_magic_writes(tmp_path, monkeypatch, shell):
    by_form, by_magic = tmp_path / "form", tmp_path / "magic"
    by_form.mkdir(), by_magic.mkdir()
    form = criteria_form(by_form)
    assert form.save_button.disabled  # an empty form cannot be saved
    fill(form)
    assert form.problems() == [], form.problems()
    assert not form.save_button.disabled
    form.save_button.click()
    assert "declared" in form.status.value
    monkeypatch.chdir(by_magic)
    outcome = shell.run_cell("%%readiness criteria\n" + CELL)
    assert outcome.success, outcome.error_in_exec
    written = (by_form / "readiness.yaml").read_text()
    assert written == (by_magic / "readiness.yaml").read_text()
    assert written == CELL
    form_lock, magic_lock = read_lock(Project(by_form)), read_lock(Project(by_magic))
    assert form_lock["hash"] == magic_lock["hash"]
    assert [h["event"] for h in form_lock["history"]] == ["declared"]
    assert "locked" in form.lock_state.value


def test_live_validation_speaks_the_schema(tmp_path):
    form = criteria_form(tmp_path)
    fill(form)
    row = form.rows[0]
    row.bound.value = "high"
    assert form.problems() == ["criterion 1 bound: 'high' is not a number"]
    assert "not a number" in form.messages.value and form.save_button.disabled
    row.bound.value = ""
    (problem,) = form.problems()
    assert problem.startswith("criterion 1: ") and "no absolute bound" in problem
    assert "min: 0.93" in problem  # the fix, from baseline + margin
    row.bound.value = "0.95"
    row.split.value = "train"
    assert "training data" in form.problems()[0]
    row.split.value = "holdout"
    form.add_row(metric="roc_auc", min=0.9)
    assert "declared twice" in form.problems()[0]
    form.rows[-1].remove.click()
    form.owner.value = ""
    assert form.problems() == ["use_case.owner: required but missing"]
    form.owner.value = "head@example.com"
    form.max_drift_share.value = "1.5"
    assert "drift.max_drift_share" in form.problems()[0]
    form.max_drift_share.value = "0.3"
    assert form.validate() and "valid" in form.messages.value


def test_form_starts_from_readiness_yaml_and_keeps_what_it_does_not_show(project):
    form = criteria_form(project)
    assert form.name.value == "churn-prediction"
    assert [r.metric.value for r in form.rows] == ["roc_auc", "recall", "latency_p95_ms"]
    assert form.rows[2].direction.value == "max" and form.rows[2].bound.value == "50"
    assert form.outcome_values["fn"].value == "-40"
    form.decision_rule.value = "Go at the week-9 review."
    assert form.save().event == "declared"
    text = project.config_path.read_text()
    assert "reviews:" in text and "2027-01-12" in text  # not a field of the form: kept
    assert "# Optional sections:" in text  # comments outside the sections too
    assert "Go at the week-9 review." in text


def test_numbers_survive_a_round_trip_through_the_form(tmp_path):
    values = {"tp": 1234567.25, "fp": -0.1, "fn": -2000.0, "tn": 1e-07}
    cell = CELL.replace(
        "tp: 800\n      fp: -60",
        "tp: 1234567.25\n      fp: -0.1\n      fn: -2000.0\n      tn: 1.0e-07",
    )
    (tmp_path / "readiness.yaml").write_text(cell)
    form = criteria_form(tmp_path)
    assert {o: float(t.value) for o, t in form.outcome_values.items()} == values
    assert form.outcome_values["fn"].value == "-2000"
    assert form.save().event == "declared"
    saved = criteria_form(tmp_path)
    assert {o: float(t.value) for o, t in saved.outcome_values.items()} == values


def test_a_change_after_evidence_needs_a_reason(project):
    form = criteria_form(project)
    form.save()
    record_all(GOOD_EVIDENCE)
    form = criteria_form(project)
    assert "evidence recorded since" in form.lock_state.value
    form.rows[1].bound.value = "0.75"
    assert form.problems() == [
        "evidence exists: changing the criteria now needs an amendment reason"
    ]
    assert form.save() is None and form.save_button.disabled
    form.reason.value = "recall target set by the clinical review"
    assert form.problems() == []
    form.save_button.click()
    assert "amended" in form.status.value
    lock = read_lock(project)
    assert lock["history"][-1]["event"] == "amended"
    assert lock["history"][-1]["reason"] == "recall target set by the clinical review"
    audit = [json.loads(line) for line in project.audit_path.read_text().splitlines()]
    assert audit[-1]["event"] == "criteria.amended"
    assert form.reason.value == ""  # a reason is for one change


def test_metric_names_are_suggested_from_evidence_and_evaluate(project):
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    import readiness

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X[:400], y[:400])
    recorded = readiness.evaluate(model, X[400:], y[400:], split="holdout").metrics
    readiness.record("calibration_slope", 0.97, split="holdout")
    suggested = criteria_form(project).rows[0].metric.options
    assert set(recorded) - {"confusion_matrix"} <= set(suggested)  # the constant is complete
    assert "calibration_slope" in suggested  # what this project recorded


def test_a_refused_save_says_why_and_writes_nothing(project, monkeypatch):
    form = criteria_form(project)
    before = project.config_path.read_text()
    # another writer broke readiness.yaml after the form was opened
    project.config_path.write_text("use_case: [unclosed\n")
    assert form.save() is None
    assert "not saved" in form.status.value and "invalid YAML" in form.status.value
    assert project.config_path.read_text() == "use_case: [unclosed\n"
    reopened = criteria_form(project)  # a form opened on the broken file says so at once
    assert "invalid YAML" in reopened.status.value and reopened.name.value == ""
    project.config_path.write_text(before)


def test_form_displays_as_a_widget_with_html_fallback(project):
    bundle = criteria_form(project)._repr_mimebundle_()
    assert bundle[WIDGET_VIEW_MIME]["model_id"]
    assert (
        "%%readiness criteria" in bundle["text/html"] and "churn-prediction" in bundle["text/html"]
    )
    assert "<script" not in bundle["text/html"]


def test_scorecard_bars_items_and_refresh(project):
    from readiness.criteria.declaration import declare

    declare(project, project.config_path.read_text())
    card = scorecard(project=project)
    assert "NOT_READY" in card.summary.value and "no evidence" in card.summary.value.lower()
    result = card.result
    assert [r.category for r in card.rows] == list(result.score["categories"])
    for row in card.rows:
        assert row.bar.value == pytest.approx(result.score["categories"][row.category])
        assert row.bar.bar_style in ("success", "warning", "danger")
    technical = card.category("technical")
    assert not technical.expanded
    technical.toggle.click()
    assert technical.expanded and technical.toggle.description.startswith("▾")
    assert "technical." in technical.items.value
    technical.toggle.click()
    assert not technical.expanded
    record_all(GOOD_EVIDENCE)
    card.refresh_button.click()
    assert card.result is not result and card.result.run_id is not None
    assert card.result.run_id in card.summary.value
    assert "judged at" in card.status.value
    bundle = card._repr_mimebundle_()
    assert WIDGET_VIEW_MIME in bundle and card.result.run_id in bundle["text/html"]


def test_scorecard_refresh_shows_an_error_instead_of_raising(project):
    card = scorecard(project=project, criteria_only=True)
    project.config_path.write_text("criteria: {technical: []}\n")
    assert card.refresh() is None
    assert "use_case" in card.status.value
    assert card.rows == []  # criteria only: no checklist


def test_drift_table_sorts_by_score_name_and_drift():
    import readiness

    from .test_drift import synthetic

    reference, current = synthetic(600, 500, seed=4)
    result = readiness.drift(reference, current, project=None)
    table = drift_table(result)
    # strongest drift first, whichever way the method's score points
    pvalues = [c for c in result.columns if c.score is not None and "p_value" in c.method]
    assert pvalues, [c.method for c in result.columns]
    order = table.order()
    drifted = set(result.drifted_columns)
    assert set(order[: len(drifted)]) == drifted  # strength > 1 exactly where evidently says drift
    ranks = [order.index(c.column) for c in sorted(pvalues, key=lambda c: c.score)]
    assert ranks == sorted(ranks)  # a lower p-value is a stronger drift
    assert table.table.value.index(order[0]) < table.table.value.index(order[1])
    table.sort_buttons.value = "column"
    table.descending_box.value = False
    assert table.order() == sorted(order, key=str.lower)
    assert table.table.value.index(">constant<") < table.table.value.index(">stable<")
    table.sort_by("drifted", descending=True)
    assert set(table.order()[: len(drifted)]) == drifted
    assert table.table.value.count("<svg") == len(result.columns)  # a picture per column
    with pytest.raises(ValueError, match="sort by one of"):
        table.sort_by("color")


def test_drift_table_builds_evidently_s_report_on_request(project):
    """The button runs evidently on the same data once, links the report and goes away."""
    import readiness
    from readiness.monitoring.drift import DriftError

    from .test_drift import synthetic

    reference, current = synthetic(300, 200, seed=2)
    result = readiness.drift(reference, current, project=project)  # saved: its JSON named
    built: list[str | None] = []

    def build() -> str | None:
        path = readiness.drift(reference, current, project=project, save=False,
                               html=True).report_html
        built.append(path)
        return path

    table = drift_table(result, build_report=build)
    assert table.report_bar.layout.display is None and "full evidently report" not in \
        table.head.value
    assert "saved: reports/" in table.head.value and "add --html" not in table.head.value
    table.report_button.click()
    assert len(built) == 1 and built[0] and (project.root / built[0]).stat().st_size > 100_000
    assert result.report_html == built[0] and built[0] in table.head.value
    assert table.report_bar.layout.display == "none"
    assert table.open_full_report() == built[0] and len(built) == 1  # built once

    def refused() -> str | None:
        raise DriftError("no data")

    fresh = readiness.drift(reference, current, project=project, save=False)
    again = drift_table(fresh, build_report=refused)
    again.report_button.click()  # the error shows in the widget, the button stays
    assert "no data" in again.report_status.value and not again.report_button.disabled
    assert fresh.report_html is None
    assert drift_table(fresh).report_bar.layout.display == "none"  # nothing to build with


def test_notebook_front_end_decides_widget_or_html(project, shell, monkeypatch):
    """Outside a kernel (this shell) results stay HTML; a job kernel never builds widgets."""
    from readiness.widgets.frontend import available

    assert not available()  # a terminal IPython has no widget front end
    result = shell.run_line_magic("readiness", "check --criteria-only")
    assert result.interactive is None and WIDGET_VIEW_MIME not in result._repr_mimebundle_()


def test_batch_progress_counts_and_final_table(capsys):
    from readiness.jobs.batches import BatchResult
    from readiness.widgets.progress_widget import BatchProgress

    progress = BatchProgress(5, "train x5", workers=2)
    assert progress.fallback_text() == "train x5: 0/5 done · 0 failed · 2 running · 3 queued"
    progress.update("succeeded")
    progress.update("failed")
    assert "2/5 done · 1 failed · 2 running · 1 queued" in progress.counts.value
    assert progress.bar.value == 2 and progress.bar.bar_style == "danger"
    progress.close()  # Ctrl-C: three never finished
    assert progress.fallback_text() == "train x5: 2/5 done · 1 failed · 3 cancelled"
    result = BatchResult(batch_id="batch-1", notebook="train.ipynb", executor="local")
    progress.finish(result)
    assert "batch-1" in progress.results.value and "batch-1" in progress.fallback_html()
    bundle = result._repr_mimebundle_()  # the table is in the widget: one line here
    assert set(bundle) == {"text/plain", "text/html"} and "\n" not in bundle["text/plain"]
    assert "live view above" in bundle["text/plain"]
    cluster = BatchProgress(3, "train x3", workers=None)
    assert "3 running or queued" in cluster.fallback_text()
