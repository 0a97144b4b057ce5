"""Notebook widgets over the core: criteria form, scorecard, drift table, batch progress.

ipywidgets 8 core widgets only (no custom JavaScript), so they work in JupyterLab,
Notebook 7 and VS Code. Every view also carries its script-free HTML, which front
ends without a widget manager (papermill outputs, exported HTML) show instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readiness.widgets.frontend import available

if TYPE_CHECKING:
    from readiness.core.project import Project
    from readiness.evidence.verdict import CheckResult
    from readiness.monitoring.drift import DriftResult
    from readiness.widgets.drift_widget import DriftTable
    from readiness.widgets.form import CriteriaForm
    from readiness.widgets.portfolio_widget import PortfolioTable
    from readiness.widgets.scorecard_widget import Scorecard

__all__ = ["available", "criteria_form", "drift_table", "portfolio_table", "scorecard"]


def criteria_form(project: Project | str | None = None) -> CriteriaForm:
    """A form to declare or edit the use case and success criteria of ``project``.

    It starts from ``readiness.yaml`` (if any), validates as you type with the same
    schema as the YAML, and saves through the same core as ``%%readiness criteria``:
    the first save locks the criteria; after evidence, a change needs a reason.
    """
    from readiness.widgets.form import CriteriaForm

    return CriteriaForm(_project(project))


def scorecard(
    result: CheckResult | None = None,
    project: Project | str | None = None,
    run_id: str | None = None,
    criteria_only: bool = False,
) -> Scorecard:
    """The verdict with per-category score bars, expandable items and a refresh button.

    Without ``result`` it judges the project now (the latest evidence, or ``run_id``).
    """
    from readiness.widgets.scorecard_widget import Scorecard

    return Scorecard(_project(project), result, run_id=run_id, criteria_only=criteria_only)


def drift_table(result: DriftResult,
                build_report: Callable[[], str | None] | None = None) -> DriftTable:
    """A drift result's columns with their distributions, sortable by score.

    ``build_report`` (runs evidently on the same data, returns the HTML report's path):
    a button builds evidently's full report on request.
    """
    from readiness.widgets.drift_widget import DriftTable

    return DriftTable(result, build_report=build_report)


def portfolio_table(
    result: Any = None,
    dirs: list[str] | None = None,
    file: str | None = None,
    cwd: Path | None = None,
) -> PortfolioTable:
    """The portfolio's table (attention first) with a Refresh button that reads it again.

    Without ``result`` it reads the projects now (``dirs`` and/or a portfolio ``file``).
    """
    from readiness.widgets.portfolio_widget import PortfolioTable

    return PortfolioTable(result, dirs, file, cwd)


def _project(project: Any) -> Project:
    from readiness.core.project import Project, current_project

    if isinstance(project, Project):
        return project
    return current_project(project)
