"""In-place ops change the array and bump its version; they never give a wrong gradient."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg


def test_in_place_ops_change_the_data_and_return_self():
    x = tg.tensor([1.0, 2.0, 3.0])
    assert x.add_(1) is x and x.tolist() == [2.0, 3.0, 4.0]
    x.sub_(tg.tensor([1.0, 1.0, 1.0]), alpha=2)
    assert x.tolist() == [0.0, 1.0, 2.0]
    x.mul_(3).div_(2)
    assert x.tolist() == [0.0, 1.5, 3.0]
    x.clamp_(0.5, 2.0)
    assert x.tolist() == [0.5, 1.5, 2.0]
    x.fill_(7.0)
    assert x.tolist() == [7.0, 7.0, 7.0]
    x.zero_()
    assert x.tolist() == [0.0, 0.0, 0.0]
    x.copy_(tg.tensor([4.0, 5.0, 6.0]))
    assert x.tolist() == [4.0, 5.0, 6.0]
    x += 1
    x *= 2
    x -= 1
    x /= 3
    assert x.tolist() == [3.0, pytest.approx(11 / 3), pytest.approx(13 / 3)]


def test_setitem_writes_like_numpy():
    x = tg.zeros(2, 3)
    x[0] = 1.0
    x[1, 1:] = tg.tensor([5.0, 6.0])
    x[x > 5.5] = -1.0
    assert x.tolist() == [[1.0, 1.0, 1.0], [0.0, 5.0, -1.0]]


def test_in_place_keeps_the_dtype_and_refuses_unsafe_casts():
    i = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="add_"):
        i.add_(0.5)
    x = tg.ones(3)
    x.add_(tg.ones(3, dtype=tg.float64))
    assert x.dtype == np.float32


def test_in_place_with_a_shape_that_does_not_fit_is_refused():
    x = tg.ones(3)
    with pytest.raises(RuntimeError, match="add_"):
        x.add_(tg.ones(2, 3))


def test_a_leaf_that_requires_grad_cannot_change_in_place_in_grad_mode():
    w = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf.*no_grad"):
        w.add_(1)
    with tg.no_grad():
        w.add_(1)  # the optimizer's update
    assert w.tolist() == [2.0, 2.0, 2.0] and w.requires_grad


def test_changing_a_saved_input_makes_backward_raise_naming_the_op():
    w = tg.ones(3, requires_grad=True)
    c = tg.ones(3)
    y = (w * c).sum()  # mul saves c to compute dy/dw
    c.mul_(2)
    with pytest.raises(RuntimeError, match="backward of 'mul' needs its input 1"):
        y.backward()


def test_changing_a_saved_output_makes_backward_raise():
    w = tg.ones(3, requires_grad=True)
    e = (w * 1).exp()  # exp's derivative reads its output
    with tg.no_grad():
        e.add_(1)
    with pytest.raises(RuntimeError, match="backward of 'exp' needs its output"):
        e.sum().backward()


def test_changing_a_value_no_rule_reads_is_fine():
    w = tg.ones(3, requires_grad=True)
    c = tg.ones(3)
    y = (w + c).sum()  # add's derivative reads neither input
    c.mul_(2)
    y.backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]


def test_changing_the_weights_after_the_forward_is_caught():
    w = tg.ones(2, 2, requires_grad=True)
    x = tg.ones(3, 2, requires_grad=True)
    loss = (x @ w).sum()
    with tg.no_grad():
        w.sub_(0.1)  # an optimizer step before backward
    with pytest.raises(RuntimeError, match="matmul"):
        loss.backward()


@pytest.mark.parametrize("make_view", [  # the ops PyTorch documents as views
    lambda b: b.reshape(4), lambda b: b.diagonal(), lambda b: b.unfold(0, 1, 1),
    lambda b: b.narrow(0, 0, 1), lambda b: b.movedim(0, 1), lambda b: b.t(),
    lambda b: b.unflatten(1, (2, 1)), lambda b: b[0],
])
def test_views_share_the_version_with_their_base(make_view):
    base = tg.ones(2, 2)
    view = make_view(base)
    w = tg.ones(*view.shape, requires_grad=True)
    y = (w * view).sum()
    base.add_(1)  # changes the view's data too
    with pytest.raises(RuntimeError, match="mul"):
        y.backward()


def test_detach_shares_the_version_so_changes_through_it_are_caught():
    w = tg.ones(3, requires_grad=True)
    h = w * 2
    y = (h * h).sum()
    h.detach().zero_()
    with pytest.raises(RuntimeError, match="mul"):
        y.backward()


def test_in_place_on_an_interior_tensor_is_recorded_like_pytorch():
    def run(lib, w):
        h = w * 2
        h.add_(1)
        h.mul_(w)  # reads the value before: the old h is kept for the gradient
        h.clamp_(-3.0, 3.5)
        return h.sum()

    a = np.array([0.5, -1.0, 2.0])
    w = tg.tensor(a, requires_grad=True, dtype=tg.float64)
    run(tg, w).backward()
    wt = torch.tensor(a, requires_grad=True)
    run(torch, wt).backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


def test_setitem_records_gradients_to_both_sides():
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=tg.float64)
    v = tg.tensor([10.0, 20.0], requires_grad=True, dtype=tg.float64)
    y = w * 1
    y[1:] = v * v
    (y * tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)).sum().backward()
    assert w.grad.tolist() == [1.0, 0.0, 0.0]
    assert v.grad.tolist() == [2 * 10.0 * 2, 2 * 20.0 * 3]


def test_setitem_into_a_fresh_buffer_builds_a_graph():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    out = tg.zeros(4)
    out[0] = a[0] * 3
    out[2:] = a * a
    out.sum().backward()
    assert a.grad.tolist() == [3.0 + 2.0, 4.0]


def test_in_place_on_a_tensor_already_used_in_the_graph_is_refused():
    w = tg.ones(3, requires_grad=True)
    h = w * 2
    _ = h * 3  # h is an input of this op, which would otherwise get the wrong history
    with pytest.raises(RuntimeError, match="already used"):
        h.add_(1)


def test_retained_graph_node_changed_in_place_between_passes_is_caught():
    w = tg.ones(3, requires_grad=True)
    c = tg.ones(3)
    y = (w * c).sum()
    y.backward(retain_graph=True)
    c.fill_(5.0)
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()


def test_an_in_place_op_under_no_grad_keeps_no_history():
    x = tg.ones(3, requires_grad=True)
    h = x * 2
    with tg.no_grad():
        h.mul_(10)
    assert h.tolist() == [20.0, 20.0, 20.0]
    assert h.grad_fn.name() == "MulBackward0"  # still the node made by x * 2


def test_recorded_setitem_with_repeated_indices_is_refused():
    w = tg.ones(2, requires_grad=True)
    y = tg.zeros(3)
    with pytest.raises(RuntimeError, match="more than once"):
        y[[0, 0]] = w * 2
    z = tg.zeros(3)
    z[[0, 2]] = w * 2  # distinct indices are fine
    z.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


def test_more_in_place_ops_match_torch():
    def run(lib, w):
        h = w * 1.5
        h.masked_fill_(h > 1.0, -1.0)
        h.neg_()
        h.tanh_()
        s = w * 0.5
        s.sigmoid_()
        e = w * w
        e.exp_()
        return h.sum() + (s * e).sum()

    a = np.array([0.5, -1.0, 2.0, 0.1])
    w = tg.tensor(a, requires_grad=True, dtype=tg.float64)
    run(tg, w).backward()
    wt = torch.tensor(a, requires_grad=True)
    run(torch, wt).backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
    x = tg.tensor([1.0, 2.0, 3.0])
    x.masked_fill_(tg.tensor([True, False, True]), 0.0)
    assert x.tolist() == [0.0, 2.0, 0.0]


def test_zero_fill_and_copy_on_a_recorded_tensor_cut_the_gradient_without_nan():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    h = w + tg.tensor([np.inf, -np.inf])  # infinite values that a "* 0" would turn into nan
    h.zero_()
    assert h.tolist() == [0.0, 0.0]
    (h + w).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]
    v = tg.tensor([3.0], requires_grad=True)
    k = w * 1
    k.copy_(v * v)  # broadcasts v into k; the gradient goes to v only
    k.sum().backward()
    assert v.grad.tolist() == [12.0] and w.grad.tolist() == [1.0, 1.0]
    f = w * 1
    f.fill_(7.0)
    assert f.tolist() == [7.0, 7.0] and f.requires_grad


# ---- random programs with in-place ops: never a silently wrong gradient ------------------------

OUT_OF_PLACE = [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a.tanh() * b, lambda a, b: a * 2.0,
    lambda a, b: a.exp() - b, lambda a, b: a[:], lambda a, b: a.flip(0),
    lambda a, b: a[::2].sum() * b, lambda a, b: a.detach(),
    lambda a, b: a.reshape(3, 1).reshape(3), lambda a, b: a.unsqueeze(0)[0],
]


def _inplace_ops(lib):
    return [
        lambda x, y: x.add_(y), lambda x, y: x.mul_(y), lambda x, y: x.mul_(3.0),
        lambda x, y: x.clamp_(-0.5, 0.5), lambda x, y: x.zero_(), lambda x, y: x.relu_(),
        lambda x, y: x.exp_(), lambda x, y: x.__setitem__(slice(1, None), y[:2]),
        lambda x, y: x.sub_(y * y), lambda x, y: x.copy_(y), lambda x, y: x.div_(y * y + 1),
        lambda x, y: x.masked_fill_(y > 0, 0.5), lambda x, y: x.fill_(2.0),
        lambda x, y: x.__setitem__(x > 0, 1.0),
    ]


def _run_program(lib, leaves, program):
    pool = list(leaves)
    ops = _inplace_ops(lib)
    for kind, i, j, k in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if kind == 0:
            pool.append(OUT_OF_PLACE[k % len(OUT_OF_PLACE)](a, b))
        elif kind == 1:
            ops[k % len(ops)](a, b)
        else:
            with lib.no_grad():
                ops[k % len(ops)](a, b)
    total = pool[0] * 0.5
    for n, y in enumerate(pool[1:], start=2):
        total = total + y * (1.0 / n)
    return total.sum()


@settings(max_examples=500, deadline=None)
@given(
    data=st.lists(st.floats(-1.5, 1.5, allow_nan=False, allow_subnormal=False),
                  min_size=9, max_size=9),
    program=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 99), st.integers(0, 99),
                               st.integers(0, 99)), min_size=1, max_size=8),
)
def test_random_in_place_programs_raise_or_match_torch(data, program):
    """Whenever both engines accept a program, values and gradients agree; we may refuse more
    (a RuntimeError that names the op), but never compute a different gradient."""
    arrays = [np.array(data[3 * n: 3 * n + 3]) for n in range(3)]

    def leaves(lib, make):
        w1, w2 = (make(a, True) for a in arrays[:2])
        h = w1 * 1.0  # a non-leaf, so that in-place ops on it are allowed
        return (w1, w2), [h, w2 * 1.0, make(arrays[2], False)]

    def ours(a, rg):
        return tg.tensor(a, requires_grad=rg, dtype=tg.float64)

    def theirs(a, rg):
        return torch.tensor(a, requires_grad=rg)

    results = []
    for lib, make in ((tg, ours), (torch, theirs)):
        inputs, pool = leaves(lib, make)
        try:
            loss = _run_program(lib, pool, program)
            loss.backward()
        except RuntimeError:
            results.append(None)
            continue
        grads = [np.zeros(3) if w.grad is None else w.grad.detach().numpy() for w in inputs]
        results.append((loss.detach().numpy(), grads))
    ours_result, torch_result = results
    if ours_result is None or torch_result is None:
        return
    np.testing.assert_allclose(ours_result[0], torch_result[0], rtol=1e-10, atol=1e-12)
    for g, gt in zip(ours_result[1], torch_result[1]):
        np.testing.assert_allclose(g, gt, rtol=1e-10, atol=1e-12)


def test_in_place_on_a_tensor_with_views_is_refused_while_recording():
    c = tg.zeros(3)
    v = c[:]  # a view made without recording: it would not see c's new history
    w = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="has views"):
        c.add_(w)
    with pytest.raises(RuntimeError, match="view of another"):
        (w * 1)[:2].mul_(2)
    c.add_(1)  # nothing to record: a plain numpy update, seen through the view
    assert v.tolist() == [1.0, 1.0, 1.0]


def test_adding_a_tensor_to_itself_in_place_uses_the_old_value_twice():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1
    h.add_(h)
    h.sum().backward()
    assert h.tolist() == [2.0, 4.0] and w.grad.tolist() == [2.0, 2.0]
