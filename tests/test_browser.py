"""End to end in a real browser: JupyterLab on localhost, Debian's Chromium, Playwright.

The example notebook 02-notebook-widgets.ipynb runs in a temporary project; the test
asserts through the page that each widget renders with the expected content, edits
the criteria form in the page, and saves screenshots (to ``READINESS_SCREENSHOTS``
when set, e.g. docs/img, else to the test's temporary folder).

No browser is downloaded: Playwright drives /usr/bin/chromium (apt install chromium).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import copy_examples, git_init

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "no /usr/bin/chromium: install Debian's chromium (apt-get install chromium) to run the "
        "browser test; CI installs it",
        allow_module_level=True,
    )
playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

NOTEBOOK = "02-notebook-widgets.ipynb"
# Chromium must not reach out: this machine's network is closed, and a test must not depend on it
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,OptimizationGuideModelDownloading,MediaRouter",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
# JupyterLab settings of a fresh, quiet user: no news or update toasts, every cell rendered
# (no windowing: widgets far down the notebook exist in the page, for assertions and shots)
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

KERNEL_IDLE_JS = """() => {
  const app = window.jupyterapp;
  const context = app && app.shell.currentWidget && app.shell.currentWidget.sessionContext;
  const kernel = context && context.session && context.session.kernel;
  return !!(context && context.isReady && kernel && kernel.connectionStatus === 'connected'
            && kernel.status === 'idle');
}"""
ALL_EXECUTED_JS = """(n) => {
  const prompts = [...document.querySelectorAll(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
  return prompts.length === n && prompts.every(p => /^\\[\\d+\\]:$/.test(p.textContent.trim()));
}"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def shots(workdir):
    folder = Path(os.environ.get("READINESS_SCREENSHOTS") or workdir / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def project(workdir):
    """The examples in a git work tree: its root is the project the notebook declares into."""
    root = workdir / "project"
    root.mkdir()
    copy_examples(root)
    git_init(root)
    return root


def _jupyter_env(workdir: Path) -> dict[str, str]:
    """Fresh Jupyter and IPython folders: the user's settings and workspaces stay out."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "JPY_", "IPYTHON", "READINESS_"))
    }
    folders = {}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        folders[name] = workdir / name.lower()
        folders[name].mkdir()
        env[name] = str(folders[name])
    for name, values in LAB_SETTINGS.items():
        path = folders["JUPYTER_CONFIG_DIR"] / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env.update(JUPYTER_PLATFORM_DIRS="0", PYTHONUNBUFFERED="1")
    return env


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


@pytest.fixture(scope="module")
def lab(workdir, project):
    """JupyterLab on a free localhost port; stopped with its kernels afterwards."""
    env = _jupyter_env(workdir)
    runtime = Path(env["JUPYTER_RUNTIME_DIR"])
    token = secrets.token_hex(16)
    log_path = workdir / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",  # a free port, read back from the server's runtime file
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={project}",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run cells, read kernel state
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = None
    try:
        deadline = time.monotonic() + 90
        while base is None:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
            info = runtime / f"jpserver-{server.pid}.json"
            try:
                url = f"http://127.0.0.1:{json.loads(info.read_text())['port']}"
                _get(f"{url}/api/status?token={token}")
                base = url
            except (OSError, ValueError, KeyError, urllib.error.URLError):
                time.sleep(0.2)
        assert b"@jupyter-widgets/jupyterlab-manager" in _get(f"{base}/lab?token={token}")
        yield {"base": base, "token": token, "log": log_path}
    finally:
        _stop(server, base, token, runtime)


def _stop(server: subprocess.Popen, base: str | None, token: str, runtime: Path) -> None:
    if base is not None and server.poll() is None:
        request = urllib.request.Request(
            f"{base}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"}
        )
        try:
            urllib.request.urlopen(request, timeout=10).read()
            server.wait(15)
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            pass
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
    # kernels run in sessions of their own: find leftovers by their connection files
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(runtime).encode() in (proc / "cmdline").read_bytes():
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):
            pass


@pytest.fixture(scope="module")
def page(workdir, lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        # tall enough for the whole form in one picture (JupyterLab scrolls its notebook
        # panel, not the page, so an element screenshot cannot scroll past the viewport)
        context = browser.new_context(viewport={"width": 1500, "height": 2400})
        # nothing but the local server: any other request fails the test at the end
        outside: list[str] = []

        def route(request_route):
            url = request_route.request.url
            if url.startswith((lab["base"], "data:", "blob:", "about:")):
                request_route.continue_()
            else:
                outside.append(url)
                request_route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.set_default_timeout(120_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors, page.outside = errors, outside  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            page.screenshot(path=str(workdir / "last-state.png"))
            browser.close()


def _run_all(page, lab) -> None:
    page.goto(f"{lab['base']}/lab/tree/notebooks/{NOTEBOOK}?token={lab['token']}")
    page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", state="visible")
    page.wait_for_function(KERNEL_IDLE_JS, polling=200)
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").all_inner_texts()
    # the file browser's side panel only narrows the notebook (and the screenshots)
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    cells = page.locator(".jp-NotebookPanel .jp-CodeCell").count()
    # fire and forget: the command's promise can outlive page.evaluate
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(ALL_EXECUTED_JS, arg=cells, polling=500, timeout=300_000)
    page.wait_for_function(KERNEL_IDLE_JS, polling=200)
    failed = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert failed.count() == 0, failed.all_inner_texts()


def test_example_notebook_widgets_in_jupyterlab(page, lab, project, shots):
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # a kernel round trip on a loaded CI machine
    _run_all(page, lab)
    assert "Error displaying widget" not in page.locator(".jp-NotebookPanel").inner_text()

    form = page.locator(".readiness-criteria-form")
    expect(form).to_be_visible()
    expect(form.locator("input").first).to_have_value("breast-cancer-screening")
    rows = form.locator(".readiness-criterion")
    expect(rows).to_have_count(3)
    metrics = [rows.nth(i).locator("input").first.input_value() for i in range(3)]
    assert metrics == ["roc_auc", "recall", "latency_p95_ms"], metrics
    expect(form).to_contain_text("valid: ready to save")
    expect(form).to_contain_text("declared")
    form.screenshot(path=str(shots / "widgets-criteria-form.png"))

    card = page.locator(".readiness-scorecard")
    expect(card).to_contain_text("NOT_READY")
    expect(card).to_contain_text("breast-cancer-screening")
    expect(card.locator(".readiness-category")).to_have_count(5)
    technical = card.locator(".readiness-category").first
    technical.locator("button", has_text="technical").click()
    expect(technical).to_contain_text("technical.registry")
    card.screenshot(path=str(shots / "widgets-scorecard.png"))

    drift = page.locator(".readiness-drift")
    expect(drift).to_contain_text("mean radius")
    expect(drift.locator("tbody tr")).to_have_count(5)
    assert drift.locator("svg").count() == 5  # a distribution picture per column
    drift.locator("button", has_text="column").click()
    expect(drift.locator("tbody tr").first).to_contain_text("worst radius")  # descending names
    drift.locator("button", has_text="score").click()
    # strongest drift first: the rescaled columns drift, the untouched ones do not
    expect(drift.locator("tbody tr").first).to_contain_text("FAIL")
    expect(drift.locator("tbody tr").last).to_contain_text("pass")
    drift.screenshot(path=str(shots / "widgets-drift.png"))
    # evidently's report on request: the kernel runs it on the same frames, then links it
    assert not list((project / "reports").glob("drift-*.html"))
    drift.locator("button", has_text="evidently's full report").click()
    link = drift.locator("a", has_text="drift-")
    expect(link).to_be_visible(timeout=180_000)  # evidently's import alone takes seconds
    expect(drift.locator("button", has_text="evidently's full report")).to_be_hidden()
    report = project / link.inner_text()
    assert report.is_file() and report.stat().st_size > 100_000  # evidently's page, not a stub

    batch = page.locator(".readiness-batch")
    expect(batch).to_contain_text("3/3 done")
    expect(batch).to_contain_text("all succeeded")
    expect(batch.locator("tbody tr")).to_have_count(3)
    batch.screenshot(path=str(shots / "widgets-batch.png"))

    # Edit the form in the page: evidence exists now, so a change needs a reason.
    form.locator("button", has_text="add criterion").click()
    expect(rows).to_have_count(4)  # the kernel added the row
    row = rows.nth(3)
    row.locator("input").nth(0).fill("precision")
    row.locator("input").nth(2).fill("0.9")
    expect(form).to_contain_text("needs an amendment reason")
    expect(form.locator("button", has_text="Save criteria")).to_be_disabled()
    form.locator("input[placeholder='why the criteria change']").fill("precision added at review")
    expect(form.locator("button", has_text="Save criteria")).to_be_enabled()
    form.locator("button", has_text="Save criteria").click()
    expect(form).to_contain_text("amended")
    page.locator(".jp-NotebookPanel").screenshot(path=str(shots / "jupyterlab-notebook.png"))

    text = (project / "readiness.yaml").read_text()
    assert "metric: precision" in text and "min: 0.9" in text
    lock = json.loads((project / ".readiness" / "criteria.lock").read_text())
    assert lock["history"][-1]["event"] == "amended"
    assert lock["history"][-1]["reason"] == "precision added at review"
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    assert not page.outside, page.outside  # type: ignore[attr-defined]
    assert not re.search(r"Traceback", lab["log"].read_text()), lab["log"].read_text()[-3000:]
