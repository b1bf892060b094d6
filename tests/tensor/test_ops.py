"""The op table and `apply`, the entry point every op (built-in or user-defined) goes through."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.autograd import topological_order
from tinygrad_edu.tensor import OPS, Op, apply, make_op
from tinygrad_edu.tensor.ops import sum_to

SQUARE = make_op("square", lambda a: a * a, lambda g, out, a: 2 * g * a)
SCALE = make_op("scale", lambda a, k: a * k, lambda g, out, a, k: g * k)


def test_every_primitive_has_one_rule_per_input_and_a_name():
    for name, op in vars(type(OPS)).items():
        if isinstance(op, Op):
            assert op.name and callable(op.forward)
            if op.reads is not None and name != "cat":
                assert len(op.reads) == len(tuple(op.vjps))


def test_reads_lists_the_values_each_rule_uses():
    assert OPS.add.reads == (frozenset(), frozenset())
    assert OPS.mul.reads == (frozenset({2}), frozenset({1}))  # d/da reads b; d/db reads a
    assert OPS.exp.reads == (frozenset({0}),)  # its output
    assert SQUARE.reads == (frozenset({1}),)


def test_a_user_op_built_with_apply_is_an_ordinary_node():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = apply(SQUARE, (x,))
    assert y.grad_fn.op is SQUARE and y.parents == (x,) and y.op == "square"
    (y * 2).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0, 12.0]


def test_constants_are_passed_after_the_inputs():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = apply(SCALE, (x,), (3.0,))
    assert y.tolist() == [3.0, 6.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_user_op_rules_run_on_tensors_under_create_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True, dtype=tg.float64)
    (g,) = tg.grad(apply(SQUARE, (x,)).sum(), x, create_graph=True)
    assert g.requires_grad
    g.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_an_op_whose_rules_work_on_arrays_only_refuses_create_graph():
    op = make_op("np_only", np.sin, lambda g, out, a: g * np.cos(a), higher_order=False)
    x = tg.tensor([0.5], requires_grad=True)
    apply(op, (x,)).sum().backward()
    assert x.grad.item() == pytest.approx(np.cos(0.5))
    with pytest.raises(RuntimeError, match="np_only"):
        tg.grad(apply(op, (x,)).sum(), x, create_graph=True)


def test_rules_of_inputs_that_need_no_grad_are_never_called():
    def boom(g, out, a, b):
        raise AssertionError("called the rule of an input that needs no gradient")

    op = make_op("pair", np.multiply, lambda g, out, a, b: g * b, boom)
    x, c = tg.ones(2, requires_grad=True), tg.ones(2)
    apply(op, (x, c)).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_no_record_without_grad_mode_or_inputs_needing_grad():
    x = tg.ones(2, requires_grad=True)
    assert apply(SQUARE, (tg.ones(2),)).grad_fn is None
    with tg.no_grad():
        assert apply(SQUARE, (x,)).grad_fn is None


def test_broadcast_gradient_reduction_lives_in_sum_to():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(sum_to(g, (3, 1)), g.sum(axis=(0, 2)).reshape(3, 1))
    np.testing.assert_array_equal(sum_to(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_array_equal(sum_to(g, ()), g.sum())
    assert sum_to(g, (2, 3, 4)) is g
    assert sum_to(np.zeros((0, 3)), (1, 3)).tolist() == [[0.0, 0.0, 0.0]]


def test_a_rule_may_return_the_broadcast_shape_the_driver_reduces_it():
    op = make_op("add_row", np.add, lambda g, out, a, b: g, lambda g, out, a, b: g)
    a = tg.ones(3, 4, requires_grad=True)
    b = tg.ones(4, requires_grad=True)
    apply(op, (a, b)).sum().backward()
    assert b.grad.tolist() == [3.0] * 4


def test_float32_stays_float32_through_forward_and_backward():
    x = tg.randn(8, 5, requires_grad=True)
    w = tg.randn(5, 3, requires_grad=True)
    loss = ((x @ w).relu() * 0.5 + 1).log_softmax(1).mean()
    loss.backward()
    assert loss.dtype == np.float32
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_forward_errors_name_the_op():
    with pytest.raises(ValueError, match="square"):
        apply(make_op("square", lambda a: np.broadcast_to(a, (5,)), lambda g, out, a: g),
              (tg.ones(3),))


FLOAT32_GRAPHS = [
    lambda a, b: a + b * 2 - 1 / (b * b + 1),
    lambda a, b: a ** 2 + a ** np.float64(3.0) + (b * b + 1) ** a,
    lambda a, b: (a.exp() + b.sigmoid() + (a.tanh() + 1) + b.relu() + a.softplus()).log(),
    lambda a, b: a.gelu() + b.erf() + a.sin() * b.cos() + a.abs() + a.leaky_relu(0.1),
    lambda a, b: a.maximum(b) + a.minimum(b) + a.clamp(-0.5, 0.5) + tg.where(a > b, a, b),
    lambda a, b: a.maximum(0.5) + a.minimum(0.5) + a.minimum(np.float64(0.1)) + a.max(b),
    lambda a, b: a.softmax(1) + b.log_softmax(0) + a.logsumexp(1, keepdim=True),
    lambda a, b: a.var(0) + b.std(1).sum() + a.mean() + a.amax(1).sum() + b.max(0).values,
    lambda a, b: (a @ b.T).prod(1).sum() + a.norm() + a.cumsum(1).sum(),
    lambda a, b: tg.cat([a, b], 0).pad((1, 1)).sum() + a[[0, 0]].sum() + a.T.flip(0).sum(),
]


@pytest.mark.parametrize("f", FLOAT32_GRAPHS)
def test_float32_is_never_upcast_in_values_or_gradients(f):
    a = tg.randn(3, 4, requires_grad=True)
    b = tg.randn(3, 4, requires_grad=True)
    out = f(a, b)
    assert out.dtype == np.float32
    root = out.sum()
    for node in topological_order([root]):  # every rule itself computes in float32
        if node.grad_fn is None:
            continue
        args = [p.numpy() for p in node.parents]
        g = np.ones_like(node.numpy())
        for p, rule in zip(node.parents, node.grad_fn.vjps):
            if p.requires_grad:
                pg = rule(g, node.numpy(), *args, *node._ctx)
                assert pg.dtype == np.float32, node.grad_fn.name
    root.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_reads_is_conservative_when_the_code_cannot_tell():
    def captures(g, out, a):
        return (lambda: g * a)()  # a is read inside a closure

    op = make_op("closure", np.negative, captures, lambda *args: args[0])
    assert op.reads[0] == frozenset({1})
    assert op.reads[1] is None  # *args: could read anything
    from functools import partial

    assert make_op("p", np.negative, partial(lambda k, g, out, a: g * k, 2)).reads == (None,)


def test_erf_is_exact_in_float64_and_within_float32_resolution_in_float32():
    import math

    x = np.linspace(-6.0, 6.0, 2001)
    exact = np.array([math.erf(v) for v in x])
    np.testing.assert_array_equal(tg.tensor(x, dtype=tg.float64).erf().numpy(), exact)
    got32 = tg.tensor(x, dtype=tg.float32).erf().numpy()
    assert got32.dtype == np.float32
    assert np.abs(got32 - exact).max() < 2e-7
    assert tg.tensor(0.0).erf().item() == 0.0


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (0, 2, 3, 1), (1, 0, 2, 3), (3, 2, 1, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csum_sums_over_the_axes_in_any_memory_layout(order, dtype):
    """csum (the batch_norm rows' sums) is one BLAS product when the summed dims lie together in
    memory, channels last or first; it must equal numpy's sum for each layout."""
    from tinygrad_edu.tensor.rule_math import csum
    base = np.random.default_rng(0).normal(size=(6, 5, 14, 12)).astype(dtype)
    x = np.ascontiguousarray(base.transpose(order)).transpose(np.argsort(order))
    for axes in [(0, 2, 3), (0,), (2, 3)]:
        got = csum(x, axes)
        want = np.sum(base.astype(np.float64), axis=axes, keepdims=True)
        scale = np.sum(np.abs(base), axis=axes, keepdims=True)  # float rounding is relative to it
        assert got.shape == want.shape and got.dtype == dtype
        assert np.all(np.abs(got - want) <= scale * (1e-6 if dtype == np.float32 else 1e-14))
    assert csum(tg.tensor(base), (0, 2)).shape == (1, 5, 1, 12)  # on Tensors: a sum node


@pytest.mark.parametrize("shape", [(64, 16), (4, 4, 16, 16), (300, 27), (2, 3, 32), (512, 40),
                                   (7,), (5, 1), ()])
def test_row_max_is_numpys_max_over_the_last_dim(shape):
    """row_max moves a short last dim first (sizes 2-32, 4096 elements or more); elsewhere it
    is numpy's. -inf rows, nan and ties come out as numpy's."""
    from tinygrad_edu.tensor.rule_math import row_max
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    if x.ndim and x.size:
        x.reshape(-1, shape[-1])[1 % len(x.reshape(-1, shape[-1]))] = -np.inf
        x.reshape(-1)[5 % x.size] = np.nan
    got = row_max(x)
    want = np.max(x, axis=-1, keepdims=True) if x.ndim else x
    assert got.shape == want.shape and got.dtype == x.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape, axes", [((20, 30, 16), (2,)), ((20, 30, 16), (0, 1)),
                                         ((4, 30, 16), (0,)), ((600, 7), (1,)), ((3, 4096), (1,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_csum_takes_the_product_for_many_rows_and_numpys_sum_for_few(shape, axes, dtype):
    """Rows of 16 summed 600 times, 600 rows added up, as products; 4 rows, or 3 sums of
    4096, or integers, by numpy. The same sums either way."""
    from tinygrad_edu.tensor.rule_math import csum
    x = (np.random.default_rng(1).normal(size=shape) * 10).astype(dtype)
    want = np.sum(x.astype(np.float64), axis=axes, keepdims=True)
    got = csum(x, axes)
    assert got.shape == want.shape and got.dtype == dtype
    scale = np.sum(np.abs(x), axis=axes, keepdims=True)
    assert np.all(np.abs(got - want) <= scale * (1e-6 if dtype == np.float32 else 1e-14))
