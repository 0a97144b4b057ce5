"""8 runs of a notebook doing about 0.5 s of work: ``readiness batch -j 2`` against a
sequential loop of the ``papermill`` command line on the same 8 parameter sets, in the
same run. Target: at least 1.6x faster. Prints both times and the ratio.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

RUNS = 8
TARGET = 1.6
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
WORK = (
    "import time\n"
    "start = time.perf_counter()\n"
    "x = 0\n"
    "while time.perf_counter() - start < 0.5:  # about 0.5 s of CPU work\n"
    "    x += sum(range(1000)) * seed\n"
    "import readiness\n"
    "readiness.record('score', float(seed))"
)


def notebook(path: Path) -> None:
    params = nbformat.v4.new_code_cell("seed = 0")
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(
        cells=[params, nbformat.v4.new_code_cell(WORK)],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.write(nb, path)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="readiness-batch-bench-") as folder:
        root = Path(folder)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        notebook(root / "work.ipynb")
        (root / "grid.yaml").write_text(f"seed: {list(range(1, RUNS + 1))}\n")
        (root / "out").mkdir()

        start = time.perf_counter()
        for seed in range(1, RUNS + 1):
            subprocess.run(
                [
                    "papermill",
                    "work.ipynb",
                    f"out/work-{seed}.ipynb",
                    "-p",
                    "seed",
                    str(seed),
                    "--no-progress-bar",
                ],
                cwd=root,
                env=ENV,
                check=True,
                capture_output=True,
            )
        sequential = time.perf_counter() - start

        start = time.perf_counter()
        done = subprocess.run(
            ["readiness", "batch", "work.ipynb", "--grid", "grid.yaml", "-j", "2", "--json"],
            cwd=root,
            env=ENV,
            capture_output=True,
            text=True,
        )
        parallel = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:])
            return 2
    ratio = sequential / parallel
    print(f"{RUNS} runs of a notebook with ~0.5 s of work")
    print(f"papermill CLI, sequential (baseline)  {sequential:6.2f} s")
    print(f"readiness batch -j 2                  {parallel:6.2f} s")
    verdict = "OK" if ratio >= TARGET else "UNDER TARGET"
    print(f"speed-up {ratio:.2f}x  (target >= {TARGET}x)  {verdict}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
