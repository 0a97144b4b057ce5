"""Hostile and broken inputs: non-finite numbers, YAML alias bombs, unreadable and unwritable files.

Every one is a one-line error (exit 2 from the CLI, never a traceback, never exit 1), or,
for evidence already on disk, a failing criterion: never a pass.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from readiness.core import yamlio
from readiness.core.config import parse_config
from readiness.core.errors import ConfigError, EvidenceError, FileError
from readiness.evidence.record import make_evidence, record
from readiness.evidence.runs import new_run_id
from readiness.evidence.verdict import check

from .conftest import GOOD_EVIDENCE, cli, record_all, write_notebook

HUGE = "1" + "0" * 400  # a 401-digit integer: float() of it raises OverflowError

CRITERION = """use_case: {{name: churn, owner: jane@example.com, business_metric: revenue}}
criteria:
  technical:
    - metric: roc_auc
      split: holdout
      {key}: {value}
{extra}"""
RELATIVE = "      baseline: 0.7\n      min_margin: 0.02\n"


def _bomb(levels: int = 9) -> str:
    """The classic "billion laughs": 9**9 strings from under 500 bytes of YAML."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _run(*args: str, cwd: Path, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """The real CLI with our own time limit (a bomb that expands would never finish)."""
    exe = Path(sys.executable).with_name("readiness")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def _one_line_error(done: subprocess.CompletedProcess, *words: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("readiness: error: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- item 2: every number finite and representable ------------------------------------


def test_nan_value_per_outcome_refused_with_its_line():
    text = (
        "use_case: {name: churn, owner: jane@example.com, business_metric: revenue}\n"
        "criteria:\n"
        "  business:\n"
        "    value_per_outcome:\n"
        "      tp: .nan\n"
        "      fp: -15\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    message = str(caught.value)
    assert message.startswith("readiness.yaml:5:7: criteria.business.value_per_outcome.tp")
    assert "NaN" in message and "finite" in message


@pytest.mark.parametrize(
    "value",
    [".nan", ".inf", "-.inf", "1e400", HUGE, "'nan'"],
    ids=["nan", "inf", "-inf", "1e400", "401-digits", "nan-text"],
)
@pytest.mark.parametrize("key", ["min", "max", "baseline", "min_margin"])
def test_non_finite_bounds_refused_with_key_and_line(key, value):
    extra = ""
    if key in ("baseline", "min_margin"):
        other = "min_margin: 0.02" if key == "baseline" else "baseline: 0.7"
        extra = f"      {other}\n      min: 0.8\n"
    text = CRITERION.format(key=key, value=value, extra=extra)
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    message = str(caught.value)
    assert f"readiness.yaml:6:7: criteria.technical[0].{key}:" in message, message
    assert "finite" in message
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize(
    "section",
    [
        "  business:\n    value_per_outcome: {tp: 1}\n    min_net_value_per_1000: .inf\n",
        "  business:\n    max_latency_ms: .nan\n",
        "drift: {threshold: .nan}\n",
        "datasets:\n  holdout: {columns: {age: {type: int, max: 1e400}}}\n",
        f"datasets:\n  holdout: {{min_rows: {HUGE}, columns: {{age: {{type: int}}}}}}\n",
    ],
)
def test_every_numeric_key_is_finite(section):
    text = CRITERION.format(key="min", value="0.8", extra="") + section
    with pytest.raises(ConfigError, match="finite"):
        parse_config(text)


def test_baseline_plus_margin_must_not_overflow():
    text = CRITERION.format(
        key="min", value="0.8", extra="      baseline: 1.0e+308\n      min_margin: 1.0e+308\n"
    )
    with pytest.raises(ConfigError, match="overflow"):
        parse_config(text)


def test_finite_numbers_still_accepted():
    config = parse_config(CRITERION.format(key="min", value="0.8", extra=RELATIVE))
    assert config.criteria.technical[0].required == pytest.approx(0.8)


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        -float("inf"),
        10**400,
        [[1, 2], [3, float("nan")]],
        {"a": 10**400},
    ],
    ids=["nan", "inf", "-inf", "huge-int", "nan-in-matrix", "huge-in-dict"],
)
def test_evidence_refuses_non_finite_and_huge_numbers(value):
    with pytest.raises(EvidenceError, match="finite"):
        make_evidence("roc_auc", value)


def test_evidence_refuses_numpy_nan():
    np = pytest.importorskip("numpy")
    with pytest.raises(EvidenceError, match="NaN"):
        make_evidence("roc_auc", np.float64("nan"))
    with pytest.raises(EvidenceError, match="NaN"):
        make_evidence("confusion_matrix", np.array([[1.0, np.nan], [2.0, 3.0]]))


@pytest.mark.parametrize(
    "value",
    ["1" * 5000, HUGE, "NaN", "Infinity", "-Infinity", "[[1,2],[3,1e400]]"],
    ids=["5000-digits", "401-digits", "nan", "inf", "-inf", "inf-in-matrix"],
)
def test_log_refuses_non_finite_numbers_in_one_line(project, value):
    done = cli("log", f"roc_auc={value}", cwd=project.root)
    _one_line_error(done, "roc_auc", "finite")
    assert not list(project.runs_dir.glob("*.json"))  # nothing recorded


def test_log_refuses_a_5000_digit_tag(project):
    done = cli("log", "roc_auc=0.9", "--tag", "seed=" + "7" * 5000, cwd=project.root)
    _one_line_error(done, "seed")


def _poison_latest_run(project, name: str, value_json: str) -> str:
    """Append evidence to the latest run record by hand, as an old or edited file would hold."""
    from readiness.evidence.journal import compact

    path = sorted(project.runs_dir.glob("*.json"))[-1]
    compact(path)  # this process's evidence is still in the run's journal: fold it in first
    text = path.read_text(encoding="utf-8").rstrip()
    data = json.loads(text)
    data["evidence"].append({"name": name, "value": "PLACEHOLDER", "split": "holdout"})
    path.write_text(json.dumps(data).replace('"PLACEHOLDER"', value_json), encoding="utf-8")
    return data["id"]


@pytest.mark.parametrize(
    "value_json",
    [HUGE, "-" + "9" * 5000, "NaN", "Infinity"],
    ids=["401-digits", "-5000-digits", "nan", "inf"],
)
def test_poisoned_run_record_fails_the_criterion_without_crashing(project, value_json):
    record_all(GOOD_EVIDENCE)
    _poison_latest_run(project, "recall", value_json)
    result = check(project)
    recall = next(c for c in result.criteria if c.metric == "recall")
    assert result.verdict == "NOT_READY"
    assert not recall.passed and "not a finite number" in recall.reason
    done = cli("check", "--criteria-only", cwd=project.root)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "not a finite number" in done.stdout


def test_nan_latency_on_record_fails_the_business_criteria(project):
    record_all(GOOD_EVIDENCE)
    _poison_latest_run(project, "latency_p95_ms", "NaN")
    result = check(project)
    assert not result.business.passed
    assert any("latency_p95_ms" in p and "finite" in p for p in result.business.problems)


def test_confusion_matrix_of_1e308s_fails_the_business_criterion(project):
    # each count is finite, so it records; their sum overflows and net value was NaN (a pass)
    record_all({k: v for k, v in GOOD_EVIDENCE.items() if k != "confusion_matrix"})
    record("confusion_matrix", [[1e308, 1e308], [1e308, 1e308]])
    result = check(project)
    assert result.verdict == "NOT_READY"
    assert not result.business.passed
    assert any("not finite" in p for p in result.business.problems), result.business.problems
    assert result.business.net_value_per_1000 is None


def test_net_value_that_overflows_fails(project):
    # finite values and counts whose products overflow to infinity: inf >= target passed
    text = project.config_path.read_text(encoding="utf-8").replace(
        "value_per_outcome: {tp: 120, fp: -15, fn: -40, tn: 0}",
        "value_per_outcome: {tp: 1.0e+308, fp: 0, fn: 0, tn: 0}",
    )
    project.config_path.write_text(text, encoding="utf-8")
    record_all(GOOD_EVIDENCE)
    result = check(project)
    assert not result.business.passed
    assert any("overflow" in p for p in result.business.problems), result.business.problems
    assert result.business.break_even_precision is None  # not a claim computed from inf


# -- item 3: YAML alias bombs and document size ---------------------------------------


def test_alias_bomb_refused_quickly():
    start = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        yamlio.parse(_bomb(), "grid.yaml")
    # unguarded, this bomb grows past 400 MB in 40 s; refused, it takes a fraction of a
    # second (the bound is loose so a loaded CI machine cannot make it flaky)
    assert time.monotonic() - start < 20
    message = str(caught.value)
    assert message.startswith("grid.yaml: ") and "alias" in message
    assert len(message.splitlines()) == 1


def test_small_anchors_and_merges_still_work():
    text = "base: &b {C: 1.0, seed: [0, 1]}\nrun1: *b\nrun2: {<<: *b, C: 2.0}\n"
    data = yamlio.parse(text).data
    assert data["run1"] == {"C": 1.0, "seed": [0, 1]}
    assert data["run2"] == {"C": 2.0, "seed": [0, 1]}


def test_oversized_yaml_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("x: " + "a" * (yamlio.MAX_YAML_BYTES + 1) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="larger than"):
        yamlio.load_file(path, "grid file")
    with pytest.raises(ConfigError, match="larger than"):
        yamlio.parse(path.read_text(encoding="utf-8"))


def test_alias_bomb_in_readiness_yaml(project):
    project.config_path.write_text(
        project.config_path.read_text(encoding="utf-8") + _bomb(), encoding="utf-8"
    )
    for command in (("criteria", "validate"), ("check", "--criteria-only")):
        _one_line_error(_run(*command, cwd=project.root, timeout=30), "readiness.yaml", "alias")


def test_alias_bomb_in_params_and_grid_files(project):
    notebook = write_notebook(project.root / "nb.ipynb", "a0 = 1")
    bomb = project.root / "bomb.yaml"
    bomb.write_text(_bomb(), encoding="utf-8")
    done = _run("run", str(notebook), "--params-file", "bomb.yaml", cwd=project.root, timeout=30)
    _one_line_error(done, "bomb.yaml", "alias")
    done = _run("batch", str(notebook), "--grid", "bomb.yaml", cwd=project.root, timeout=30)
    _one_line_error(done, "bomb.yaml", "alias")


# -- item 4: one error path for every file read or written ----------------------------

BINARY = bytes(range(256)) * 4


def test_read_text_file_names_the_file_and_the_reason(tmp_path):
    from readiness.core.fsutil import read_text_file

    (tmp_path / "bin").write_bytes(BINARY)
    with pytest.raises(FileError, match="not UTF-8"):
        read_text_file(tmp_path / "bin", "params file")
    with pytest.raises(FileError, match="is a folder"):
        read_text_file(tmp_path, "params file")
    with pytest.raises(FileError, match="does not exist"):
        read_text_file(tmp_path / "missing", "params file")


def test_binary_files_given_to_commands(project):
    write_notebook(project.root / "nb.ipynb", "x = 1")
    (project.root / "bin.yaml").write_bytes(BINARY)
    for args in (
        ("criteria", "validate", "--file", "bin.yaml"),
        ("criteria", "declare", "--file", "bin.yaml"),
        ("run", "nb.ipynb", "--params-file", "bin.yaml"),
        ("batch", "nb.ipynb", "--grid", "bin.yaml"),
    ):
        _one_line_error(cli(*args, cwd=project.root), "bin.yaml", "not UTF-8")
    # control characters that happen to be valid UTF-8: the YAML reader's refusal, one line
    (project.root / "nul.yaml").write_bytes(b"\x00\x01\x02 not text")
    done = cli("criteria", "validate", "--file", "nul.yaml", cwd=project.root)
    _one_line_error(done, "nul.yaml", "not YAML text")


def test_non_utf8_readiness_yaml(project):
    (project.root / "c.yaml").write_bytes(project.config_path.read_bytes())
    project.config_path.write_bytes("use_case: {name: caf\u00e9}\n".encode("latin-1"))
    for args in (("check",), ("criteria", "validate"), ("criteria", "declare", "--file", "c.yaml")):
        _one_line_error(cli(*args, cwd=project.root), "readiness.yaml", "not UTF-8")


@pytest.mark.parametrize(
    "content",
    [BINARY, b"[1, 2, 3]", b'"a string"', b"{truncated"],
    ids=["binary", "list", "string", "truncated"],
)
def test_unreadable_run_records(project, content):
    run_id = new_run_id()
    project.runs_dir.mkdir(parents=True)
    (project.runs_dir / f"{run_id}.json").write_bytes(content)
    _one_line_error(cli("check", "--run", run_id, cwd=project.root), run_id, "run record")
    _one_line_error(cli("log", "x=1", "--run", run_id, cwd=project.root), run_id, "run record")


def test_write_into_a_folder_that_is_a_file(project):
    # Tests run as root, for whom permission bits do not stop a write. A path whose parent
    # is a regular file fails for root too (ENOTDIR / EEXIST): it stands in for a read-only
    # project. `.readiness` is the state folder every write command writes under.
    state = project.root / ".readiness"
    state.write_text("not a folder\n", encoding="utf-8")
    for args in (("log", "roc_auc=0.9"), ("criteria", "declare", "--file", "readiness.yaml")):
        _one_line_error(cli(*args, cwd=project.root), ".readiness", "not a folder")


def _file_size_limit() -> None:
    # RLIMIT_FSIZE binds root as well: a write past it fails with EFBIG, as on a full
    # disk (ENOSPC). SIGXFSZ is ignored so that the write fails instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))


def test_full_disk_on_write_commands(project, tmp_path):
    record_all(GOOD_EVIDENCE)
    before = {p.name: p.read_bytes() for p in project.runs_dir.glob("*.json")}
    done = _run(
        "log", "recall=0.9", "--run", "latest", cwd=project.root, preexec_fn=_file_size_limit
    )
    _one_line_error(done, "cannot write", ".json", "too large")
    after = {p.name: p.read_bytes() for p in project.runs_dir.glob("*.json")}
    assert after == before  # atomic: the record is untouched, no temporary file left
    assert not list(project.runs_dir.glob(".*.tmp"))
    # a write no helper translates (init copies its templates) still ends as one line, exit 2
    done = _run("init", "fresh", cwd=tmp_path, preexec_fn=_file_size_limit)
    _one_line_error(done, "too large")


def test_drift_negative_seed(project):
    for name in ("ref.csv", "cur.csv"):
        (project.root / name).write_text("a\n1\n2\n3\n", encoding="utf-8")
    done = cli("drift", "ref.csv", "cur.csv", "--sample", "2", "--seed", "-1", cwd=project.root)
    _one_line_error(done, "seed")
