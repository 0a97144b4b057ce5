"""1,000 ``readiness.record()`` calls (a training loop logging per epoch), now and before.

Before: every call re-read the run record, appended one item and rewrote the whole JSON
file (fsynced), then rewrote metrics.json the same way: quadratic, 50 s for 1,000.
Now: one line appended to the run's journal and metrics.json rewritten in place.
Both run here, in the same process and project, on separate runs. Target: under 2 s.

    python benchmarks/record.py [N]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def old_record(project, name: str, value: float, **tags) -> None:
    """The old ``record_many`` path: read, extend and rewrite the full JSON record."""
    from readiness.core import audit
    from readiness.core.fsutil import atomic_write_json, file_lock
    from readiness.criteria.declaration import lock_before_evidence
    from readiness.evidence.record import current_run_id, make_evidence, new_record
    from readiness.evidence.runs import run_path

    item = make_evidence(name, value, "train", **tags)
    run_id = current_run_id(project)
    with file_lock(project.write_lock_path):
        stamp = audit.now()
        item.recorded_at, item.run_id = stamp, run_id
        lock_before_evidence(project)
        path = run_path(project, run_id)
        if path.is_file():
            record = json.loads(path.read_text(encoding="utf-8"))
        else:
            record = new_record(project, run_id)
        record["evidence"].append(item.to_dict())
        record["updated_at"] = stamp
        atomic_write_json(path, record)
        metrics = json.loads(project.metrics_path.read_text(encoding="utf-8"))
        metrics.setdefault("train", {})[name] = value
        atomic_write_json(project.metrics_path, metrics)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="readiness-record-") as folder:
        root = Path(folder)
        shutil.copyfile(REPO / "templates" / "readiness.yaml", root / "readiness.yaml")
        os.chdir(root)
        import readiness
        from readiness.core.project import current_project
        from readiness.evidence.runs import read_run

        project = current_project()
        readiness.record("warm_up", 1.0)  # imports, the criteria lock, the first record
        run = readiness.new_run()
        start = time.perf_counter()
        for epoch in range(count):
            readiness.record("loss", 1.0 / (epoch + 1), split="train", epoch=epoch)
        now = time.perf_counter() - start
        assert len(read_run(project, run)["evidence"]) == count

        old_run = readiness.new_run()
        start = time.perf_counter()
        for epoch in range(count):
            old_record(project, "loss", 1.0 / (epoch + 1), epoch=epoch)
        before = time.perf_counter() - start
        assert len(read_run(project, old_run)["evidence"]) == count
    print(f"{count} record() calls: now {now:.2f} s, before (full rewrite) {before:.2f} s")
    verdict = "met" if now < 2 else "MISSED"
    print(f"ratio before/now: {before / now:.0f}x; target under 2 s: {verdict}")
    return 0 if now < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
