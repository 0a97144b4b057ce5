"""1M rows x 25 columns with the default settings (and with --sample for comparison):
time and peak memory of ``readiness drift`` in a fresh process. Figures go in docs/drift.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROWS = int(os.environ.get("DRIFT_LARGE_ROWS", "1000000"))

RUN = """
import json, resource, sys, time, warnings
start = time.perf_counter()
warnings.simplefilter("ignore")
from pathlib import Path
from readiness.monitoring.drift import drift
from readiness.core.project import Project
sample = int(sys.argv[4]) if sys.argv[4] != "none" else None
result = drift(sys.argv[1], sys.argv[2], project=Project(Path(sys.argv[3])), sample=sample)
print(json.dumps({"seconds": round(time.perf_counter() - start, 1),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "drifted": len(result.drifted_columns)}))
"""


def make_data(folder: Path) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)

    def frame(shift: float) -> pd.DataFrame:
        data = {f"num{i}": rng.normal(shift * (i % 3 == 0), 1.0, ROWS) for i in range(15)}
        for i in range(10):
            data[f"cat{i}"] = rng.choice(["a", "b", "c", "d", "e"], ROWS)
        return pd.DataFrame(data)

    ref, cur = folder / "reference.parquet", folder / "current.parquet"
    frame(0.0).to_parquet(ref)
    frame(0.1).to_parquet(cur)
    return ref, cur


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="readiness-drift-large-") as folder:
        root = Path(folder)
        ref, cur = make_data(root)
        for sample in ("none", "100000"):
            done = subprocess.run(
                [sys.executable, "-c", RUN, str(ref), str(cur), str(root), sample],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                print(done.stderr[-3000:])
                return 1
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            label = "default (all rows)" if sample == "none" else f"--sample {sample}"
            seconds, peak = figures["seconds"], figures["peak_mb"]
            print(
                f"{ROWS} x 25, {label:<20} {seconds:7.1f} s  peak {peak:6d} MB"
                f"  drifted columns {figures['drifted']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
