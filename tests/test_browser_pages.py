"""A browser opens the hostile `script_pages` submission's feedback page and its formgrader view: nothing runs.

Every payload of the sample (tests/samples/attacks_on_pages.py), if it ran, would push its name onto
`window.__pwned`, set the title to "pwned" and log "pwned:<name>" to the console. The test loads each page in
Debian's chromium (driven by Playwright, no browser download), lets images fail, details open and mouse events
reach every element, and then finds none of those traces, no dialog and no `javascript:` link, while the plain
table and the plots are shown. A first check on a page made to be hostile proves the traces would be seen.

The formgrader is served by a Jupyter server started in the graded course, on a free port of this machine, with
a random token; it is stopped at the end.
"""

import contextlib
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import BIN, tool_env
from .samples import gradient_checking  # noqa: F401 (imports the page attacks in order)
from .samples.attacks_on_pages import PAGE_FILES, PAGE_FILES_SAMPLE, TABLE_CAPTION, js

pytestmark = pytest.mark.grading

STUDENT, ASSIGNMENT, NOTEBOOK = "script_pages", "gradient_checking", "gradient_checking"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
#: What a page must show: the sample's table, and at least its plot (the notebook's own plots are demonstrations,
#: which grading does not run).
PLOTS = 1

#: Run in the page after it loaded: let every element see the mouse, every <details> open (their handlers would
#: fire), and return the traces a payload leaves, in this window and in every frame it can reach.
TRACES = """async () => {
    for (const element of document.querySelectorAll('*')) {
        for (const kind of ['mouseover', 'mouseenter', 'focus']) element.dispatchEvent(new Event(kind));
    }
    for (const details of document.querySelectorAll('details')) details.open = !details.open;
    await new Promise(resolve => setTimeout(resolve, 300));
    const traces = [];
    const windows = [window, ...Array.from(document.querySelectorAll('iframe'), frame => frame.contentWindow)];
    for (const w of windows) {
        try { if (Array.isArray(w.__pwned)) traces.push(...w.__pwned); } catch (e) { /* another origin */ }
    }
    if (document.title === 'pwned') traces.push('title');
    for (const link of document.querySelectorAll('a[href], area[href]')) {
        if (/^\\s*(javascript|vbscript|data):/i.test(link.getAttribute('href'))) traces.push('link ' + link.href);
    }
    return traces;
}"""


def chromium_path() -> str:
    """Debian's chromium, or a failure that says how to install it (the browser tests are never skipped)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed, and the browser tests need it: `apt-get install chromium` "
                    "(`make setup` does it when run as root)")
    return path


@pytest.fixture(scope="module")
def browser():
    """A headless chromium, shared by this module's tests."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: `pip install -e '.[test]'` (`make setup` does it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Visit:
    """One page opened in a fresh context: its console messages, dialogs and the traces left in it."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context()
        self.context.route("**/*", self._local_only)  # a CDN's MathJax would only slow the page down
        self.page = self.context.new_page()
        self.console, self.dialogs = [], []
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.on("dialog", self._dialog)
        self.page.goto(url, wait_until="load")
        self.traces = self.page.evaluate(TRACES)

    @staticmethod
    def _local_only(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "about:", "http://127.0.0.1")):
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def ran(self) -> list[str]:
        """Everything that shows a payload ran."""
        return self.traces + self.dialogs + [text for text in self.console if "pwned" in text]

    def shows_table_and_plots(self) -> bool:
        table = self.page.get_by_text(TABLE_CAPTION, exact=True)
        plots = self.page.locator("img[src^='data:image/png']")
        loaded = plots.evaluate_all("images => images.filter(image => image.naturalWidth > 0).length")
        return table.count() == 1 and table.is_visible() and loaded >= PLOTS

    def close(self) -> None:
        self.context.close()


@pytest.mark.slow
def test_the_traces_would_be_seen(browser, tmp_path):
    """The detector itself: a page whose payloads do run is caught by each of the traces."""
    page = tmp_path / "hostile.html"
    page.write_text(f'<img src="x" onerror="{js("probe")}"><a href="javascript:{js("link")}">x</a>'
                    f'<div onmouseover="alert(1)">y</div>')
    visit = Visit(browser, page.as_uri())
    try:
        assert "probe" in visit.traces and "title" in visit.traces and visit.dialogs == ["1"]
        assert any(trace.startswith("link javascript:") for trace in visit.traces)
        assert "pwned:probe" in visit.console
    finally:
        visit.close()


def test_nothing_runs_in_the_feedback_page(browser, graded_course):
    page = graded_course / "feedback" / STUDENT / ASSIGNMENT / f"{NOTEBOOK}.html"
    visit = Visit(browser, page.as_uri())
    try:
        assert visit.ran() == []
        assert visit.shows_table_and_plots()
    finally:
        visit.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter_server(graded_course, tmp_path_factory):
    """A Jupyter server (with nbgrader's formgrader) in the graded course: its base URL and token."""
    port, token = free_port(), secrets.token_hex(16)
    argv = [str(BIN / "jupyter"), "server", "--no-browser", "--allow-root", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}", f"--ServerApp.root_dir={graded_course}",
            "--ServerApp.port_retries=0"]
    with serving(argv, port, token, tmp_path_factory.mktemp("jupyter") / "server.log", cwd=graded_course) as base:
        yield base, token


@contextlib.contextmanager
def serving(argv: list[str], port: int, token: str, log: Path, cwd: Path | None = None, env: dict | None = None):
    """Run a Jupyter server (`argv`, on 127.0.0.1:`port`, its output in `log`) until the block ends: its base URL."""
    with open(log, "wb") as output:
        server = subprocess.Popen(argv, cwd=cwd, env=env or tool_env(), stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/status?token={token}", server, log)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_up(url: str, server: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the Jupyter server stopped (exit {server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail(f"the Jupyter server did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


def submission_id(course: Path, student: str = STUDENT) -> str:
    from nbgrader.api import Gradebook

    from idnn.autograde.course import gradebook_url

    with Gradebook(gradebook_url(course)) as gradebook:
        return gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).id


def test_nothing_runs_in_the_formgrader_view(browser, graded_course, jupyter_server):
    """The formgrader renders the autograded notebook on the instructor's own origin, where a script is most harmful."""
    base, token = jupyter_server
    visit = Visit(browser, f"{base}/formgrader/submissions/{submission_id(graded_course)}/?token={token}")
    try:
        assert "formgrader" in visit.page.url and visit.page.locator(".nbgrader_cell").count() > 0, visit.page.url
        assert visit.ran() == []
        assert visit.shows_table_and_plots()
    finally:
        visit.close()



def test_a_submissions_page_files_are_served_as_text(browser, graded_course, jupyter_server):
    """The formgrader serves every file of a submission: its HTML, SVG and XHTML pages arrive renamed to .txt."""
    base, token = jupyter_server
    files = f"{base}/formgrader/submissions/{submission_id(graded_course, PAGE_FILES_SAMPLE.student)}"
    for name in PAGE_FILES:
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{files}/{name}?token={token}", timeout=10)
        assert missing.value.code == 404, name
        visit = Visit(browser, f"{files}/{name}.txt?token={token}")
        try:
            assert visit.ran() == [], name
            assert "pwned" in visit.page.content(), f"{name}.txt is shown as text"
        finally:
            visit.close()
