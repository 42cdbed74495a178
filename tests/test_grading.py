"""The grading machinery: probes, comparisons, reference runs, and what stock nbgrader gets wrong."""

import shutil

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from idnn import probe as probe_module
from idnn.autograde.preprocessors import rewrite_outputs
from idnn.autograde.reference import definitions, hidden_code
from idnn.autograde.verdicts import Verdict, compare, judge, load_student_results
from idnn.probe import Probe

from .conftest import nbgrader, reference_of, released_course, scores_of, write_samples

pytestmark = pytest.mark.grading


def record_in(tmp_path, monkeypatch, seed=7):
    monkeypatch.setenv(probe_module.PROBE_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(probe_module.PROBE_SEED_ENV, str(seed))


# -- the probe, inside the kernel ------------------------------------------------------------------

def test_probe_saves_plain_arrays_and_keeps_errors(tmp_path, monkeypatch):
    record_in(tmp_path, monkeypatch)
    with Probe("demo") as probe:
        probe.call("ok", lambda n: {"W1": np.ones((n, 2)), "b1": np.zeros((n, 1))}, 3)
        probe.call("boom", lambda: 1 / 0)
    results = load_student_results(tmp_path / "demo.npz")
    assert set(results.arrays) == {"ok/__keys__", "ok/W1", "ok/b1"}
    assert results.errors == {"boom": "ZeroDivisionError: division by zero"}


def test_probe_refuses_objects_that_are_not_plain_numbers(tmp_path, monkeypatch):
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    record_in(tmp_path, monkeypatch)
    with Probe("demo") as probe:
        probe.record("object", AlwaysEqual())
        probe.record("object array", np.array([AlwaysEqual()], dtype=object))
    results = load_student_results(tmp_path / "demo.npz")
    assert "AlwaysEqual" in results.errors["object"] and "dtype object" in results.errors["object array"]
    assert not results.arrays


def test_probe_swallows_a_failing_check_in_the_kernel_and_reports_it(tmp_path, monkeypatch):
    record_in(tmp_path, monkeypatch)
    with Probe("demo"):
        undefined_function()  # noqa: F821 (a student renamed the function)
    results = load_student_results(tmp_path / "demo.npz")
    assert "NameError" in results.errors["(check)"]


def test_probe_without_a_grading_directory_saves_nothing_and_raises(tmp_path, monkeypatch):
    monkeypatch.delenv(probe_module.PROBE_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ZeroDivisionError):
        with Probe("demo") as probe:
            probe.call("value", lambda: 3)
            1 / 0
    assert list(tmp_path.iterdir()) == []


def test_inputs_depend_on_the_grading_seed_only():
    def draw(probe):
        probe.record("sizes", np.array(probe.integers(1, 1000, size=5)))

    same = [reference_of("c", draw, seed=1)[0].arrays["sizes"] for _ in range(2)]
    other = reference_of("c", draw, seed=2)[0].arrays["sizes"]
    np.testing.assert_array_equal(same[0], same[1])
    assert not np.array_equal(same[0], other)


# -- comparing outside the kernel --------------------------------------------------------------

def test_compare_says_what_differs():
    ref = np.zeros((2, 3))
    assert compare("W", ref.copy(), ref, "allclose") is None
    assert compare("W", np.zeros((3, 2)), ref, "allclose") == "shape (3, 2), expected (2, 3)"
    assert "dtype int64, expected float" in compare("W", np.zeros((2, 3), dtype=np.int64), ref, "allclose")
    wrong = ref.copy()
    wrong[1, 2] = 0.5
    assert compare("W", wrong, ref, "allclose") == "1 of 6 values differ; first at index (1, 2): got 0.5, expected 0.0"
    assert compare("W", None, ref, "allclose") == "no value was recorded"
    assert compare("W", np.zeros((2, 3)) + 1e-9, ref, "exact").startswith("6 of 6 values differ")


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=6),
                  elements=st.floats(-1e6, 1e6, allow_nan=False)), st.data())
def test_allclose_accepts_equal_arrays_and_rejects_any_visible_change(array, data):
    assert compare("x", array.copy(), array, "allclose") is None
    index = data.draw(st.tuples(*[st.integers(0, n - 1) for n in array.shape])) if array.ndim else ()
    changed = array.copy()
    changed[index] += 1e-3 * max(1.0, abs(array[index]))
    assert compare("x", changed, array, "allclose") is not None


@pytest.mark.parametrize("seed", range(10))
def test_spread_accepts_another_draw_from_the_same_distribution(seed):
    rng = np.random.default_rng(seed)
    ref, got = rng.standard_normal((500, 300)) * 0.08, rng.standard_normal((500, 300)) * 0.08
    assert compare("W", got, ref, "spread") is None


@pytest.mark.parametrize("got, problem", [
    (np.random.default_rng(1).random((500, 300)) * 0.08, "mean"),
    ((np.random.default_rng(1).random((500, 300)) - 0.5) * 0.08 * 12 ** 0.5, "uniform instead of normal"),
    (np.random.default_rng(1).standard_normal((500, 300)) * 0.06, "standard deviation"),
    (np.random.default_rng(1).standard_normal((300, 500)) * 0.08, "shape"),
])
def test_spread_rejects_a_different_distribution(got, problem):
    ref = np.random.default_rng(0).standard_normal((500, 300)) * 0.08
    assert problem in compare("W", got, ref, "spread")


def test_judge_reports_missing_results_and_raised_errors(tmp_path, monkeypatch):
    def body(probe):
        probe.call("case", lambda: np.arange(3.0))

    reference = reference_of("judged", body)
    verdict = judge(reference, tmp_path)
    assert not verdict.passed and "no results were recorded" in verdict.problems[0]

    record_in(tmp_path, monkeypatch)
    with Probe("judged") as probe:
        probe.call("case", lambda: (_ for _ in ()).throw(ValueError("bad shape")))
    verdict = judge(reference, tmp_path)
    assert verdict.problems == ["case [<lambda>()]: your code raised ValueError: bad shape"]


def test_unreadable_or_pickled_results_are_refused(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    assert "could not be read" in load_student_results(tmp_path / "junk.npz").unreadable
    np.savez(tmp_path / "pickled.npz", value=np.array([{"a": 1}], dtype=object))
    assert "could not be read" in load_student_results(tmp_path / "pickled.npz").unreadable


def test_rewritten_outputs_keep_text_drop_tracebacks_and_never_look_like_partial_credit():
    cell = nbformat.v4.new_code_cell("check()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="All checks passed.\n"),
        nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1),
    ]
    rewrite_outputs(cell, Verdict(passed=True, compared=3, problems=[]))
    assert [o.output_type for o in cell.outputs] == ["stream", "display_data", "stream"]
    assert all(o.get("name") != "stderr" for o in cell.outputs)
    assert "RuntimeWarning" in cell.outputs[0].text

    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="W1 shape",
                                           traceback=["secret hidden line"])]
    errors = rewrite_outputs(cell, Verdict(passed=False, compared=1, problems=["x: differs"]))
    assert errors == ["AssertionError: W1 shape"]
    assert [o.ename for o in cell.outputs] == ["VisibleCheckFailed", "HiddenCheckFailed"]
    assert "secret" not in str(cell.outputs)


# -- the reference run ----------------------------------------------------------------------------

def test_reference_keeps_definitions_only():
    source = "%matplotlib inline\nimport numpy as np\nX = train()\ndef f(x):\n    return x\nclass C: pass\nplot(X)\n"
    kept = definitions(source)
    assert "import numpy as np" in kept and "def f(x):" in kept and "class C" in kept
    assert "train()" not in kept and "plot" not in kept and "matplotlib" not in kept


def test_hidden_code_is_what_lies_between_the_markers():
    source = "visible()\n### BEGIN HIDDEN TESTS\nsecret(1)\nsecret(2)\n### END HIDDEN TESTS\nafter()"
    assert hidden_code(source) == "secret(1)\nsecret(2)"


# -- against stock nbgrader -----------------------------------------------------------------------

STOCK_CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "stock"\n'


def test_stock_nbgrader_is_fooled_where_ours_is_not(tmp_path, graded_course):
    """The cheats are real: stock nbgrader gives them full marks. A stderr warning costs a correct answer there."""
    course = released_course(tmp_path / "stock", config=STOCK_CONFIG, assignments=["initialization"])
    write_samples(course, ["initialization"])
    for folder in (course / "submitted").iterdir():
        if folder.name not in ("cheater", "alternative"):
            shutil.rmtree(folder)
    nbgrader("autograde", "initialization", "--force", cwd=course)
    stock, ours = scores_of(course), scores_of(graded_course)

    for cheated in ("test_init_zeros", "test_init_he", "test_init_glorot"):
        assert stock["cheater"][cheated] == 2, f"stock nbgrader was not fooled on {cheated}; the cheat is not real"
        assert ours["cheater"][cheated] == 0
    assert stock["alternative"]["test_init_zeros"] == 0, "stock nbgrader should zero a cell that wrote to stderr"
    assert ours["alternative"]["test_init_zeros"] == 2
