"""The strategies stay off kinks and singular points, yet reach both sides of each, close up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given, settings

from tinygrad_edu import Value
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.testing import strategies as tst

SEARCH = settings(max_examples=2000, database=None)
CLOSE = 0.01  # "close to the kink": within 10 margins of it


def test_nonzero_reaches_both_sides_of_zero_close_up():
    assert 0 < find(tst.nonzero(), lambda x: 0 < x < CLOSE, settings=SEARCH) < CLOSE
    assert -CLOSE < find(tst.nonzero(), lambda x: -CLOSE < x < 0, settings=SEARCH) < 0
    assert find(tst.nonzero(), lambda x: x > 5, settings=SEARCH) > 5
    assert find(tst.nonzero(), lambda x: x < -5, settings=SEARCH) < -5


@given(tst.nonzero())
def test_nonzero_never_comes_within_the_margin(x):
    assert abs(x) > tst.MARGIN


def test_away_from_several_points_reaches_between_and_beyond_them():
    strategy = tst.away_from(-1.0, 1.0)
    sides = [(-1.0 - CLOSE, -1.0), (-1.0, -1.0 + CLOSE), (1.0 - CLOSE, 1.0), (1.0, 1.0 + CLOSE)]
    for lo, hi in sides:
        x = find(strategy, lambda x, lo=lo, hi=hi: lo < x < hi, settings=SEARCH)
        assert lo < x < hi


@given(tst.away_from(-1.0, 1.0, margin=0.1))
def test_away_from_respects_a_wider_margin(x):
    assert abs(x - 1.0) > 0.1 and abs(x + 1.0) > 0.1


def test_positive_reaches_close_to_zero_and_far_from_it():
    assert find(tst.positive(), lambda x: x < CLOSE, settings=SEARCH) < CLOSE
    assert find(tst.positive(), lambda x: x > 5, settings=SEARCH) > 5


@given(tst.positive())
def test_positive_stays_above_the_margin(x):
    assert x > tst.MARGIN


def test_distinct_pairs_come_in_both_orders_and_close_together():
    a, b = find(tst.distinct(2), lambda p: 0 < p[1] - p[0] < CLOSE, settings=SEARCH)
    assert 0 < b - a < CLOSE
    a, b = find(tst.distinct(2), lambda p: 0 < p[0] - p[1] < CLOSE, settings=SEARCH)
    assert 0 < a - b < CLOSE


@given(tst.distinct(3))
def test_distinct_values_are_never_tied(xs):
    assert min(abs(a - b) for i, a in enumerate(xs) for b in xs[i + 1:]) > tst.MARGIN


@given(tst.values(tst.positive()))
def test_values_are_fresh_value_inputs(v):
    assert isinstance(v, Value) and v.op == "" and v.grad == 0.0 and v.data > 0


def test_shapes_include_scalars_empty_and_size_one():
    assert find(tst.shapes(), lambda s: s == (), settings=SEARCH) == ()
    assert 0 in find(tst.shapes(), lambda s: 0 in s, settings=SEARCH)
    assert find(tst.shapes(), lambda s: len(s) >= 2 and 1 in s, settings=SEARCH)


@given(tst.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)


def test_broadcastable_shapes_differ_in_rank_and_stretch_size_one_dims():
    a, b = find(tst.broadcastable_shapes(2), lambda s: len(s[0]) != len(s[1]), settings=SEARCH)
    assert len(a) != len(b)
    a, b = find(tst.broadcastable_shapes(2, min_side=1),
                lambda s: len(s[0]) == len(s[1]) and any(
                    x == 1 and y > 1 for x, y in zip(*s)), settings=SEARCH)
    assert np.broadcast_shapes(a, b) != a


@given(tst.matmul_shapes())
def test_matmul_shapes_multiply(shapes):
    a, b = shapes
    np.matmul(np.zeros(a), np.zeros(b))


def test_matmul_shapes_include_vectors_and_batches():
    assert find(tst.matmul_shapes(), lambda s: len(s[0]) == 1, settings=SEARCH)
    assert find(tst.matmul_shapes(), lambda s: len(s[1]) == 1, settings=SEARCH)
    assert find(tst.matmul_shapes(), lambda s: len(s[0]) >= 3, settings=SEARCH)


@given(tst.arrays(shape=tst.shapes(max_side=3), distinct=True))
def test_distinct_arrays_have_no_near_ties(a):
    assert a.dtype == np.float64
    flat = np.sort(a.reshape(-1))
    assert flat.size < 2 or np.min(np.diff(flat)) > tst.MARGIN


@settings(max_examples=20)
@given(tst.arrays(shape=(3,), elements=tst.nonzero()))
def test_array_elements_follow_their_domain(a):
    assert a.shape == (3,) and np.all(np.abs(a) > tst.MARGIN)


@settings(max_examples=20)
@given(tst.tensors(shape=tst.shapes(max_side=3), elements=tst.positive()))
def test_tensors_are_float64_leaves_that_require_grad(t):
    assert isinstance(t, Tensor) and t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert np.all(t.numpy() > tst.MARGIN)


@settings(max_examples=10)
@given(tst.tensors(shape=(2,), dtype=np.float32, requires_grad=False))
def test_tensors_take_a_dtype_and_requires_grad(t):
    assert t.dtype == np.float32 and not t.requires_grad


def test_without_hypothesis_the_import_says_what_to_install(monkeypatch):
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, "hypothesis", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "tinygrad_edu.testing.strategies")
    with pytest.raises(ImportError, match=r"pip install 'tinygrad-edu\[testing\]'"):
        importlib.import_module("tinygrad_edu.testing.strategies")
    monkeypatch.undo()
    importlib.import_module("tinygrad_edu.testing.strategies")
