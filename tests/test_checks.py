"""The assertion helpers behind the visible tests."""
import numpy as np
import pytest

from attentionlab import checks


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(AssertionError, match=r"\(2, 3\).*\(3, 2\)"):
        checks.shape(np.zeros((2, 3)), (3, 2), "x")
    checks.shape(np.zeros((3, 2)), (3, 2), "x")


def test_close_names_matching_mistake():
    with pytest.raises(AssertionError, match="Divide"):
        checks.close([2.0], [1.0], "w", mistakes={"Divide by two.": [2.0]})
    with pytest.raises(AssertionError, match="largest difference 2"):
        checks.close([3.0], [1.0], "w", mistakes={"Divide by two.": [2.0]})
    checks.close([1.0 + 1e-9], [1.0], "w")


def test_close_accepts_float32_rounding_and_nothing_coarser():
    expected = np.linspace(-50, 50, 101)
    checks.close(expected.astype(np.float32), expected, "float32 copy")
    checks.close(expected * (1 + 8e-6), expected, "a few float32 operations off")
    with pytest.raises(AssertionError, match="largest difference"):
        checks.close(expected * (1 + 1e-3), expected, "a real error")
    with pytest.raises(AssertionError):
        checks.close([np.inf], [-np.inf], "w")


def test_close_rejects_nan():
    with pytest.raises(AssertionError):
        checks.close([np.nan], [1.0], "w")


def test_rows_sum_to_one():
    checks.rows_sum_to_one(np.full((2, 4), 0.25))
    with pytest.raises(AssertionError, match="softmax over the keys \\(the last axis"):
        checks.rows_sum_to_one(np.full((2, 4), 0.5))
    with pytest.raises(AssertionError, match="negative"):
        checks.rows_sum_to_one(np.array([[1.5, -0.5]]))


def test_finite():
    with pytest.raises(AssertionError, match="NaN"):
        checks.finite(np.array([np.inf]), "p", "Subtract the maximum.")
