"""Elementwise functions: exp, log, tanh, relu, clamp, gelu, floor, ...

Each function takes the Tensor first and is bound as a Tensor method in methods.py. The
primitive ones are one `apply` of a row of ops.py (integer inputs become float32 first, as
exp of an int tensor is a float). The others are compositions of primitives: no derivative
code here, the chain rule does it all, so their gradients (and second derivatives) are right as
soon as the primitives' are. `clamp` and `leaky_relu` are `where`s. Rounding
(floor, sign, ...) is recorded with a zero derivative, so `x + x.floor()` still reaches x.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .ops import OPS
from .tensor import Tensor, _binary, _compare, _floating, _new, _pair, _unary, apply

__all__ = [
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus", "erf", "sin", "cos",
    "maximum", "minimum", "clamp", "leaky_relu", "gelu", "square", "rsqrt", "reciprocal", "floor",
    "ceil", "round", "trunc", "sign", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh",
    "acosh", "atanh", "log1p", "expm1", "log2", "log10", "exp2", "atan2", "hypot",
    "fmod", "copysign", "lerp", "logaddexp", "float_power",
]


# ---- primitives ---------------------------------------------------------------------------------


def exp(x: Tensor) -> Tensor:
    return _unary(OPS.exp, x)


def log(x: Tensor) -> Tensor:
    return _unary(OPS.log, x)


def sqrt(x: Tensor) -> Tensor:
    return _unary(OPS.sqrt, x)


def abs(x: Tensor) -> Tensor:
    return apply(OPS.abs, (x,))


def tanh(x: Tensor) -> Tensor:
    return _unary(OPS.tanh, x)


def sigmoid(x: Tensor) -> Tensor:
    return _unary(OPS.sigmoid, x)


def relu(x: Tensor) -> Tensor:
    return apply(OPS.relu, (x,))


def softplus(x: Tensor) -> Tensor:
    return _unary(OPS.softplus, x)


def erf(x: Tensor) -> Tensor:
    return _unary(OPS.erf, x)


def sin(x: Tensor) -> Tensor:
    return _unary(OPS.sin, x)


def cos(x: Tensor) -> Tensor:
    return _unary(OPS.cos, x)


def maximum(x: Tensor, other: Any) -> Tensor:
    return _binary(OPS.maximum, x, other)


def tan(x: Tensor) -> Tensor:
    return _unary(OPS.tan, x)


def asin(x: Tensor) -> Tensor:
    return _unary(OPS.asin, x)


def acos(x: Tensor) -> Tensor:
    return _unary(OPS.acos, x)


def atan(x: Tensor) -> Tensor:
    return _unary(OPS.atan, x)


def sinh(x: Tensor) -> Tensor:
    return _unary(OPS.sinh, x)


def cosh(x: Tensor) -> Tensor:
    return _unary(OPS.cosh, x)


def asinh(x: Tensor) -> Tensor:
    return _unary(OPS.asinh, x)


def acosh(x: Tensor) -> Tensor:
    return _unary(OPS.acosh, x)


def atanh(x: Tensor) -> Tensor:
    return _unary(OPS.atanh, x)


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), exact for tiny x."""
    return _unary(OPS.log1p, x)


def expm1(x: Tensor) -> Tensor:
    """exp(x) - 1, exact for tiny x."""
    return _unary(OPS.expm1, x)


def _floating_pair(x: Any, other: Any) -> tuple[Tensor, Tensor]:
    a, b = _pair(x, other)
    return _floating(a), _floating(b)


def atan2(x: Tensor, other: Any) -> Tensor:
    """The angle of the point (other, x), in (-pi, pi]: atan(x / other) in the right quadrant."""
    return apply(OPS.atan2, _floating_pair(x, other))


def hypot(x: Tensor, other: Any) -> Tensor:
    """sqrt(x^2 + other^2), with no overflow for large values."""
    return apply(OPS.hypot, _floating_pair(x, other))


def fmod(x: Tensor, other: Any) -> Tensor:
    """x - trunc(x / other) * other: C's fmod, the sign of `x`."""
    a, b = _pair(x, other)
    if a.dtype.kind != "f":
        return _compare(np.fmod, a, b)
    return apply(OPS.fmod, (a, b))


# ---- compositions of primitives ----------------------------------------------------------------


_LN2, _LN10 = math.log(2.0), math.log(10.0)


def log2(x: Tensor) -> Tensor:
    return x.log() * (1 / _LN2)


def log10(x: Tensor) -> Tensor:
    return x.log() * (1 / _LN10)


def exp2(x: Tensor) -> Tensor:
    return (_floating(x) * _LN2).exp()


def copysign(x: Tensor, other: Any) -> Tensor:
    """|x| with the sign of `other` (-0.0 counts as negative): |x| times a constant +-1, so
    `other` gets no gradient (PyTorch's is 0 too)."""
    a, b = _floating_pair(x, other)
    sign = _new(np.where(np.signbit(b._data), -1, 1).astype(a.dtype))
    return a.abs() * sign


def lerp(x: Tensor, end: Any, weight: Any) -> Tensor:
    """x + weight * (end - x): the point `weight` of the way from x to end."""
    return x + weight * (end - x)


def logaddexp(x: Tensor, other: Any) -> Tensor:
    """log(exp(x) + exp(other)), stable: the larger of the two is taken out first."""
    a, b = _floating_pair(x, other)
    m = np.maximum(a._data, b._data)
    m = _new(np.where(np.isfinite(m), m, 0).astype(a.dtype))  # a constant: no gradient
    return m + ((a - m).exp() + (b - m).exp()).log()


def float_power(x: Tensor, exponent: Any) -> Tensor:
    """x ** exponent in float64, as torch.float_power."""
    e = exponent.double() if isinstance(exponent, Tensor) else exponent
    return x.double() ** e


def minimum(x: Tensor, other: Any) -> Tensor:
    """Elementwise minimum; a tie splits the gradient evenly, as PyTorch."""
    return _binary(OPS.minimum, x, other)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max]; the gradient is 1 inside (bounds included), 0 outside."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    if min is not None:
        x = x.where(~(x < min), min)
    if max is not None:
        x = x.where(~(x > max), max)
    return x


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, else negative_slope * x."""
    return x.where(x > 0, x * negative_slope)


_SQRT_HALF = math.sqrt(0.5)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the normal CDF; `approximate="tanh"` uses the tanh formula."""
    if approximate == "tanh":
        return _unary(OPS.gelu_tanh, x)  # one row: its rule is the derivative in closed form
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + (x * _SQRT_HALF).erf())


def square(x: Tensor) -> Tensor:
    return x * x


def rsqrt(x: Tensor) -> Tensor:
    return 1 / x.sqrt()


def reciprocal(x: Tensor) -> Tensor:
    return 1 / x


# ---- rounding: piecewise constant, so their gradient is 0 (recorded, as PyTorch) -------------


def _rounding(op, x: Tensor) -> Tensor:
    if x._data.dtype.kind in "iub":  # integers are already round: a copy, in their dtype
        return _new(x._data.copy())
    return apply(op, (x,))


def floor(x: Tensor) -> Tensor:
    """Rounded down; its gradient is 0 (the derivative wherever it is defined)."""
    return _rounding(OPS.floor, x)


def ceil(x: Tensor) -> Tensor:
    return _rounding(OPS.ceil, x)


def round(x: Tensor) -> Tensor:
    """Rounded to the nearest integer, halves to even (as PyTorch)."""
    return _rounding(OPS.round, x)


def trunc(x: Tensor) -> Tensor:
    return _rounding(OPS.trunc, x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 per element; its gradient is 0."""
    if x._data.dtype.kind == "b":
        return _new(x._data.copy())
    return apply(OPS.sign, (x,))
