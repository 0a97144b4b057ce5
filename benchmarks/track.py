"""Tracking a 200 MB file: ``readiness track`` against ``dvc add`` + ``dvc push``.

Both run from the command line in fresh git + DVC projects with a local remote, on
identical bytes, alternating, in the same run. Target: ratio <= 1.1. Then the same
file tracked again unchanged: target under 0.5 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE_MB = int(os.environ.get("TRACK_BENCH_MB", "200"))
ROUNDS = int(os.environ.get("TRACK_BENCH_ROUNDS", "3"))
BIN = Path(sys.executable).parent
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def sh(*command: str, cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, env=ENV, check=True, capture_output=True)


def timed(*command: str, cwd: Path) -> float:
    start = time.perf_counter()
    sh(*command, cwd=cwd)
    return time.perf_counter() - start


def fresh_project(base: Path, name: str, payload: Path) -> Path:
    root = base / name
    root.mkdir()
    sh("git", "init", "-q", cwd=root)
    sh("dvc", "init", "-q", cwd=root)
    sh("dvc", "remote", "add", "-d", "--local", "bench", str(base / f"{name}-remote"), cwd=root)
    shutil.copyfile(payload, root / "big.bin")
    return root


def main() -> int:
    ours, theirs, again = [], [], []
    with tempfile.TemporaryDirectory(prefix="readiness-bench-") as folder:
        base = Path(folder)
        payload = base / "payload.bin"
        with open(payload, "wb") as handle:
            for _ in range(SIZE_MB):
                handle.write(os.urandom(1024 * 1024))
        for i in range(ROUNDS):
            plain = fresh_project(base, f"dvc{i}", payload)
            theirs.append(
                timed("dvc", "add", "-q", "big.bin", cwd=plain)
                + timed("dvc", "push", "-q", cwd=plain)
            )
            ready = fresh_project(base, f"readiness{i}", payload)
            ours.append(timed("readiness", "track", "big.bin", cwd=ready))
            again.append(timed("readiness", "track", "big.bin", cwd=ready))
    b, o, a = statistics.median(theirs), statistics.median(ours), statistics.median(again)
    ratio = o / b
    print(f"{SIZE_MB} MB file, median of {ROUNDS} rounds")
    print(f"dvc add + dvc push (baseline)  {b:6.2f} s")
    print(f"readiness track                {o:6.2f} s")
    print(f"ratio {ratio:.3f}  (target <= 1.1)  {'OK' if ratio <= 1.1 else 'OVER TARGET'}")
    verdict = "OK" if a < 0.5 else "OVER TARGET"
    print(f"readiness track, unchanged     {a:6.3f} s  (target < 0.5 s)  {verdict}")
    return 0 if ratio <= 1.1 and a < 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
