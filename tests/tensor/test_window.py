"""Sliding windows (tensor/window.py): conv, pooling, unfold/fold, pad, interpolate and
pixel_shuffle give PyTorch's values and gradients (float64, 1e-6) over random valid arguments
(the strategies' conv_args and pool_args), second derivatives through a convolution equal
torch's, and bad arguments get errors that name the op and the shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu.tensor import OPS, fused
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as tst

TOL = {"rtol": 1e-6, "atol": 1e-9}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def run_both(ours, theirs, *arrays, seed=0):
    """Forward both on the same float64 inputs, then backward the same random cotangent:
    (our output, torch's output, our input grads, torch's input grads)."""
    a = [tg.tensor(x, dtype=tg.float64, requires_grad=True) for x in arrays]
    b = [torch.tensor(x, requires_grad=True) for x in arrays]
    ya, yb = ours(*a), theirs(*b)
    extra_a = extra_b = None
    if isinstance(yb, tuple):  # (values, indices)
        (ya, extra_a), (yb, extra_b) = ya, yb
    g = np.random.default_rng(seed).normal(size=tuple(yb.shape))
    ya.backward(tg.tensor(g, dtype=tg.float64))
    yb.backward(torch.tensor(g))
    return ya, yb, extra_a, extra_b, a, b


def assert_same(ours, theirs, *arrays, seed=0):
    ya, yb, ia, ib, a, b = run_both(ours, theirs, *arrays, seed=seed)
    assert ya.shape == tuple(yb.shape)
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), **TOL)
    if ib is not None:
        np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    for p, q in zip(a, b):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), **TOL)


def normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# ---- the primitive: Tensor.unfold ---------------------------------------------------------------

@SETTINGS
@given(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), st.data())
def test_tensor_unfold_matches_torch(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(0, shape[dim]))
    step = data.draw(st.integers(1, 3))
    assert_same(lambda t: t.unfold(dim, size, step), lambda t: t.unfold(dim, size, step),
                normal(shape))


def test_tensor_unfold_is_a_view_and_refuses_bad_sizes():
    x = tg.arange(6.0)
    w = x.unfold(0, 3, 3)
    assert np.shares_memory(w.numpy(), x.numpy())
    w[1].fill_(7.0)  # writing into the view writes into x, as in torch
    np.testing.assert_array_equal(x.numpy(), [0, 1, 2, 7, 7, 7])
    with pytest.raises(RuntimeError, match=r"unfold: need 0 <= size <= 6 .*size=7"):
        x.unfold(0, 7, 1)
    with pytest.raises(RuntimeError, match="step >= 1"):
        x.unfold(0, 2, 0)


# ---- convolutions -------------------------------------------------------------------------------

@SETTINGS
@given(tst.conv_args(nsp=2), st.booleans())
def test_conv2d_matches_torch(args, bias):
    kw = {k: args[k] for k in ("stride", "padding", "dilation", "groups")}
    arrays = [normal(args["input"]), normal(args["weight"], 1)]
    if bias:
        arrays.append(normal((args["weight"][0],), 2))
    assert_same(lambda *t: F.conv2d(*t, **kw), lambda *t: TF.conv2d(*t, **kw), *arrays)


@SETTINGS
@given(tst.conv_args(nsp=1))
def test_conv1d_matches_torch(args):
    kw = {k: args[k] for k in ("stride", "padding", "dilation", "groups")}
    assert_same(lambda x, w: F.conv1d(x, w, **kw), lambda x, w: TF.conv1d(x, w, **kw),
                normal(args["input"]), normal(args["weight"], 1))


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel,dilation", [((3, 4), (1, 1)), ((2, 3), (2, 1)), ((1, 5), 1)])
def test_conv2d_same_and_valid_padding_match_torch(padding, kernel, dilation):
    assert_same(lambda x, w: F.conv2d(x, w, padding=padding, dilation=dilation),
                lambda x, w: TF.conv2d(x, w, padding=padding, dilation=dilation),
                normal((2, 3, 6, 7)), normal((4, 3, *kernel), 1))


@SETTINGS
@given(tst.conv_args(nsp=2, max_side=4), st.data())
def test_conv_transpose2d_matches_torch(args, data):
    n, c, *size = args["input"]
    o_g = args["weight"][0] // args["groups"]
    stride, dilation = args["stride"], args["dilation"]
    extra = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    kernel = args["weight"][2:]
    padding = tuple(min(p, ((m - 1) * s + d * (k - 1)) // 2) for p, m, s, d, k in
                    zip(args["padding"], size, stride, dilation, kernel))  # output >= 1
    kw = {"stride": stride, "padding": padding, "output_padding": extra,
          "groups": args["groups"], "dilation": dilation}
    assert_same(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
                lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw),
                normal(args["input"]), normal((c, o_g, *kernel), 1),
                normal((o_g * args["groups"],), 2))


def test_conv_transpose1d_matches_torch():
    kw = {"stride": 3, "padding": 1, "output_padding": 2, "dilation": 2, "groups": 2}
    assert_same(lambda x, w: F.conv_transpose1d(x, w, **kw),
                lambda x, w: TF.conv_transpose1d(x, w, **kw),
                normal((2, 4, 5)), normal((4, 3, 3), 1))


def test_unbatched_inputs_match_torch():
    assert_same(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
                normal((3, 5, 5)), normal((2, 3, 3, 3), 1))
    assert_same(lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), normal((3, 5, 5)))


def test_conv2d_second_derivatives_match_torch():
    """A gradient penalty: d/dw of |d loss/dx|^2 goes through conv2d's backward twice."""
    x, w = normal((2, 3, 6, 5)), normal((4, 3, 3, 3), 1)
    results = []
    for lib, conv in ((tg, F.conv2d), (torch, TF.conv2d)):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        y = conv(xt, wt, stride=(2, 1), padding=1, dilation=(1, 2)).tanh().sum()
        (gx,) = lib.autograd.grad(y, [xt], create_graph=True)
        (gx * gx).sum().backward()
        results.append((wt.grad.numpy() if lib is tg else wt.grad.detach().numpy(),
                        xt.grad.numpy() if lib is tg else xt.grad.detach().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, **TOL)


@pytest.mark.parametrize("fn", [
    lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2),
    lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1),
    lambda x, w: (F.max_pool2d(F.conv2d(x, w, groups=2), 2, ceil_mode=True)
                  * F.avg_pool2d(x, 2).sum()),
])
def test_gradcheck_and_gradgradcheck(fn):
    x = tg.tensor(normal((1, 2, 5, 4)), requires_grad=True)
    w = tg.tensor(normal((2, 1, 3, 2), 1), requires_grad=True)
    assert gradcheck(fn, [x, w])
    assert gradgradcheck(fn, [x, w])


@pytest.mark.parametrize("kw", [
    {"padding": 1}, {"padding": "same", "dilation": 2}, {"padding": (2, 0), "groups": 2},
    {"padding": 3},  # padding past the kernel's span: the input gradient takes the col2im way
    {"stride": 2, "padding": 1, "groups": 2}, {"stride": (1, 2), "dilation": (2, 1)},
])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("block_bytes", [None, 1, 192 * 10, 192 * 100])
def test_conv_row_gradients_match_torch(kw, channels_last, block_bytes, monkeypatch):
    """The conv row's input gradient (for stride 1 the convolution of g with the flipped
    kernel, else a col2im) and weight gradient, for inputs and cotangents in either memory
    layout; with the im2col rows made in blocks of one row, one line (a row is 192 bytes
    here), two of the three images, or all at once."""
    if block_bytes is not None:
        monkeypatch.setattr(fused, "_BLOCK_BYTES", block_bytes)
    x, w, b = normal((3, 4, 7, 6)), normal((6, 4 // kw.get("groups", 1), 3, 2), 1), normal(6, 2)
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    a = [tg.tensor(v, requires_grad=True) for v in (x, w, b)]
    t = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    ya, yb = F.conv2d(*a, **kw), TF.conv2d(*t, **kw)
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), **TOL)
    g = normal(tuple(yb.shape), 3)
    if channels_last:
        g = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    ya.backward(tg.from_numpy(g))
    yb.backward(torch.tensor(g))
    for p, q in zip(a, t):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), **TOL)


@pytest.mark.parametrize("kw", [{"padding": 1}, {"stride": 2}])
def test_a_conv_of_an_empty_batch_has_a_zero_weight_gradient_as_torchs(kw):
    x, w = normal((0, 3, 5, 5)), normal((4, 3, 3, 3), 1)
    a = [tg.tensor(v, requires_grad=True) for v in (x, w)]
    t = [torch.tensor(v, requires_grad=True) for v in (x, w)]
    ya, yb = F.conv2d(*a, **kw), TF.conv2d(*t, **kw)
    assert ya.shape == tuple(yb.shape)
    ya.sum().backward()
    yb.sum().backward()
    for p, q in zip(a, t):
        assert p.grad.shape == tuple(q.grad.shape)
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_conv_is_one_node_and_its_gradient_differentiates_again():
    x, w = normal((2, 2, 5, 4)), normal((3, 2, 3, 3), 1)
    assert F.conv2d(tg.tensor(x, requires_grad=True), tg.tensor(w)).grad_fn.op is OPS.conv
    grads = []
    for lib, f in ((tg, F.conv2d), (torch, TF.conv2d)):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = f(xs * xs, ws, padding=1)
        gx, gw = lib.autograd.grad((y * y).sum(), (xs, ws), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        grads.append([xs.grad.numpy(), ws.grad.numpy()])
    for p, q in zip(*grads):
        np.testing.assert_allclose(p, q, **TOL)


# ---- unfold, fold, pad --------------------------------------------------------------------------

@SETTINGS
@given(tst.conv_args(nsp=2))
def test_unfold_and_fold_match_torch(args):
    kw = {k: args[k] for k in ("stride", "padding", "dilation")}
    kernel = args["weight"][2:]
    assert_same(lambda x: F.unfold(x, kernel, **kw), lambda x: TF.unfold(x, kernel, **kw),
                normal(args["input"]))
    cols = TF.unfold(torch.zeros(args["input"], dtype=torch.float64), kernel, **kw)
    size = args["input"][2:]
    assert_same(lambda c: F.fold(c, size, kernel, **kw), lambda c: TF.fold(c, size, kernel, **kw),
                normal(tuple(cols.shape)))


@pytest.mark.parametrize("kernel", [(1, 1), (2, 2)])
def test_unfold_returns_new_memory_as_torch(kernel):
    x = tg.arange(16.0).reshape(1, 1, 4, 4)
    cols = F.unfold(x, kernel)  # a 1x1 kernel reshapes the windows without a copy
    cols.fill_(7.0)
    np.testing.assert_array_equal(x.numpy(), np.arange(16.0).reshape(1, 1, 4, 4))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(1, 2), (2, 0, 1, 3), (0, 3, 3, 0)])
def test_pad_matches_torch(mode, pads):
    shape = (3, 4, 5) if len(pads) == 2 else (2, 3, 4, 5)  # torch's modes need these ranks
    assert_same(lambda x: F.pad(x, pads, mode=mode), lambda x: TF.pad(x, pads, mode=mode),
                normal(shape))


def test_constant_pad_with_a_value_and_negative_amounts_crops():
    assert_same(lambda x: F.pad(x, (1, -2, -1, 2), value=1.5),
                lambda x: TF.pad(x, (1, -2, -1, 2), value=1.5), normal((2, 4, 5)))


# ---- pooling ------------------------------------------------------------------------------------

def distinct(shape, seed=0):
    """A random permutation of well-separated values: no ties, so one maximum per window."""
    return np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.1


def touches_input(pool, x, kw):
    """Does every window hold an input element? (With dilation, one may see padding only;
    its maximum is -inf and PyTorch's index for it is arbitrary.)"""
    return bool(torch.isfinite(pool(torch.tensor(x), **kw)).all())


@SETTINGS
@given(tst.pool_args(nsp=2))
def test_max_pool2d_matches_torch_with_indices(args):
    kw = {k: args[k] for k in ("kernel_size", "stride", "padding", "dilation", "ceil_mode")}
    assume(touches_input(TF.max_pool2d, distinct(args["input"]), kw))
    assert_same(lambda x: F.max_pool2d(x, **kw, return_indices=True),
                lambda x: TF.max_pool2d(x, **kw, return_indices=True), distinct(args["input"]))


@SETTINGS
@given(tst.pool_args(nsp=1))
def test_max_pool1d_matches_torch_with_indices(args):
    kw = {k: args[k] for k in ("kernel_size", "stride", "padding", "dilation", "ceil_mode")}
    assume(touches_input(TF.max_pool1d, distinct(args["input"]), kw))
    assert_same(lambda x: F.max_pool1d(x, **kw, return_indices=True),
                lambda x: TF.max_pool1d(x, **kw, return_indices=True), distinct(args["input"]))


def test_max_pool_gives_a_tie_to_the_first_maximum_as_torch():
    assert_same(lambda x: F.max_pool2d(x, 2, 1), lambda x: TF.max_pool2d(x, 2, 1),
                np.ones((1, 1, 3, 3)))


def tied(shape, seed=0, nan=0.0, neg_inf=0.0):
    """Values from {0, 1, 2}: many ties in every window; some nan and -inf if asked."""
    r = np.random.default_rng(seed)
    x = r.integers(0, 3, shape).astype(np.float64)
    x[r.random(shape) < nan] = np.nan
    x[r.random(shape) < neg_inf] = -np.inf
    return x


@SETTINGS
@given(tst.pool_args(nsp=2), st.integers(0, 2**16), st.sampled_from([0.0, 0.2]))
def test_max_pool2d_ties_nan_and_minus_inf_go_where_torchs_do(args, seed, nan):
    """Ties go to the first maximum inside the input, never to the padding (an all -inf window
    included); nan to the window's last nan, as PyTorch's CPU kernel; indices and gradients."""
    kw = {k: args[k] for k in ("kernel_size", "stride", "padding", "dilation", "ceil_mode")}
    x = tied(args["input"], seed, nan=nan, neg_inf=0.3)
    assume(touches_input(TF.max_pool2d, np.ones(args["input"]), kw))
    ya, yb, ia, ib, a, b = run_both(lambda x: F.max_pool2d(x, **kw, return_indices=True),
                                    lambda x: TF.max_pool2d(x, **kw, return_indices=True), x)
    np.testing.assert_array_equal(ya.numpy(), yb.detach().numpy())
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    np.testing.assert_allclose(a[0].grad.numpy(), b[0].grad.numpy(), **TOL)


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
                                {"kernel_size": 3, "stride": 1, "dilation": 2, "padding": 1}])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("cotangent", ["normal", "inf"])
def test_max_pool2d_gradient_lands_on_the_maxima_alone(kw, channels_last, cotangent):
    """Disjoint windows (each place written once) and overlapping ones (added up), either
    layout; an inf in the cotangent reaches its window's maximum and no other place."""
    x = normal((4, 8, 12, 10), 5)
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = F.max_pool2d(a, **kw), TF.max_pool2d(b, **kw)
    g = normal(tuple(yb.shape), 6)
    if cotangent == "inf":
        g[0, 0, 0, 0], g[1, 2, 1, 1] = np.inf, -np.inf
    ya.backward(tg.tensor(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), **TOL)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL)


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1},
                                {"kernel_size": 2, "stride": 1, "dilation": 2, "ceil_mode": True}])
def test_max_pool2d_second_derivatives_match_torch(kw):
    """The rule's scatter is itself differentiated (its derivative: a gather)."""
    x = normal((2, 3, 6, 5), 7)
    grads = []
    for lib, f in ((tg, F.max_pool2d), (torch, TF.max_pool2d)):
        xs = lib.tensor(x, requires_grad=True)
        y = f(xs * xs * xs, **kw)
        (gx,) = lib.autograd.grad((y * y).sum(), xs, create_graph=True)
        (gx * gx).sum().backward()
        grads.append(xs.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], **TOL)
    x = tg.tensor(normal((1, 2, 5, 4), 8), requires_grad=True)
    assert gradgradcheck(lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True), [x])


def test_max_pool_is_one_node():
    x = tg.tensor(normal((1, 2, 4, 4)), requires_grad=True)
    assert F.max_pool2d(x, 2).grad_fn.op is OPS.max_pool
    assert F.max_pool1d(x[0], 2).grad_fn.op is OPS.max_pool


@SETTINGS
@given(tst.pool_args(nsp=2), st.booleans(), st.sampled_from([None, 3]))
def test_avg_pool2d_matches_torch(args, count_include_pad, divisor):
    kw = {k: args[k] for k in ("kernel_size", "stride", "padding", "ceil_mode")}
    assert_same(lambda x: F.avg_pool2d(x, **kw, count_include_pad=count_include_pad,
                                       divisor_override=divisor),
                lambda x: TF.avg_pool2d(x, **kw, count_include_pad=count_include_pad,
                                        divisor_override=divisor), normal(args["input"]))


@SETTINGS
@given(tst.pool_args(nsp=1), st.booleans())
def test_avg_pool1d_matches_torch(args, count_include_pad):
    kw = {k: args[k] for k in ("kernel_size", "stride", "padding", "ceil_mode")}
    assert_same(lambda x: F.avg_pool1d(x, **kw, count_include_pad=count_include_pad),
                lambda x: TF.avg_pool1d(x, **kw, count_include_pad=count_include_pad),
                normal(args["input"]))


@pytest.mark.parametrize("size,out", [((7, 5), (3, 2)), ((4, 4), 1), ((5, 3), (5, None)),
                                      ((2, 3), (4, 5))])
def test_adaptive_pools_match_torch(size, out):
    assert_same(lambda x: F.adaptive_avg_pool2d(x, out), lambda x: TF.adaptive_avg_pool2d(x, out),
                normal((2, 3, *size)))
    assert_same(lambda x: F.adaptive_max_pool2d(x, out, return_indices=True),
                lambda x: TF.adaptive_max_pool2d(x, out, return_indices=True),
                distinct((2, 3, *size)))
    assert_same(lambda x: F.adaptive_avg_pool1d(x, 3), lambda x: TF.adaptive_avg_pool1d(x, 3),
                normal((2, 3, size[0])))


def test_max_unpool2d_inverts_max_pool2d_as_torch():
    x = distinct((2, 3, 6, 5))
    _, idx = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    assert_same(lambda v: F.max_unpool2d(v, tg.tensor(idx.numpy()), 2, output_size=(6, 5)),
                lambda v: TF.max_unpool2d(v, idx, 2, output_size=(6, 5)),
                normal(tuple(idx.shape)))


# ---- resampling ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{"scale_factor": 2}, {"scale_factor": (1.5, 3)},
                                {"size": (7, 3)}, {"size": (2, 9)}])
@pytest.mark.parametrize("mode,align", [("nearest", None), ("bilinear", True),
                                        ("bilinear", False)])
def test_interpolate_2d_matches_torch(kw, mode, align):
    assert_same(lambda x: F.interpolate(x, mode=mode, align_corners=align, **kw),
                lambda x: TF.interpolate(x, mode=mode, align_corners=align, **kw),
                normal((2, 3, 4, 5)))


@pytest.mark.parametrize("mode,align", [("nearest", None), ("linear", True), ("linear", False)])
def test_interpolate_1d_matches_torch(mode, align):
    assert_same(lambda x: F.interpolate(x, size=11, mode=mode, align_corners=align),
                lambda x: TF.interpolate(x, size=11, mode=mode, align_corners=align),
                normal((2, 3, 4)))


def test_pixel_shuffle_and_unshuffle_match_torch():
    assert_same(lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2),
                normal((2, 12, 3, 4)))
    assert_same(lambda x: F.pixel_unshuffle(x, 3), lambda x: TF.pixel_unshuffle(x, 3),
                normal((2, 2, 6, 9)))


# ---- errors name the op and the shapes ----------------------------------------------------------

@pytest.mark.parametrize("call,message", [
    (lambda: F.conv2d(tg.ones(3, 8), tg.ones(2, 3, 3, 3)),
     r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input .* got shape \(3, 8\)"),
    (lambda: F.conv2d(tg.ones(1, 4, 8, 8), tg.ones(2, 3, 3, 3)),
     r"conv2d: the input has 4 channels \(shape \(1, 4, 8, 8\)\) but the weight \(shape "
     r"\(2, 3, 3, 3\)\) expects 3"),
    (lambda: F.conv2d(tg.ones(1, 4, 8, 8), tg.ones(3, 2, 3, 3), groups=2),
     r"conv2d: groups=2 must be a positive int dividing both the input's channels \(4\) and "
     r"the weight's out_channels \(3\)"),
    (lambda: F.conv2d(tg.ones(1, 1, 4, 4), tg.ones(1, 1, 7, 7), padding=1),
     r"conv2d: the kernel \(size 7, dilation 1: spans 7\) is larger than the padded input "
     r"\(4 \+ 1 \+ 1 = 6\); input shape \(1, 1, 4, 4\), weight \(1, 1, 7, 7\)"),
    (lambda: F.conv2d(tg.ones(1, 1, 4, 4), tg.ones(1, 1, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(tg.ones(1, 1, 4, 4), tg.ones(1, 1, 3, 3), stride=0),
     r"conv2d: stride must be >= 1, got 0"),
    (lambda: F.conv_transpose2d(tg.ones(1, 1, 1, 1), tg.ones(1, 1, 1, 1), padding=1),
     r"conv_transpose2d: the output size \(-1, -1\) .* would be empty"),
    (lambda: F.conv_transpose2d(tg.ones(1, 1, 3, 3), tg.ones(1, 1, 3, 3), output_padding=1),
     r"output_padding \(1, 1\) must be smaller than either stride"),
    (lambda: F.max_pool2d(tg.ones(1, 1, 2, 2), 3),
     r"max_pool2d: the kernel \(size 3, dilation 1: spans 3\) is larger than the padded input"),
    (lambda: F.max_pool2d(tg.ones(1, 1, 6, 6), 2, padding=2),
     r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(2, 2\)"),
    (lambda: F.pad(tg.ones(2, 3), (3, 0), mode="reflect"),
     r"pad: reflect padding \(3, 0\) must be smaller than the dim's size 3"),
    (lambda: F.fold(tg.ones(1, 6, 9), (4, 4), 2), r"fold: dim 1 of the input \(6, shape "
     r"\(1, 6, 9\)\) must be divisible by"),
    (lambda: F.fold(tg.ones(1, 4, 8), (4, 4), 2), r"fold: output_size \(4, 4\) with kernel "
     r"\(2, 2\) gives 3 x 3 = 9 windows, but the input \(shape \(1, 4, 8\)\) has L = 8"),
    (lambda: F.interpolate(tg.ones(1, 1, 4, 4), size=3, scale_factor=2),
     "give exactly one of size and scale_factor"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_max_pool_propagates_nan_as_torch():
    x = normal((1, 2, 4, 4))
    x[0, 0, 1, 2] = np.nan
    assert_same(lambda t: F.max_pool2d(t, 2, return_indices=True),
                lambda t: TF.max_pool2d(t, 2, return_indices=True), x)
