"""``readiness monitor`` on a window of 1,000,000 logged predictions (20 features), end to end,
against evidently's drift alone on the same rows, in the same run.

One temporary project with a real registered and promoted model (a scikit-learn pipeline on
20 synthetic features, trained on 5,000 rows). Its prediction log (SQLite, the server's own
batched writer) receives 10,000 requests of 100 rows each, a shifted sample, one request in
ten with feedback labels. Then, each in a fresh process so imports and memory count alike:

- ``readiness monitor screening --window 1h --json``: reading the window from the log, feature
  drift against the training data (read at the model's commit), prediction drift against the
  holdout's predictions, the criteria on the labelled rows with bootstrap intervals, the net
  value, the infrastructure figures, the file and the audit entry;
- evidently's ``Report([DataDriftPreset()])`` on the training data against the same
  1,000,000 x 20 rows, already in a Parquet file (no log to read), and nothing else.

Target: the whole monitor run faster than evidently's drift alone (ratio > 1).

    python benchmarks/monitor.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import ENV, git

NAME = "screening"
FEATURES = 20
TRAIN_ROWS = 5_000
PREDICTIONS = int(os.environ.get("MONITOR_BENCH_ROWS", "1000000"))
ROWS_PER_REQUEST = 100
LABELLED_EVERY = 10  # one request in ten gets its labels
TIME_LIMIT = 900  # seconds for each measured process, at most
TARGET = 1.0

SETUP = """
use_case: {name: screening, owner: head@example.com, business_metric: cost per case}
criteria:
  technical:
    - {metric: roc_auc, split: holdout, min: 0.8}
    - {metric: recall, split: holdout, min: 0.7}
    - {metric: accuracy, split: holdout, min: 0.7}
  business:
    value_per_outcome: {tp: 100, fp: -10, fn: -200, tn: 0}
datasets:
  train:
    path: data/synthetic/train.csv
    target: label
    columns: {label: {type: int, allowed: [0, 1]}}
  holdout:
    path: data/synthetic/holdout.csv
    target: label
    columns: {label: {type: int, allowed: [0, 1]}}
drift: {max_drift_share: 0.5}
serving: {cost_per_hour: 0.12}
"""

EVIDENTLY = """
import json, resource, sys, time, warnings
start = time.perf_counter()
warnings.simplefilter("ignore")
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = pd.read_csv(sys.argv[1]).drop(columns="label"), pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(cur, ref)
snapshot.dict()
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MONITOR = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run([sys.argv[1], "monitor", "screening", "--window", "1h", "--json"],
                      capture_output=True, text=True)
seconds = time.perf_counter() - start
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
out = json.loads(done.stdout) if done.stdout.strip() else {}
print(json.dumps({"seconds": seconds, "peak_mb": child, "code": done.returncode,
                  "stderr": done.stderr[-2000:], "drift_share": out.get("drift_share"),
                  "labelled_rows": out.get("labelled_rows"), "requests": out.get("requests")}))
"""


def frames(seed: int = 0) -> tuple[Any, Any]:
    """Training and holdout data: 20 numeric features, a binary label from a linear rule."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = TRAIN_ROWS + 1_000
    X = rng.normal(size=(n, FEATURES))
    weights = rng.normal(size=FEATURES)
    y = (X @ weights + rng.normal(scale=1.0, size=n) > 0).astype(int)
    frame = pd.DataFrame(X, columns=[f"f{i:02d}" for i in range(FEATURES)]).round(6)
    frame["label"] = y
    return frame.iloc[:TRAIN_ROWS].reset_index(drop=True), frame.iloc[TRAIN_ROWS:].reset_index(
        drop=True)


def build_project(base: Path) -> tuple[Path, Any, Any]:
    """The project with ``screening`` v1.0.0 in production: (root, model, training frame)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import readiness
    from readiness.core.project import Project
    from readiness.criteria.declaration import declare
    from readiness.data.scaffold import init_project
    from readiness.data.tracking import track
    from readiness.gate.promotion import promote
    from readiness.registry.versions import register

    os.environ.update({k: ENV[k] for k in ("DVC_NO_ANALYTICS", "PATH")})
    os.environ["READINESS_REMOTE_HOME"] = str(base / "remotes")
    root = base / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Bench User")  # this repository only
    git(root, "config", "user.email", "bench@example.com")
    init_project(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    os.chdir(root)
    project = Project(root.resolve())
    data = root / "data" / "synthetic"
    data.mkdir(parents=True)
    train, holdout = frames()
    train.to_csv(data / "train.csv", index=False)
    holdout.to_csv(data / "holdout.csv", index=False)
    declare(project, SETUP)
    track(project, ["data/synthetic"])
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "criteria and data")
    readiness.new_run()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(train.drop(columns="label"), train["label"])
    readiness.evaluate(model, holdout.drop(columns="label"), holdout["label"], latency_samples=5)
    readiness.save_model(model, NAME)
    version = register(project, NAME).version.lstrip("v")
    for stage in ("staging", "production"):
        if not promote(project, NAME, version, stage).promoted:
            raise RuntimeError(f"the gate refused {NAME} {version} for {stage}")
    return root, readiness.load_model(NAME), train


def fill_log(root: Path, model: Any, train: Any) -> Path:
    """PREDICTIONS shifted rows through the server's log writer; returns the current Parquet."""
    import numpy as np

    from readiness.core.project import Project
    from readiness.serve.predlog import PredictionLog, ensure_schema, resolve_url

    rng = np.random.default_rng(1)
    features = [c for c in train.columns if c != "label"]
    current = train[features].sample(n=PREDICTIONS, replace=True, random_state=2)
    current = current.reset_index(drop=True)
    for column in features[:5]:  # five of twenty features shift by half a standard deviation
        current[column] = current[column] + 0.5 * train[column].std()
    current = current.round(6)
    probabilities = model.predict_proba(current)
    outputs = probabilities.argmax(axis=1)
    truth = (rng.random(PREDICTIONS) < probabilities[:, 1]).astype(int)
    url = resolve_url(Project(root), None)
    ensure_schema(url)
    log = PredictionLog(url, server_id="bench", max_batch=1000, max_queue=20_000)
    log.start()
    records = current.to_dict(orient="records")
    now = time.time()
    for number, at in enumerate(range(0, PREDICTIONS, ROWS_PER_REQUEST)):
        request_id = uuid.uuid4().hex
        part = slice(at, at + ROWS_PER_REQUEST)
        log.record({
            "request_id": request_id, "ts": now - 600 + number * 1e-3, "model": NAME,
            "version": "v1.0.0", "endpoint": "predict_proba", "status": 200,
            "latency_ms": 2.0, "inputs": records[part],
            "outputs": outputs[part].tolist(), "probabilities": probabilities[part].tolist(),
        })
        if number % LABELLED_EVERY == 0:
            log.feedback(request_id, truth[part].tolist(), now)
        if number % 1000 == 999:
            log.flush(timeout=300)
    if not log.flush(timeout=600):
        raise RuntimeError("the prediction log did not drain")
    log.close()
    path = root.parent / "current.parquet"
    current.to_parquet(path, index=False)
    return path


def measure(script: str, args: list[str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=TIME_LIMIT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="readiness-monitor-bench-") as tmp:
        base = Path(tmp)
        print(f"building the project and logging {PREDICTIONS:,} predictions ...", flush=True)
        started = time.perf_counter()
        root, model, train = build_project(base)
        current = fill_log(root, model, train)
        print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)
        readiness_bin = str(Path(sys.executable).parent / "readiness")
        monitor = measure(MONITOR, [readiness_bin], root)
        if monitor["code"] not in (0, 1):
            raise RuntimeError(f"readiness monitor failed: {monitor['stderr']}")
        evidently = measure(EVIDENTLY, [str(root / "data/synthetic/train.csv"), str(current)],
                            root)
    ratio = evidently["seconds"] / monitor["seconds"]
    print(f"\n{PREDICTIONS:,} logged predictions x {FEATURES} features, "
          f"{PREDICTIONS // ROWS_PER_REQUEST:,} requests, one in {LABELLED_EVERY} labelled")
    print(f"{'':34} {'seconds':>8} {'peak MB':>8}")
    print(f"{'readiness monitor (end to end)':34} {monitor['seconds']:8.1f} "
          f"{monitor['peak_mb']:8.0f}")
    print(f"{'evidently drift alone':34} {evidently['seconds']:8.1f} {evidently['peak_mb']:8.0f}")
    print(f"monitor: {monitor['requests']} requests, {monitor['labelled_rows']} labelled rows, "
          f"drift share {monitor['drift_share']}")
    verdict = "meets" if ratio > TARGET else "MISSES"
    print(f"evidently drift / readiness monitor = {ratio:.2f}x ({verdict} the target > {TARGET})")
    return 0 if ratio > TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
