"""Differential fuzzers against PyTorch 2.13 for the mechanisms behind issue 11's bugs.

- constants a node keeps for backward (indices, masks, conditions, class targets) changed in
  place between forward and backward: the gradient is that of the forward that ran;
- integer and bool dtypes through reductions, arithmetic and comparisons: torch's result dtype
  and values (no wrap-around where torch promotes, exact extremes);
- float16 reductions: accumulated as torch does, with its result dtype;
- indexing that mixes ints, slices, None, Ellipsis, index arrays and masks: torch's layout,
  values, gradient and assignment.
(Aliasing, every op against torch, is test_fuzz_aliasing.py.)
"""

from __future__ import annotations

import operator
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F


def same_dtype(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)


def close(ours, theirs, tol=1e-6):
    a = ours.numpy() if isinstance(ours, tg.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol,
                               equal_nan=True)


# ---- constants changed in place between forward and backward -----------------------------------

# name: (forward(x, const, M) -> a scalar, the constant from (rng, x's shape))
KEPT = {
    "index": (lambda x, c, M: (x[c] ** 2).sum(), lambda r, s: r.integers(0, s[0], size=3)),
    "mask": (lambda x, c, M: (x[c] ** 2).sum(), lambda r, s: r.random(s) < 0.5),
    "where": (lambda x, c, M: (M.where(c, x, 0.0) ** 2).sum(), lambda r, s: r.random(s) < 0.5),
    "masked_fill": (lambda x, c, M: (x.masked_fill(c, 0.0) ** 2).sum(),
                    lambda r, s: r.random(s) < 0.5),
    "gather": (lambda x, c, M: (x.gather(1, c) ** 2).sum(),
               lambda r, s: r.integers(0, s[1], size=(s[0], 2))),
    "index_select": (lambda x, c, M: (x.index_select(0, c) ** 2).sum(),
                     lambda r, s: r.integers(0, s[0], size=4)),
    "cross_entropy": (lambda x, c, M: (F if M is tg else torch.nn.functional).cross_entropy(x, c),
                      lambda r, s: r.integers(0, s[1], size=s[0])),
    "nll_loss": (lambda x, c, M: (F if M is tg else torch.nn.functional).nll_loss(
        x.log_softmax(1), c, reduction="sum"), lambda r, s: r.integers(0, s[1], size=s[0])),
    "embedding": (lambda x, c, M: (_embedding(c, x, M) ** 2).sum(),
                  lambda r, s: r.integers(0, s[0], size=(2, 3))),
}


def _embedding(idx, weight, M):
    """nn.Embedding's forward with `weight` as its table (torch: F.embedding)."""
    if M is torch:
        return torch.nn.functional.embedding(idx, weight)
    return tg.nn.Embedding.forward(SimpleNamespace(weight=weight, num_embeddings=len(weight),
                                                   padding_idx=None, max_norm=None,
                                                   norm_type=2.0), idx)


def _change(c: np.ndarray, how: str, holder):
    """Change the constant in place, through the Tensor that holds it or through the array."""
    new = np.roll(c, 1) if c.dtype == bool else (c + 1) % 2
    if how == "tensor":
        holder.copy_(tg.tensor(new))
    else:
        c[...] = new


@pytest.mark.parametrize("name", sorted(KEPT))
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(2, 4), cols=st.integers(2, 4),
       how=st.sampled_from(["tensor", "array"]))
def test_changing_a_kept_constant_after_the_forward_leaves_the_gradient_alone(
        name, seed, rows, cols, how):
    forward, make = KEPT[name]
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(rows, cols))
    c = make(rng, data.shape)
    x, xt = tg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    holder = tg.tensor(c)  # a copy: `how` decides whether the Tensor or an array is changed
    kept = holder if how == "tensor" else c
    loss = forward(x, kept if how == "tensor" else tg.from_numpy(c), tg)
    ref = forward(xt, torch.tensor(c.copy()), torch)
    _change(c if how == "array" else holder.numpy(), how, holder)
    loss.backward()
    ref.backward()
    close(loss, ref)
    close(x.grad, xt.grad)


# ---- integer dtypes ---------------------------------------------------------------------------

INTS = ["bool", "uint8", "int8", "int16", "int32", "int64"]


SMALL = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)


def int_arrays(dtype, shape=SMALL):
    return hnp.arrays(np.dtype(dtype), shape)


REDUCTIONS = {
    "sum": lambda x: x.sum(), "sum0": lambda x: x.sum(0), "prod": lambda x: x.prod(),
    "prod0": lambda x: x.prod(0, keepdim=True), "cumsum": lambda x: x.cumsum(-1),
    "amax": lambda x: x.amax(), "amin": lambda x: x.amin(0), "max": lambda x: x.max(),
    "min": lambda x: x.min(), "max_dim": lambda x: x.max(0).values,
    "min_dim": lambda x: x.min(-1).values, "argmax": lambda x: x.argmax(),
    "argmin": lambda x: x.argmin(0), "any": lambda x: x.any(0), "all": lambda x: x.all(),
}


@pytest.mark.parametrize("op", sorted(REDUCTIONS))
@settings(max_examples=12, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(INTS))
def test_integer_reductions_match_torch(op, data, dtype):
    if dtype == "bool" and op in ("amax", "amin", "max", "min", "max_dim", "min_dim",
                                  "argmax", "argmin"):
        return  # torch has no bool extremes
    a = data.draw(int_arrays(dtype))
    ours, theirs = REDUCTIONS[op](tg.tensor(a)), REDUCTIONS[op](torch.tensor(a))
    same_dtype(ours, theirs)
    assert ours.tolist() == theirs.tolist()


BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "floordiv": operator.floordiv,
    "mod": operator.mod, "truediv": operator.truediv, "lt": operator.lt, "eq": operator.eq,
    "ge": operator.ge, "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b),
}


@pytest.mark.parametrize("op", sorted(BINARY))
@settings(max_examples=15, deadline=None)
@given(data=st.data(), da=st.sampled_from(INTS + ["float32", "float64"]),
       db=st.sampled_from(INTS + ["float32", "float64"]), zero_d=st.sampled_from([0, 1, 2]))
def test_integer_arithmetic_and_comparisons_match_torch(op, data, da, db, zero_d):
    if op == "sub" and "bool" in (da, db):
        return  # torch refuses bool subtraction
    a = data.draw(int_arrays(da, (3,)) if da in INTS else hnp.arrays(da, (3,), elements=st.floats(
        -100, 100, width=32)))
    b = data.draw(int_arrays(db, (3,)) if db in INTS else hnp.arrays(db, (3,), elements=st.floats(
        -100, 100, width=32)))
    if zero_d == 1:
        a = a[0]
    elif zero_d == 2:
        b = b[0]
    if op in ("floordiv", "mod"):
        assume(np.all(b != 0) if np.asarray(b).dtype.kind in "iub" else True)
        if np.asarray(b).dtype.kind in "iu" and np.asarray(a).dtype.kind in "iu":
            assume(not np.any(np.asarray(b) == -1))  # INT_MIN // -1 overflows differently
    ta, tb = torch.tensor(a), torch.tensor(b)
    try:
        theirs = BINARY[op](ta, tb)
    except RuntimeError:
        return
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ours = BINARY[op](tg.tensor(a), tg.tensor(b))
    same_dtype(ours, theirs)
    close(ours, theirs, tol=1e-5 if theirs.dtype.is_floating_point else 0)


# ---- float16 ------------------------------------------------------------------------------------

HALF = {
    "sum": lambda x: x.sum(), "mean": lambda x: x.mean(), "mean0": lambda x: x.mean(0),
    "var": lambda x: x.var(), "std0": lambda x: x.std(0), "sum_sq": lambda x: (x * x).sum(1),
    "prod0": lambda x: x.prod(0), "cumsum": lambda x: x.cumsum(1), "amax": lambda x: x.amax(),
}


@pytest.mark.parametrize("op", sorted(HALF))
@settings(max_examples=8, deadline=None)
@given(rows=st.sampled_from([1, 3, 70_000]), scale=st.sampled_from([0.01, 1.0, 300.0]),
       seed=st.integers(0, 2**16))
def test_float16_reductions_match_torch(op, rows, scale, seed):
    data = (np.random.default_rng(seed).normal(size=(rows, 2)) * scale).astype(np.float16)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        x, xt = tg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        ours, theirs = HALF[op](x), HALF[op](xt)
        same_dtype(ours, theirs)
        a, b = ours.numpy().astype(np.float64), theirs.detach().numpy().astype(np.float64)
        # ours never overflows where torch does not; torch may (its float16 sum of 140,000
        # values of 300 is inf, partial sums kept in float16), where ours is the finite answer
        assert np.all(np.isfinite(a) | ~np.isfinite(b))
        if op != "cumsum":  # torch's cumsum rounds to float16 at each step, in its own order
            fine = np.isfinite(b)
            # near torch's answer, or nearer than it to the exact (float64) one: over 140,000
            # values that cancel, torch's float16 sum can be 3e-3 off where ours is exact
            exact = HALF[op](torch.tensor(data.astype(np.float64))).detach().numpy()
            close = np.isclose(a, b, rtol=3e-3, atol=1e-3 * scale)
            nearer = np.abs(a - exact) <= np.abs(b - exact)
            assert np.all((close | nearer)[fine]), (a[fine], b[fine], exact[fine])
        if op in ("mean", "mean0", "var", "std0") and np.all(np.isfinite(b)):
            ours.sum().backward()
            theirs.sum().backward()
            x64 = torch.tensor(data.astype(np.float64), requires_grad=True)
            HALF[op](x64).sum().backward()
            ga, gb = (t.grad.numpy().astype(np.float64) for t in (x, xt))
            close = np.isclose(ga, gb, rtol=1e-2, atol=1e-4 * max(1.0, scale))
            nearer = np.abs(ga - x64.grad.numpy()) <= np.abs(gb - x64.grad.numpy())
            assert np.all(close | nearer), (ga, gb, x64.grad.numpy())


# ---- mixed indexing ---------------------------------------------------------------------------


@st.composite
def indexed(draw):
    """A shape, and an index of ints, slices, None, one Ellipsis, int arrays and bool masks."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    n_arr = draw(st.integers(1, 3))
    length = draw(st.integers(1, 3))
    parts, dim, ellipsis = [], 0, False
    while dim < len(shape):
        kind = draw(st.sampled_from(["int", "slice", "array", "array", "mask", "none", "stop",
                                     "ellipsis"]))
        n = shape[dim]
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            parts.append(slice(start, stop, draw(st.none() | st.integers(1, 3))))
        elif kind == "array" and n_arr:
            n_arr -= 1
            size = draw(st.sampled_from([length, 1]))
            parts.append(draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size)))
        elif kind == "mask":
            parts.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        elif kind == "none":
            parts.append(None)
            continue
        elif kind == "ellipsis" and not ellipsis:
            ellipsis = True
            parts.append(Ellipsis)
            dim = len(shape) - sum(1 for p in parts if p is not None and p is not Ellipsis)
            dim = len(shape) - dim  # what the ellipsis leaves for the remaining parts
            continue
        elif kind == "stop":
            break
        else:
            parts.append(slice(None))
        dim += 1
    return shape, tuple(parts)


def _torch_index(index):
    return tuple(torch.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in index)


@settings(max_examples=300, deadline=None)
@given(case=indexed(), seed=st.integers(0, 2**16))
def test_mixed_indexing_matches_torch(case, seed):
    shape, index = case
    data = np.random.default_rng(seed).normal(size=shape)
    x, xt = tg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    try:
        theirs = xt[_torch_index(index)]
    except (IndexError, RuntimeError, ValueError, TypeError):
        assume(False)
    ours = x[index]
    close(ours, theirs)
    w = np.random.default_rng(seed + 1).normal(size=theirs.shape)
    (ours * tg.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    close(x.grad, xt.grad)
    hits = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    hits[_torch_index(index)].sum().backward()
    if hits.grad.max() <= 1:  # each element written once: assignment is well defined
        y, yt = tg.tensor(data), torch.tensor(data)
        y[index] = tg.tensor(-w)
        yt[_torch_index(index)] = torch.tensor(-w)
        close(y, yt)
