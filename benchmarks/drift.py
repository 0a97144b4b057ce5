"""200k rows x 10 columns (numeric and categorical): ``readiness drift`` against calling
evidently's ``Report([DataDriftPreset()])`` directly on the same data, in the same run.
Target: ratio <= 1.15. Prints the peak memory (max RSS) of both.

Each side runs in a fresh process (so imports and memory are measured alike) on the
same Parquet files; both times include reading the files and ``import evidently``.
readiness's time also includes saving evidently's HTML and JSON report and its summary.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROWS = int(os.environ.get("DRIFT_BENCH_ROWS", "200000"))
ROUNDS = int(os.environ.get("DRIFT_BENCH_ROUNDS", "5"))
TARGET = 1.15

EVIDENTLY = """
import json, resource, sys, time, warnings
start = time.perf_counter()
warnings.simplefilter("ignore")
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(cur, ref)
snapshot.dict()
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

READINESS = """
import json, resource, sys, time, warnings
start = time.perf_counter()
warnings.simplefilter("ignore")
from pathlib import Path
from readiness.monitoring.drift import drift
from readiness.core.project import Project
result = drift(sys.argv[1], sys.argv[2], project=Project(Path(sys.argv[3])))
str(result); result._repr_mimebundle_()
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "drifted": result.drifted_columns}))
"""


def make_data(folder: Path) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)

    def frame(shift: float) -> pd.DataFrame:
        data = {f"num{i}": rng.normal(shift * (i % 2), 1.0, ROWS) for i in range(6)}
        for i in range(4):
            p = [0.5 - shift / 4, 0.3, 0.2 + shift / 4]
            data[f"cat{i}"] = rng.choice(["a", "b", "c"], ROWS, p=p)
        return pd.DataFrame(data)

    ref, cur = folder / "reference.parquet", folder / "current.parquet"
    frame(0.0).to_parquet(ref)
    frame(0.2).to_parquet(cur)
    return ref, cur


def measure(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="readiness-drift-bench-") as folder:
        root = Path(folder)
        ref, cur = make_data(root)
        theirs, ours = [], []
        for _ in range(ROUNDS):
            theirs.append(measure(EVIDENTLY, str(ref), str(cur)))
            ours.append(measure(READINESS, str(ref), str(cur), str(root)))
    b = statistics.median(r["seconds"] for r in theirs)
    o = statistics.median(r["seconds"] for r in ours)
    ratio = o / b
    print(f"{ROWS} rows x 10 columns (6 numeric, 4 categorical), median of {ROUNDS} runs")
    peak_b, peak_o = max(r["peak_mb"] for r in theirs), max(r["peak_mb"] for r in ours)
    print(f"evidently Report directly (baseline)  {b:6.2f} s   peak {peak_b:7.0f} MB")
    print(f"readiness drift                       {o:6.2f} s   peak {peak_o:7.0f} MB")
    print(f"ratio {ratio:.3f}  (target <= {TARGET})  {'OK' if ratio <= TARGET else 'OVER TARGET'}")
    print(f"drifted columns: {', '.join(ours[0]['drifted'])}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
