"""Tensor autograd through the shared core: backward, grad(), hooks, modes, higher order."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar output.*shape \\(3,\\)"):
        (x * 2).backward()
    (x * 2).backward(tg.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_gradient_of_the_wrong_shape_is_refused():
    x = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="gradient has shape"):
        (x * 2).backward(tg.ones(2))


def test_gradients_accumulate_across_backward_calls():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_backward_twice_through_a_freed_graph_is_an_error():
    x = tg.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_pass():
    x = tg.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_interior_tensors_keep_no_grad_unless_retained():
    x = tg.ones(2, requires_grad=True)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    assert k.grad.tolist() == [2.0, 2.0]
    assert x.is_leaf and not h.is_leaf


def test_no_grad_records_nothing_and_enable_grad_inside_records():
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        y = x * 2
        with tg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_hooks_see_and_replace_the_gradient():
    x = tg.ones(2, requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = h.register_hook(lambda g: g * 10)
    h.sum().backward()
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_hook_on_a_leaf_changes_its_grad():
    x = tg.ones(2, requires_grad=True)
    x.register_hook(lambda g: g * 0.5)
    (x * 4).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_hook_returning_wrong_shape_is_refused():
    x = tg.ones(2, requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: tg.ones(3))
    with pytest.raises(RuntimeError, match="hook returned a gradient of shape"):
        h.sum().backward()


def test_grad_function_leaves_dot_grad_alone():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    (g,) = tg.grad(y, x)
    assert isinstance(g, Tensor) and g.tolist() == [3.0, 12.0] and x.grad is None


def test_hessian_vector_product_with_create_graph_matches_torch():
    a = np.array([0.3, -1.2, 2.0])
    v = np.array([1.0, 0.5, -2.0])

    def f(x, lib):
        return (x**3).sum() + lib.sin(x[0] * x[1]) + (x.exp() * x).sum() / (1 + x[2] * x[2])

    x = tg.tensor(a, requires_grad=True, dtype=tg.float64)
    (g,) = tg.grad(f(x, _TgMath), x, create_graph=True)
    (g * tg.tensor(v)).sum().backward()

    xt = torch.tensor(a, requires_grad=True)
    (gt,) = torch.autograd.grad(f(xt, torch), xt, create_graph=True)
    (gt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


class _TgMath:
    @staticmethod
    def sin(x):
        return x.sin()


def test_backward_create_graph_gives_differentiable_grad_and_gradient_penalty():
    w = tg.tensor([1.0, -2.0], requires_grad=True, dtype=tg.float64)
    x = tg.tensor([0.5, 0.25], dtype=tg.float64, requires_grad=True)
    out = (w * x).tanh().sum()
    (gx,) = tg.grad(out, x, create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()

    wt = torch.tensor([1.0, -2.0], requires_grad=True, dtype=torch.float64)
    xt = torch.tensor([0.5, 0.25], dtype=torch.float64, requires_grad=True)
    (gxt,) = torch.autograd.grad((wt * xt).tanh().sum(), xt, create_graph=True)
    (gxt * gxt).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-10)


def _fn(x, name):
    """The function `name` for x: torch.nn.functional's for torch, the method for ours."""
    if isinstance(x, torch.Tensor):
        return getattr(torch.nn.functional, name)
    return getattr(Tensor, name)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.log_softmax(0),
        lambda x: x.softmax(0),
        lambda x: x.sigmoid(),
        lambda x: x.tanh(),
        lambda x: x.relu() * x,
        lambda x: x.max(0).values * x,
        lambda x: x.amax() * x,
        lambda x: x.sqrt(),
        lambda x: x.abs() * x,
        lambda x: _fn(x, "softplus")(x),
        lambda x: _fn(x, "gelu")(x),
        lambda x: x.reshape(2, 2).T.reshape(4) ** 3,
        lambda x: x.reshape(2, 2) @ x.reshape(2, 2),
        lambda x: x[[0, 0, 3]].prod() + x,
        lambda x: x.cos() * x,
        lambda x: x.maximum(x * x),
        lambda x: x.minimum(x * 0.5 + 0.5) * x,
        lambda x: x.logsumexp(0) * x,
        lambda x: x.var() * x,
        lambda x: x.clamp(0.5, 1.5) * x,
        lambda x: _fn(x, "pad")(x, (1, 1)) ** 2,
        lambda x: tg.where(x > 1, x * x, x.exp()) if isinstance(x, Tensor)
        else torch.where(x > 1, x * x, x.exp()),
    ],
)
def test_second_derivatives_match_torch(f):
    a = np.array([0.3, 1.7, 0.9, 1.2])
    v = np.array([1.0, -0.5, 2.0, 0.25])
    x = tg.tensor(a, requires_grad=True, dtype=tg.float64)
    y = f(x)
    u = tg.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape))
    (g,) = tg.grad((y * u).sum(), x, create_graph=True)
    (g * tg.tensor(v)).sum().backward()

    xt = torch.tensor(a, requires_grad=True)
    yt = f(xt)
    ut = torch.tensor(np.linspace(-1, 1, yt.numel()).reshape(yt.shape))
    (gt,) = torch.autograd.grad((yt * ut).sum(), xt, create_graph=True)
    (gt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_detect_anomaly_names_the_op_that_made_inf():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match="'log'"):
        with np.errstate(divide="ignore"):
            x.log()


def test_anomaly_in_backward_names_the_op():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt()  # finite forward, infinite derivative at 0
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match="backward of 'sqrt'"):
        with np.errstate(divide="ignore"):
            y.sum().backward()


def test_value_and_tensor_graphs_give_the_same_gradients():
    a, b, c = 0.7, -1.3, 2.1
    va, vb, vc = tg.Value(a), tg.Value(b), tg.Value(c)
    lv = ((va * vb + vc).tanh() * va.exp() - vb / vc + (va * va).sigmoid()).relu()
    lv.backward()
    ta, tb, tc = (tg.tensor(v, requires_grad=True, dtype=tg.float64) for v in (a, b, c))
    lt = ((ta * tb + tc).tanh() * ta.exp() - tb / tc + (ta * ta).sigmoid()).relu()
    lt.backward()
    assert lt.item() == pytest.approx(lv.data, rel=1e-12)
    for v, t in ((va, ta), (vb, tb), (vc, tc)):
        assert t.grad.item() == pytest.approx(v.grad, rel=1e-12)


def test_unused_input_in_grad():
    x, y = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        tg.grad((x * 2).sum(), [x, y])
    gx, gy = tg.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None and gx.tolist() == [2.0, 2.0]


def test_stored_grad_is_not_shared_between_tensors():
    a, b = tg.ones(3, requires_grad=True), tg.ones(3, requires_grad=True)
    ((a + b) * 2).sum().backward()  # add passes the same gradient array to both
    a.grad.zero_()
    assert b.grad.tolist() == [2.0, 2.0, 2.0]
    c = tg.ones(3, requires_grad=True)
    ((c.reshape(3, 1) + c.reshape(3, 1)) * 2).sum().backward()  # views of one gradient
    assert c.grad.tolist() == [4.0, 4.0, 4.0]


def test_input_that_needs_no_grad_gets_no_vjp_computed():
    w = tg.ones(2, 2, requires_grad=True)
    x = tg.ones(3, 2)  # the data batch: its g @ W^T must not be computed
    y = x @ w
    grads = y._vjps(np.ones((3, 2), dtype=np.float32), False)
    assert grads[0] is None and grads[1].shape == (2, 2)


def test_grads_never_share_memory_with_each_other_or_with_what_hooks_kept():
    kept = []
    a = tg.ones(2, 3, requires_grad=True)
    b = tg.ones(2, 3, requires_grad=True)
    w = tg.ones(4, 3, requires_grad=True)
    h = a + b  # the same gradient array goes to a and b
    h.register_hook(lambda g: kept.append(g))
    ((h @ w.T).relu() * 2).sum().backward()
    grads = [a.grad.numpy(), b.grad.numpy(), w.grad.numpy(), kept[0].numpy()]
    for i, g in enumerate(grads):
        for other in grads[i + 1:]:
            assert not np.shares_memory(g, other)


def test_weight_gradient_of_x_at_w_transposed_is_row_major_like_the_weight():
    x = tg.randn(5, 4, dtype=tg.float64)  # float64: the comparison below is not at float32's
    w = tg.randn(3, 4, dtype=tg.float64, requires_grad=True)  # rounding, whatever the draw
    (x @ w.T).sum().backward()
    assert w.grad.numpy().flags.c_contiguous
    np.testing.assert_allclose(w.grad.numpy(), np.ones((5, 3)).T @ x.numpy(), rtol=1e-6)


def test_a_gradient_passed_by_the_caller_is_not_adopted_as_grad():
    x = tg.ones(3, requires_grad=True)
    seed = tg.tensor([1.0, 2.0, 3.0])
    x.backward(seed)
    seed.zero_()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


SCALAR_UNARY = [lambda a: a.tanh(), lambda a: a.sigmoid(), lambda a: a.relu(),
                lambda a: (a * 0.5).exp(), lambda a: a.sin(), lambda a: -a, lambda a: a * a,
                lambda a: (a * a + 1).log(), lambda a: a.abs(), lambda a: a.softplus()]
SCALAR_BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                 lambda a, b: a / (b * b + 1), lambda a, b: a.maximum(b)]


@settings(max_examples=40, deadline=None)
@given(
    xs=st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=2, max_size=3),
    program=st.lists(st.tuples(st.booleans(), st.integers(0, 99), st.integers(0, 99),
                               st.integers(0, 99)), min_size=1, max_size=10),
)
def test_random_value_graphs_and_tensor_graphs_agree(xs, program):
    def run(leaves):
        pool = list(leaves)
        for unary, i, j, k in program:
            a, b = pool[i % len(pool)], pool[j % len(pool)]
            if unary:
                pool.append(SCALAR_UNARY[k % len(SCALAR_UNARY)](a))
            else:
                pool.append(SCALAR_BINARY[k % len(SCALAR_BINARY)](a, b))
        total = pool[len(leaves)]
        for y in pool[len(leaves) + 1:]:
            total = total + y
        return total

    values = [tg.Value(x) for x in xs]
    tensors = [tg.tensor(x, requires_grad=True, dtype=tg.float64) for x in xs]
    lv, lt = run(values), run(tensors)
    lv.backward()
    lt.backward()
    assert lt.item() == pytest.approx(lv.data, rel=1e-9, abs=1e-12)
    for v, t in zip(values, tensors):
        got = 0.0 if t.grad is None else t.grad.item()
        assert got == pytest.approx(v.grad, rel=1e-9, abs=1e-12)


def test_a_second_backward_through_a_freed_non_scalar_node_names_the_freed_graph():
    # the node whose step fails is a 4x6 tensor: the error handler must not ask it for a
    # truth value (that raised "the truth value of a tensor ... is ambiguous" instead)
    a = tg.randn(6, 4, requires_grad=True)
    y = a.reshape(4, 6)
    (y * 2).sum().backward()
    with pytest.raises(tg.GraphFreedError, match="reshape"):
        (y * 3).sum().backward()
