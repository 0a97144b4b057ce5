"""Import cost of readiness next to IPython: ratio of medians, target <= 1.3.

Measures ``python -c "import IPython, readiness"`` against ``python -c "import IPython"``
(the baseline), alternating the two, in fresh interpreters, in the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 15
TARGET = 1.3


def timed(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> int:
    timed("import IPython, readiness")  # warm the OS file cache for both
    baseline, ours = [], []
    for _ in range(RUNS):
        baseline.append(timed("import IPython"))
        ours.append(timed("import IPython, readiness"))
    b, o = statistics.median(baseline), statistics.median(ours)
    ratio = o / b
    print(f"import IPython            median {b * 1000:7.1f} ms  (baseline, {RUNS} runs)")
    print(f"import IPython, readiness median {o * 1000:7.1f} ms")
    print(f"ratio {ratio:.3f}  (target <= {TARGET})  {'OK' if ratio <= TARGET else 'OVER TARGET'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
