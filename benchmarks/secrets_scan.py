"""The secrets probe on ~200 MB of executed notebooks: cold, warm, and plain detect-secrets.

Builds ~36 executed notebooks of ~5.5 MB each in a temporary project (PNG and JPEG
outputs, a Plotly figure with base64 ``bdata`` arrays, 1 MB of embedded minified
JavaScript as offline Plotly writes, a 4,000-line training log, an HTML table) with a
few planted credentials, then times

- the probe cold (``security.find_secrets``, no cache) and warm (unchanged files: the
  cache under ``.readiness/cache/``);
- the baseline: plain ``detect-secrets scan --all-files`` (the CLI, default settings) on
  the same notebooks. It takes minutes per notebook of this kind, so it runs on
  BASELINE_NOTEBOOKS of them with a time limit, and its rate (s/MB) is scaled to the
  full 200 MB; the printout says how much it scanned.

Wall and CPU seconds are both printed (the ratio uses CPU: it is steadier on a busy
machine). The probe must find exactly the planted credentials, cold and warm.

    python benchmarks/secrets_scan.py        # SECRETS_BENCH_MB=50 for a quicker run
"""

from __future__ import annotations

import base64
import functools
import json
import os
import random
import resource
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

TOTAL_MB = int(os.environ.get("SECRETS_BENCH_MB", "200"))
BASELINE_NOTEBOOKS = int(os.environ.get("SECRETS_BENCH_BASELINE", "1"))
BASELINE_LIMIT_S = float(os.environ.get("SECRETS_BENCH_BASELINE_LIMIT", "120"))
PLANTED = {  # notebook index -> a printed, format-valid, fake credential
    3: "AKIAIOSFODNN7EXAMPLE",
    11: "ghp_EXAMPLE" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC",
    19: "hf_EXAMPLE" + "qwertyuiopasdfghjklzxcvbnm",
}


def noise(size: int, rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(size)).decode()


def training_log(rng: random.Random, lines: int) -> str:
    return "".join(
        f"epoch {i // 100:3d} step {i:6d} loss={rng.random():.6f} val_loss={rng.random():.6f} "
        f"lr={rng.random() / 100:.2e} 2025-01-01T12:{i % 60:02d}:{i % 60:02d}\n"
        for i in range(lines)
    )


@functools.cache
def minified_library(size: int) -> str:
    """JavaScript shaped like minified plotly.js, which offline Plotly embeds in an output."""
    rng = random.Random(size)
    letters = string.ascii_letters
    names = ["".join(rng.choices(letters, k=rng.randint(1, 6))) for _ in range(500)]
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        a, b, c = rng.sample(names, 3)
        parts.append(f'function {a}({b}){{return {b}==="password"?{c}.key:"{a}{c}"}}')
    return "".join(parts)


def executed_notebook(index: int) -> nbformat.NotebookNode:
    """~7 MB: mostly images, a Plotly figure and plotly.js, as a real executed notebook is."""
    rng = random.Random(index)
    v4 = nbformat.v4
    cells = [v4.new_code_cell("import pandas as pd\nimport plotly.express as px\nC = 1.0")]
    offline = v4.new_code_cell("init_notebook_mode(connected=False)")
    script = f"<script>{minified_library(1_000_000)}</script>"
    offline.outputs = [v4.new_output("display_data", data={"text/html": script})]
    cells.append(offline)
    for figure in range(6):  # ~4.2 MB of PNG and ~0.8 MB of JPEG as base64
        cell = v4.new_code_cell(f"plot_{figure}(model)")
        mime = "image/jpeg" if figure % 4 == 3 else "image/png"
        cell.outputs = [
            v4.new_output("display_data", data={mime: noise(400_000, rng), "text/plain": "<Fig>"})
        ]
        cells.append(cell)
    arrays = {"dtype": "f8", "bdata": noise(300_000, rng)}
    plotly = {"data": [{"type": "scatter", "x": arrays, "y": arrays}], "layout": {"title": "x"}}
    cell = v4.new_code_cell("px.scatter(df, x='x', y='y')")
    cell.outputs = [v4.new_output("display_data", data={"application/vnd.plotly.v1+json": plotly})]
    cells.append(cell)
    log = v4.new_code_cell("model.fit(X, y)")
    log.outputs = [v4.new_output("stream", name="stdout", text=training_log(rng, 4_000))]
    cells.append(log)
    table = v4.new_code_cell("df.describe()")
    rows = "".join(
        f"<tr><td>{i}</td><td>{rng.random():.4f}</td><td>{rng.random():.4f}</td></tr>"
        for i in range(2_000)
    )
    table.outputs = [
        v4.new_output(
            "execute_result",
            data={"text/html": f"<table>{rows}</table>", "text/plain": "..."},
            execution_count=3,
        )
    ]
    cells.append(table)
    if index in PLANTED:
        leak = v4.new_code_cell("print(get_credential())")
        leak.outputs = [v4.new_output("stream", name="stdout", text=PLANTED[index] + "\n")]
        cells.append(leak)
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def build(root: Path, megabytes: float) -> list[Path]:
    """Executed notebooks under ``runs/`` until they add up to ``megabytes``."""
    (root / "readiness.yaml").write_text("use_case: {name: bench}\n")
    runs = root / "runs"
    runs.mkdir(parents=True)
    paths: list[Path] = []
    index = 0
    while sum(p.stat().st_size for p in paths) < megabytes * 1e6:
        path = runs / f"train-{index:02d}.ipynb"
        # as nbformat writes it, without its schema validation (slow on 7 MB, and not timed)
        path.write_text(json.dumps(executed_notebook(index), indent=1), encoding="utf-8")
        paths.append(path)
        index += 1
    return paths


def probe(root: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of the probe's scan, and how many findings."""
    from readiness.checklist.probes.security import find_secrets

    start, cpu = time.perf_counter(), time.process_time()
    found = find_secrets(root)
    return time.perf_counter() - start, time.process_time() - cpu, len(found)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain_detect_secrets(paths: list[Path]) -> tuple[float, float, float, bool]:
    """Wall and CPU seconds and MB of `detect-secrets scan` over ``paths``; in time or not."""
    cli = Path(sys.executable).parent / "detect-secrets"
    start, cpu = time.perf_counter(), children_cpu()
    try:
        subprocess.run(  # from the folder: it skips files outside its working directory
            [str(cli), "scan", "--all-files", *(p.name for p in paths)],
            cwd=paths[0].parent,
            check=True,
            capture_output=True,
            timeout=BASELINE_LIMIT_S,
        )
        finished = True
    except subprocess.TimeoutExpired:
        finished = False
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    return time.perf_counter() - start, children_cpu() - cpu, megabytes, finished


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        paths = build(root, TOTAL_MB)
        count = len(paths)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"built {count} notebooks, {size:.0f} MB, in {time.perf_counter() - started:.1f} s")
        cold, cold_cpu, found = probe(root)
        warm, warm_cpu, again = probe(root)
        planted = sum(1 for i in PLANTED if i < count)
        assert found == again == planted, (found, again, planted)
        print(f"probe cold: {cold:.2f} s wall, {cold_cpu:.2f} s CPU; {found} findings (planted)")
        print(f"probe warm: {warm:.2f} s wall, {warm_cpu:.2f} s CPU (unchanged: from the cache)")
        seconds, cpu, megabytes, finished = plain_detect_secrets(paths[:BASELINE_NOTEBOOKS])
        note = "" if finished else f", stopped at its {BASELINE_LIMIT_S:.0f} s limit (lower bound)"
        scale = size / megabytes
        print(
            f"baseline, plain `detect-secrets scan --all-files` on {megabytes:.1f} MB: "
            f"{seconds:.1f} s wall, {cpu:.1f} s CPU{note}; "
            f"scaled to {size:.0f} MB: {seconds * scale:.0f} s wall, {cpu * scale:.0f} s CPU"
        )
        print(
            f"ratio baseline / probe (CPU): cold {cpu * scale / cold_cpu:.1f}x, "
            f"warm {cpu * scale / warm_cpu:.0f}x"
        )


if __name__ == "__main__":
    main()
