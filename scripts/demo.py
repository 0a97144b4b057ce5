"""``make demo``: the main job end to end on embedded defaults (no network; the one server
it starts listens on 127.0.0.1).

1. a scratch project under .demo/ (``readiness init``: templates, git, DVC, a local remote);
2. the data (scikit-learn's breast cancer set, shipped with it) versioned with DVC
   (``readiness track``) and checked against its schema (``readiness validate``);
3. the example PoC notebook as a DVC pipeline stage (``readiness pipeline add``),
   executed by ``dvc repro`` through papermill in a real kernel: it declares the
   success criteria, trains, and records evidence on the held-out split;
4. the gate (``readiness check``) and the lineage;
5. drift between the training data and a shifted "production" sample (evidently);
6. a retraining batch over two hyperparameter values (``readiness batch -j 2``);
7. the registry: register, promote through the gate;
8. drift in a labelled production sample: ``readiness monitor`` retrains, the gate decides;
9. serving: ``readiness serve`` on 127.0.0.1 with an API key; the production sample
   replayed as JSON, the metrics, labels posted back, the prediction log;
10. a forced promotion and the rollback while serving: the server switches versions;
    then the contract test (``readiness serve --check``), the monitor on the served
    traffic and its labels, the alert rules and the dashboard;
11. the production readiness checklist: model card, CI workflow, an attestation, the
    full scorecard; and where every artefact lies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_serving as serving  # noqa: E402

NOTEBOOK = REPO / "notebooks" / "01-criteria-first-poc.ipynb"
BIN = Path(sys.executable).parent
GRID = """\
# one run per entry: a regularisation strength and where its model goes
- {C: 0.01, model_name: candidate-c001}
- {C: 1.0, model_name: candidate-c1}
"""
DATASETS = """
drift:
  max_drift_share: 0.1
  target: malignant
serving: {cost_per_hour: 0.12}   # the instance price: cost per 1,000 predictions
datasets:
  breast_cancer_train:
    path: data/breast_cancer/train.csv
    min_rows: 300
    columns:
      mean radius: {type: float, min: 0}
      malignant: {type: int, allowed: [0, 1]}
  breast_cancer_holdout:
    path: data/breast_cancer/holdout.csv
    columns:
      malignant: {type: int, allowed: [0, 1]}
"""


def step(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def sh(*command: str, cwd: Path, show: bool = True) -> int:
    """Run a real command as a user would, echoing it and its output."""
    if show:
        print("$ " + " ".join(command), flush=True)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, cwd=cwd, env=env).returncode


def must(code: int, what: str) -> None:
    if code != 0:
        raise SystemExit(f"demo: {what} failed (exit {code})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, default=REPO / ".demo" / "project", help="scratch project folder"
    )
    demo = parser.parse_args(argv).dir.resolve()
    started = time.perf_counter()
    if demo.exists():
        shutil.rmtree(demo)
    demo.mkdir(parents=True)

    step("1. a new project: templates, git, DVC and a local DVC remote")
    must(sh("readiness", "init", ".", cwd=demo), "readiness init")
    for key, value in (("user.name", "readiness demo"), ("user.email", "demo@example.com")):
        sh("git", "config", key, value, cwd=demo, show=False)

    step("2. data: versioned with DVC, checked against its schema")
    must(sh(sys.executable, "-m", "readiness.examples", "data/breast_cancer", cwd=demo), "data")
    must(sh("readiness", "track", "data/breast_cancer", cwd=demo), "readiness track")
    (demo / "schema.yaml").write_text(DATASETS)
    must(sh("readiness", "criteria", "declare", "--file", "schema.yaml", cwd=demo), "schema")
    must(sh("readiness", "validate", cwd=demo), "readiness validate")

    step("3. the PoC notebook as a pipeline stage, executed by dvc repro")
    shutil.copyfile(NOTEBOOK, demo / "notebooks" / NOTEBOOK.name)
    stage = ["readiness", "pipeline", "add", f"notebooks/{NOTEBOOK.name}", "--name", "poc"]
    must(sh(*stage, "--dep", "data/breast_cancer", cwd=demo), "pipeline add")
    sh("git", "add", "-A", cwd=demo, show=False)
    sh("git", "commit", "-q", "-m", "PoC: criteria, data, pipeline", cwd=demo, show=False)
    must(sh("dvc", "repro", "--quiet", cwd=demo), "dvc repro")

    step("4. the gate and the lineage")
    must(sh("readiness", "check", "--criteria-only", cwd=demo), "the success criteria")
    sh("readiness", "lineage", cwd=demo)

    step("5. drift: the training data against a shifted 'production' sample")
    shifted = ["-m", "readiness.examples", "--shifted", "data/breast_cancer/holdout.csv"]
    must(sh(sys.executable, *shifted, "production/sample.csv", cwd=demo), "production sample")
    sh("readiness", "drift", "data/breast_cancer/train.csv", "production/sample.csv", cwd=demo)

    step("6. a retraining batch over two hyperparameter values, in parallel")
    (demo / "grid.yaml").write_text(GRID)
    must(
        sh(
            "readiness",
            "batch",
            "notebooks/retrain.ipynb",
            "--grid",
            "grid.yaml",
            "-j",
            "2",
            cwd=demo,
        ),
        "readiness batch",
    )

    step("7. the registry: train, register, promote through the gate")
    train = ["readiness", "run", "notebooks/retrain.ipynb", "-p", "model_name", '"screening"']
    must(sh(*train, cwd=demo), "training run")
    must(sh("readiness", "register", "screening", cwd=demo), "register")
    must(sh("readiness", "promote", "screening", "1.0.0", "--to", "staging", cwd=demo), "staging")
    must(
        sh("readiness", "promote", "screening", "1.0.0", "--to", "production", cwd=demo),
        "production",
    )

    step("8. production data drifts: the monitor retrains; the gate decides")
    labelled = ["-m", "readiness.examples", "--shifted", "data/breast_cancer/train.csv"]
    must(sh(sys.executable, *labelled, "production/labelled.csv", cwd=demo), "labelled sample")
    sh("readiness", "monitor", "screening", "--current", "production/labelled.csv", cwd=demo)

    step("9. serving: the production model behind an API key, its metrics and its log")
    server, key = serving.start(demo, sh)
    try:
        serving.replay(server, key, demo / "production" / "sample.csv")
        step("10. a forced promotion and the way back, while serving")
        force = ["--force", "--reason", "demo: promote the retrained candidate anyway"]
        sh("readiness", "promote", "screening", "1.0.1", "--to", "production", *force, cwd=demo)
        serving.wait_for_version(server, key, "v1.0.1")
        must(sh("readiness", "rollback", "screening", cwd=demo), "rollback")
        serving.wait_for_version(server, key, "v1.0.0")
        sh("readiness", "models", "screening", cwd=demo)
    finally:
        serving.stop(server, demo)
    must(sh("readiness", "serve", "screening", "--check", cwd=demo), "the contract test")
    # model quality from the served traffic and its labels (exit 1: the sample drifted)
    sh("readiness", "monitor", "screening", "--window", "1h", cwd=demo)
    alerts = ["readiness", "alerts", "prometheus", "-o", "monitoring/alerts.yml"]
    must(sh(*alerts, cwd=demo), "the alert rules")
    dashboard = ["readiness", "dashboard", "screening", "--window", "1h", "--buckets", "12"]
    must(sh(*dashboard, cwd=demo), "the dashboard")

    step("11. the production readiness checklist: the full scorecard")
    must(sh("readiness", "card", cwd=demo), "model card")
    must(sh("readiness", "ci", "github", cwd=demo), "CI workflow")
    attest = ["readiness", "attest", "security.pentest", "--by", "sec-team@example.com"]
    must(sh(*attest, "--evidence", "https://example.com/pentest/2026-11", cwd=demo), "attest")
    must(sh("readiness", "report", cwd=demo), "reports")
    verdict = sh("readiness", "check", cwd=demo)
    print(f"(exit {verdict}: a PoC is not production-ready until every item is done)")

    step(f"where everything lies (in {demo})")
    for relative, what in [
        ("readiness.yaml", "success criteria (declared in the notebook) and the data schema"),
        (".readiness/criteria.lock", "criteria lock: hash, time, amendments"),
        (".readiness/runs/", "run records: parameters, data versions, evidence"),
        ("data/breast_cancer.dvc", "the data version (pushed to the local DVC remote)"),
        ("dvc.yaml, params.yaml", "the notebook stage and its parameters"),
        ("metrics/poc.json", "the stage's metrics (dvc metrics show, dvc exp show)"),
        ("runs/poc.ipynb", "the executed notebook, carrying its evidence"),
        ("reports/drift-*.html", "evidently's full drift report (and its JSON)"),
        ("runs/batch-*/", "the batch's executed notebooks; models/ holds its candidates"),
        ("git tag", "the registry: screening@v1.0.0, screening#production#N (GTO)"),
        (".readiness/audit.jsonl", "every promotion, forced override, drill and rollback"),
        (".readiness/serve/", "API key hashes (0600) and the prediction log (SQLite)"),
        ("reports/dashboard-*.html", "the monitoring dashboard: one page, no external resources"),
        (".readiness/monitor/", "the latest monitor run on the log (the server's gauges read it)"),
        ("monitoring/alerts.yml", "Prometheus alerting rules derived from readiness.yaml"),
        ("docs/model-card.md", "the model card; docs/runbook.md: the runbook to fill in"),
        ("reports/scorecard.*", "the readiness scorecard as HTML, markdown and JSON"),
    ]:
        print(f"  {relative:<26} {what}")
    print(
        "\nIn a notebook, the same as widgets (criteria form, scorecard, drift table, batch"
        "\nprogress): open notebooks/02-notebook-widgets.ipynb of this repository in JupyterLab,"
        "\nor `%readiness check` in a notebook of the demo project (docs/widgets.md)."
    )
    print(f"\ndemo finished in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
