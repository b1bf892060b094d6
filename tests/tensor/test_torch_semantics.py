"""Where PyTorch 2.13 is the spec: each case runs the same code on torch and on tinygrad_edu.

One section per mechanism that once let a wrong result through (issue 11): constants kept for
backward, memory shared with an input, integer and float16 reductions, derivatives at the edge
of their domain, indexing that mixes ints and arrays, and the smaller dtype and error rules.
The fuzzers in test_fuzz_torch_semantics.py cover the same mechanisms with random inputs.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import Function, nn, optim
from tinygrad_edu.nn import functional as F


def close(ours, theirs, tol=1e-6):
    a = ours.numpy() if isinstance(ours, tg.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol,
                               equal_nan=True)


def pair(data, dtype=np.float64, requires_grad=True):
    data = np.asarray(data, dtype=dtype)
    return (tg.tensor(data, requires_grad=requires_grad),
            torch.tensor(data, requires_grad=requires_grad))


# ---- constants a node keeps for backward are its own copies --------------------------------------


def test_a_tensor_index_changed_after_the_forward_does_not_move_the_gradient():
    x, xt = pair([1.0, 2.0, 3.0, 4.0, 5.0])
    idx = tg.tensor([0, 1])
    y = x[idx] * tg.tensor([1.0, 10.0], dtype=tg.float64)
    idx.add_(2)  # torch refuses this (a saved tensor changed); we kept our own copy
    y.sum().backward()
    (xt[torch.tensor([0, 1])] * torch.tensor([1.0, 10.0], dtype=torch.float64)).sum().backward()
    close(x.grad, xt.grad)


def test_a_numpy_index_changed_after_the_forward_does_not_move_the_gradient():
    x, xt = pair([1.0, 2.0, 3.0])
    arr = np.array([0, 0, 2])
    y, yt = x[arr], xt[np.array([0, 0, 2])]  # (torch 2.13 itself reads a changed array here)
    arr[:] = 1
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    close(x.grad, xt.grad)


def test_a_where_condition_and_a_mask_changed_after_the_forward():
    x, xt = pair([1.0, 2.0, 3.0])
    c = tg.tensor([True, False, True])
    m = tg.tensor([False, True, True])
    y = tg.where(c, x, 0.0) + x[m].sum()
    c.fill_(False)
    m.fill_(False)
    y.sum().backward()
    ct, mt = torch.tensor([True, False, True]), torch.tensor([False, True, True])
    (torch.where(ct, xt, 0.0) + xt[mt].sum()).sum().backward()
    close(x.grad, xt.grad)


def test_gather_and_index_select_indices_changed_after_the_forward():
    x, xt = pair(np.arange(6.0).reshape(2, 3))
    g, s = tg.tensor([[2, 0], [1, 1]]), tg.tensor([2, 0])
    y = x.gather(1, g).sum() * 3 + x.index_select(1, s).sum()
    g.zero_()
    s.fill_(1)
    y.backward()
    gt, st = torch.tensor([[2, 0], [1, 1]]), torch.tensor([2, 0])
    (xt.gather(1, gt).sum() * 3 + xt.index_select(1, st).sum()).backward()
    close(x.grad, xt.grad)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_one_label_buffer_reused_across_micro_batches(loss):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2, 4, 5))
    labels = [np.array([0, 3, 4, 1]), np.array([2, 2, 0, 4])]
    x, xt = pair(scores)
    buf = tg.tensor(labels[0])
    total = 0
    for k in range(2):
        buf.copy_(tg.tensor(labels[k]))  # the same buffer, refilled for each micro-batch
        inp = x[k] if loss == "cross_entropy" else x[k].log_softmax(1)
        total = total + getattr(F, loss)(inp, buf)
    total.backward()
    ref = 0
    for k in range(2):
        inp = xt[k] if loss == "cross_entropy" else xt[k].log_softmax(1)
        ref = ref + getattr(torch.nn.functional, loss)(inp, torch.tensor(labels[k]))
    ref.backward()
    close(total, ref)
    close(x.grad, xt.grad)


def test_embedding_indices_changed_after_the_forward():
    emb = nn.Embedding(5, 2)
    ref = torch.nn.Embedding(5, 2)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(emb.weight.numpy()))
    idx = tg.tensor([1, 1, 3])
    out = emb(idx)
    idx.fill_(0)
    (out * out).sum().backward()
    outt = ref(torch.tensor([1, 1, 3]))
    (outt * outt).sum().backward()
    close(emb.weight.grad, ref.weight.grad)


# ---- .grad storage -------------------------------------------------------------------------------


def test_a_0d_parameter_keeps_an_array_grad_after_two_backward_passes():
    p = nn.Parameter(tg.tensor(2.0))
    opt = optim.SGD([p], lr=0.1)
    for _ in range(2):
        (p * 3).backward()
    assert type(p.grad.numpy()) is np.ndarray and p.grad.item() == 6.0
    p.grad.mul_(0.5)
    assert p.grad.item() == 3.0
    opt.step()
    assert p.item() == pytest.approx(1.7)
    opt.zero_grad(set_to_none=False)
    assert p.grad.item() == 0.0
    p.grad.fill_(1.0)
    p.grad.zero_()
    (p * 3).backward()
    assert p.grad.item() == 3.0  # no stale gradient added in


@pytest.mark.parametrize("value, error", [
    (0.0, TypeError), (np.zeros(2), TypeError),
    (tg.zeros(3), RuntimeError), (tg.zeros(2, dtype=tg.float64), RuntimeError),
])
def test_assigning_grad_is_checked_as_pytorch(value, error):
    a = tg.zeros(2, requires_grad=True)
    t = torch.zeros(2, requires_grad=True)
    theirs = torch.tensor(value.numpy()) if isinstance(value, tg.Tensor) else value
    with pytest.raises(error):
        t.grad = theirs
    with pytest.raises(error, match="grad"):
        a.grad = value
    a.grad = tg.ones(2)  # the right shape and dtype is fine
    a.grad = None


# ---- outputs never alias inputs unless PyTorch's op is a view ------------------------------------


def _function(returns, base=Function):
    """A Function (or torch.autograd.Function) whose forward is `returns` and backward g."""
    class Fn(base):
        @staticmethod
        def forward(ctx, x):
            return returns(x)

        @staticmethod
        def backward(ctx, g):
            return g

    return Fn


@pytest.mark.parametrize("returns", [lambda x: x, lambda x: x[0:2], lambda x: x.reshape(3)])
def test_a_function_returning_its_input_or_a_view_refuses_an_in_place_change(returns):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True).clone()
    xt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True).clone()
    y = _function(returns).apply(x)
    yt = _function(returns, torch.autograd.Function).apply(xt)
    with pytest.raises(RuntimeError):
        yt.mul_(2)
    with pytest.raises(RuntimeError, match="view"):
        y.mul_(2)


def test_a_function_returning_its_input_shares_its_version():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    a = w * 2
    b = a * a  # this branch saved a
    with tg.no_grad():
        y = _function(lambda x: x).apply(a)
        y.mul_(3)  # changes a too
    with pytest.raises(RuntimeError, match="in-place"):
        b.sum().backward()


@pytest.mark.parametrize("op", [
    lambda t: t.repeat(1, 1), lambda t: t.cumsum(0), lambda t: t.prod(0, keepdim=True),
    lambda t: t.prod(0), lambda t: t.repeat(1, 1, 1),
])
def test_ops_that_are_not_views_in_pytorch_return_new_memory(op):
    x, xt = tg.ones(1, 3), torch.ones(1, 3)
    out, outt = op(x), op(xt)
    out.fill_(5.0)
    outt.fill_(5.0)
    close(x, xt)


# ---- integer and float16 reductions --------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "bool"])
@pytest.mark.parametrize("op", ["sum", "prod", "cumsum"])
def test_integer_reductions_are_int64_without_wrapping(dtype, op):
    data = np.array([200, 2, 100, 1]) if dtype != "bool" else np.array([1, 1, 0, 1])
    data = data.astype(dtype) if dtype != "int8" else np.array([100, 100, 2, -3], "int8")
    args = (0,) if op == "cumsum" else ()
    ours = getattr(tg.tensor(data), op)(*args)
    theirs = getattr(torch.tensor(data), op)(*args)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert ours.tolist() == theirs.tolist()


def test_float16_mean_and_var_of_many_values():
    data = np.linspace(0, 2, 70_000).astype(np.float16)
    x, xt = pair(data, np.float16)
    for f in (lambda t: t.mean(), lambda t: t.var(), lambda t: t.std()):
        ours, theirs = f(x), f(xt)
        assert ours.dtype == np.float16
        close(ours, theirs, tol=2e-3)
    x.mean().backward()
    xt.mean().backward()
    close(x.grad, xt.grad, tol=1e-7)


# ---- derivatives at the edges --------------------------------------------------------------------


@pytest.mark.parametrize("p", [math.inf, -math.inf, 0, 3, 0.5, 1, 2])
@pytest.mark.parametrize("data", [[0.0, 0.0, 0.0], [1.0, -3.0, 0.0], [2.0, 2.0, -1.0]])
def test_norm_values_and_gradients(p, data):
    x, xt = pair(data)
    n, nt = x.norm(p=p), xt.norm(p=p)
    close(n, nt)
    n.backward()
    nt.backward()
    expected = xt.grad if xt.grad is not None else torch.zeros(3, dtype=torch.float64)
    if p in (math.inf, -math.inf) and data == [2.0, 2.0, -1.0]:
        return  # ties: torch's norm gives the gradient to one of them, amax splits it
    close(x.grad, expected)


@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_frobenius_norm_is_the_2_norm_of_the_elements(dim):
    x, xt = pair([[1.0, -3.0, 0.0], [2.0, 0.5, -1.0]])
    n, nt = x.norm("fro", dim=dim), xt.norm("fro", dim=dim)
    close(n, nt)
    n.sum().backward()
    nt.sum().backward()
    close(x.grad, xt.grad)


def test_norm_names_the_string_it_does_not_know():
    x = tg.ones(2, 2)
    with pytest.raises(ValueError, match="norm: p='nuc' is not supported"):
        x.norm("nuc")


def test_remainder_and_rounding_pass_zero_or_the_right_gradient():
    x, xt = pair([3.5, -1.25, 5.0])
    y, yt = pair([2.0, 2.0, -3.0])
    (x + x % 2 + (x % y) * 3).sum().backward()
    (xt + xt % 2 + (xt % yt) * 3).sum().backward()
    close(x.grad, xt.grad)
    close(y.grad, yt.grad)
    for name in ["floor", "ceil", "round", "trunc", "sign"]:
        a, at = pair([1.5, -0.25, 2.0])
        out, outt = getattr(a, name)(), getattr(at, name)()
        assert out.requires_grad and outt.requires_grad
        (out * a).sum().backward()
        (outt * at).sum().backward()
        close(out, outt)
        close(a.grad, at.grad)


@pytest.mark.parametrize("kw", [{"correction": 3}, {"correction": 5}, {"correction": 2}])
@pytest.mark.parametrize("data", [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
def test_var_and_std_with_a_correction_at_least_n(kw, data):
    x, xt = pair(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(x.var(**kw), xt.var(**kw))
        close(x.std(**kw), xt.std(**kw))


def test_var_over_an_empty_dim_is_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(tg.ones(2, 0).var(1), torch.ones(2, 0).var(1))
        close(tg.ones(0).var(), torch.ones(0).var())


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_min_amin_and_minimum_on_unsigned_and_int_min(dtype):
    info = np.iinfo(dtype)
    data = np.array([1, info.min, 2, info.max], dtype=dtype)
    other = np.array([0, info.max, info.min, 3], dtype=dtype)
    x, xt = tg.tensor(data), torch.tensor(data)
    o, ot = tg.tensor(other), torch.tensor(other)
    assert x.min().item() == xt.min().item() == info.min
    assert x.amin().item() == xt.amin().item()
    assert x.minimum(o).tolist() == xt.minimum(ot).tolist()
    assert x.min(0).values.item() == xt.min(0).values.item()


def test_pow_gradient_at_zero_to_the_zero():
    x, xt = pair([0.0, 0.0, 2.0])
    y, yt = pair([0.0, 1.5, 0.0])
    (x**y).sum().backward()
    (xt**yt).sum().backward()
    close(x.grad, xt.grad)
    close(y.grad, yt.grad)


def test_cross_entropy_with_every_target_ignored_has_zero_gradients():
    scores = np.random.default_rng(1).normal(size=(3, 4))
    for smoothing in (0.0, 0.1):
        x, xt = pair(scores)
        t = [-100, -100, -100]
        loss = F.cross_entropy(x, tg.tensor(t), label_smoothing=smoothing)
        ref = torch.nn.functional.cross_entropy(xt, torch.tensor(t), label_smoothing=smoothing)
        loss.backward()
        ref.backward()
        close(loss, ref)
        close(x.grad, xt.grad)


# ---- indexing follows PyTorch's rule -------------------------------------------------------------


@pytest.mark.parametrize("index", [
    (0, slice(None), [0, 2]), (slice(None), [0, 1], slice(None), 0), ([0, 1], 0, [0, 2]),
    (slice(None), [0, 1], None, 0), (1, Ellipsis, [1, 0]), (0, [[0], [1]], slice(1, 3)),
    (-1, slice(None, None, 2), [3, 0]), (1, [True, False, True], 0),
    # an Ellipsis that stands for no dim does not separate the arrays around it (numpy: it does)
    (slice(None), slice(None), [0, 1], Ellipsis, [1, 0]), ([0, 1], Ellipsis, [1, 2]),
])
def test_indexing_that_mixes_ints_slices_and_arrays(index):
    data = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    x, xt = pair(data)
    ti = tuple(torch.tensor(i) if isinstance(i, list) else i for i in index)
    out, outt = x[index], xt[ti]
    close(out, outt)
    (out * out).sum().backward()
    (outt * outt).sum().backward()
    close(x.grad, xt.grad)
    y, yt = tg.tensor(data), torch.tensor(data)
    y[index] = tg.tensor(-outt.detach().numpy())
    yt[ti] = -outt.detach()
    close(y, yt)


def test_a_0d_integer_tensor_index_counts_as_an_int():
    data = np.arange(24.0).reshape(2, 3, 4)
    close(tg.tensor(data)[tg.tensor(0), :, [0, 2]], torch.tensor(data)[torch.tensor(0), :, [0, 2]])


# ---- view() never copies -------------------------------------------------------------------------


def test_view_of_a_non_contiguous_tensor_raises_and_points_to_reshape():
    x, xt = tg.ones(3, 4).T, torch.ones(3, 4).T
    with pytest.raises(RuntimeError):
        xt.view(12)
    with pytest.raises(RuntimeError, match=r"reshape\(\)"):
        x.view(12)
    v = tg.zeros(3, 4).view(2, 6)  # contiguous: a real view, writes show through
    v.fill_(1.0)
    assert x.reshape(12).shape == (12,)
    w = tg.zeros(4, 3)
    w.view(12).fill_(2.0)
    assert w.sum().item() == 24.0


# ---- smaller divergences -------------------------------------------------------------------------


def test_prod_of_an_empty_tensor_keeps_requires_grad():
    e, et = tg.ones(0, requires_grad=True), torch.ones(0, requires_grad=True)
    p, pt = e.prod(), et.prod()
    assert p.requires_grad == pt.requires_grad and p.item() == pt.item() == 1.0
    p.backward()
    assert e.grad.shape == (0,)


@pytest.mark.parametrize("op", ["gather", "index_select"])
@pytest.mark.parametrize("bad", [-1, 3])
def test_gather_and_index_select_refuse_out_of_range_and_negative_indices(op, bad):
    with pytest.raises((IndexError, RuntimeError)):
        getattr(torch.ones(3), op)(0, torch.tensor([bad]))
    with pytest.raises(IndexError, match=f"index {bad} is out of bounds"):
        getattr(tg.ones(3), op)(0, tg.tensor([bad]))


@pytest.mark.parametrize("op", [lambda a, b: a // b, lambda a, b: a % b])
def test_integer_division_by_zero_raises(op):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        op(torch.tensor([1, 2]), 0)
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        op(tg.tensor([1, 2]), 0)
    with pytest.raises(ZeroDivisionError):
        op(tg.tensor([1, 2]), tg.tensor([1, 0]))


@pytest.mark.parametrize("a, b", [
    (np.array(1.0), np.ones(2, np.float32)), (np.ones(2, np.float32), np.array(1.0)),
    (np.array(1.0), np.ones(2, np.int32)), (np.array(3), np.ones(2, np.int8)),
    (np.array(3), np.ones(2, np.uint8)), (np.array(True), np.ones(2, np.int8)),
    (np.array(1.0, np.float32), np.array(1.0)), (np.ones(2, np.float32), np.ones(2, np.int32)),
    (np.ones(2, np.float16), np.array(2, np.int64)), (np.ones(2, np.int16), np.array(1.5)),
])
@pytest.mark.parametrize("op", ["add", "mul", "floordiv", "mod", "sub", "truediv", "pow"])
def test_type_promotion_gives_dimensioned_tensors_priority(a, b, op):
    import operator

    f = getattr(operator, op)
    if op == "sub" and (a.dtype == bool or b.dtype == bool):
        return
    ours, theirs = f(tg.tensor(a), tg.tensor(b)), f(torch.tensor(a), torch.tensor(b))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (a.dtype, b.dtype)
    close(ours, theirs, tol=1e-3)


def test_bool_tril_and_triu_stay_bool():
    m = np.array([[True, True], [False, True]])
    assert tg.tensor(m).tril().dtype == np.bool_ and torch.tensor(m).tril().dtype == torch.bool
    assert tg.tensor(m).triu().tolist() == torch.tensor(m).triu().tolist()


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8", "float16"])
def test_max_and_min_over_a_dim_keep_the_dtype(dtype):
    data = np.array([[1, 5, 2], [7, 0, 7]], dtype=dtype)
    for name in ("max", "min"):
        v, i = getattr(tg.tensor(data), name)(1)
        vt, it = getattr(torch.tensor(data), name)(1)
        assert str(v.dtype) == str(vt.dtype).removeprefix("torch.")
        assert v.tolist() == vt.tolist() and i.tolist() == it.tolist()


@pytest.mark.parametrize("call", [
    lambda m: m.ones(3).flip((0, 0)), lambda m: m.ones(2, 3).sum((1, -1)),
    lambda m: m.tensor([1, 2]) ** -2, lambda m: m.linspace(0, 1, 3, dtype=m.bool),
])
def test_pytorch_refuses_and_so_do_we(call):
    with pytest.raises((RuntimeError, NotImplementedError)):
        call(torch)
    with pytest.raises((RuntimeError, TypeError)):
        call(tg)


def test_comparing_with_none_is_a_plain_bool():
    x, xt = tg.ones(2), torch.ones(2)
    assert (x == None) is (xt == None) is False  # noqa: E711
    assert (x != None) is (xt != None) is True  # noqa: E711
