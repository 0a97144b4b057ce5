"""``make demo``: the main job end to end on embedded defaults (no server, no network).

1. a scratch project under .demo/ from the templates (``readiness init``);
2. the example PoC notebook executed by papermill in a real kernel: it declares the
   success criteria, trains on scikit-learn's breast cancer data and records evidence;
3. ``readiness check``: the verdict, and where every artefact lies.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / ".demo" / "project"  # replaced by --dir
NOTEBOOK = REPO / "notebooks" / "01-criteria-first-poc.ipynb"


def step(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def readiness(*args: str) -> int:
    """Run the real CLI, as a user would, and echo its output."""
    command = [sys.executable, "-m", "readiness.cli", *args]
    print("$ readiness " + " ".join(args), flush=True)
    return subprocess.run(command, cwd=DEMO).returncode


def main(argv: list[str] | None = None) -> int:
    global DEMO
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=DEMO, help="scratch project folder (default .demo/project)"
    )
    DEMO = parser.parse_args(argv).dir.resolve()
    import papermill

    started = time.perf_counter()
    if DEMO.exists():
        shutil.rmtree(DEMO)
    DEMO.mkdir(parents=True)

    step("1. a new project from the templates")
    if readiness("init", ".") != 0:
        return 2

    step("2. the PoC notebook, executed in a real kernel")
    executed = DEMO / "runs" / NOTEBOOK.name
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(executed),
        cwd=str(DEMO),
        kernel_name="python3",
        progress_bar=False,
    )
    print(f"executed: {executed}")

    step("3. the gate")
    code = readiness("check")

    step(f"where everything lies (in {DEMO})")
    for relative, what in [
        ("readiness.yaml", "success criteria (declared in the notebook)"),
        (".readiness/criteria.lock", "criteria lock: hash, time, amendments"),
        (".readiness/runs", "run records with every piece of evidence"),
        ("metrics.json", "latest metrics in DVC's format"),
        (f"runs/{NOTEBOOK.name}", "the executed notebook (carries its evidence)"),
    ]:
        print(f"  {relative:<36} {what}")
    print(f"\ndemo finished in {time.perf_counter() - started:.1f}s; verdict exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
