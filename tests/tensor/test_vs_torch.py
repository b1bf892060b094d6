"""Differential tests: Tensor against PyTorch 2.13 in float64, values and gradients to 1e-6.

Shapes come from hypothesis (broadcastable pairs and triples, 0-d tensors, size-0 and size-1
dims). Both libraries run the same Python function, so every op is written once below and
runs on `tinygrad_edu.Tensor` and `torch.Tensor` alike. The last test builds random expression
graphs: inputs used several times, broadcasting, reductions with keepdim, and compares every
input's gradient.
"""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg

TOL = {"rtol": 1e-6, "atol": 1e-6}
finite = st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False, width=64)


def arrays(shape):
    return hnp.arrays(np.float64, shape, elements=finite)


def both(arrays_):
    ours = [tg.tensor(a, requires_grad=True, dtype=tg.float64) for a in arrays_]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays_]
    return ours, theirs


def where(c, a, b):
    return torch.where(c, a, b) if isinstance(a, torch.Tensor) else tg.where(c, a, b)


def F(x):
    """Functions torch keeps in torch.nn.functional and we keep as methods."""
    return torch.nn.functional if isinstance(x, torch.Tensor) else _Methods


class _Methods:
    softplus = staticmethod(lambda x: x.softplus())
    gelu = staticmethod(lambda x, approximate="none": x.gelu(approximate))
    leaky_relu = staticmethod(lambda x, s: x.leaky_relu(s))


def compare(fn, arrays_):
    """fn on both libraries: same values, same gradients for every input (0 where unused)."""
    ours, theirs = both(arrays_)
    a, b = fn(*ours), fn(*theirs)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)
    weights = np.linspace(-1.0, 2.0, max(b.numel(), 1))[: b.numel()].reshape(tuple(b.shape))
    (a * tg.tensor(weights)).sum().backward()
    (b * torch.tensor(weights)).sum().backward()
    for x, xt in zip(ours, theirs):
        expected = np.zeros(xt.shape) if xt.grad is None else xt.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, **TOL)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "rsub": lambda a, b: 1.5 - a - b,
    "mul": lambda a, b: a * b * 2.0,
    "div": lambda a, b: a / (b * b + 0.5),
    "rdiv": lambda a, b: 2.0 / (a * a + 1.0) + b,
    "pow": lambda a, b: (a * a + 0.5) ** b,
    "rpow": lambda a, b: 1.5**a * b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "where": lambda a, b: where(a > b, a * b, b - a),
    "max_tensor": lambda a, b: a.max(b),
}

UNARY = {
    "neg": lambda a: -a,
    "exp": lambda a: a.exp(),
    "log": lambda a: (a * a + 0.1).log(),
    "sqrt": lambda a: (a * a + 0.1).sqrt(),
    "rsqrt": lambda a: (a * a + 0.1).rsqrt(),
    "abs": lambda a: a.abs(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "leaky_relu": lambda a: F(a).leaky_relu(a, 0.2),
    "gelu": lambda a: F(a).gelu(a),
    "gelu_tanh": lambda a: F(a).gelu(a, approximate="tanh"),
    "softplus": lambda a: F(a).softplus(a),
    "sin": lambda a: a.sin(),
    "cos": lambda a: a.cos(),
    "erf": lambda a: a.erf(),
    "square": lambda a: a.square(),
    "pow_int": lambda a: a**3,
    "pow_float": lambda a: (a * a + 0.5) ** 1.5,
    "pow_neg": lambda a: (a * a + 0.5) ** -2,
    "clamp": lambda a: a.clamp(-1.0, 0.5),
    "clamp_min": lambda a: a.clamp(min=0.0),
    "clip": lambda a: a.clip(max=0.25),
    "flatten": lambda a: a.flatten() * 2,
    "T": lambda a: a.reshape(-1, 1).T * 3,
    "clone": lambda a: a.clone() * a,
    "cast": lambda a: a.float().double() * 1.0,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_binary_ops_broadcast_like_torch(name, data):
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=3)
    )
    a = data.draw(arrays(shapes.input_shapes[0]))
    b = data.draw(arrays(shapes.input_shapes[1]))
    compare(BINARY[name], [a, b])


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8, deadline=None)
@given(x=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3).flatmap(arrays))
def test_unary_ops_match_torch(name, x):
    if name == "cast":  # float32 in the middle: compare to float32 precision
        a = tg.tensor(x, dtype=tg.float64)
        np.testing.assert_allclose(UNARY[name](a).numpy(), x.astype(np.float32), rtol=0)
        return
    compare(UNARY[name], [x])


nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def with_dim(draw, shapes=nonempty):
    shape = draw(shapes)
    x = draw(arrays(shape))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return x, dim


REDUCE = {
    "sum": lambda a, d: a.sum(d),
    "sum_keep": lambda a, d: a.sum(d, keepdim=True),
    "sum_all": lambda a, d: a.sum(),
    "mean": lambda a, d: a.mean(d),
    "mean_all": lambda a, d: a.mean(),
    "var": lambda a, d: a.var(d) if a.shape[d] > 1 else a.sum(d),
    "var_biased": lambda a, d: a.var(d, unbiased=False, keepdim=True),
    "std": lambda a, d: (a.std(d) if a.shape[d] > 1 else a.sum(d)),
    "max_dim": lambda a, d: a.max(d)[0],
    "max_dim_keep": lambda a, d: a.max(d, keepdim=True).values,
    "min_dim": lambda a, d: a.min(dim=d).values,
    "max_all": lambda a, d: a.max(),
    "min_all": lambda a, d: a.min(),
    "amax": lambda a, d: a.amax(d),
    "amin": lambda a, d: a.amin(d, keepdim=True),
    "logsumexp": lambda a, d: a.logsumexp(d),
    "logsumexp_keep": lambda a, d: a.logsumexp(d, keepdim=True),
    "softmax": lambda a, d: a.softmax(d),
    "log_softmax": lambda a, d: a.log_softmax(d),
    "prod": lambda a, d: a.prod(d),
    "prod_all": lambda a, d: a.prod(),
    "norm": lambda a, d: (a * a + 0.1).norm(),
    "cumulative": lambda a, d: (a.softmax(d) * a).sum(d),
}


@pytest.mark.parametrize("name", sorted(REDUCE))
@settings(max_examples=8, deadline=None)
@given(xd=with_dim())
def test_reductions_match_torch(name, xd):
    x, dim = xd
    if name == "std":  # std's gradient at zero spread is rounding noise divided by rounding noise
        assume(np.ptp(x, axis=dim).min() > 1e-3)
    compare(lambda a: REDUCE[name](a, dim), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "logsumexp"])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_reductions_over_several_dims_match_torch(name, data):
    shape = data.draw(nonempty)
    x = data.draw(arrays(shape))
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    keep = data.draw(st.booleans())
    compare(lambda a: getattr(a, name)(tuple(dims), keepdim=keep), [x])


SHAPE_OPS = {
    "reshape": lambda a: a.reshape(-1, 1) * 2,
    "permute": lambda a: a.permute(*reversed(range(a.ndim))) * 2,
    "transpose": lambda a: a.transpose(0, -1) * 2,
    "unsqueeze": lambda a: a.unsqueeze(1) * 2,
    "squeeze": lambda a: a.unsqueeze(0).squeeze(0) * 2,
    "expand": lambda a: a.unsqueeze(0).expand(3, *a.shape) * 2,
    "repeat": lambda a: a.repeat(*([2] * a.ndim)),
    "split": lambda a: a.split(2, dim=-1)[-1] * 2,
    "chunk": lambda a: a.chunk(2, dim=0)[0] * 2,
    "index_int": lambda a: a[0] * 2,
    "index_slice": lambda a: a[..., ::2] * 2,
    "index_none": lambda a: a[None, :1] * 2,
    "index_array": lambda a: a[[0, 0, -1]] * 2,
    "index_mask": lambda a: a[a > 0] * 2,
    "masked_fill": lambda a: a.masked_fill(a > 0.5, -2.0) * a,
    "gather": lambda a: a.gather(0, _index_like(a, a)),
    "index_select": lambda a: a.index_select(0, _index_like(a, a.reshape(-1)[:5])),
    "flip": lambda a: a.flip(0) * a,
    "flip_all": lambda a: a.flip(tuple(range(a.ndim))) * 2,
    "cumsum": lambda a: a.cumsum(0) * a,
    "cumsum_last": lambda a: a.cumsum(-1) ** 2,
    "tril": lambda a: a.reshape(a.shape[0], -1).tril() * 2,
    "triu": lambda a: a.reshape(a.shape[0], -1).triu(1) * 2,
    "sort": lambda a: a.sort(dim=-1, descending=True, stable=True)[0] * _ramp(a),
    "sort_idx": lambda a: a * a.sort(dim=0, stable=True).indices,
    "topk": lambda a: a.topk(1, dim=0).values * 2,
    "cat": lambda a: (torch if isinstance(a, torch.Tensor) else tg).cat([a, a * 2, a[:1]], 0),
    "stack": lambda a: (torch if isinstance(a, torch.Tensor) else tg).stack([a, -a], -1),
}


def _index_like(a, like):
    """An integer index tensor for `a`'s dim 0 with `like`'s shape, from its values."""
    n = a.shape[0]
    idx = (np.abs(like.detach().numpy() * 7).astype(np.int64)) % n
    return torch.tensor(idx) if isinstance(a, torch.Tensor) else tg.tensor(idx)


def _ramp(a):
    r = np.linspace(-1.0, 1.0, a.shape[-1])
    return torch.tensor(r) if isinstance(a, torch.Tensor) else tg.tensor(r)


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
@settings(max_examples=8, deadline=None)
@given(x=nonempty.flatmap(arrays))
def test_shape_and_index_ops_match_torch(name, x):
    if name == "topk":  # which of several tied entries topk picks is unspecified in torch
        assume(np.unique(x).size == x.size)
    compare(SHAPE_OPS[name], [x])


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_matmul_matches_torch_for_every_rank(data):
    n = data.draw(st.integers(1, 3))
    ra, rb = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2))
    m, p = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    sa = (n,) if ra == 1 else (*batch.input_shapes[0][: ra - 2], m, n)
    sb = (n,) if rb == 1 else (*batch.input_shapes[1][: rb - 2], n, p)
    compare(lambda a, b: a @ b, [data.draw(arrays(sa)), data.draw(arrays(sb))])


def test_padding_matches_torch():
    x = np.arange(12.0).reshape(3, 4)
    compare(lambda a: F(a).pad(a, (1, 2, 0, 1), value=0.5) if isinstance(a, torch.Tensor)
            else a.pad((1, 2, 0, 1), value=0.5), [x])


def test_huge_logits_stay_finite_like_torch():
    x = np.array([[1e4, 0.0, -1e4], [5.0, 5.0, 5.0]])
    compare(lambda a: a.log_softmax(1) + a.softmax(1) + a.logsumexp(1, keepdim=True), [x])


# ---- random expression graphs -------------------------------------------------------------------

GRAPH_UNARY = [
    lambda a: a.tanh(), lambda a: a.sigmoid(), lambda a: a.sin(), lambda a: a.relu(),
    lambda a: a.abs(), lambda a: (a * a + 1).log(), lambda a: (a * 0.5).exp(),
    lambda a: a * a, lambda a: -a, lambda a: a.clamp(-1.0, 1.0),
    lambda a: a.softmax(-1) if a.ndim else a, lambda a: a.log_softmax(0) if a.ndim else a,
]
GRAPH_BINARY = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
    lambda a, b: a / (b * b + 1), lambda a, b: a.maximum(b),
    lambda a, b: where(a > 0, a, b * 2),
]
GRAPH_REDUCE = [  # keepdim=True keeps every value broadcastable with every other
    lambda a, d: a.sum(d, keepdim=True), lambda a, d: a.mean(d, keepdim=True),
    lambda a, d: a.amax(d, keepdim=True), lambda a, d: a.logsumexp(d, keepdim=True),
]

step = st.tuples(st.integers(0, 2), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99))


def run_program(inputs, program):
    pool = list(inputs)
    for kind, i, j, k in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if kind == 0:
            pool.append(GRAPH_UNARY[k % len(GRAPH_UNARY)](a))
        elif kind == 1:
            pool.append(GRAPH_BINARY[k % len(GRAPH_BINARY)](a, b))
        elif a.ndim and all(n > 0 for n in a.shape):
            pool.append(GRAPH_REDUCE[k % len(GRAPH_REDUCE)](a, k % a.ndim))
    out = pool[len(inputs):] or pool
    total = out[0].sum()
    for n, y in enumerate(out[1:], start=2):
        total = total + (y * (1.0 / n)).sum()
    return total


@settings(max_examples=40, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0, max_side=3),
    data=st.data(),
    program=st.lists(step, min_size=1, max_size=12),
)
def test_random_expression_graphs_match_torch(shapes, data, program):
    arrays_ = [data.draw(arrays(s)) for s in shapes.input_shapes]
    compare(lambda *xs: run_program(xs, program), arrays_)


@settings(max_examples=25, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, min_side=1, max_side=3),
    data=st.data(),
    program=st.lists(step, min_size=1, max_size=8),
)
def test_random_graphs_hessian_vector_products_match_torch(shapes, data, program):
    arrays_ = [data.draw(arrays(s)) for s in shapes.input_shapes]
    vs = [np.cos(np.arange(a.size, dtype=np.float64)).reshape(a.shape) for a in arrays_]
    ours, theirs = both(arrays_)
    (gs) = tg.grad(run_program(ours, program), ours, create_graph=True, allow_unused=True)
    gts = torch.autograd.grad(run_program(theirs, program), theirs, create_graph=True,
                              allow_unused=True)
    for g, gt in zip(gs, gts):
        if gt is None or g is None:
            continue
        np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(force=True), **TOL)
    hv = sum(((g * tg.tensor(v)).sum() for g, v in zip(gs, vs) if g is not None and
              g.requires_grad), tg.tensor(0.0, dtype=tg.float64))
    hvt = sum(((g * torch.tensor(v)).sum() for g, v in zip(gts, vs) if g is not None and
               g.requires_grad), torch.tensor(0.0, dtype=torch.float64))
    if not hv.requires_grad or not hvt.requires_grad:
        return  # a piecewise-linear program: no second derivative to compare
    second = tg.grad(hv, ours, allow_unused=True)
    second_t = torch.autograd.grad(hvt, theirs, allow_unused=True)
    for a, h, ht in zip(arrays_, second, second_t):
        expected = np.zeros(a.shape) if ht is None else ht.detach().numpy(force=True)
        got = np.zeros(a.shape) if h is None else h.numpy()
        np.testing.assert_allclose(got, expected, **TOL)
