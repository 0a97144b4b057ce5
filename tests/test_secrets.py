"""security.secrets: planted credentials in sources, outputs and run records; no false positives.

Every planted value is generated here (format-valid, obviously fake: EXAMPLE inside where
the format allows), so no secret-looking literal is committed.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import string
from pathlib import Path

import nbformat
import pytest

from readiness.checklist.probes import secret_scan
from readiness.checklist.probes.security import find_secrets

from .conftest import TEMPLATES

ALNUM = string.ascii_letters + string.digits


def fake(prefix: str, length: int, alphabet: str = ALNUM, seed: int = 0) -> str:
    """``prefix`` + EXAMPLE + pseudo-random characters, ``length`` characters after prefix."""
    rng = random.Random(f"{prefix}{length}{seed}")
    body = "EXAMPLE" if set("EXAMPLE") <= set(alphabet) else ""
    return prefix + body + "".join(rng.choice(alphabet) for _ in range(length - len(body)))


def b64url(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def noise(size: int, seed: int = 1) -> str:
    """Base64 of random bytes: what an image output holds (high entropy)."""
    return base64.b64encode(random.Random(seed).randbytes(size)).decode()


def secrets_notebook() -> tuple[nbformat.NotebookNode, list[tuple[str, str]]]:
    """A notebook with 23 planted credentials, and (location, type) for each."""
    v4 = nbformat.v4
    expected: list[tuple[str, str]] = []
    nb = v4.new_notebook()

    def code(source: str, outputs: list | None = None, found: list | None = None) -> None:
        cell = v4.new_code_cell(source)
        cell.outputs = outputs or []
        nb.cells.append(cell)
        index = len(nb.cells) - 1
        expected.extend((where.format(c=index), kind) for where, kind in found or [])

    def stream(text: str, name: str = "stdout") -> nbformat.NotebookNode:
        return v4.new_output("stream", name=name, text=text)

    def data(mime: str, value: object) -> nbformat.NotebookNode:
        return v4.new_output("display_data", data={mime: value})

    at = "nb.ipynb cell {c} "
    code(
        "from openai import OpenAI\n"
        f'client = OpenAI(api_key="{fake("sk-proj-", 100, ALNUM + "_-")}")',
        found=[(at + "source line 2", "OpenAI Key")],
    )
    code(
        "from sqlalchemy import create_engine\n"
        f'engine = create_engine("postgresql://analyst:{fake("", 16)}@db.example.com/sales")',
        found=[(at + "source line 2", "Basic Auth")],
    )
    code(
        f'genai.configure(api_key="{fake("AIza", 35)}")\n'
        f'stripe.api_key = "{fake("sk_test_", 24)}"\n'
        'password = "EXAMPLE-hunter2-Pa55w0rd"\n',
        found=[
            (at + "source line 1", "Google API Key"),
            (at + "source line 2", "Stripe Test Key"),
            (at + "source line 3", "Secret Keyword"),
        ],
    )
    code(
        f'HF_TOKEN = "{fake("hf_", 34, string.ascii_letters)}"\n'
        f'PYPI = "{fake("pypi-AgEIcHlwaS5vcmc", 80, ALNUM + "-_")}"\n',
        found=[(at + "source line 1", "Hugging Face Token"), (at + "source line 2", "PyPI")],
    )
    code(
        "print(credentials())",
        [
            stream(
                "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
            ),
            stream(fake("github_pat_11", 20) + "_" + fake("", 59) + "\n"),
            stream(fake("sk-proj-", 120, ALNUM + "_-", seed=2) + "\n"),
            v4.new_output(
                "execute_result", data={"text/plain": repr(fake("ghp_", 36))}, execution_count=1
            ),
            stream(f"token: {fake('hf_', 34, string.ascii_letters, seed=2)}\n", name="stderr"),
        ],
        found=[
            (at + "output 0 line 1", "AWS Access Key"),
            (at + "output 0 line 2", "AWS Access Key"),
            (at + "output 1 line 1", "GitHub Fine-grained Token"),
            (at + "output 2 line 1", "OpenAI Key"),
            (at + "output 3 line 1", "GitHub Token"),
            (at + "output 4 line 1", "Hugging Face Token"),
        ],
    )
    slack = "xoxb-1234567890-1234567890123-" + fake("", 24, string.ascii_lowercase + "0123456789")
    code(
        "connect()",
        [
            stream(f"Using key {fake('AIza', 35, seed=2)}\n"),
            v4.new_output(
                "execute_result",
                data={"text/plain": fake("pypi-AgEIcHlwaS5vcmc", 90, ALNUM, seed=2)},
                execution_count=2,
            ),
            stream(fake("sk_live_", 24) + "\n"),
            stream(
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
            ),
            data("text/html", f"<p>postgresql://admin:{fake('', 14, seed=3)}@10.0.0.5/prod</p>"),
            v4.new_output("error", ename="ValueError", evalue=f"bad token {slack}", traceback=[]),
        ],
        found=[
            (at + "output 0 line 1", "Google API Key"),
            (at + "output 1 line 1", "PyPI"),
            (at + "output 2 line 1", "Stripe Access Key"),
            (at + "output 3 line 1", "Private Key"),
            (at + "output 4 line 1", "Basic Auth"),
            (at + "output 5 line 1", "Slack Token"),
        ],
    )
    jwt = b64url({"alg": "HS256", "typ": "JWT"}) + "." + b64url({"sub": "EXAMPLE"}) + "."
    jwt += fake("", 43, ALNUM + "-_")
    code(
        "tokens()",
        [
            stream(jwt + "\n"),
            stream(f"SENDGRID_API_KEY=SG.{fake('', 22)}.{fake('', 43)}\n"),
            stream(fake("glpat-", 20) + "\n"),
            stream(f"AccountKey={fake('', 86, ALNUM + '+/')}==\n"),
        ],
        found=[
            (at + "output 0 line 1", "JSON Web Token"),
            (at + "output 1 line 1", "SendGrid"),
            (at + "output 2 line 1", "GitLab"),
            (at + "output 3 line 1", "Azure Storage"),
        ],
    )
    return nb, expected


def minified_library(size: int) -> str:
    """Code shaped like minified plotly.js: comparisons with "password" the keyword rule flags."""
    rng = random.Random(size)
    name = lambda: "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 6)))  # noqa: E731
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        parts.append(f'if({name()}==="password"){{{name()}.key={name()}||"{name()}"}}')
    return "".join(parts)


def clean_notebook() -> nbformat.NotebookNode:
    """Images, binary data, Plotly bdata, widget state and placeholders: nothing to find."""
    v4 = nbformat.v4
    bdata = {"dtype": "f8", "bdata": noise(4_000, seed=5)}
    plotly = {"data": [{"type": "scatter", "x": bdata, "y": bdata}], "layout": {}}
    cell = v4.new_code_cell(
        'client = OpenAI(api_key="YOUR_SECRET_HERE")\n'
        'password = "<your-password>"\n'
        'token = "xxxxxxxxxxxxxxxxxxxx"\n'
        'secret = "changeme"\n'
        'db_password = os.environ["DB_PASSWORD"]\n'
        'api_key = "${OPENAI_API_KEY}"\n'
    )
    cell.outputs = [
        v4.new_output("display_data", data={"image/png": noise(200_000), "text/plain": "<Fig>"}),
        v4.new_output("display_data", data={"image/jpeg": noise(50_000, seed=2)}),
        v4.new_output("display_data", data={"application/pdf": noise(30_000, seed=3)}),
        v4.new_output(
            "display_data",
            data={
                "application/vnd.plotly.v1+json": plotly,
                "text/html": f"<script>Plotly.newPlot('x', {json.dumps(plotly)})</script>",
            },
        ),
        v4.new_output(
            "display_data",
            data={"text/html": f'<img src="data:image/png;base64,{noise(20_000, seed=4)}">'},
        ),
        v4.new_output(
            "display_data",
            data={"text/html": f"<div></div><script>{minified_library(300_000)}</script>"},
        ),
        v4.new_output("stream", name="stdout", text="password = changeme\nmd5: " + "a" * 32),
        v4.new_output("stream", name="stdout", text="sha256 " + "0123456789abcdef" * 4 + "\n"),
        v4.new_output(
            "display_data",
            data={"application/vnd.jupyter.widget-view+json": {"model_id": noise(24, seed=6)}},
        ),
    ]
    nb = v4.new_notebook(cells=[cell])
    nb.metadata["widgets"] = {"state": {"blob": noise(10_000, seed=7)}}
    return nb


def write_run_records(root: Path) -> list[tuple[str, str]]:
    runs = root / ".readiness" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    first = {
        "id": "20250101-000000-aaaaaa",
        "params": {
            "hf_token": fake("hf_", 34, string.ascii_letters, seed=9),
            "db_url": f"postgresql://u:{fake('', 12, seed=9)}@host/db",
            "gh": fake("github_pat_11", 20, seed=9) + "_" + fake("", 59, seed=9),
        },
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
    }
    second = {"id": "20250102-000000-bbbbbb", "params": {"stripe": fake("sk_test_", 30)}}
    for record in (first, second):
        (runs / f"{record['id']}.json").write_text(json.dumps(record, indent=2) + "\n")
    one, two = (f".readiness/runs/{r['id']}.json" for r in (first, second))
    return [
        (f"{one}:4", "Hugging Face Token"),
        (f"{one}:5", "Basic Auth"),
        (f"{one}:6", "GitHub Fine-grained Token"),
        (f"{two}:4", "Stripe Test Key"),
    ]


@pytest.fixture
def planted(tmp_path):
    nb, expected = secrets_notebook()
    nbformat.write(nb, tmp_path / "nb.ipynb")
    nbformat.write(clean_notebook(), tmp_path / "clean.ipynb")
    expected += write_run_records(tmp_path)
    shutil.copyfile(TEMPLATES / "readiness.yaml", tmp_path / "readiness.yaml")
    return tmp_path, expected


def test_every_planted_secret_is_found_where_it_is(planted):
    root, expected = planted
    found = find_secrets(root)
    assert len(expected) == 27
    by_place = {f.location: f for f in found}
    for location, kind in expected:
        assert location in by_place, f"missed {location} ({kind}); found: {sorted(by_place)}"
        assert any(kind in t for t in by_place[location].types), (location, by_place[location])
    assert len(found) == 27, [str(f) for f in found]
    assert not [f for f in found if f.path == "clean.ipynb"]


def test_probe_lists_every_finding_and_the_total(planted):
    from readiness.checklist.items import ProbeContext
    from readiness.checklist.probes.security import secrets
    from readiness.core.project import Project

    root, expected = planted
    passed, detail = secrets(ProbeContext(Project(root)))
    assert passed is False
    assert detail.startswith("27 possible credentials: ")
    assert "..." not in detail
    for location, _ in expected:
        assert location in detail


def test_clean_outputs_give_no_finding(tmp_path):
    nbformat.write(clean_notebook(), tmp_path / "clean.ipynb")
    assert find_secrets(tmp_path) == []


def test_an_unchanged_file_is_not_scanned_again(planted):
    root, _ = planted
    first = find_secrets(root)
    cache = json.loads((root / ".readiness" / "cache" / "secrets.json").read_text())
    entry = cache["files"]["nb.ipynb"]
    assert len(entry["findings"]) == 23 and len(entry["sha256"]) == 64
    # a cached result is trusted while the file's hash is unchanged: a doctored entry shows
    # that the second scan read it instead of running the detectors
    entry["findings"] = entry["findings"][:1]
    path = root / ".readiness" / "cache" / "secrets.json"
    path.write_text(json.dumps(cache))
    assert len(find_secrets(root)) == len(first) - 22
    notebook = root / "nb.ipynb"
    notebook.write_text(notebook.read_text().replace("print(credentials())", "print(1)"))
    assert len(find_secrets(root)) == len(first)  # modified: rescanned, the cache corrected
    assert len(json.loads(path.read_text())["files"]["nb.ipynb"]["findings"]) == 23


def test_a_huge_output_is_capped_and_a_long_line_scanned_in_pieces(tmp_path):
    key = fake("AIza", 35)
    v4 = nbformat.v4
    cell = v4.new_code_cell("log()")
    long_line = "x" * (secret_scan.MAX_LINE_CHARS * 3 + 17) + f" {key} "
    past_cap = "y\n" * secret_scan.MAX_OUTPUT_CHARS + key
    cell.outputs = [
        v4.new_output("stream", name="stdout", text=long_line),
        v4.new_output("stream", name="stdout", text=past_cap),
    ]
    nbformat.write(v4.new_notebook(cells=[cell]), tmp_path / "log.ipynb")
    found = find_secrets(tmp_path)
    assert [f.location for f in found] == ["log.ipynb cell 0 output 0 line 1"]


def test_redaction_of_credential_parameters():
    token = fake("ghp_", 36)
    params = {
        "api_key": "short",
        "db_password": 123,
        "HF_TOKEN": "x",
        "url": f"postgresql://u:{fake('', 12)}@h/db",
        "nested": {"a": [token]},
        "alpha": 0.5,
        "data": "data/train.csv",
        "keyword": "churn",
        "missing_token": None,
    }
    redacted = secret_scan.redact_params(params)
    assert redacted == {
        **params,
        "api_key": secret_scan.REDACTED,
        "db_password": secret_scan.REDACTED,
        "HF_TOKEN": secret_scan.REDACTED,
        "url": secret_scan.REDACTED,
        "nested": secret_scan.REDACTED,
    }


def test_a_credential_parameter_is_redacted_in_the_run_record(project):
    from readiness.evidence.runs import read_run
    from readiness.jobs.notebook import prepare_job

    from .conftest import write_notebook

    write_notebook(
        project.root / "notebooks" / "train.ipynb",
        'api_token = ""\ndb_url = ""\nalpha = 0.1',
        "print(alpha)",
    )
    token, url = fake("hf_", 34, string.ascii_letters), f"postgresql://u:{fake('', 12)}@h/db"
    params = {"api_token": token, "db_url": url, "alpha": 0.5}
    spec = prepare_job(project, project.root / "notebooks" / "train.ipynb", params)
    assert spec.params == params  # the notebook still receives the real values
    recorded = read_run(project, spec.run_id)["params"]
    assert recorded == {"api_token": "***redacted***", "db_url": "***redacted***", "alpha": 0.5}
    assert token not in project.runs_dir.joinpath(f"{spec.run_id}.json").read_text()
    assert find_secrets(project.root) == []  # the redacted record is not a finding


def test_check_reports_the_findings_and_fills_the_cache(planted):
    from .conftest import cli

    root, expected = planted
    done = cli("check", "--json", cwd=root)
    assert done.returncode == 1, done.stderr  # NOT_READY, never a crash
    items = {i["id"]: i for i in json.loads(done.stdout)["checklist"]}
    detail = items["security.secrets"]["detail"]
    assert items["security.secrets"]["status"] == "failed"
    assert detail.startswith("27 possible credentials: ")
    assert all(location in detail for location, _ in expected)
    assert (root / ".readiness" / "cache" / "secrets.json").is_file()
