"""Optimal assignment against scipy.optimize.linear_sum_assignment and lap.lapjv."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import linear_sum_assignment as scipy_lsa

from conftest import require
from scratchvision import greedy_assignment, lapjv, linear_sum_assignment


@st.composite
def cost_matrices(draw, square=False, with_inf=True, max_side=9):
    n = draw(st.integers(0, max_side))
    m = n if square else draw(st.integers(0, max_side))
    kind = draw(st.sampled_from(["float", "ties", "negative"]))
    if kind == "float":
        elements = st.floats(0, 1000, allow_nan=False, allow_subnormal=False)
    elif kind == "ties":
        elements = st.integers(0, 3).map(float)
    else:
        elements = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)
    c = draw(hnp.arrays(np.float64, (n, m), elements=elements))
    if with_inf and n and m and draw(st.booleans()):
        mask = draw(hnp.arrays(np.bool_, (n, m), elements=st.booleans()))
        c = np.where(mask & (draw(st.floats(0, 1)) > 0.5), np.inf, c)
    return c


def _check_against_scipy(c, maximize=False):
    try:
        ref_rows, ref_cols = scipy_lsa(c, maximize=maximize)
    except ValueError:
        with pytest.raises(ValueError, match="infeasible"):
            linear_sum_assignment(c, maximize=maximize)
        return
    rows, cols = linear_sum_assignment(c, maximize=maximize)
    assert rows.dtype == np.int64 and cols.dtype == np.int64
    assert len(rows) == len(ref_rows) == min(c.shape)
    assert np.all(np.diff(rows) > 0)  # rows sorted, each once
    assert len(set(cols.tolist())) == len(cols)  # columns once
    total, ref_total = c[rows, cols].sum(), c[ref_rows, ref_cols].sum()
    assert np.isfinite(total)
    assert total == pytest.approx(ref_total, rel=1e-12, abs=1e-9)


@given(c=cost_matrices())
def test_equals_scipy(c):
    _check_against_scipy(c)


@given(c=cost_matrices(square=True, max_side=40))
def test_equals_scipy_square_larger(c):
    """Square finite matrices take the Jonker-Volgenant initialisation first."""
    _check_against_scipy(c)


@given(c=cost_matrices(with_inf=False))
def test_maximize_equals_scipy(c):
    _check_against_scipy(c, maximize=True)


@given(c=cost_matrices(with_inf=False, max_side=6))
def test_integer_ties_against_brute_force(c):
    n, m = c.shape
    rows, cols = linear_sum_assignment(c)
    if min(n, m) == 0:
        assert len(rows) == 0
        return
    if n <= m:
        best = min(sum(c[i, p[i]] for i in range(n)) for p in itertools.permutations(range(m), n))
    else:
        best = min(sum(c[p[j], j] for j in range(m)) for p in itertools.permutations(range(n), m))
    assert c[rows, cols].sum() == pytest.approx(best)


def test_scipy_docstring_example_and_known_pairs():
    rows, cols = linear_sum_assignment(np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]]))
    np.testing.assert_array_equal(rows, [0, 1, 2])
    np.testing.assert_array_equal(cols, [1, 0, 2])


@pytest.mark.parametrize("shape", [(0, 0), (0, 5), (5, 0)])
def test_empty(shape):
    rows, cols = linear_sum_assignment(np.zeros(shape))
    assert rows.shape == cols.shape == (0,)
    total, x, y = lapjv(np.zeros(shape), extend_cost=True)
    assert total == 0 and x.shape == (shape[0],) and y.shape == (shape[1],)


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((2, 2, 2)), [[1.0, np.nan]], [[1.0, -np.inf]],
                                 [[np.inf, np.inf], [1.0, 2.0]]])
def test_bad_input_gets_scipys_message(bad):
    """Code that matches SciPy's error messages keeps working: ours start with SciPy's own words
    (taken from the live SciPy) and go on to name the argument."""
    with pytest.raises(ValueError) as scipy_error:
        scipy_lsa(bad)
    with pytest.raises(ValueError, match=re.escape(str(scipy_error.value))):
        linear_sum_assignment(bad)


def test_non_numeric_matrix_is_a_type_error():
    with pytest.raises(TypeError, match="numeric"):
        linear_sum_assignment(np.array([["a"]]))
    with pytest.raises(TypeError):  # as SciPy's
        scipy_lsa(np.array([["a"]]))


@pytest.mark.parametrize("c", [[[np.inf, np.inf], [1.0, 2.0]], [[np.inf, 1.0], [np.inf, 2.0]],
                               [[np.inf, 1.0, 4.0], [np.inf, 2.0, 3.0], [np.inf, np.inf, 7.0]]])
def test_lapjv_infeasible_returns_inf_as_lap(c):
    """lap returns (inf, x, y) for a matrix with no complete assignment off the forbidden pairs:
    so does ours, with x and y a complete assignment using as few forbidden pairs as possible."""
    lap = require("lap")
    c = np.array(c)
    ref_total, ref_x, _ = lap.lapjv(c)
    total, x, y = lapjv(c)
    assert total == ref_total == np.inf
    assert sorted(x) == sorted(ref_x) == list(range(len(c))) and (y[x] == np.arange(len(c))).all()
    fewest = min(int(np.isinf(c[np.arange(len(c)), p]).sum()) for p in itertools.permutations(range(len(c))))
    assert np.isinf(c[np.arange(len(c)), x]).sum() == fewest


def test_lapjv_return_cost_as_lap():
    lap = require("lap")
    c = np.array([[1.0, 2.0], [1.0, 3.0]])
    x, y = lapjv(c, return_cost=False)
    ref_x, ref_y = lap.lapjv(c, return_cost=False)
    np.testing.assert_array_equal(x, ref_x)
    np.testing.assert_array_equal(y, ref_y)


def _lapjv_reference(c, cost_limit):
    """SciPy on lap's augmented matrix: slack rows/columns at cost_limit / 2, zeros between."""
    n, m = c.shape
    big = np.full((n + m, n + m), cost_limit / 2.0)
    big[n:, m:] = 0
    big[:n, :m] = c
    r, k = scipy_lsa(big)
    return big[r, k].sum()


@given(c=cost_matrices(with_inf=False), limit=st.floats(0.01, 2000))
def test_lapjv_cost_limit_equals_scipy_on_augmented_matrix(c, limit):
    total, x, y = lapjv(c, extend_cost=True, cost_limit=limit)
    ref_total = _lapjv_reference(c, limit)
    pairs = {(i, j) for i, j in enumerate(x) if j >= 0}
    n_unmatched = (x < 0).sum() + (y < 0).sum()
    assert total + limit / 2 * n_unmatched == pytest.approx(ref_total, rel=1e-12, abs=1e-9)
    assert all(c[i, j] <= limit for i, j in pairs)
    for i, j in pairs:
        assert y[j] == i


@given(shape=st.tuples(st.integers(1, 12), st.integers(1, 12)), seed=st.integers(0, 2**32 - 1),
       limit=st.one_of(st.just(np.inf), st.floats(0.01, 1.5)))
def test_lapjv_equals_lap(shape, seed, limit):
    """The live reference ByteTrack and SORT call: lap.lapjv(extend_cost=True, cost_limit).

    Continuous random costs (no ties), so the optimum is unique and the pairs must agree.
    """
    lap = require("lap")
    c = np.random.default_rng(seed).random(shape)
    ours_total, x, y = lapjv(c, extend_cost=True, cost_limit=limit)
    _, ref_x, ref_y = lap.lapjv(c, extend_cost=True, cost_limit=limit)
    ref_total = sum(c[i, j] for i, j in enumerate(ref_x) if j >= 0)
    np.testing.assert_array_equal(x, ref_x)
    np.testing.assert_array_equal(y, ref_y)
    assert ours_total == pytest.approx(ref_total, rel=1e-12, abs=1e-9)


def test_lapjv_square_rule():
    with pytest.raises(ValueError, match="must be square"):
        lapjv(np.zeros((2, 3)))
    total, x, y = lapjv(np.array([[1.0, 5.0], [5.0, 1.0]]), cost_limit=0.5)
    assert total == 0 and (x == -1).all() and (y == -1).all()


@given(c=cost_matrices(max_side=7), limit=st.floats(0, 1000))
def test_greedy_against_loop(c, limit):
    rows, cols = greedy_assignment(c, cost_limit=limit)
    taken_r, taken_c, pairs = set(), set(), []
    for flat in np.argsort(c.ravel(), kind="stable"):
        i, j = divmod(int(flat), c.shape[1])
        if c[i, j] <= limit and i not in taken_r and j not in taken_c:
            taken_r.add(i)
            taken_c.add(j)
            pairs.append((i, j))
    assert sorted(pairs) == list(zip(rows.tolist(), cols.tolist()))


@pytest.mark.parametrize("kind", ["tenths", "huge", "integers"])
def test_rounding_ties_terminate_and_stay_optimal(kind):
    """Floating-point ties once made Jonker-Volgenant's row reduction cycle; 3000 matrices each."""
    rng = np.random.default_rng(7)
    for _ in range(3000):
        n = int(rng.integers(1, 10))
        if kind == "tenths":
            c = np.round(rng.random((n, n)), 1)
        elif kind == "huge":
            c = rng.choice([0.0, 1e-300, 5e-324, 1e300, -1e300], (n, n))
        else:
            c = rng.integers(-2, 3, (n, n)).astype(float) * 1e6
        rows, cols = linear_sum_assignment(c)
        ref = scipy_lsa(c)
        assert c[rows, cols].sum() == pytest.approx(c[ref].sum(), rel=1e-12, abs=1e-9)


def test_kernel_is_callable_from_numba():
    """Trackers call the solver from inside their own kernels."""
    from scratchvision._jit import kernel
    from scratchvision.assignment.lsa import lsa_kernel

    @kernel
    def solve(c):
        rows = np.empty(min(c.shape), np.int64)
        cols = np.empty(min(c.shape), np.int64)
        status = lsa_kernel(c, False, rows, cols)
        return status, cols

    status, cols = solve(np.array([[4.0, 1, 3], [2, 0, 5], [3, 2, 2]]))
    assert status == 0
    np.testing.assert_array_equal(cols, [1, 0, 2])
