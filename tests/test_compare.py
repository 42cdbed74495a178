"""One comparator (idnn.checks.compare) and one statistics module (idnn.checks.stats) for both sides."""

import math
import re

import numpy as np
import pytest

from idnn.checks import compare, stats

from .conftest import REPO

pytestmark = pytest.mark.grading


def test_first_difference_names_the_shape_the_dtype_or_the_first_differing_value():
    expected = np.zeros((2, 3))
    assert compare.first_difference(expected.copy(), expected) is None
    assert compare.first_difference(np.zeros((3, 2)), expected) == "shape (3, 2), expected (2, 3)"
    assert compare.first_difference(np.zeros((2, 3), dtype=np.int64), expected) == \
        "dtype int64, expected float values like float64"
    wrong = expected.copy()
    wrong[1, 2], wrong[1, 0] = 0.5, 1e-9
    assert compare.first_difference(wrong, expected, rtol=0.0, atol=0.0) == \
        "2 of 6 values differ; first at index (1, 0): got 1e-09, expected 0.0"
    assert compare.first_difference(wrong, expected) == \
        "1 of 6 values differ; first at index (1, 2): got 0.5, expected 0.0"
    assert compare.first_difference(0.25, 0.5) == "got 0.25, expected 0.5"
    assert compare.first_difference(np.array(["a", "b"]), np.array(["a", "c"])) == "['a', 'b'], expected ['a', 'c']"
    assert compare.first_difference([[1.0], [2.0, 3.0]], expected).startswith("a list that is not an array")


def test_the_rule_nan_infinity_and_exact_integers():
    assert compare.close(np.array([np.nan, np.inf, 1.0]), np.array([np.nan, np.inf, 1.0 + 1e-9]))
    assert compare.equal(np.array([np.nan, -np.inf]), np.array([np.nan, -np.inf]))
    assert not compare.close(np.array([np.inf]), np.array([1e300]))
    assert not compare.equal(np.array([2 ** 60]), np.array([2 ** 60 + 1]))  # no rounding through floats
    assert compare.equal(np.array([True, False]), np.array([1, 0]))           # booleans are integers
    assert compare.close(1.0 + 2e-5, 1.0, rtol=1e-4) and not compare.close(1.0 + 2e-5, 1.0)


def test_dict_difference_names_the_key():
    expected = {"dW1": np.ones((2, 2)), "db1": np.zeros((2, 1))}
    assert compare.dict_difference({**expected, "extra": 1}, expected, "v") is None
    assert compare.dict_difference([1], expected, "v") == "v should be a dict; got a list"
    assert compare.dict_difference({"dW1": np.ones((2, 2))}, expected, "v") == "v has no 'db1' (it has ['dW1'])"
    assert compare.dict_difference({"dW1": np.ones((2, 2)), "db1": np.ones((2, 1))}, expected, "v") == \
        "v['db1']: 2 of 2 values differ; first at index (0, 0): got 1.0, expected 0.0"


def test_gradient_check_difference():
    assert compare.gradient_check_difference(3e-9, 5e-8) is None          # both round-off
    assert compare.gradient_check_difference(2e-7, 5e-8).startswith("difference 2e-07, expected a round-off")
    assert compare.gradient_check_difference(0.30002, 0.3) is None
    assert compare.gradient_check_difference(0.30002, 0.3, rtol=1e-5) == "difference 0.30002, expected 0.3"
    assert compare.gradient_check_difference(np.nan, 0.3) == "the difference is nan"
    assert compare.gradient_check_difference(np.zeros(2), 0.3).startswith("the difference should be one number")


def test_spread_tolerances_are_standard_errors():
    n, sigma = 150_000, 0.08
    one, two = stats.spread_within(sigma, n), stats.spread_within(sigma, n, draws=2)
    assert one.mean == pytest.approx(6 * sigma / math.sqrt(n))
    assert two.mean == pytest.approx(6 * sigma * math.sqrt(2 / n))
    assert two.std == pytest.approx(6 * sigma / math.sqrt(n))
    assert one.kurtosis == stats.KURTOSIS_FLOOR == 0.3
    assert stats.spread_within(sigma, 2_000, draws=2).kurtosis is None
    assert stats.spread_within(sigma, 20_000, draws=2).kurtosis == pytest.approx(max(0.3, 6 * math.sqrt(48 / 20_000)))


def test_spread_difference_reports_the_first_statistic_out_of_tolerance():
    rng = np.random.default_rng(0)
    normal = stats.spread(rng.standard_normal(100_000))
    within = stats.spread_within(1.0, normal.n)
    assert stats.spread_difference(normal, 0.0, 1.0, 3.0, within) is None
    assert stats.spread_difference(stats.spread(rng.random(100_000)), 0.0, 1.0, 3.0, within).statistic == "mean"
    assert stats.spread_difference(stats.spread(2 * rng.standard_normal(100_000)), 0.0, 1.0, 3.0,
                                   within).statistic == "standard deviation"
    uniform = stats.spread((rng.random(100_000) - 0.5) * math.sqrt(12))
    stray = stats.spread_difference(uniform, 0.0, 1.0, 3.0, within)
    assert stray.statistic == "kurtosis" and stray.got == pytest.approx(1.8, abs=0.05)
    assert stats.spread(np.full(10, 2.0)).kurtosis is None


COMPARING = re.compile(r"\bnp\.(allclose|isclose|array_equal|testing)\b")


def test_every_value_is_compared_by_compare_py():
    """No visible check and no verdict compares values on its own: they call idnn.checks.compare (and stats)."""
    files = sorted((REPO / "utils" / "checks").glob("*.py")) + [REPO / "utils" / "autograde" / "verdicts.py"]
    own = {f.name: COMPARING.findall(f.read_text()) for f in files if f.name != "compare.py"}
    assert not {name: found for name, found in own.items() if found}
