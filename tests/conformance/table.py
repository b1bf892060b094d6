"""The table of every PyTorch function and method this project claims, and how each is checked.

One `Case` per claimed name: a hypothesis strategy for valid inputs (a tuple: float64 arrays
become tensors that require grad, anything else is passed as it is), the forms it exists in
(`torch.f(x)`, `x.f()`, `torch.nn.functional.f(x)`, or a call of its own), and what is compared
with torch. test_conformance.py runs the same call on torch and on tinygrad_edu and compares
forward values, result dtypes, gradients and (where `second`) second derivatives; with
`invalid` inputs, both must raise. README.md's "Supported PyTorch API" table is rendered from
this one (readme.py), so the two cannot drift.

`differs` names a deliberate difference (README's list says why); `known` marks a part that
another open issue fixes (named in the mark): that part is skipped with the reason, not dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from tinygrad_edu.testing import strategies as tst

# ---- input strategies -----------------------------------------------------------------------

SIDE = 3
shapes = tst.shapes(max_dims=3, max_side=SIDE)
nonempty = tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=SIDE)
real = tst.floats(-4.0, 4.0)


def arr(shape: Any = shapes, elements: Any = real, **kw: Any) -> Any:
    return tst.arrays(shape, elements=elements, **kw)


def one(elements: Any = real, shape: Any = shapes, **kw: Any) -> Any:
    return st.tuples(arr(shape, elements, **kw))


def fixed(*shapes_: tuple[int, ...], elements: Any = real, distinct: bool = False) -> Any:
    if distinct:  # all entries of all arrays distinct: no ties anywhere
        sizes = [int(np.prod(s, dtype=int)) for s in shapes_]

        def split(flat: np.ndarray) -> tuple:
            out, i = [], 0
            for s, n in zip(shapes_, sizes):
                out.append(flat[i:i + n].reshape(s))
                i += n
            return tuple(out)

        return arr((sum(sizes),), elements, distinct=True).map(split)
    return st.tuples(*[arr(s, elements) for s in shapes_])


def two(ea: Any = real, eb: Any = real) -> Any:
    """Two arrays whose shapes broadcast together."""
    return tst.broadcastable_shapes(2, max_side=SIDE).flatmap(
        lambda s: st.tuples(arr(s[0], ea), arr(s[1], eb)))


def with_dim(elements: Any = real, shape: Any = nonempty, distinct: bool = False) -> Any:
    """(x, dim): dim any valid one, negative ones too."""
    return shape.flatmap(lambda s: st.tuples(arr(s, elements, distinct=distinct),
                                             st.integers(-len(s), len(s) - 1)))


def ints(shape: Any = nonempty, lo: int = -8, hi: int = 8) -> Any:
    return st.tuples(tst.arrays(shape, np.int64, st.integers(lo, hi)))


def int_pair(lo: int = -8, hi: int = 8, b_lo: int | None = None) -> Any:
    b = st.integers(lo if b_lo is None else b_lo, hi)
    return tst.broadcastable_shapes(2, min_side=1, max_side=SIDE).flatmap(
        lambda s: st.tuples(tst.arrays(s[0], np.int64, st.integers(lo, hi)),
                            tst.arrays(s[1], np.int64, b)))


def off_multiples(t: tuple) -> bool:
    q = t[0] / t[1]
    return bool(np.all(np.abs(q - np.round(q)) > 0.02))


pos = tst.positive(margin=0.05, max_value=4.0)
nonzero = tst.nonzero(margin=0.05, bound=4.0)
unit = tst.floats(-0.9, 0.9)

# ---- the table --------------------------------------------------------------------------------


@dataclass
class Case:
    """One claimed name. `forms`: "f" torch.name(*args), "m" args[0].name(*args[1:]),
    "n" torch.nn.functional.name(*args); or `call(T, *args)` for anything else (T is the
    library: torch or tinygrad_edu)."""

    name: str
    inputs: Any
    section: str
    forms: str = "fm"
    kwargs: dict = field(default_factory=dict)
    call: Callable[..., Any] | None = None
    grad: bool = True
    second: bool = False
    invalid: tuple | None = None  # inputs on which both must raise
    differs: str | None = None  # a deliberate difference: the case is not run
    known: dict = field(default_factory=dict)  # {"forward"/"grad"/"dtype": "issue N: why"}
    atol: float = 1e-7

    @property
    def label(self) -> str:
        return self.call_names()[0]

    def call_names(self) -> list[str]:
        if self.call is not None:
            return [self.name]
        out = []
        for f in self.forms:
            out.append({"f": f"torch.{self.name}", "m": f"Tensor.{self.name}",
                        "n": f"F.{self.name}"}[f])
        return out

    def calls(self) -> list[tuple[str, Callable[..., Any]]]:
        """(form label, call(T, *args)) for each form."""
        kw = self.kwargs
        if self.call is not None:
            return [(self.name, self.call)]
        out = []
        for f, label in zip(self.forms, self.call_names()):
            if f == "f":
                out.append((label, lambda T, *a: getattr(T, self.name)(*a, **kw)))
            elif f == "m":
                out.append((label, lambda T, *a: getattr(a[0], self.name)(*a[1:], **kw)))
            else:
                out.append((label, lambda T, *a: getattr(T.nn.functional, self.name)(*a, **kw)))
        return out


CASES: list[Case] = []


def add(name: str, inputs: Any, section: str, **kw: Any) -> None:
    key = kw.pop("key", None)
    case = Case(name, inputs, section, **kw)
    case._key = key or ("F." if case.section in ("nn.functional", "losses") else "") + name + (
        "" if not case.kwargs else "_" + "_".join(f"{k}{v}" for k, v in case.kwargs.items()))
    CASES.append(case)


# ---- creation (no inputs drawn: the call makes the tensor) ---------------------------------
S = "creation"
none = st.just(())
add("zeros", none, S, call=lambda T: T.zeros(2, 3), grad=False)
add("ones", none, S, call=lambda T: T.ones((2, 1), dtype=T.float64), grad=False)
add("full", none, S, call=lambda T: T.full((2,), 7), grad=False)
add("arange", none, S, call=lambda T: T.arange(1, 7, 2), grad=False)
add("arange_float", none, S, call=lambda T: T.arange(0, 1, 0.25), grad=False)
add("linspace", none, S, call=lambda T: T.linspace(-1, 1, 5), grad=False)
add("eye", none, S, call=lambda T: T.eye(2, 3), grad=False)
add("tensor", none, S, call=lambda T: (T.tensor([1, 2]), T.tensor([1.5]), T.tensor(True)),
    grad=False)
add("Tensor", none, S, call=lambda T: (T.Tensor([1, 2]), T.Tensor(2, 3).shape), grad=False)
add("zeros_like", one(), S, call=lambda T, a: T.zeros_like(a), grad=False)
add("ones_like", one(), S, call=lambda T, a: T.ones_like(a), grad=False)
add("full_like", one(), S, call=lambda T, a: T.full_like(a, 2.5), grad=False)
add("randn_shape", none, S, call=lambda T: (T.randn(2, 3).shape, T.randn(2).dtype), grad=False)
add("rand_shape", none, S, call=lambda T: (T.rand(4).shape, T.randint(0, 5, (3,)).dtype),
    grad=False)
add("randperm", none, S, call=lambda T: (sorted(T.randperm(5).tolist()), T.randperm(3).dtype),
    grad=False)
add("Generator", none, S, call=lambda T: T.randn(3, generator=T.Generator().manual_seed(0))
    .shape, grad=False)
add("device", none, S, call=lambda T: (str(T.device("cpu")), T.zeros(1, device="cpu").shape,
                                       T.cuda.is_available()), grad=False)
add("get_default_dtype", none, S, call=lambda T: str(T.get_default_dtype()).split(".")[-1],
    grad=False)

# ---- arithmetic ---------------------------------------------------------------------------
S = "arithmetic"
add("add", two(), S, second=True, invalid=(np.ones(2), np.ones(3)))
add("add", two(), S, kwargs={"alpha": 2.0})
add("sub", two(), S, invalid=(np.ones(2), np.ones(3)))
add("subtract", two(), S)
add("mul", two(), S, second=True)
add("multiply", two(), S)
add("div", two(real, nonzero), S, second=True)
add("divide", two(real, nonzero), S)
add("true_divide", two(real, nonzero), S)
add("div", two(real, nonzero).filter(off_multiples), S, kwargs={"rounding_mode": "floor"})
add("div", two(real, nonzero).filter(off_multiples), S, kwargs={"rounding_mode": "trunc"})
# b = 0 exactly is left out: there torch's rule for d/da (zero when b == 0, a masked fill) drops
# the b-dependence that d2/da db needs, so torch's second derivative is not the true one
add("pow", two(pos, tst.away_from(0.0, min_value=-2.0, max_value=2.0)), S, second=True)
add("float_power", two(pos, tst.floats(-2.0, 2.0)), S)
add("neg", one(), S)
add("negative", one(), S)
add("reciprocal", one(nonzero), S)
add("remainder", two(real, nonzero).filter(off_multiples), S, second=True)
add("fmod", two(real, nonzero).filter(off_multiples), S)
# by zero: nan, with d/da = 1 and d/db = -floor(a/0) (or -trunc) = -+inf, as in torch
for _name in ("remainder", "fmod"):
    add(_name, one(nonzero, shape=st.just((3,))).map(lambda t: (*t, np.array([0.0, -0.0, 2.0]))),
        S, key=f"{_name}_by_zero")
add("matmul", tst.matmul_shapes(max_side=SIDE).flatmap(
    lambda s: st.tuples(arr(s[0]), arr(s[1]))), S, second=True,
    invalid=(np.ones((2, 3)), np.ones((2, 3))))
add("mm", fixed((2, 3), (3, 2)), S, invalid=(np.ones(3), np.ones(3)))
add("bmm", fixed((2, 2, 3), (2, 3, 2)), S, invalid=(np.ones((2, 3)), np.ones((3, 2))))
add("dot", fixed((3,), (3,)), S)
add("outer", fixed((3,), (2,)), forms="fm", section=S)
add("addmm", fixed((2, 2), (2, 3), (3, 2)), S, kwargs={"beta": 0.5, "alpha": 2.0})
add("lerp", fixed((2, 3), (3,), (2, 1)), S)
add("einsum_mm", fixed((2, 3), (3, 4)), S, call=lambda T, a, b: T.einsum("ij,jk->ik", a, b),
    second=True, invalid=(np.ones((2, 3)), np.ones((2, 3))))
add("einsum_batch", fixed((2, 2, 3), (2, 3, 3)), S,
    call=lambda T, a, b: T.einsum("bij,bkj->bik", a, b))
add("einsum_trace", fixed((3, 3)), S, call=lambda T, a: T.einsum("ii", a), second=True)
add("einsum_diag", fixed((3, 3)), S, call=lambda T, a: T.einsum("ii->i", a))
add("einsum_ellipsis", fixed((2, 3, 4), (4,)), S, call=lambda T, a, b: T.einsum("...j,j", a, b))
add("einsum_outer_sum", fixed((2, 3), (4,)), S, call=lambda T, a, b: T.einsum("ij,k->jk", a, b))

# ---- elementwise functions ----------------------------------------------------------------
S = "elementwise"
UNARY = {
    "exp": real, "log": pos, "sqrt": pos, "rsqrt": pos, "abs": nonzero, "absolute": nonzero,
    "tanh": real, "sigmoid": real, "relu": nonzero, "sin": real, "cos": real, "erf": real,
    "square": real, "tan": tst.floats(-1.2, 1.2), "asin": unit, "acos": unit, "atan": real,
    "arcsin": unit, "arccos": unit, "arctan": real, "sinh": real, "cosh": real, "asinh": real,
    "acosh": tst.floats(1.1, 4.0), "atanh": unit, "arcsinh": real, "arccosh": tst.floats(1.1, 4.0),
    "arctanh": unit, "log1p": tst.floats(-0.9, 4.0), "expm1": real, "log2": pos, "log10": pos,
    "exp2": real,
}
SECOND = {"exp", "log", "sqrt", "tanh", "sigmoid", "sin", "tan", "asin", "atan", "sinh",
          "acosh", "atanh", "log1p", "expm1"}
for _name, _dom in UNARY.items():
    add(_name, one(_dom), S, second=_name in SECOND)
for _name in ("floor", "ceil", "round", "trunc", "sign"):
    add(_name, one(tst.away_from(-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5,
                                 min_value=-4.0, max_value=4.0)), S)
add("clamp", one(tst.away_from(-1.0, 1.0, min_value=-4.0, max_value=4.0)), S,
    kwargs={"min": -1.0, "max": 1.0})
add("clip", one(tst.away_from(-1.0, 1.0, min_value=-4.0, max_value=4.0)), S,
    kwargs={"min": -1.0, "max": 1.0})
add("maximum", fixed((2, 3), (3,), distinct=True), S)
add("minimum", fixed((2, 3), (3,), distinct=True), S)
add("atan2", two(nonzero, nonzero), S, second=True)
add("arctan2", two(nonzero, nonzero), S)
add("hypot", two(nonzero, nonzero), S, second=True)
add("copysign", two(nonzero, nonzero), S)
add("logaddexp", two(), S, second=True)
add("softmax", with_dim(), S, call=lambda T, a, d: T.softmax(a, d), second=True)
add("log_softmax", with_dim(), S, call=lambda T, a, d: T.log_softmax(a, d))

# ---- comparison and logic (no gradients) ----------------------------------------------------
S = "comparison"
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    add(_name, two(), S, grad=False)
add("isclose", two(), S, grad=False)
add("allclose", fixed((3,), (3,)), S, grad=False)
add("equal", fixed((3,), (3,)), S, grad=False)
add("isnan", one(), S, grad=False)
add("isinf", one(), S, grad=False)
add("isfinite", one(), S, grad=False)
add("logical_not", one(), S, grad=False)
add("logical_and", two(), S, grad=False)
add("logical_or", two(), S, grad=False)
add("logical_xor", two(), S, grad=False)
add("any", one(), S, grad=False)
add("all", one(), S, grad=False)

# ---- bitwise (integers) -------------------------------------------------------------------
S = "bitwise"
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    add(_name, int_pair(), S, grad=False, invalid=(np.ones(2), np.ones(2)))
add("bitwise_not", ints(), S, grad=False, invalid=(np.ones(2),))
add("bitwise_left_shift", int_pair(0, 8), S, grad=False)
add("bitwise_right_shift", int_pair(-64, 64, b_lo=0), S, grad=False)
add("__lshift__", int_pair(0, 8), S, call=lambda T, a, b: a << b, grad=False)
add("__rshift__", int_pair(-64, 64, b_lo=0), S, call=lambda T, a, b: a >> b, grad=False)

# ---- reductions and scans -----------------------------------------------------------------
S = "reductions"
add("sum", with_dim(), S, kwargs={}, call=lambda T, a, d: T.sum(a, d), second=True)
add("mean", with_dim(), S, call=lambda T, a, d: a.mean(d, keepdim=True))
# prod: zeros, and factors no smaller than 1e-3, whose products stay normal floats: torch's
# gradient divides the product by the factor (ours multiplies the others), which for a product
# rounded into the subnormals is far off (d/dx of 1.5 * 5e-324 is 2.0 in torch, 1.5 here)
add("prod", with_dim(st.one_of(st.just(0.0), tst.nonzero(margin=1e-3, bound=2.0))), S,
    call=lambda T, a, d: T.prod(a, d))
add("amax", with_dim(distinct=True), S, call=lambda T, a, d: T.amax(a, d))
add("amin", with_dim(distinct=True), S, call=lambda T, a, d: T.amin(a, d))
add("max_dim", with_dim(distinct=True), S, call=lambda T, a, d: tuple(T.max(a, d)))
add("min_dim", with_dim(distinct=True), S, call=lambda T, a, d: tuple(a.min(d)))
add("argmax", with_dim(distinct=True), S, call=lambda T, a, d: T.argmax(a, d), grad=False)
add("argmin", with_dim(distinct=True), S, call=lambda T, a, d: a.argmin(d), grad=False)
add("var", with_dim().filter(lambda t: t[0].shape[t[1]] > 1), S,
    call=lambda T, a, d: T.var(a, d))
add("std", with_dim(distinct=True).filter(lambda t: t[0].shape[t[1]] > 1), S,
    call=lambda T, a, d: a.std(d))
add("var_correction", with_dim().filter(lambda t: t[0].shape[t[1]] > 2), S,
    call=lambda T, a, d: T.var(a, d, correction=2))
add("std_mean", with_dim().filter(lambda t: t[0].shape[t[1]] > 1), S,
    call=lambda T, a, d: T.std_mean(a, d))
add("var_mean", with_dim().filter(lambda t: t[0].shape[t[1]] > 1), S,
    call=lambda T, a, d: T.var_mean(a, d))
add("aminmax", one(shape=nonempty, distinct=True), S, call=lambda T, a: tuple(T.aminmax(a)))
add("logsumexp", with_dim(), S, call=lambda T, a, d: T.logsumexp(a, d), second=True)
add("norm", one(nonzero, shape=nonempty), S, call=lambda T, a: a.norm())
add("norm_inf", one(nonzero, shape=nonempty, distinct=True), S,
    call=lambda T, a: a.norm(float("inf")))
add("norm_fro", with_dim(nonzero), S, call=lambda T, a, d: T.norm(a, "fro", dim=d))
add("norm_0", one(st.sampled_from([0.0, 1.5, -2.0]), shape=nonempty), S,
    call=lambda T, a: a.norm(0))
add("cumsum", with_dim(), S, call=lambda T, a, d: T.cumsum(a, d), second=True)
# away from 0: torch's cumprod rule divides by the input, which at 1e-38 loses the second
# derivative (ours is a product tree: exact there too)
add("cumprod", with_dim(tst.nonzero(margin=0.05, bound=2.0)), S,
    call=lambda T, a, d: T.cumprod(a, d), second=True)
add("cumprod_zeros", with_dim(st.sampled_from([0.0, 0.5, -1.5, 2.0])), S,
    call=lambda T, a, d: a.cumprod(d))
add("cummax", with_dim(distinct=True), S, call=lambda T, a, d: tuple(T.cummax(a, d)))
add("cummin", with_dim(distinct=True), S, call=lambda T, a, d: tuple(a.cummin(d)))
add("logcumsumexp", with_dim(), S, call=lambda T, a, d: T.logcumsumexp(a, d), second=True)
add("sort", with_dim(distinct=True), S, call=lambda T, a, d: tuple(T.sort(a, d)))
add("argsort", with_dim(distinct=True), S, call=lambda T, a, d: a.argsort(d, descending=True),
    grad=False)
add("topk", one(shape=st.just((2, 4)), distinct=True), S, call=lambda T, a: tuple(a.topk(2)))
add("kthvalue", with_dim(distinct=True), S, call=lambda T, a, d: tuple(T.kthvalue(a, 1, d)),
    invalid=(np.ones(3), 1))
add("median", one(shape=nonempty, distinct=True), S, call=lambda T, a: T.median(a))
add("median_dim", with_dim(distinct=True), S, call=lambda T, a, d: tuple(a.median(d)))
add("sum_int", ints(), S, call=lambda T, a: (T.sum(a.int()), a.int().prod(), a.int().cumsum(0)),
    grad=False)

# ---- shape -------------------------------------------------------------------------------
S = "shape"
add("reshape", one(shape=st.just((2, 3))), S, call=lambda T, a: T.reshape(a, (3, -1)),
    invalid=(np.ones(5), (2, 3)))
add("view", one(shape=st.just((2, 3))), S, call=lambda T, a: a.view(6))
add("flatten", one(shape=nonempty), S, call=lambda T, a: T.flatten(a))
add("unflatten", one(shape=st.just((2, 6))), S, call=lambda T, a: a.unflatten(1, (3, -1)))
add("squeeze", one(), S)
add("unsqueeze", one(), S, call=lambda T, a: T.unsqueeze(a, 0))
add("permute", one(shape=st.just((2, 3, 1))), S, call=lambda T, a: T.permute(a, (2, 0, 1)))
add("transpose", one(shape=st.just((2, 3))), S, call=lambda T, a: T.transpose(a, 0, 1))
add("t", one(shape=st.just((2, 3))), S)
add("movedim", one(shape=st.just((2, 3, 4))), S, call=lambda T, a: T.movedim(a, 0, -1))
add("swapaxes", one(shape=st.just((2, 3, 4))), S, call=lambda T, a: a.swapaxes(0, 2))
add("narrow", one(shape=st.just((4, 3))), S, call=lambda T, a: T.narrow(a, 0, 1, 2))
add("expand", one(shape=st.just((3, 1))), S, call=lambda T, a: a.expand(2, 3, 4))
add("repeat", one(shape=st.just((2, 1))), S, call=lambda T, a: a.repeat(2, 3))
add("repeat_interleave", one(shape=st.just((2, 3))), S,
    call=lambda T, a: T.repeat_interleave(a, 2, dim=1))
add("repeat_interleave_tensor", one(shape=st.just((3,))), S,
    call=lambda T, a: a.repeat_interleave(T.tensor([1, 0, 2])))
add("flip", one(shape=st.just((2, 3))), S, call=lambda T, a: T.flip(a, (0, 1)))
add("roll", one(shape=st.just((3, 4))), S, call=lambda T, a: T.roll(a, (1, -2), (0, 1)))
add("roll_flat", one(shape=st.just((2, 3))), S, call=lambda T, a: a.roll(4))
add("tril", one(shape=st.just((3, 3))), S, call=lambda T, a: T.tril(a, -1))
add("triu", one(shape=st.just((3, 4))), S, call=lambda T, a: a.triu(1))
add("split", one(shape=st.just((5, 2))), S, call=lambda T, a: T.split(a, 2))
add("chunk", one(shape=st.just((5, 2))), S, call=lambda T, a: a.chunk(3))
add("cat", fixed((2, 3), (1, 3)), S, call=lambda T, a, b: T.cat([a, b]),
    invalid=(np.ones((2, 3)), np.ones((2, 2))))
add("concat", fixed((2, 3), (2, 1)), S, call=lambda T, a, b: T.concat([a, b], 1))
add("stack", fixed((2, 3), (2, 3)), S, call=lambda T, a, b: T.stack([a, b], 1))
add("hstack", fixed((2, 3), (2, 1)), S, call=lambda T, a, b: T.hstack([a, b]))
add("vstack", fixed((3,), (3,)), S, call=lambda T, a, b: T.vstack([a, b]))
add("meshgrid", fixed((2,), (3,)), S, call=lambda T, a, b: T.meshgrid(a, b, indexing="ij"))
add("meshgrid_xy", fixed((2,), (3,)), S, call=lambda T, a, b: T.meshgrid(a, b, indexing="xy"))
add("diag", one(shape=st.just((3,))), S, call=lambda T, a: T.diag(a, 1))
add("diag_2d", one(shape=st.just((3, 4))), S, call=lambda T, a: a.diag(-1))
add("diagonal", one(shape=st.just((3, 2, 4))), S, call=lambda T, a: T.diagonal(a, 1, 0, 2))
add("diag_embed", one(shape=st.just((2, 3))), S, call=lambda T, a: T.diag_embed(a, 1),
    second=True)
add("trace", one(shape=st.just((3, 3))), S, call=lambda T, a: T.trace(a),
    invalid=(np.ones(3),))

# ---- indexing and writing by index ----------------------------------------------------------
S = "indexing"
IDX = np.array([[2, 0], [1, 2]])
add("getitem", one(shape=st.just((3, 4))), S, call=lambda T, a: a[1:, ::2])
add("getitem_tensor", one(shape=st.just((3, 4))), S, call=lambda T, a: a[T.tensor([2, 0, 2])])
add("getitem_mask", one(shape=st.just((3,))), S,
    call=lambda T, a: a[T.tensor([True, False, True])])
add("where", fixed((2, 3), (3,)), S, call=lambda T, a, b: T.where(a > 0, a, b))
add("masked_fill", one(shape=st.just((2, 3))), S,
    call=lambda T, a: a.masked_fill(T.tensor([True, False, True]), 0.5))
add("masked_select", one(shape=st.just((2, 3))), S,
    call=lambda T, a: T.masked_select(a, T.tensor([True, False, True])))
# negative indices are out of bounds for gather and index_select (not counted from the end)
add("gather", one(shape=st.just((2, 3))).map(lambda t: (*t, IDX)), S,
    call=lambda T, a, i: T.gather(a, 1, i), invalid=(np.ones((2, 3)), np.array([[-1, 0]])))
add("index_select", one(shape=st.just((2, 3))).map(lambda t: (*t, np.array([2, 0, 2]))), S,
    call=lambda T, a, i: T.index_select(a, 1, i), invalid=(np.ones((2, 3)), np.array([-1])))
add("take", one(shape=st.just((2, 3))), S, call=lambda T, a: T.take(a, T.tensor([[5, 0]])))
add("scatter", fixed((2, 3), (2, 2)), S,
    call=lambda T, a, b: T.scatter(a, 1, T.tensor(IDX), b))
add("scatter_value", one(shape=st.just((2, 3))), S,
    call=lambda T, a: a.scatter(1, T.tensor(IDX), 1.5))
add("scatter_add", fixed((2, 3), (1, 3)), S,
    call=lambda T, a, b: T.scatter_add(a, 0, T.tensor([[1, 1, 0]]), b), second=True)
for _how in ("sum", "mean", "amax", "amin", "prod"):
    for _self in (True, False):
        add(f"scatter_reduce_{_how}{'' if _self else '_noself'}",
            fixed((2, 3), (2, 3), distinct=True, elements=tst.nonzero(margin=0.1, bound=3.0)),
            S, call=lambda T, a, b, h=_how, s=_self: a.scatter_reduce(
                0, T.tensor([[1, 1, 0], [1, 0, 0]]), b, h, include_self=s))
add("index_add", fixed((2, 3), (2, 3)), S,
    call=lambda T, a, b: T.index_add(a, 1, T.tensor([2, 0, 2]), b, alpha=2.0))
add("index_copy", fixed((2, 3), (2, 2)), S,
    call=lambda T, a, b: a.index_copy(1, T.tensor([2, 0]), b))
add("index_fill", one(shape=st.just((2, 3))), S,
    call=lambda T, a: T.index_fill(a, 1, T.tensor([2, 0]), -1.0))
add("nonzero", one(), S, call=lambda T, a: T.nonzero(a > 0), grad=False)

# ---- dtypes and conversions ---------------------------------------------------------------
S = "conversion"
add("type", one(), S, call=lambda T, a: (a.type(), a.type(T.float32), a.float().type()),
    grad=False)
add("to", one(), S, call=lambda T, a: a.to(T.float32) * 2)
add("to_device", one(), S, call=lambda T, a: a.to("cpu", T.float32))
add("type_as", fixed((2,), (2,)), S, call=lambda T, a, b: a.long().type_as(b), grad=False)
add("double_long_int_bool", one(), S,
    call=lambda T, a: (a.float().double(), a.long(), a.int(), a.bool()), grad=False)

# ---- nn.functional: activations ---------------------------------------------------------------
S = "nn.functional"
kinked = tst.away_from(0.0, margin=0.05, min_value=-4.0, max_value=4.0)
ACTS = {
    "silu": real, "elu": kinked, "celu": kinked, "selu": kinked, "relu6": tst.away_from(
        0.0, 6.0, margin=0.05, min_value=-4.0, max_value=8.0),
    "hardtanh": tst.away_from(-1.0, 1.0, margin=0.05, min_value=-4.0, max_value=4.0),
    "hardsigmoid": tst.away_from(-3.0, 3.0, margin=0.05, min_value=-5.0, max_value=5.0),
    "hardswish": tst.away_from(-3.0, 3.0, margin=0.05, min_value=-5.0, max_value=5.0),
    "mish": real, "logsigmoid": real, "softsign": kinked, "softplus": real, "relu": kinked,
    "leaky_relu": kinked, "gelu": real, "sigmoid": real, "tanh": real,
}
for _name, _dom in ACTS.items():
    add(_name, one(_dom), S, forms="n", second=_name in ("silu", "mish", "elu", "softplus"))
add("elu_alpha", one(kinked), S, call=lambda T, a: T.nn.functional.elu(a, alpha=0.5))
add("celu_alpha", one(kinked), S, call=lambda T, a: T.nn.functional.celu(a, alpha=2.0))
add("gelu_tanh", one(), S, call=lambda T, a: T.nn.functional.gelu(a, approximate="tanh"))
add("softplus_beta", one(), S, call=lambda T, a: T.nn.functional.softplus(a, beta=2.0,
                                                                          threshold=3.0))
add("softmin", with_dim(), S, call=lambda T, a, d: T.nn.functional.softmin(a, d))
add("softmax", with_dim(), S, call=lambda T, a, d: T.nn.functional.softmax(a, d), forms="n")
add("log_softmax", with_dim(), S, call=lambda T, a, d: T.nn.functional.log_softmax(a, d))
add("glu", one(shape=st.just((2, 4))), S, forms="n", invalid=(np.ones(3),))
add("normalize", one(nonzero, shape=st.just((2, 3))), S, forms="n")
add("cosine_similarity", fixed((2, 3), (2, 3), elements=nonzero), S, forms="n")
add("pairwise_distance", fixed((2, 3), (2, 3)), S, forms="n")
add("linear", fixed((2, 3), (4, 3), (4,)), S, forms="n")
add("dropout_eval", one(), S, call=lambda T, a: T.nn.functional.dropout(a, 0.5, training=False))
add("one_hot", none, S, call=lambda T: T.nn.functional.one_hot(T.tensor([0, 2]), 3), grad=False)

# ---- nn.functional: losses ------------------------------------------------------------------
S = "losses"
F_ = "nn.functional"
add("mse_loss", fixed((2, 3), (2, 3)), S, forms="n", second=True,
    invalid=(np.ones((2, 3)), np.ones((3, 2))))
add("l1_loss", fixed((2, 3), (2, 3), distinct=True), S, forms="n")
add("huber_loss", fixed((2, 3), (2, 3)).filter(
    lambda t: np.all(np.abs(np.abs(t[0] - t[1]) - 1) > 0.01)), S, forms="n")
add("smooth_l1_loss", fixed((2, 3), (2, 3)).filter(
    lambda t: np.all(np.abs(np.abs(t[0] - t[1]) - 0.5) > 0.01)), S, forms="n",
    kwargs={"beta": 0.5})
add("binary_cross_entropy", fixed((2, 3), (2, 3), elements=tst.floats(0.05, 0.95)), S,
    forms="n")
add("binary_cross_entropy_with_logits", fixed((2, 3), (2, 3), elements=tst.floats(0.0, 1.0)),
    S, forms="n")
add("cross_entropy", one(shape=st.just((3, 4))), S,
    call=lambda T, a: T.nn.functional.cross_entropy(a, T.tensor([0, 3, 1])), second=True)
add("nll_loss", one(shape=st.just((3, 4))), S,
    call=lambda T, a: T.nn.functional.nll_loss(a.log_softmax(1), T.tensor([0, 3, 1])))
add("kl_div", fixed((2, 3), (2, 3), elements=tst.floats(0.05, 1.0)), S,
    call=lambda T, a, b: T.nn.functional.kl_div(a.log(), b, reduction="batchmean"))
add("kl_div_log_target", fixed((2, 3), (2, 3)), S,
    call=lambda T, a, b: T.nn.functional.kl_div(a, b, reduction="sum", log_target=True))
add("gaussian_nll_loss", fixed((2, 3), (2, 3), (2, 3), elements=tst.floats(0.1, 3.0)), S,
    forms="n")
add("gaussian_nll_loss_full", fixed((2, 3), (2, 3), (2, 1), elements=tst.floats(0.1, 3.0)), S,
    call=lambda T, a, b, v: T.nn.functional.gaussian_nll_loss(a, b, v, full=True))
add("margin_ranking_loss", fixed((4,), (4,), distinct=True), S,
    call=lambda T, a, b: T.nn.functional.margin_ranking_loss(
        a, b, T.tensor([1.0, -1.0, 1.0, -1.0], dtype=a.dtype), margin=0.0))
add("cosine_embedding_loss", fixed((3, 4), (3, 4), elements=nonzero), S,
    call=lambda T, a, b: T.nn.functional.cosine_embedding_loss(
        a, b, T.tensor([1, -1, -1]), margin=-1.0))

# ---- autograd ---------------------------------------------------------------------------------
S = "autograd"
add("autograd.grad", one(), S, call=lambda T, a: T.autograd.grad((a * a).sum(), a,
                                                                 create_graph=True)[0])
add("functional.jacobian", one(shape=st.just((3,))), S, grad=False,
    call=lambda T, a: T.autograd.functional.jacobian(lambda x: x.sin() * x.sum(), a.detach()))
add("functional.hessian", one(shape=st.just((3,))), S, grad=False,
    call=lambda T, a: T.autograd.functional.hessian(lambda x: (x ** 3).sum() * x[0],
                                                    a.detach()))
add("functional.vjp", fixed((3,), (3,)), S, grad=False,
    call=lambda T, a, v: T.autograd.functional.vjp(lambda x: x.exp(), a.detach(), v.detach()))
add("functional.jvp", fixed((3,), (3,)), S, grad=False,
    call=lambda T, a, v: T.autograd.functional.jvp(lambda x: x.exp() * x, a.detach(),
                                                   v.detach()))
add("functional.hvp", fixed((3,), (3,)), S, grad=False,
    call=lambda T, a, v: T.autograd.functional.hvp(lambda x: (x.sin() * x).sum(), a.detach(),
                                                   v.detach()))
add("grad_fn.next_functions", one(shape=st.just((2,))), S, grad=False, call=lambda T, a: [
    [None if f is None else f.name() for f, _ in node.next_functions]
    for node in [(a * 2).sum().grad_fn, (a * 2).grad_fn]])
add("no_grad", one(), S, grad=False, call=lambda T, a: _under(T.no_grad(), a))
add("inference_mode", one(), S, grad=False, call=lambda T, a: _under(T.inference_mode(), a))
add("set_grad_enabled", one(), S, grad=False,
    call=lambda T, a: _under(T.set_grad_enabled(False), a))

# ---- optim: a few steps on the same problem give the same parameters ---------------------------
# The optim engineer's new optimizers (Adamax, NAdam, RAdam) and schedulers (OneCycleLR,
# CosineAnnealingWarmRestarts, CyclicLR, LinearLR, SequentialLR, ChainedScheduler, PolynomialLR)
# get their rows here, in OPTIMIZERS and SCHEDULERS, once they are on main.
S = "optim"
OPTIMIZERS = {
    "SGD": {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "Adam": {"lr": 0.05, "amsgrad": True},
    "AdamW": {"lr": 0.05, "weight_decay": 0.1},
    "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
    "Adagrad": {"lr": 0.1},
}
SCHEDULERS = {
    "StepLR": {"step_size": 2, "gamma": 0.5},
    "MultiStepLR": {"milestones": [1, 3], "gamma": 0.3},
    "ExponentialLR": {"gamma": 0.8},
    "CosineAnnealingLR": {"T_max": 4},
}


def _steps(T: Any, w: Any, opt_name: str, options: dict, sched: tuple | None = None) -> Any:
    p = T.nn.Parameter(w.detach().clone())
    opt = getattr(T.optim, opt_name)([p], **options)
    s = None if sched is None else getattr(T.optim.lr_scheduler, sched[0])(opt, **sched[1])
    out = []
    for _ in range(5):
        opt.zero_grad()
        (((p - 1.0) ** 2).sum() + p.sin().sum()).backward()  # bounded steps: no overflow
        opt.step()
        if s is not None:
            s.step()
            out.append(opt.param_groups[0]["lr"])
    return (p.detach(), out)


for _name, _opts in OPTIMIZERS.items():
    add(f"optim.{_name}", one(shape=st.just((3,))), S, grad=False,
        call=lambda T, w, n=_name, o=_opts: _steps(T, w, n, o))
for _name, _opts in SCHEDULERS.items():
    add(f"lr_scheduler.{_name}", one(shape=st.just((2,))), S, grad=False,
        call=lambda T, w, n=_name, o=_opts: _steps(T, w, "SGD", {"lr": 0.1}, (n, o)))


def _under(ctx: Any, a: Any) -> bool:
    with ctx:
        return (a * 2).requires_grad


KEYS = [c._key for c in CASES]
assert len(KEYS) == len(set(KEYS)), sorted(k for k in KEYS if KEYS.count(k) > 1)
