"""Elementwise functions: exp, log, tanh, relu, clamp, gelu, floor, ...

Each function takes the Tensor first and is bound as a Tensor method in methods.py. The
primitive ones are one `apply` of a row of ops.py (integer inputs become float32 first, as
exp of an int tensor is a float). The others are compositions of primitives: no derivative
code here, the chain rule does it all, so their gradients (and second derivatives) are right as
soon as the primitives' are. `clamp` and `leaky_relu` are `where`s, and
`minimum(a, b) = -maximum(-a, -b)`. Rounding (floor, sign, ...) gives constants: its
derivative is 0 almost everywhere.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .ops import OPS
from .tensor import Tensor, _binary, _new, _unary, apply, tensor

__all__ = [
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus", "erf", "sin", "cos",
    "maximum", "minimum", "clamp", "leaky_relu", "gelu", "square", "rsqrt", "reciprocal", "floor",
    "ceil", "round", "trunc", "sign",
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


# ---- compositions of primitives ----------------------------------------------------------------


def minimum(x: Tensor, other: Any) -> Tensor:
    """Elementwise minimum; a tie splits the gradient evenly, as PyTorch."""
    if not isinstance(other, (Tensor, numbers.Real)):
        other = tensor(other)
    return -(-x).maximum(-other)


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
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the normal CDF; `approximate="tanh"` uses the tanh formula."""
    if approximate == "tanh":
        return 0.5 * x * (1 + (_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + (x * _SQRT_HALF).erf())


def square(x: Tensor) -> Tensor:
    return x * x


def rsqrt(x: Tensor) -> Tensor:
    return 1 / x.sqrt()


def reciprocal(x: Tensor) -> Tensor:
    return 1 / x


# ---- rounding: constants for autograd -----------------------------------------------------------


def floor(x: Tensor) -> Tensor:
    """Rounded down; a constant for autograd (its derivative is 0 almost everywhere)."""
    return _new(np.floor(x._data))


def ceil(x: Tensor) -> Tensor:
    return _new(np.ceil(x._data))


def round(x: Tensor) -> Tensor:
    return _new(np.round(x._data))


def trunc(x: Tensor) -> Tensor:
    return _new(np.trunc(x._data))


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 per element; a constant (its gradient is 0 almost everywhere)."""
    return _new(np.sign(x._data))
