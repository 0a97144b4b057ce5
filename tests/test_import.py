"""``import readiness`` stays light; the heavy stack it depends on imports together."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("evidently", "dvc", "gto", "papermill", "sklearn", "pandas", "pydantic", "nbformat")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_import_readiness_pulls_in_no_heavy_module():
    loaded = _modules_after("import readiness")
    assert not {m for m in HEAVY if m in loaded}


def test_load_ext_stays_light():
    loaded = _modules_after(
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'readiness')"
    )
    assert "readiness.magics" in loaded
    assert not {m for m in HEAVY if m in loaded}


def test_public_functions_survive_submodule_imports():
    # A submodule named like a public function would replace it on the package.
    import readiness
    import readiness.cli
    import readiness.data.lineage
    import readiness.data.tracking
    import readiness.data.validation
    import readiness.evidence.metrics
    import readiness.evidence.record
    import readiness.evidence.verdict
    import readiness.jobs.batches
    import readiness.monitoring.drift
    import readiness.registry
    import readiness.registry.models

    for name in (
        "record",
        "evaluate",
        "check",
        "declare_criteria",
        "new_run",
        "track",
        "validate",
        "lineage",
        "run_notebook",
    ):
        assert callable(getattr(readiness, name)), name


def test_evidently_imports_with_the_pinned_pandas():
    # evidently 0.7 fails to import with pandas 3.1; pyproject pins pandas<3.1.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pandas, evidently; from evidently import Report; print(pandas.__version__)",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    major, minor = (int(x) for x in done.stdout.strip().split(".")[:2])
    assert (major, minor) < (3, 1)


def test_drift_and_its_engine_never_import_evidently():
    # evidently runs only for --html (and for columns the engine leaves to it): the verdicts,
    # the summary and the saved JSON come without its 4-8 s import
    loaded = _modules_after(
        "import numpy as np, pandas as pd\n"
        "import readiness.monitoring.drift, readiness.monitoring.engine\n"
        "from readiness.monitoring.drift import drift\n"
        "rng = np.random.default_rng(0)\n"
        "ref = pd.DataFrame({'x': rng.normal(0, 1, 2000), 'c': rng.choice(['a', 'b'], 2000)})\n"
        "cur = pd.DataFrame({'x': rng.normal(1, 1, 2000), 'c': rng.choice(['a', 'b'], 2000)})\n"
        "result = drift(ref, cur, save=False)\n"
        "assert result.dataset_drift is not None; str(result)\n"
    )
    assert "readiness.monitoring.engine" in loaded
    assert not {m for m in loaded if m.split(".")[0] == "evidently"}
