"""A student's day and an instructor's, in JupyterLab in Debian's chromium (driven by Playwright, no download).

The student: JupyterLab on the student bundle, started as `make lab` starts it. A fresh Initialization notebook
opens clean (closing it would not ask to save); Run All goes to the end, each check saying its exercise is not
implemented yet and every demonstration that can run showing its plot; then the student writes exercise 1 right and
exercise 2 wrong, runs their checks and reads the messages on the page; then presses Validate. The menus offer no
formgrader.

The instructor: the formgrader of the graded course (the course `make demo` grades) lists as many submissions as
its assignment table counts and as reports/ holds, each student with a name, and offers Release and Collect.

Screenshots of every step are written to browser-screenshots/ (git ignores it; CI keeps it).
"""

import json
import secrets
import time

import pytest

from idnn.autograde.student_bundle import build_bundle, lab_command

from .conftest import REPO, tool_env
from .test_browser_pages import browser, free_port, jupyter_server, serving  # noqa: F401 (fixtures)
from .test_instructor import reported_students

pytestmark = [pytest.mark.course, pytest.mark.slow]

SCREENSHOTS = REPO / "browser-screenshots"
ASSIGNMENT = "initialization"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

#: JupyterLab settings for the test's server: every cell rendered (the page can be read without scrolling) and no
#: question about news over the page.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}

ZEROS_RIGHT = '''def initialize_parameters_zeros(layers_dims):
    parameters = {}
    L = len(layers_dims) - 1
    for l in range(1, L + 1):
        parameters[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1]))
        parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
    return parameters'''

# The classic slip: uniform draws in [0, 1), all positive.
RANDOM_WRONG = '''def initialize_parameters_random(layers_dims):
    parameters = {}
    L = len(layers_dims) - 1
    for l in range(1, L + 1):
        parameters[f"W{l}"] = np.random.rand(layers_dims[l], layers_dims[l - 1]) * 10
        parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
    return parameters'''


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def student_lab(tmp_path_factory):
    """JupyterLab serving a freshly built student bundle, as `make lab` starts it: (base URL, token, bundle)."""
    root = tmp_path_factory.mktemp("student")
    bundle = build_bundle(root / "bundle", assignments=[ASSIGNMENT])
    settings = root / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    argv, env = lab_command(bundle, port=port, token=token)
    argv += [f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={root / 'workspaces'}",
             "--ServerApp.port_retries=0"]
    with serving(argv, port, token, root / "server.log", env={**tool_env(), **env}) as base:
        yield base, token, bundle


def wait_idle(page, seconds: float = 240) -> None:
    """Until the kernel is idle and no cell waits to run, for three polls in a row."""
    deadline, calm = time.monotonic() + seconds, 0
    while calm < 3:
        assert time.monotonic() < deadline, "the notebook did not finish running"
        time.sleep(0.5)
        idle = page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0 or \
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0
        waiting = page.locator(f"{PANEL} .jp-InputPrompt", has_text="*").count()
        calm = calm + 1 if idle and not waiting else 0


def cell_with(page, text: str):
    return page.locator(f"{PANEL} .jp-Cell", has=page.locator(".cm-content", has_text=text)).first


def outputs_text(cell) -> str:
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def replace_code(page, cell, code: str) -> None:
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def test_a_students_day(browser, student_lab):
    base, token, bundle = student_lab
    notebook = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"  # the server is rooted at the bundle's notebooks/
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        # 1. A fresh notebook opens clean: once the kernel has said who it is, nothing asks to be saved.
        page.goto(f"{base}/lab/tree/{notebook}?token={token}&reset")
        page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=60000)
        wait_idle(page)
        time.sleep(4)
        shoot(page, "student-01-opened")
        assert page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 0, "the notebook opened modified"

        # 2. Run All goes to the end: the checks say what is not done, the demonstrations show what they can.
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        time.sleep(2)
        wait_idle(page)
        shoot(page, "student-02-run-all")
        prompts = page.locator(f"{PANEL} .jp-CodeCell .jp-InputPrompt").all_inner_texts()
        assert prompts and all(any(ch.isdigit() for ch in prompt) for prompt in prompts), prompts  # every cell ran
        page_text = page.locator(PANEL).inner_text()
        not_done = page.locator(f"{PANEL} .jp-OutputArea-output", has_text="ExerciseNotDone: ")
        assert not_done.count() == 5, page_text[-3000:]
        assert "initialize_parameters_zeros is not implemented yet" in page_text
        assert "skipped" in page_text
        assert page.locator(f"{PANEL} .jp-OutputArea-output img").count() >= 1  # the data, plotted
        assert "/checks/" not in page_text and "site-packages" not in page_text  # no checker code on the page

        # 3. Exercise 1 right, exercise 2 wrong: run each with its check, read the messages.
        zeros = cell_with(page, "def initialize_parameters_zeros")
        replace_code(page, zeros, ZEROS_RIGHT)
        page.keyboard.press("Shift+Enter")  # runs the function's cell, moves to its check
        page.keyboard.press("Shift+Enter")  # runs the check
        wait_idle(page)
        zeros_check = cell_with(page, "check_initialize_parameters_zeros(initialize_parameters_zeros)")
        assert "All checks passed for initialize_parameters_zeros." in outputs_text(zeros_check)

        random = cell_with(page, "def initialize_parameters_random")
        replace_code(page, random, RANDOM_WRONG)
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        wait_idle(page)
        random_check = cell_with(page, "check_random_initialization(initialize_parameters_random")
        message = outputs_text(random_check)
        random_check.scroll_into_view_if_needed()
        shoot(page, "student-03-checks")
        assert "CheckFailed" in message and "np.random.rand draws from [0, 1)" in message, message
        assert "use np.random.randn" in message
        assert message.count("Cell In[") == 1 and "File " not in message, message  # not the checker's traceback

        # 4. Validate: nbgrader runs the notebook and reports the checks that fail.
        page.locator(f"{PANEL} .jp-Toolbar-item", has_text="Validate").first.click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=180000)
        dialog.locator(".jp-Dialog-content").wait_for()
        page.wait_for_function(
            "() => !/validating/i.test(document.querySelector('.jp-Dialog')?.innerText || '')", timeout=180000)
        shoot(page, "student-04-validate")
        report = dialog.inner_text()
        assert "failed" in report.lower() or "error" in report.lower(), report
        assert "initialize_parameters_random" in report or "np.random.rand" in report, report
        dialog.locator("button").last.click()

        # 5. No instructor tools: the Nbgrader menu offers no formgrader.
        menu = page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")
        if menu.count():
            menu.first.click()
            items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
            page.keyboard.press("Escape")
            assert not any("Formgrader" in item for item in items), items
    finally:
        context.close()


TABLE_ROWS = "table.table-hover tbody tr"


def wait_for_table(page) -> None:
    """Until the formgrader's table has loaded (it starts with one row saying "Loading, please wait...")."""
    page.wait_for_function(
        f"() => {{ const rows = document.querySelectorAll('{TABLE_ROWS}');"
        f" return rows.length > 0 && !/Loading/.test(rows[0].innerText); }}", timeout=60000)


def test_an_instructors_formgrader_agrees_with_the_report(browser, graded_course, jupyter_server):
    """Manage Assignments counts, Manage Submissions lists and reports/ hold the same submissions, each graded and
    named; no warning about the exchange."""
    base, token = jupyter_server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{base}/formgrader/manage_assignments?token={token}")
        wait_for_table(page)
        shoot(page, "instructor-01-assignments")
        assert page.locator("#warning-exchange").count() == 0  # the warning that hides Release and Collect
        counts = {}
        for row in page.locator(TABLE_ROWS).all():
            cells = row.locator("td").all_inner_texts()
            if len(cells) > 8:
                counts[cells[0].strip()] = int(cells[8])
        assert counts, page.locator("body").inner_text()

        page.goto(f"{base}/formgrader/manage_submissions/{ASSIGNMENT}?token={token}")
        wait_for_table(page)
        shoot(page, "instructor-02-submissions")
        rows = [row.locator("td").all_inner_texts() for row in page.locator(TABLE_ROWS).all()]
        listed = sorted(cells[1].strip() for cells in rows)
        reported = sorted(reported_students(graded_course, ASSIGNMENT))
        assert listed == reported and counts[ASSIGNMENT] == len(reported), (listed, reported, counts)
        assert all(cells[3].strip() == "graded" for cells in rows), rows
        assert not any(cells[0].strip().startswith("None") for cells in rows), rows
    finally:
        context.close()
