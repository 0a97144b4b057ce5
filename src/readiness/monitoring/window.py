"""A window of the prediction log: the requests of one model over a period, row by row.

The log holds one row per request (docs/prediction-log.md); monitoring needs one row per
prediction: the request's input rows, outputs, probabilities and feedback labels spread
out, each carrying its request's model version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from readiness.core.errors import UsageError
from readiness.core.numbers import DURATION_HINT, duration_seconds

DEFAULT_WINDOW = "24h"


def parse_window(text: str) -> float:
    """Seconds in a window such as ``30m``, ``24h``, ``7d`` (units s, m, h, d, w)."""
    seconds = duration_seconds(text)
    if seconds is None:
        raise UsageError(f"--window {text}: give {DURATION_HINT}")
    return seconds


@dataclass
class Window:
    """The requests of a window: ``requests`` (every status) and ``rows`` (per prediction)."""

    since: float
    until: float
    requests: Any  # the log's rows (pandas), every status, oldest first
    rows: Any  # one row per prediction of the successful requests

    @property
    def successful(self) -> Any:
        return self.requests[self.requests["status"] == 200]


def read_window(
    url: str,
    model: str,
    window: str | None = None,
    last: int | None = None,
    now: float | None = None,
    use_case: str | None = None,
) -> Window:
    """The window of ``model``'s log: since now minus ``window``, or its ``last`` N requests.

    ``last`` counts successful requests; the error rate then covers the period they span.
    ``use_case`` keeps to that use case's rows (a log shared by several projects).
    """
    from readiness.serve.predlog import read_predictions

    if last is not None and window is not None:
        raise UsageError("give --window or --last, not both")
    until = time.time() if now is None else now
    if last is not None:
        if last < 1:
            raise UsageError("--last needs a positive number of requests")
        ok = read_predictions(url, model=model, last=last, status=200, use_case=use_case)
        if ok.empty:
            return Window(until, until, ok, spread(ok))
        since, until = float(ok["ts"].min()), float(ok["ts"].max())
        every = read_predictions(url, model=model, since=since, until=until + 1e-6, status=None,
                                 use_case=use_case)
        kept = every[(every["status"] != 200) | every["request_id"].isin(ok["request_id"])]
        return Window(since, until, kept.reset_index(drop=True), spread(ok))
    since = until - parse_window(window or DEFAULT_WINDOW)
    every = read_predictions(url, model=model, since=since, until=until, status=None,
                             use_case=use_case)
    return Window(since, until, every, spread(every[every["status"] == 200]))


def spread(requests: Any) -> Any:
    """One row per prediction: features, ``__version``, ``__output``, ``__proba``, ``__label``.

    ``__proba`` is the list of class probabilities (None for a ``predict`` request),
    ``__label`` the feedback label (None without feedback).
    """
    import pandas as pd

    inputs: list[dict[str, Any]] = []
    meta: dict[str, list[Any]] = {k: [] for k in ("__request", "__version", "__output",
                                                  "__proba", "__label")}
    for request in requests.itertuples(index=False):
        rows = request.inputs if isinstance(request.inputs, list) else []
        outputs = request.outputs if isinstance(request.outputs, list) else []
        probabilities = request.probabilities if isinstance(request.probabilities, list) else []
        labels = request.labels if isinstance(request.labels, list) else []
        for i, row in enumerate(rows):
            inputs.append(row if isinstance(row, dict) else {})
            meta["__request"].append(request.request_id)
            meta["__version"].append(request.version)
            meta["__output"].append(outputs[i] if i < len(outputs) else None)
            meta["__proba"].append(probabilities[i] if i < len(probabilities) else None)
            meta["__label"].append(labels[i] if i < len(labels) else None)
    frame = pd.DataFrame(inputs)
    for key, values in meta.items():
        frame[key] = pd.Series(values, index=frame.index, dtype=object)
    return frame


def feature_columns(rows: Any) -> list[str]:
    """The logged input columns (the spread's own ``__`` columns left out)."""
    return [c for c in rows.columns if not str(c).startswith("__")]


def labelled_frame(rows: Any, target: str) -> Any:
    """The labelled rows as training data: the logged features and ``target`` (the labels)."""
    labelled = rows[rows["__label"].notna()]
    frame = labelled[feature_columns(rows)].reset_index(drop=True)
    frame[target] = labelled["__label"].to_list()
    return frame


def infrastructure(window: Window) -> dict[str, Any]:
    """Request count, error rate (status >= 400), p50/p95 latency (ms) of every request."""
    import numpy as np

    requests = window.requests
    count = len(requests)
    if not count:
        return {"requests": 0, "predictions": 0, "error_rate": None, "latency_p50_ms": None,
                "latency_p95_ms": None}
    latency = requests["latency_ms"].dropna().to_numpy(dtype=float)
    return {
        "requests": count,
        "predictions": len(window.rows),
        "error_rate": float((requests["status"] >= 400).mean()),
        "latency_p50_ms": float(np.percentile(latency, 50)) if len(latency) else None,
        "latency_p95_ms": float(np.percentile(latency, 95)) if len(latency) else None,
    }
