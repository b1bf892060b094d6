"""Hypothesis strategies for gradient tests: inputs where a derivative exists, on every side.

    from hypothesis import given
    from tinygrad_edu.testing import gradcheck, strategies as tst

    @given(tst.values(tst.positive()))
    def test_log(x):
        assert gradcheck(lambda v: v.log(), [x])

Why domains at all. A gradient check compares backward() with central differences
(f(x + eps) - f(x - eps)) / (2 eps). That comparison is only meaningful where f is
differentiable on the whole interval [x - eps, x + eps], and accurate only where f is smooth
enough there: near a kink (relu, abs at 0; max at a tie) the difference quotient straddles two
pieces and averages their slopes, and near a singularity (log, sqrt and 1/x at 0) the error
term eps^2 f'''(x) / 6 blows up. Neither is a wrong gradient, so a good test keeps out of them.

How, honestly. What a domain allows is decided by a *filter* that removes only the points
within `margin` of the kink or singularity, never by an offset added to the draws (`x + 0.001`
looks safe, but hypothesis feeds the numeric literals it finds in the project's modules into
its draws, so a -0.001 written anywhere is a likely x, and lands on the singular point;
`tests/testing/test_strategies.py` shows it). Draws close to each bad point, on both
sides, are mixed in so that the neighbourhood really gets tested, and the filter runs after
them too. The margin (default `MARGIN`, 1e-3 = 1000 x the default eps) is large against eps
and tiny against the range, so:

- both sides of every kink are still drawn (negative and positive inputs for relu and abs, a
  < b and a > b for max), and points close to it (|x| ~ 0.002) as well as far away;
- the central difference at x is exact for a piecewise-linear kink when |x| > eps, and its
  error near log's or sqrt's 0 is below 1e-6 (relative) once x > 1e-3.

`tests/testing/test_strategies.py` checks both claims by asking hypothesis to find examples
on each side of each kink.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as err:  # an optional dependency: say which install brings it
    raise ImportError(
        "tinygrad_edu.testing.strategies needs hypothesis, which is not installed: "
        "pip install 'tinygrad-edu[testing]' (or pip install hypothesis). gradcheck and the "
        "rest of tinygrad_edu.testing work without it."
    ) from err

from ..value import Value

__all__ = [
    "BOUND",
    "MARGIN",
    "floats",
    "positive",
    "away_from",
    "nonzero",
    "distinct",
    "values",
    "shapes",
    "arrays",
    "tensors",
    "broadcastable_shapes",
    "matmul_shapes",
    "conv_args",
    "pool_args",
]

BOUND = 10.0  # default range [-BOUND, BOUND]: saturates tanh and sigmoid, keeps exp(x) < 3e4
MARGIN = 1e-3  # how far a draw stays from a kink or singular point (see the module docstring)

Strategy = st.SearchStrategy


def floats(min_value: float = -BOUND, max_value: float = BOUND) -> Strategy[float]:
    """Finite float64 numbers in [min_value, max_value] (no NaN, no inf)."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=64)


def _close_to(point: float, margin: float) -> Strategy[float]:
    """Points near `point` on either side, |x - point| from just over `margin` to 1.

    Plain float draws rarely land within 0.01 of an arbitrary point (hypothesis favours
    "interesting" floats such as 0, 1 and huge ones), so the domains below mix these in. The
    filter applied after the mix still decides what is allowed.
    """
    gap = st.one_of(  # just past the margin, or anywhere up to 1
        st.floats(margin, 10 * margin, exclude_min=True), st.floats(margin, 1.0, exclude_min=True)
    )
    return st.tuples(st.sampled_from([-1.0, 1.0]), gap).map(lambda sd: point + sd[0] * sd[1])


def away_from(
    *points: float, margin: float = MARGIN, min_value: float = -BOUND, max_value: float = BOUND
) -> Strategy[float]:
    """Floats in range, farther than `margin` from every point (kinks, poles), on both sides.

        away_from(0.0)              # relu, abs, leaky_relu, 1/x: both signs, never ~0
    """
    def allowed(x: float) -> bool:
        return min_value <= x <= max_value and all(abs(x - p) > margin for p in points)

    near = [_close_to(p, margin) for p in points]
    return st.one_of(floats(min_value, max_value), *near).filter(allowed)


def nonzero(margin: float = MARGIN, bound: float = BOUND) -> Strategy[float]:
    """Floats of either sign with |x| > margin: divisors, and inputs of relu/abs (kink at 0)."""
    return away_from(0.0, margin=margin, min_value=-bound, max_value=bound)


def positive(margin: float = MARGIN, max_value: float = BOUND) -> Strategy[float]:
    """Floats x > margin: log, sqrt, a base raised to a real power (singular at or below 0)."""
    return away_from(0.0, margin=margin, min_value=0.0, max_value=max_value)


def distinct(
    n: int = 2, min_value: float = -BOUND, max_value: float = BOUND, margin: float = MARGIN
) -> Strategy[tuple[float, ...]]:
    """n floats pairwise farther apart than `margin`: maximum/minimum away from ties.

    Hypothesis likes to draw equal values (it reuses draws on purpose), so this filter matters.
    Near-ties in either order are mixed in (one value, the others just past the margin from
    it), so both a < b and a > b occur, close together as well as far apart.
    """
    elements = floats(min_value, max_value)

    def spread(xs: tuple[float, ...]) -> bool:
        in_range = all(min_value <= x <= max_value for x in xs)
        return in_range and all(abs(a - b) > margin for i, a in enumerate(xs) for b in xs[i + 1:])

    def cluster(first_and_gaps: tuple[float, ...]) -> tuple[float, ...]:
        first, *gaps = first_and_gaps
        return (first, *(first + g for g in gaps))

    near_ties = st.tuples(elements, *[_close_to(0.0, margin)] * (n - 1)).map(cluster)
    return st.one_of(st.tuples(*[elements] * n), near_ties).filter(spread)


def values(elements: Strategy[float] | None = None) -> Strategy[Value]:
    """Fresh `Value` inputs whose data come from `elements` (default: floats())."""
    return st.builds(Value, floats() if elements is None else elements)


# ---- shapes, arrays, tensors --------------------------------------------------------------------


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 4
) -> Strategy[tuple[int, ...]]:
    """Array shapes, including 0-d (), empty (a side of 0) and size-1 sides by default.

    Half the draws have no empty side: left alone, hypothesis draws a 0 in some side so often
    that few examples would have any entries to check.
    """
    def draw(lo: int) -> Strategy[tuple[int, ...]]:
        return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=lo,
                                max_side=max_side)

    return st.one_of(draw(max(min_side, 1)), draw(min_side)) if min_side == 0 else draw(min_side)


def _gapped(arr: np.ndarray, margin: float) -> bool:
    flat = np.sort(arr.reshape(-1))
    return flat.size < 2 or bool(np.min(np.diff(flat)) > margin)


def arrays(
    shape: Sequence[int] | Strategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float64,
    elements: Strategy[float] | None = None,
    *,
    distinct: bool = False,
    margin: float = MARGIN,
) -> Strategy[np.ndarray]:
    """numpy arrays of `shape` (a tuple or a strategy; default shapes()) from `elements`.

    `distinct=True`: all entries farther than `margin` apart, for max/min/sort-like reductions
    whose gradient picks one entry (a tie would make it a subgradient).
    """
    shape = shapes() if shape is None else shape
    dtype = np.dtype(dtype)
    if elements is None and dtype.kind == "f":
        elements = st.floats(-BOUND, BOUND, allow_nan=False, allow_infinity=False,
                             width=8 * dtype.itemsize)
    strategy = hnp.arrays(dtype, shape, elements=elements, unique=distinct)
    if distinct:
        strategy = strategy.filter(lambda a: _gapped(a, margin))
    return strategy


def tensors(
    shape: Sequence[int] | Strategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float64,
    elements: Strategy[float] | None = None,
    *,
    requires_grad: bool = True,
    distinct: bool = False,
    margin: float = MARGIN,
) -> Strategy[Any]:
    """`Tensor`s (float64 and requires_grad=True by default) built from `arrays(...)`.

        tensors(shape=(2, 3), elements=positive())      # inputs for log
    """
    from ..tensor import Tensor

    return arrays(shape, dtype, elements, distinct=distinct, margin=margin).map(
        lambda a: Tensor(a, requires_grad=requires_grad)
    )


def broadcastable_shapes(
    n: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 3
) -> Strategy[tuple[tuple[int, ...], ...]]:
    """n shapes that broadcast together (numpy rules), e.g. ((3, 1), (4,)) or ((), (2, 0)).

    As in `shapes()`, half the draws have no empty side.
    """
    def draw(lo: int) -> Strategy[tuple[tuple[int, ...], ...]]:
        return hnp.mutually_broadcastable_shapes(
            num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=lo, max_side=max_side
        ).map(lambda b: tuple(b.input_shapes))

    return st.one_of(draw(max(min_side, 1)), draw(min_side)) if min_side == 0 else draw(min_side)


def matmul_shapes(
    min_dims: int = 0, max_dims: int = 2, min_side: int = 1, max_side: int = 4
) -> Strategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(a_shape, b_shape) valid for a @ b, as numpy's matmul: vectors (n,), matrices (m, n),
    and stacks of them whose batch dimensions broadcast (up to `max_dims` of them)."""
    return hnp.mutually_broadcastable_shapes(
        signature="(m?,n),(n,p?)->(m?,p?)", min_dims=min_dims, max_dims=max_dims,
        min_side=min_side, max_side=max_side,
    ).map(lambda b: tuple(b.input_shapes))


@st.composite
def conv_args(draw: Any, nsp: int = 2, max_side: int = 7, max_channels: int = 4
              ) -> dict[str, Any]:
    """Valid arguments of a convolution with `nsp` spatial dims: `input` and `weight` shapes,
    `stride`, `padding`, `dilation`, `groups`. Every output size is >= 1; batch 1, one
    channel, odd sizes and kernels as large as the padded input are all drawn."""
    groups = draw(st.integers(1, 2))
    c = groups * draw(st.integers(1, max_channels // groups))
    o = groups * draw(st.integers(1, max_channels // groups))
    n = draw(st.integers(1, 2))
    sizes, kernel, stride, padding, dilation = [], [], [], [], []
    for _ in range(nsp):
        size = draw(st.integers(1, max_side))
        p = draw(st.integers(0, 2))
        d = draw(st.integers(1, 2))
        k = draw(st.integers(1, max(1, (size + 2 * p - 1) // d + 1)))  # d(k-1)+1 <= size+2p
        for seq, v in ((sizes, size), (kernel, k), (padding, p), (dilation, d),
                       (stride, draw(st.integers(1, 3)))):
            seq.append(v)
    return {"input": (n, c, *sizes), "weight": (o, c // groups, *kernel),
            "stride": tuple(stride), "padding": tuple(padding), "dilation": tuple(dilation),
            "groups": groups}


@st.composite
def pool_args(draw: Any, nsp: int = 2, max_side: int = 7) -> dict[str, Any]:
    """Valid arguments of a pooling with `nsp` spatial dims: `input` shape, `kernel_size`,
    `stride`, `padding` (at most half the kernel, as PyTorch requires), `dilation`,
    `ceil_mode`."""
    sizes, kernel, stride, padding, dilation = [], [], [], [], []
    for _ in range(nsp):
        size = draw(st.integers(1, max_side))
        p = draw(st.integers(0, 2))
        d = draw(st.integers(1, 2))
        if 2 * p > (size + 2 * p - 1) // d + 1:  # no kernel >= 2p fits with this dilation
            d = 1
        # a kernel of at least 2p (padding <= half of it) spanning at most the padded input
        k = draw(st.integers(max(1, 2 * p), (size + 2 * p - 1) // d + 1))
        for seq, v in ((sizes, size), (kernel, k), (padding, p), (dilation, d),
                       (stride, draw(st.integers(1, 3)))):
            seq.append(v)
    return {"input": (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *sizes),
            "kernel_size": tuple(kernel), "stride": tuple(stride), "padding": tuple(padding),
            "dilation": tuple(dilation), "ceil_mode": draw(st.booleans())}
