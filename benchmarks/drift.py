"""``readiness drift`` (the numpy engine) against evidently's ``Report`` on the same files.

In one run, on the same Parquet files: 200,000 x 10 (6 numeric, 4 categorical) and
1,000,000 x 25 (15 numeric, 10 categorical) rows x columns, each side in a fresh process
(imports and memory measured alike; both times include the imports and reading the files):

- evidently: ``Report([DataDriftPreset()], include_tests=True).run(current, reference)``
  and its result (the per-column tests give the verdicts);
- the engine: ``readiness.monitoring.drift.drift(reference, current)`` saving its JSON
  result under ``reports/`` (what ``readiness drift`` does), then its text summary;
- the profile path: ``drift(profile, current)``, the reference a profile file written as
  ``readiness register`` writes it (numeric columns above ``profile_exact_rows`` summarised):
  only the current sample and the profile are read;
- the same, streamed (``--stream``): the current sample read row group by row group.

It prints wall time, peak RSS, the speed-up over evidently, the engine's peak against the
size of the two frames in memory (pandas ``memory_usage(deep=True)``; also without the
interpreter and its imports, measured alone), and whether the drifted columns agree.
Targets: >= 20x at 1M x 25, peak <= 1.5x the frames, the profile path >= 40x.
``--sizes 200000x10`` (or ``DRIFT_BENCH_SIZES``) runs one size; ``--rounds N`` (or
``DRIFT_BENCH_ROUNDS``, default 1) repeats the fast sides (the median is shown);
``--engine-only`` leaves evidently out (minutes at 1M x 25): the engine's time and memory
only, to iterate on them, with no speed-up and no verdict check against evidently.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = os.environ.get("DRIFT_BENCH_SIZES", "200000x10,1000000x25")
ROUNDS = int(os.environ.get("DRIFT_BENCH_ROUNDS", "1"))
SPEEDUP, PROFILE_SPEEDUP, MEMORY = 20.0, 40.0, 1.5

# the peak RSS of this process image (VmHWM: reset by exec, unlike ru_maxrss, which a
# child started by fork inherits from the parent holding the data)
PEAK = """
import json
def done(start, **extra):
    import time
    seconds = time.perf_counter() - start
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, **extra}))
"""

EVIDENTLY = PEAK + """
import sys, time, warnings
start = time.perf_counter()
warnings.simplefilter("ignore")
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()], include_tests=True).run(cur, ref)
drifted = []
for result in snapshot.metric_results.values():
    params = result.metric_value_location.metric.params
    if str(params.get("type", "")).endswith("ValueDrift"):
        if any(str(t.status).endswith("FAIL") for t in getattr(result, "tests", None) or []):
            drifted.append(params["column"])
done(start, drifted=sorted(drifted))
"""

ENGINE = PEAK + """
import sys, time, warnings
start = time.perf_counter()
warnings.simplefilter("ignore")
from pathlib import Path
from readiness.core.project import Project
from readiness.monitoring.drift import drift
reference = sys.argv[1]
if reference.endswith(".json"):
    from readiness.registry.profiles import read_profile_file
    reference = read_profile_file(Path(reference))[0]
stream = len(sys.argv) > 4 and sys.argv[4] == "stream"
result = drift(reference, sys.argv[2], project=Project(Path(sys.argv[3])), stream=stream)
str(result)
done(start, drifted=sorted(result.drifted_columns),
     evidently="evidently" in sys.modules)
"""

IMPORTS = PEAK + """
import time
start = time.perf_counter()
import pandas, pyarrow.parquet
import readiness.monitoring.drift, readiness.monitoring.engine, readiness.core.project
done(start)
"""


def make_data(folder: Path, rows: int, columns: int) -> tuple[Path, Path, float]:
    """Reference and shifted current Parquet files, and the two frames' size in memory (MB)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    numeric = columns * 3 // 5

    def frame(shift: float) -> pd.DataFrame:
        data = {f"num{i}": rng.normal(shift * (i % 3 == 0), 1.0, rows) for i in range(numeric)}
        for i in range(columns - numeric):
            p = [0.4 - shift / 2, 0.3, 0.2, 0.1 + shift / 2]
            data[f"cat{i}"] = rng.choice(["a", "b", "c", "d"], rows, p=p)
        return pd.DataFrame(data)

    ref, cur = folder / f"reference-{rows}.parquet", folder / f"current-{rows}.parquet"
    size = 0.0
    for path, shift in ((ref, 0.0), (cur, 0.1)):
        data = frame(shift)
        data.to_parquet(path, row_group_size=100_000)  # a large file's many row groups
        size += pd.read_parquet(path).memory_usage(deep=True).sum() / 2**20
        del data
    return ref, cur, size


def write_profile(reference: Path, target: Path) -> float:
    """The reference's profile as ``readiness register`` writes it; its size in MB."""
    import pandas as pd

    from readiness.core.schema import DriftPolicy
    from readiness.monitoring.engine import profile_frame
    from readiness.registry.profiles import SCHEMA, encode_profile

    frame = pd.read_parquet(reference)
    profiles = profile_frame(frame, exact_rows=DriftPolicy().profile_exact_rows)
    target.write_text(encode_profile(profiles, reference.name, len(frame), SCHEMA))
    return target.stat().st_size / 2**20


def measure(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=SIZES,
                        help="ROWSxCOLUMNS[,ROWSxCOLUMNS...] (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="runs of each engine side, the median shown (default: %(default)s)")
    parser.add_argument("--engine-only", action="store_true",
                        help="leave evidently out: the engine's time and memory only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    ok = True
    baseline = measure(IMPORTS)
    print(f"{os.cpu_count()} cores; the interpreter with what the engine imports (pandas, "
          f"pyarrow, numpy): {baseline['seconds']:.2f} s, {baseline['peak_mb']:.0f} MB")
    with tempfile.TemporaryDirectory(prefix="readiness-drift-bench-") as folder:
        root = Path(folder)
        (root / "reports").mkdir()
        for size in args.sizes.split(","):
            rows, columns = (int(x) for x in size.split("x"))
            ref, cur, frames_mb = make_data(root, rows, columns)
            profile = root / f"reference-{rows}.profile.json"
            profile_mb = write_profile(ref, profile)
            theirs = None if args.engine_only else measure(EVIDENTLY, str(ref), str(cur))
            rounds = max(1, args.rounds)
            ours = [measure(ENGINE, str(ref), str(cur), str(root)) for _ in range(rounds)]
            quick = [measure(ENGINE, str(profile), str(cur), str(root)) for _ in range(rounds)]
            streamed = measure(ENGINE, str(profile), str(cur), str(root), "stream")
            o, q = median(ours, "seconds"), median(quick, "seconds")
            b = theirs["seconds"] if theirs is not None else None

            def faster(seconds: float, base: float | None = b) -> str:
                return "" if base is None else f"{base / seconds:5.1f}x faster"

            peak = max(r["peak_mb"] for r in ours)
            numeric = columns * 3 // 5
            print(f"\n{rows:,} rows x {columns} columns ({numeric} numeric, "
                  f"{columns - numeric} categorical); the two frames: {frames_mb:.0f} MB; "
                  f"median of {rounds} run(s) for the engine")
            if theirs is not None:
                print(f"  evidently Report (baseline)    {theirs['seconds']:7.2f} s   peak "
                      f"{theirs['peak_mb']:6.0f} MB")
            print(f"  readiness drift (engine)       {o:7.2f} s   peak {peak:6.0f} MB   "
                  f"{faster(o)}")
            print(f"  readiness drift --profile      {q:7.2f} s   peak "
                  f"{max(r['peak_mb'] for r in quick):6.0f} MB   {faster(q)}"
                  f"   (profile file {profile_mb:.1f} MB)")
            print(f"  readiness drift --profile --stream {streamed['seconds']:7.2f} s   peak "
                  f"{streamed['peak_mb']:6.0f} MB   {faster(streamed['seconds'])}"
                  "   (row group by row group)")
            above = peak - baseline["peak_mb"]
            print(f"  engine peak / frames: {peak / frames_mb:.2f} (above the imports alone: "
                  f"{above / frames_mb:.2f})")
            same = ours[0]["drifted"] == quick[0]["drifted"] == streamed["drifted"]
            if theirs is not None:
                same = same and theirs["drifted"] == ours[0]["drifted"]
            against = "the engine's three paths" if theirs is None else "evidently and the engine"
            print(f"  drifted columns agree ({against}): {'yes' if same else 'NO'} "
                  f"({len(ours[0]['drifted'])} of {columns}); evidently imported by the engine: "
                  f"{'YES' if ours[0]['evidently'] else 'no'}")
            if rows >= 1_000_000:
                checks = {} if b is None else {
                    f"engine >= {SPEEDUP:.0f}x": b / o >= SPEEDUP,
                    f"profile path >= {PROFILE_SPEEDUP:.0f}x": b / q >= PROFILE_SPEEDUP,
                }
                checks[f"peak <= {MEMORY}x frames"] = peak / frames_mb <= MEMORY
                for name, good in checks.items():
                    print(f"  {name}: {'OK' if good else 'MISSED'}")
                ok = ok and all(checks.values())
            ok = ok and same and not ours[0]["evidently"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
