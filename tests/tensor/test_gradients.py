"""Every Tensor op's gradient agrees with central finite differences (float64), broadcasting too.

Each case is a function of Tensors and the hypothesis strategy for its inputs: a tuple whose
float64 arrays become Tensors that require grad (anything else is passed as a constant). Shapes
come from `tinygrad_edu.testing.strategies` and include 0-d tensors, size-1 dims (broadcasting
stretches them) and empty tensors. Domains keep inputs off kinks and singular points with
filters (see strategies.py) while reaching both sides of them. Second derivatives are checked
for a representative set. tests/testing/test_mutation.py reuses `CASES` and `check` to show
that a wrong rule for any primitive op makes these tests fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu.nn.functional as F
import tinygrad_edu.tensor as T
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.tensor.linalg import einsum
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as tst

SIDE = 3  # at most 3 per dim and 3 dims: up to 27 entries, each a Jacobian column
shapes = tst.shapes(max_dims=3, max_side=SIDE)
nonempty = tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=SIDE)
real = tst.floats(-5.0, 5.0)


def arr(shape=shapes, elements=real, **kw):
    return tst.arrays(shape, elements=elements, **kw)


def one(elements=real, shape=shapes, **kw):
    return st.tuples(arr(shape, elements, **kw))


def two_broadcast(ea=real, eb=real, min_side=0):
    """Two arrays whose shapes broadcast together, of any ranks (0-d included)."""
    return tst.broadcastable_shapes(2, max_side=SIDE, min_side=min_side).flatmap(
        lambda s: st.tuples(arr(s[0], ea), arr(s[1], eb))
    )


def two_distinct_broadcast():
    """Broadcastable a, b with no two entries within MARGIN: maximum/minimum away from ties."""
    def split(shapes):
        n0 = int(np.prod(shapes[0], dtype=int))
        n1 = int(np.prod(shapes[1], dtype=int))
        return arr((n0 + n1,), distinct=True).map(
            lambda flat: (flat[:n0].reshape(shapes[0]), flat[n0:].reshape(shapes[1]))
        )

    return tst.broadcastable_shapes(2, max_side=SIDE).flatmap(split)


def with_dims(elements=real, shape=shapes, keepdim=True, distinct=False, single=False):
    """(x, dim, keepdim): dim is None, one dim (negative too), or a tuple of dims."""
    def draw(s):
        n = len(s)
        one_dim = st.integers(-n, n - 1) if n else st.sampled_from([0, -1] if single else [None])
        dims = one_dim if single else st.one_of(
            st.none(), one_dim, st.lists(st.integers(0, max(n - 1, 0)), unique=True,
                                         min_size=1, max_size=n).map(tuple) if n else st.none())
        return st.tuples(arr(s, elements, distinct=distinct), dims,
                         st.booleans() if keepdim else st.just(False))

    return shape.flatmap(draw)


def perm():
    return nonempty.flatmap(lambda s: st.tuples(arr(s), st.permutations(range(len(s)))))


def basic_index():
    return nonempty.flatmap(lambda s: st.tuples(arr(s), hnp.basic_indices(s, allow_newaxis=True)))


def array_index():
    """Integer-array indices, repeats included (their gradients add up: np.add.at)."""
    return nonempty.flatmap(lambda s: st.tuples(arr(s), hnp.integer_array_indices(s)))


def cat_inputs(n=2):
    def draw(s):
        d = st.integers(0, len(s) - 1)
        return d.flatmap(lambda dim: st.tuples(
            *[st.integers(0, SIDE).flatmap(
                lambda k, dim=dim: arr(s[:dim] + (k,) + s[dim + 1:])) for _ in range(n)],
            st.just(dim)))

    return nonempty.flatmap(draw)


def expand_target():
    def draw(s):
        grown = tuple(3 if n == 1 else n for n in s)
        return st.tuples(arr(s), st.sampled_from([grown, (2, *grown)]))

    return shapes.flatmap(draw)


def pow_inputs():
    """a ** b for a > 0. Its second derivatives pass through a^(b-2), which near a = 0 is so
    large (1e10 at a = 0.004, b = -3) that float64 central differences lose the digits of the
    much smaller entries next to it: the margin from 0 is wider here (0.05, not 0.001)."""
    return two_broadcast(tst.positive(margin=0.05, max_value=5.0), tst.floats(-3.0, 3.0))


# a quarter past an integer: rounding (and a % b with b in {1, 2, -2}) is far from its jumps
off_steps = st.integers(-4, 4).map(lambda k: k + 0.25)


def where_inputs():
    def draw(s):
        return st.tuples(arr(s[0]), arr(s[1]), hnp.arrays(bool, s[2]))

    return tst.broadcastable_shapes(3, max_side=SIDE).flatmap(draw)


def inplace_chain(a, b):
    """In-place ops on a non-leaf are recorded: their gradients are checked like any op's."""
    y = a * 2.0
    y += b
    y.mul_(a)
    y.div_(b)
    y.sub_(a, alpha=0.5)
    y.pow_(2)
    z = a + b
    z.relu_()  # the strategy keeps a + b off relu's kink
    return y, z


def setitem(x, v, idx):
    y = x * 1.0  # a non-leaf copy; y[idx] = v is recorded on it
    y[idx] = v
    return y


def setitem_inputs():
    def draw(s):
        return hnp.basic_indices(s).flatmap(
            lambda idx: st.tuples(arr(s), arr(np.empty(s)[idx].shape), st.just(idx)))

    return nonempty.flatmap(draw)


def off_multiples(t):
    """a % b jumps where a / b is an integer: keep the quotients away from those."""
    q = t[0] / t[1]
    return bool(np.all(np.abs(q - np.round(q)) > 0.02))


def no_empty_reduction(x, dim):
    """mean/var/softmax over zero elements is NaN by definition: not a gradient question."""
    if dim is None:
        return x.size > 0
    dims = dim if isinstance(dim, tuple) else (dim,)
    return all(x.shape[d] > 0 for d in dims)


def spread_over(x, dim, least=2):
    dims = tuple(range(x.ndim)) if dim is None else (dim if isinstance(dim, tuple) else (dim,))
    n = int(np.prod([x.shape[d] for d in dims], dtype=int)) if x.ndim else 1
    return n >= least


# which of 5 keys each of 3 queries may attend to: the second query to none
ATTEND = np.array([[True, False, True, True, False], [False] * 5, [True] * 5])

# name: (function of Tensors and constants, strategy for its arguments, gradcheck options)
CASES = {
    # elementwise, two inputs, broadcasting
    "add": (lambda a, b: a + b, two_broadcast(), {}),
    "sub": (lambda a, b: a - b, two_broadcast(), {}),
    "mul": (lambda a, b: a * b, two_broadcast(), {}),
    "div": (lambda a, b: a / b, two_broadcast(real, tst.nonzero(bound=5.0)), {}),
    "rdiv": (lambda b: 2.0 / b, one(tst.nonzero(bound=5.0)), {}),
    "pow": (lambda a, b: a ** b, pow_inputs(), {}),
    "rpow": (lambda b: 2.0 ** b, one(), {}),
    "pow_const": (lambda a, n: a ** n, st.tuples(arr(elements=tst.positive(max_value=5.0)),
                                                  tst.floats(-3.0, 3.0)), {}),
    "pow_int": (lambda a, n: a ** n, st.tuples(arr(elements=tst.nonzero(bound=5.0)),
                                               st.integers(-3, 3)), {}),
    "maximum": (lambda a, b: a.maximum(b), two_distinct_broadcast(), {}),
    "minimum": (lambda a, b: a.minimum(b), two_distinct_broadcast(), {}),
    "where": (lambda a, b, c: T.where(c, a, b), where_inputs(), {}),
    "mod": (lambda a, b: a % b, two_broadcast(off_steps, st.sampled_from([1.0, 2.0, -2.0])), {}),
    "matmul": (lambda a, b: a @ b, tst.matmul_shapes(max_side=SIDE).flatmap(
        lambda s: st.tuples(arr(s[0]), arr(s[1]))), {}),
    "linear": (F.linear, st.sampled_from([(3,), (2, 3), (2, 2, 3)]).flatmap(  # x @ w.T + b
        lambda s: st.tuples(arr(s), arr((4, 3)), arr((4,)))), {}),
    "dot": (lambda a, b: a.dot(b), st.integers(0, SIDE).flatmap(
        lambda n: st.tuples(arr((n,)), arr((n,)))), {}),
    # elementwise, one input
    "neg": (lambda a: -a, one(), {}),
    "exp": (lambda a: a.exp(), one(), {}),
    "log": (lambda a: a.log(), one(tst.positive()), {}),
    "sqrt": (lambda a: a.sqrt(), one(tst.positive()), {}),
    "rsqrt": (lambda a: a.rsqrt(), one(tst.positive()), {}),
    "abs": (lambda a: a.abs(), one(tst.nonzero()), {}),
    "tanh": (lambda a: a.tanh(), one(), {}),
    "sigmoid": (lambda a: a.sigmoid(), one(tst.floats()), {}),
    "relu": (lambda a: a.relu(), one(tst.nonzero()), {}),
    "leaky_relu": (lambda a, s: a.leaky_relu(s), st.tuples(arr(elements=tst.nonzero()),
                                                           tst.floats(0.0, 1.0)), {}),
    "softplus": (lambda a: a.softplus(), one(tst.floats()), {}),
    "gelu": (lambda a: a.gelu(), one(), {}),
    "gelu_tanh": (lambda a: a.gelu(approximate="tanh"), one(), {}),
    "erf": (lambda a: a.erf(), one(), {}),
    "sin": (lambda a: a.sin(), one(), {}),
    "cos": (lambda a: a.cos(), one(), {}),
    "square": (lambda a: a.square(), one(), {}),
    "clamp": (lambda a: a.clamp(-1.0, 1.0), one(tst.away_from(-1.0, 1.0, min_value=-5.0,
                                                               max_value=5.0)), {}),
    # a float32 result: a wider eps keeps the difference above float32 rounding (linear op)
    "astype": (lambda a: a.float(), one(), {"eps": 1e-2, "atol": 1e-4}),
    "clone": (lambda a: a.clone() * a, one(), {}),
    # piecewise constant: a zero gradient, recorded (the graph is not cut)
    "floor": (lambda a: a.floor() * a, one(off_steps), {}),
    "ceil": (lambda a: a.ceil() * a, one(off_steps), {}),
    "round": (lambda a: a.round() * a, one(off_steps), {}),
    "trunc": (lambda a: a.trunc() * a, one(off_steps), {}),
    "sign": (lambda a: a.sign() * a, one(tst.nonzero()), {}),
    # reductions
    "sum": (lambda a, d, k: a.sum(d, k), with_dims(), {}),
    "mean": (lambda a, d, k: a.mean(d, k),
             with_dims().filter(lambda t: no_empty_reduction(t[0], t[1])), {}),
    "var": (lambda a, d, k: a.var(d, keepdim=k),
            with_dims().filter(lambda t: spread_over(t[0], t[1])), {}),
    "std": (lambda a, d, k: a.std(d, keepdim=k),
            with_dims(distinct=True).filter(lambda t: spread_over(t[0], t[1])), {}),
    "prod": (lambda a, d, k: a.prod(d, k), with_dims(tst.floats(-2.0, 2.0), single=True), {}),
    "amax": (lambda a, d, k: a.amax(d, k),
             with_dims(distinct=True).filter(lambda t: no_empty_reduction(t[0], t[1])), {}),
    "amin": (lambda a, d, k: a.amin(d, k),
             with_dims(distinct=True).filter(lambda t: no_empty_reduction(t[0], t[1])), {}),
    "max_dim": (lambda a, d, k: a.max(d, k).values, with_dims(
        shape=nonempty, distinct=True, single=True), {}),
    "min_dim": (lambda a, d, k: a.min(d, k).values, with_dims(
        shape=nonempty, distinct=True, single=True), {}),
    "logsumexp": (lambda a, d, k: a.logsumexp(d, k),
                  with_dims().filter(lambda t: no_empty_reduction(t[0], t[1])), {}),
    "log_softmax": (lambda a, d, k: a.log_softmax(d), with_dims(single=True, keepdim=False), {}),
    "softmax": (lambda a, d, k: a.softmax(d), with_dims(single=True, keepdim=False), {}),
    "norm": (lambda a, d, k: a.norm(dim=d, keepdim=k), with_dims(tst.nonzero()).filter(
        lambda t: no_empty_reduction(t[0], t[1])), {}),
    "norm1": (lambda a: a.norm(p=1), one(tst.nonzero()), {}),
    # shapes and indexing
    "reshape": (lambda a: a.reshape(-1), one(), {}),
    "flatten": (lambda a: a.flatten(), one(), {}),
    "unsqueeze": (lambda a: a.unsqueeze(0), one(), {}),
    "squeeze": (lambda a: a.squeeze(), one(), {}),
    "permute": (lambda a, p: a.permute(p), perm(), {}),
    "transpose": (lambda a: a.T, one(), {}),
    "mT": (lambda a: a.mT, one(shape=tst.shapes(min_dims=2, max_dims=3, max_side=SIDE)), {}),
    "expand": (lambda a, s: a.expand(s), expand_target(), {}),
    "repeat": (lambda a: a.repeat(*([2] * a.ndim)) if a.ndim else a.repeat(2), one(), {}),
    "getitem": (lambda a, i: a[i], basic_index(), {}),
    "getitem_array": (lambda a, i: a[i], array_index(), {}),
    "setitem": (setitem, setitem_inputs(), {}),
    "pad": (lambda a: a.pad((1, 2)), one(shape=nonempty), {}),
    "cat": (lambda a, b, d: T.cat([a, b], d), cat_inputs(), {}),
    "stack": (lambda a, b: T.stack([a, b]), shapes.flatmap(
        lambda s: st.tuples(arr(s), arr(s))), {}),
    "split": (lambda a: a.split(1, dim=0), one(shape=nonempty), {}),
    "chunk": (lambda a: a.chunk(2, dim=-1), one(shape=nonempty), {}),
    # other spellings and in-place forms: the same rows, reached another way
    "add_alpha": (lambda a, b: a.add(b, alpha=-2.0), two_broadcast(), {}),
    "rsub": (lambda a: 3.0 - a, one(), {}),
    "view": (lambda a: a.view(-1), one(), {}),
    "inplace": (inplace_chain, st.tuples(arr((2, 3)), arr((3,), tst.nonzero()))
                .filter(lambda t: np.all(np.abs(t[0] + t[1]) > tst.MARGIN)), {}),
    # sliding windows (tensor/window.py): unfold and its gradient, unfold_backward (col2im)
    "unfold": (lambda a, step: a.unfold(-1, 2, step), st.tuples(
        arr(tst.shapes(min_dims=1, max_dims=3, min_side=2, max_side=SIDE)), st.integers(1, 3)),
        {}),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=1, dilation=(2, 1)),
               st.tuples(arr((1, 2, 3, 4)), arr((2, 2, 2, 2)), arr((2,))), {}),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=(0, 1)),
                         st.tuples(arr((1, 2, 2, 3)), arr((2, 1, 2, 3))), {}),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2, 1, padding=1),
                   st.tuples(arr((1, 2, 3, 3), distinct=True)), {}),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                   st.tuples(arr((1, 2, 4, 5))), {}),
    # batch norm, one row each for the batch's statistics and for running ones (constants);
    # the batch's spread kept away from 0, where 1/std makes finite differences meaningless
    "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                   st.tuples(arr((3, 2, 2)), arr((2,)), arr((2,))).filter(
                       lambda t: np.all(t[0].var(axis=(0, 2)) > 0.1)), {}),
    "batch_norm_eval": (lambda x, w, b: F.batch_norm(
                            x, Tensor([0.5, -1.0]), Tensor([2.0, 0.3]), w, b),
                        st.tuples(arr((3, 2, 2)), arr((2,)), arr((2,))), {}),
    # layer norm's standardization over the last dim, then its per-feature affine
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3,), w, b),
                   st.tuples(arr((2, 3)), arr((3,)), arr((3,))).filter(
                       lambda t: np.all(t[0].var(axis=-1) > 0.1)), {}),
    # trigonometric, hyperbolic and the exact-near-zero forms (inside their domains)
    "tan": (lambda a: a.tan(), one(tst.floats(-1.2, 1.2)), {}),
    "asin": (lambda a: a.asin(), one(tst.floats(-0.9, 0.9)), {}),
    "acos": (lambda a: a.acos(), one(tst.floats(-0.9, 0.9)), {}),
    "atan": (lambda a: a.atan(), one(), {}),
    "sinh": (lambda a: a.sinh(), one(tst.floats(-3.0, 3.0)), {}),
    "cosh": (lambda a: a.cosh(), one(tst.floats(-3.0, 3.0)), {}),
    "asinh": (lambda a: a.asinh(), one(), {}),
    "acosh": (lambda a: a.acosh(), one(tst.floats(1.1, 5.0)), {}),
    "atanh": (lambda a: a.atanh(), one(tst.floats(-0.9, 0.9)), {}),
    "log1p": (lambda a: a.log1p(), one(tst.floats(-0.9, 5.0)), {}),
    "expm1": (lambda a: a.expm1(), one(), {}),
    "log2": (lambda a: a.log2(), one(tst.positive()), {}),
    "exp2": (lambda a: a.exp2(), one(), {}),
    "atan2": (lambda a, b: a.atan2(b), two_broadcast(tst.nonzero(), tst.nonzero()), {}),
    "hypot": (lambda a, b: a.hypot(b), two_broadcast(tst.nonzero(), tst.nonzero()), {}),
    "remainder": (lambda a, b: a.remainder(b), two_broadcast(real, tst.nonzero(margin=0.5))
                  .filter(off_multiples), {}),
    "fmod": (lambda a, b: a.fmod(b), two_broadcast(real, tst.nonzero(margin=0.5))
             .filter(off_multiples), {}),
    "copysign": (lambda a, b: a.copysign(b), two_broadcast(tst.nonzero(), tst.nonzero()), {}),
    # squared, so that the gradient flowing in depends on the inputs: then a rule that dropped
    # its graph under create_graph shows in the second derivative
    "remainder_sq": (lambda a, b: a.remainder(b) ** 2, two_broadcast(
        real, tst.nonzero(margin=0.5)).filter(off_multiples), {}),
    "fmod_sq": (lambda a, b: a.fmod(b) ** 2, two_broadcast(
        real, tst.nonzero(margin=0.5)).filter(off_multiples), {}),
    "lerp": (lambda a, b, w: a.lerp(b, w), st.tuples(arr((2, 3)), arr((3,)), arr((2, 1))), {}),
    "logaddexp": (lambda a, b: a.logaddexp(b), two_broadcast(), {}),
    # scans, einsum, the diagonal family and writing by index
    "cumsum": (lambda a, d, k: a.cumsum(d), with_dims(single=True, keepdim=False), {}),
    "cumprod": (lambda a, d, k: a.cumprod(d),
                with_dims(tst.floats(-2.0, 2.0), single=True, keepdim=False), {}),
    "logcumsumexp": (lambda a, d, k: a.logcumsumexp(d), with_dims(single=True, keepdim=False),
                     {}),
    "cummax": (lambda a, d, k: a.cummax(d).values,
               with_dims(distinct=True, single=True, keepdim=False), {}),
    "einsum_mm": (lambda a, b: einsum("ij,jk->ik", a, b), st.tuples(arr((2, 3)), arr((3, 2))),
                  {}),
    "einsum_batch": (lambda a, b: einsum("bij,bkj->bik", a, b),
                     st.tuples(arr((2, 2, 3)), arr((2, 3, 3))), {}),
    "einsum_trace": (lambda a: einsum("ii", a), one(shape=st.just((3, 3))), {}),
    "einsum_sum": (lambda a, b: einsum("i...,j->...j", a, b), st.tuples(arr((2, 3)), arr((2,))),
                   {}),
    "diagonal": (lambda a: a.diagonal(1, 0, -1), one(shape=st.just((3, 2, 3))), {}),
    "diagonal_sq": (lambda a: a.diagonal(1, 0, -1) ** 2, one(shape=st.just((3, 2, 3))), {}),
    "diag_embed": (lambda a: a.diag_embed(-1), one(shape=st.just((2, 3))), {}),
    "roll": (lambda a: a.roll((1, -2), (0, 1)), one(shape=st.just((3, 3))), {}),
    "scatter": (lambda a, b: a.scatter(1, np.array([[2, 0], [1, 2]]), b),
                st.tuples(arr((2, 3)), arr((2, 3))), {}),
    "scatter_add": (lambda a, b: a.scatter_add(0, np.array([[1, 1, 0]]), b),
                    st.tuples(arr((2, 3)), arr((1, 3))), {}),
    "scatter_amax": (lambda a, b: a.scatter_reduce(0, np.array([[1, 1, 0]]), b, "amax"),
                     arr((9,), distinct=True).map(  # no ties between a and b: off the kink
                         lambda f: (f[:6].reshape(2, 3), f[6:].reshape(1, 3))), {}),
    "index_add": (lambda a, b: a.index_add(1, np.array([2, 0, 2]), b, alpha=2.0),
                  st.tuples(arr((2, 3)), arr((2, 3))), {}),
    "masked_select": (lambda a: a.masked_select(np.array([True, False, True])),
                      one(shape=st.just((2, 3))), {}),
    # the LSTM step's fused rows (nn/rnn.py): gates (N, 4H), cell state (N, H); c broadcasts
    "lstm_gates": (lambda a: T.apply(T.OPS.lstm_gates, (a,)), st.tuples(arr((2, 8))), {}),
    "lstm_cell": (lambda a, c: T.apply(T.OPS.lstm_cell, (a, c)),
                  st.tuples(arr((2, 8)), arr((1, 2))), {}),
    "lstm_hidden": (lambda a, c: T.apply(T.OPS.lstm_hidden, (a, c)),
                    st.tuples(arr((2, 8)), arr((2, 2))), {}),
    # attention's weights as one row (through scaled_dot_product_attention): a boolean mask
    # with a query that may attend to nothing (zero weights, zero gradient), an additive one
    # that broadcasts over the batch, and the causal mask
    "attention_bool": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, ATTEND),
                       st.tuples(arr((2, 3, 4)), arr((2, 5, 4)), arr((2, 5, 2))), {}),
    "attention_additive": (lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, np.where(ATTEND, 0.5, -np.inf)[None], scale=0.7),
        st.tuples(arr((2, 3, 4)), arr((2, 5, 4)), arr((2, 5, 2))), {}),
    "attention_causal": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                         st.tuples(arr((2, 4, 3)), arr((2, 4, 3)), arr((2, 4, 3))), {}),
    # a small composite: several ops meeting in one graph, one input used twice
    "mlp": (lambda x, w, b: ((x @ w + b).tanh() * x.sum()).log_softmax(-1),
            st.tuples(arr((2, 3)), arr((3, 3)), arr((3,))), {}),
}

SECOND_ORDER = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
                "remainder_sq", "fmod_sq", "log1p", "expm1", "atan2", "diagonal_sq",
                "hypot", "cumprod", "logcumsumexp", "einsum_mm", "einsum_trace", "diag_embed",
                "scatter_add", "add", "sub", "mul", "div", "pow", "pow_const", "neg", "exp", "log",
                "sqrt",
                "abs", "tanh", "sigmoid", "relu", "softplus", "gelu", "erf", "sin", "cos",
                "astype", "matmul", "sum", "var", "prod", "amax", "maximum", "where",
                "logsumexp", "log_softmax", "softmax", "reshape", "getitem_array", "expand",
                "mod", "minimum", "amin",
                "permute", "cat", "pad", "mlp", "unfold", "conv2d", "conv_transpose2d",
                "max_pool2d", "batch_norm", "batch_norm_eval", "layer_norm", "gelu_tanh", "linear",
                "attention_bool", "attention_additive"]


def as_inputs(xs: tuple) -> list:
    """float64 arrays become Tensors that require grad; anything else stays a constant."""
    return [Tensor(x, requires_grad=True)
            if isinstance(x, np.ndarray) and x.dtype == np.float64 else x for x in xs]


def check(name: str, order: int = 1, max_examples: int = 25, **overrides) -> None:
    """Run the property `gradcheck` (order 1) or `gradgradcheck` (order 2) for one case."""
    fn, inputs, options = CASES[name]
    checker = gradcheck if order == 1 else gradgradcheck

    @settings(max_examples=max_examples, deadline=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
              **overrides)
    @given(inputs)
    def gradient_matches_finite_differences(xs):
        args = as_inputs(xs)
        assume(any(isinstance(a, Tensor) for a in args))
        assert checker(fn, args, **options)

    gradient_matches_finite_differences()


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    check(name, order=1)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivative_matches_finite_differences(name):
    check(name, order=2, max_examples=8)


def op_rows() -> dict[str, tuple[object, str, object]]:
    """Every Tensor op row: {name: (holder, attribute, op)}. The table `OPS` (name "mul"), and
    rows a module of the Tensor engine defines for itself (name "tensor._COPY")."""
    import importlib
    import pkgutil

    import tinygrad_edu.tensor as package
    from tinygrad_edu.tensor import ops

    rows = {name: (ops.OPS, name, getattr(ops.OPS, name)) for name, op in
            vars(type(ops.OPS)).items() if isinstance(op, ops.Op)}
    modules = [importlib.import_module(f"{package.__name__}.{m.name}")
               for m in pkgutil.iter_modules(package.__path__)]  # every family, new ones too
    for module in modules:
        short = module.__name__.rsplit(".", 1)[1]
        rows.update({f"{short}.{name}": (module, name, op) for name, op in vars(module).items()
                     if isinstance(op, ops.Op)})
    return rows


def test_every_primitive_op_has_a_case():
    assert set(op_rows()) - set(ops_used_by_cases()) == set()


def ops_used_by_cases(max_examples: int = 10) -> dict[str, list[str]]:
    """{op row name: the cases whose graphs contain it}, over a few examples of each."""
    by_identity = {id(op): name for name, (_, _, op) in op_rows().items()}
    used: dict[str, list[str]] = {}
    for case, (fn, inputs, _) in CASES.items():
        collect(case, fn, inputs, by_identity, used, max_examples)
    return used


def collect(case, fn, inputs, by_identity, used, max_examples):
    @settings(max_examples=max_examples, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(inputs)
    def run(xs):
        out = fn(*as_inputs(xs))
        stack = list(out) if isinstance(out, tuple) else [out]
        seen = set()
        while stack:
            node = stack.pop()
            if id(node) in seen or getattr(node, "_op", None) is None:
                continue
            seen.add(id(node))
            name = by_identity.get(id(node._op))
            if name is not None and case not in used.setdefault(name, []):
                used[name].append(case)
            stack.extend(node._parents)

    run()
