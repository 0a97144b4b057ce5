"""User text in Markdown (pull-request comments, reports) never passes through as HTML."""

from __future__ import annotations

from readiness.render import md, md_code

from .conftest import cli, record_all

IMG = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def test_md_escapes_html_and_table_syntax():
    assert md(IMG) == ESCAPED
    assert md("a | b\nc & d") == "a \\| b c &amp; d"
    assert md(None) == "-"
    assert md_code("x`<b>`\ny") == "`x'<b>' y`"


def test_check_markdown_escapes_use_case_metric_and_reasons(project):
    project.config_path.write_text(
        f"""
use_case: {{name: "{IMG}", owner: "a|b@example.com", business_metric: "x"}}
criteria:
  technical:
    - {{metric: "{IMG}", split: holdout, min: 0.5}}
"""
    )
    record_all({IMG: 0.4})
    project.config_path.write_text(project.config_path.read_text().replace("0.5", "0.45"))
    assert (
        cli("criteria", "amend", "--reason", f"because {IMG} | ok", cwd=project.root).returncode
        == 0
    )
    done = cli("check", "--format", "md", cwd=project.root)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "<img" not in out and ESCAPED in out
    assert f"## {ESCAPED}: **NOT_READY**" in out
    row = next(line for line in out.splitlines() if line.startswith(f"| {ESCAPED} |"))
    assert row.count(" | ") == 4  # five cells: no pipe from user text splits the row
    assert f"because {ESCAPED} \\| ok" in out
