"""Factories and dtypes: PyTorch's signatures and defaults, reproducible random numbers."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.tensor.dtypes import as_dtype, promote


def test_shapes_as_varargs_or_a_tuple():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2, 3)).shape == (2, 3)
    assert tg.ones([4]).shape == (4,) and tg.empty(0, 2).shape == (0, 2)
    assert tg.randn(2, 3).shape == (2, 3) and tg.rand((5,)).shape == (5,)
    assert tg.zeros(()).shape == ()


def test_default_dtypes():
    assert tg.zeros(2).dtype == np.float32 and tg.randn(2).dtype == np.float32
    assert tg.arange(5).dtype == np.int64 and tg.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert tg.full((2,), 3).dtype == np.int64 and tg.full((2,), 3.0).dtype == np.float32
    assert tg.full((2,), True).dtype == np.bool_
    assert tg.randint(0, 5, (3,)).dtype == np.int64
    assert tg.zeros(2, dtype=tg.float64).dtype == np.float64


def test_values():
    assert tg.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert tg.arange(3).tolist() == [0, 1, 2]
    assert tg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert tg.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert tg.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    r = tg.randint(3, 6, (200,)).numpy()
    assert r.min() >= 3 and r.max() <= 5
    u = tg.rand(1000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0


def test_like_forms_copy_shape_and_dtype():
    x = tg.ones(2, 3, dtype=tg.float64)
    for f in (tg.zeros_like, tg.ones_like, tg.empty_like, tg.rand_like, tg.randn_like):
        y = f(x)
        assert y.shape == (2, 3) and y.dtype == np.float64
    assert tg.full_like(x, 2.5).tolist() == [[2.5] * 3] * 2
    assert tg.zeros_like(x, dtype=tg.float32).dtype == np.float32
    assert tg.randint_like(tg.zeros(4, dtype=tg.int64), 0, 3).dtype == np.int64


def test_requires_grad_on_factories():
    assert tg.zeros(2, requires_grad=True).requires_grad
    assert tg.randn(2, requires_grad=True).is_leaf
    with pytest.raises(RuntimeError, match="floating-point"):
        tg.arange(3).requires_grad_()


def test_manual_seed_makes_random_factories_reproducible():
    tg.manual_seed(123)
    a = (tg.randn(3).tolist(), tg.rand(2).tolist(), tg.randint(0, 100, (4,)).tolist())
    tg.manual_seed(123)
    b = (tg.randn(3).tolist(), tg.rand(2).tolist(), tg.randint(0, 100, (4,)).tolist())
    assert a == b
    tg.manual_seed(124)
    assert tg.randn(3).tolist() != a[0]


def test_in_place_random_fills_use_the_seed_too():
    tg.manual_seed(7)
    a = tg.empty(3).uniform_(-1, 1).tolist()
    tg.manual_seed(7)
    assert tg.empty(3).uniform_(-1, 1).tolist() == a
    assert all(-1 <= v < 1 for v in a)
    assert tg.zeros(1000).normal_(2.0, 0.1).numpy().mean() == pytest.approx(2.0, abs=0.05)


def test_dtype_names():
    assert tg.float32 == np.float32 and tg.float64 == np.float64 and tg.int64 == np.int64
    assert tg.bool == np.bool_
    assert as_dtype(float) == np.float64 and as_dtype("int32") == np.int32
    with pytest.raises(TypeError, match="not supported"):
        as_dtype(object)


def test_promotion_keeps_floats_over_ints():
    assert promote(np.dtype(np.int64), np.dtype(np.float32)) == np.float32
    assert promote(np.dtype(np.float32), np.dtype(np.float64)) == np.float64
    assert promote(np.dtype(np.bool_), np.dtype(np.int64)) == np.int64


def test_tensor_is_both_a_package_and_a_function():
    import tinygrad_edu.tensor.ops as ops

    assert tg.tensor([1.0]).dtype == np.float32
    assert ops.OPS.add.name == "add"
