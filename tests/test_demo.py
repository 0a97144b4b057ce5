"""``make demo`` keeps working: the demo script end to end in a scratch folder."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import HANG, REPO

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end(tmp_path):
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py"), "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "breast-cancer-screening: READY" in done.stdout
    assert (tmp_path / "demo" / "runs" / "poc.ipynb").is_file()
    assert (tmp_path / "demo" / "data" / "breast_cancer.dvc").is_file()
    assert "<- data/breast_cancer" in done.stdout  # the lineage
    assert "DATASET DRIFT: 4 of 31 columns drifted" in done.stdout  # the shifted sample
    assert "production rolled back from v1.0.1 to v1.0.0" in done.stdout  # the registry
    # serving: a replay with a key, the switch to the promoted version and back, the contract
    assert "replayed " in done.stdout and "without a key: 401" in done.stdout
    assert "the server now serves v1.0.1" in done.stdout
    assert "the server now serves v1.0.0" in done.stdout
    assert "contract test of screening v1.0.0 (production): PASSED" in done.stdout
    assert (tmp_path / "demo" / "reports" / "dashboard-screening.html").is_file()
    assert (tmp_path / "demo" / ".readiness" / "monitor" / "screening.json").is_file()
    assert "alert: ReadinessLatencyP95" in (tmp_path / "demo" / "monitoring" / "alerts.yml").read_text()
    assert "serving: cost per 1,000 predictions screening" in done.stdout  # readiness check
    assert "readiness_cost_per_1000_predictions" in done.stdout  # the metrics excerpt
    assert (tmp_path / "demo" / ".readiness" / "criteria.lock").is_file()
