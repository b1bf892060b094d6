"""Gradients of slices (issue 13): a tensor read at T places (x[:, t] in an unrolled RNN) gets
each slice's gradient added into its own in place, so backward's work and memory grow linearly
in T; the gradients equal torch's (float64, 1e-6), also through double backward, hooks,
retain_graph, non-leaf .grad and grad(), and no gradient a user can see shares a buffer that
backward changes later."""

import sys
import tracemalloc

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import grad
from tinygrad_edu.tensor.partials import Scatter
from tinygrad_edu.viz.trace import trace_backward


def pair(a):
    return tg.tensor(a, dtype=tg.float64, requires_grad=True), torch.tensor(a, requires_grad=True)


def rnn_inputs(T, N=4, D=8, H=16, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, T, D)), rng.standard_normal((D, H)) * 0.4,
            rng.standard_normal((H, H)) * 0.4 / np.sqrt(H), rng.standard_normal((N, H)))


def rnn_loss(lib, x, W, U, c):
    """h = tanh(x[:, t] @ W + h @ U) over every step; each step's h is in the loss, so that
    every slice of x gets a gradient that matters."""
    N, T, _ = x.shape
    h = lib.zeros(N, W.shape[1], dtype=x.dtype)
    loss = 0
    for t in range(T):
        h = (x[:, t] @ W + h @ U).tanh()
        loss = loss + (h * c).sum()
    return loss


@pytest.mark.parametrize("T", [200, 1000])
def test_backprop_through_time_matches_torch(T):
    x0, W0, U0, c0 = rnn_inputs(T)
    (x, tx), (W, tW), (U, tU) = pair(x0), pair(W0), pair(U0)
    rnn_loss(tg, x, W, U, tg.tensor(c0)).backward()
    rnn_loss(torch, tx, tW, tU, torch.tensor(c0)).backward()
    for ours, theirs in ((x, tx), (W, tW), (U, tU)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-9)
    assert np.abs(x.grad.numpy()[:, 0]).min() > 0  # the first step's slice got its share too


def _backward_memory(T):
    """(bytes allocated, peak bytes) while backward runs through the T-step loop. Allocated:
    every rise of the memory tracemalloc traces between two calls, added up (an array that
    lives across calls counts, however soon it is freed)."""
    x0, W0, U0, c0 = rnn_inputs(T, N=8, D=32)
    x, W, U = (tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in (x0, W0, U0))
    loss = rnn_loss(tg, x, W, U, tg.tensor(c0))
    state = {"last": 0, "total": 0}

    def profile(frame, event, arg):
        now = tracemalloc.get_traced_memory()[0]
        state["total"] += max(0, now - state["last"])
        state["last"] = now

    tracemalloc.start()
    try:
        state["last"] = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        sys.setprofile(profile)
        try:
            loss.backward()
        finally:
            sys.setprofile(None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.abs(x.grad.numpy()).sum() > 0
    return state["total"], peak


def test_backward_memory_grows_linearly_in_the_number_of_steps():
    # Before the fix each slice's gradient was a zero-filled array of x's whole size, added
    # into x's once per step: T arrays of size ~T, ~14x the bytes for 4x the steps (peak
    # memory stayed linear, as each was freed at once). Linear work gives ~4x; 8 leaves room.
    (small, small_peak), (big, big_peak) = _backward_memory(50), _backward_memory(200)
    assert big / small < 8, (small, big)
    assert big_peak / small_peak < 8, (small_peak, big_peak)


def test_double_backward_through_slices_matches_torch():
    rng = np.random.default_rng(1)
    x0, W0, U0, c0 = rnn_inputs(6, N=3, D=4, H=5, seed=1)
    (x, tx), (W, tW), (U, tU) = pair(x0), pair(W0), pair(U0)
    v0 = rng.standard_normal(x0.shape)
    results = []
    for lib, xs, Ws, Us in ((tg, x, W, U), (torch, tx, tW, tU)):
        loss = rnn_loss(lib, xs, Ws, Us, lib.tensor(c0))
        gx, gW = (tg.grad if lib is tg else torch.autograd.grad)(loss, [xs, Ws],
                                                                   create_graph=True)
        # a gradient penalty and a Hessian-vector product, through every slice's rule
        ((gW * gW).sum() + (gx * lib.tensor(v0)).sum()).backward()
        results.append([t.grad.detach().numpy() if lib is torch else t.grad.numpy()
                        for t in (xs, Ws, Us)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-10)


def _pieces(lib, x):
    """A tensor read by slices that overlap, ints, steps, an index array with repeats, and
    split, chunk and narrow."""
    parts = [x[1:4], x[2], x[::2, 1:], x[np.array([0, 2, 2, 4])], x.narrow(1, 1, 2)]
    parts += list(x.split(2, 0)) + list(x.chunk(3, 1))
    return parts


def _weighted(lib, parts, seed=2):
    rng = np.random.default_rng(seed)
    return sum((p * lib.tensor(rng.standard_normal(tuple(p.shape)))).sum() for p in parts)


@pytest.mark.parametrize("k", range(len(_pieces(tg, tg.zeros(5, 3)))))
def test_a_tensor_read_by_one_slice_alone_gets_zeros_elsewhere_as_in_torch(k):
    x0 = np.random.default_rng(7).standard_normal((5, 3))
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(x0, requires_grad=True)
        _weighted(lib, [_pieces(lib, x)[k]]).backward()
        grads.append(np.array(x.grad.numpy()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_slices_of_every_kind_add_up_as_in_torch_and_hooks_and_retained_grads_see_the_total():
    x0 = np.random.default_rng(3).standard_normal((5, 3))
    (a, ta) = pair(x0)
    seen = {}
    grads = []
    for lib, leaf in ((tg, a), (torch, ta)):
        y = leaf * 2  # a non-leaf read by every slice
        y.retain_grad()
        y.register_hook(lambda g, lib=lib: seen.setdefault(lib.__name__, g) * 3)
        _weighted(lib, _pieces(lib, y)).backward()
        grads.append((np.array(y.grad.detach().numpy()), np.array(leaf.grad.detach().numpy())))
    (y_ours, a_ours), (y_theirs, a_theirs) = grads
    np.testing.assert_allclose(seen["tinygrad_edu"].numpy(), seen["torch"].detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(y_ours, y_theirs, rtol=1e-12)
    np.testing.assert_allclose(a_ours, a_theirs, rtol=1e-12)  # the hook's * 3 flows on


def test_retain_graph_runs_the_slices_again_and_the_graph_is_freed_without_it():
    x0, W0, U0, c0 = rnn_inputs(5)
    (x, tx), (W, tW), (U, tU) = pair(x0), pair(W0), pair(U0)
    loss = rnn_loss(tg, x, W, U, tg.tensor(c0))
    tloss = rnn_loss(torch, tx, tW, tU, torch.tensor(c0))
    for _ in range(2):
        loss.backward(retain_graph=True)
        tloss.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9)  # twice, added
    loss.backward()
    with pytest.raises(tg.GraphFreedError):
        loss.backward()


def test_grad_returns_the_slices_total_and_leaves_dot_grad_alone():
    x0 = np.random.default_rng(4).standard_normal((5, 3))
    (a, ta) = pair(x0)
    y, ty = a * 1.5, ta * 1.5
    (gy,) = grad(_weighted(tg, _pieces(tg, y)), y)
    (tgy,) = torch.autograd.grad(_weighted(torch, _pieces(torch, ty)), ty)
    np.testing.assert_allclose(gy.numpy(), tgy.numpy(), rtol=1e-12)
    assert a.grad is None


@pytest.mark.parametrize("slice_first", [False, True])
@pytest.mark.parametrize("x_first", [False, True])
def test_a_gradient_shared_with_another_input_is_never_changed_in_place(slice_first, x_first):
    # x + w hands one gradient array to both x and w; a slice of x must be added into a copy
    # of it, never into the array w is given too (w's own slice comes later in some orders)
    rng = np.random.default_rng(5)
    x0, w0, c0, d0 = (rng.standard_normal((4, 3)) for _ in range(4))
    results = []
    for lib in (tg, torch):
        (x, w) = (lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True))
        whole = ((x + w) * lib.tensor(c0)).sum()
        a, b = (x, w) if x_first else (w, x)
        part = (a[0] * b[0]).sum() + (x[1:3] * lib.tensor(d0[1:3])).sum()
        (part + whole if slice_first else whole + part).backward()
        results.append([np.array(t.grad.numpy()) for t in (x, w)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_a_scatter_added_onto_an_array_leaves_that_array_as_it_was():
    shared = np.arange(6.0).reshape(2, 3)
    total = Scatter(np.ones(3), (1,), (2, 3)).add_onto(shared)
    np.testing.assert_array_equal(shared, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(total.resolve(tg.zeros(1)), [[0, 1, 2], [4, 5, 6]])


def test_no_two_gradients_a_user_sees_share_memory():
    a = tg.tensor(np.random.default_rng(6).standard_normal((6, 4)), requires_grad=True)
    expected = np.zeros((4, 6))
    for k in (1, 2):
        y = a.reshape(4, 6)  # a view: its gradient reaches a as a view of the same array
        y.retain_grad()
        sum((y[i] * (i + k)).sum() for i in range(4)).backward()
        assert not np.shares_memory(a.grad.numpy(), y.grad.numpy())
        y.grad.zero_()
        expected += np.arange(k, k + 4.0)[:, None]
        np.testing.assert_array_equal(a.grad.numpy(), expected.reshape(6, 4))


def test_the_step_through_trace_and_anomaly_mode_see_slices_as_whole_gradients():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (x[0] * 2).sum() + (x[1] * 3).sum()
    steps = trace_backward(loss)
    totals = [c.total for s in steps for c in s.contributions if c.parent is x]
    np.testing.assert_array_equal(np.asarray(totals[-1]), [[2.0, 2.0], [3.0, 3.0]])
    y = tg.tensor([1.0, 0.0, 4.0], requires_grad=True)
    with tg.autograd.detect_anomaly():  # the check reads a slice's gradient as the whole one
        ((y[:2] * 2).sum() + (y[1:] * 3).sum()).backward()
    np.testing.assert_array_equal(y.grad.numpy(), [2.0, 5.0, 3.0])
