"""Comparisons and logic: ==, <, &, ~, isnan, any, all, allclose, ...

Each function takes the Tensor first and is bound as a Tensor method in methods.py. The
results are bool tensors computed on the arrays, outside the graph: a comparison has no
gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dims import _norm_axes
from .tensor import Tensor, _compare, _new

__all__ = [
    "lt", "le", "gt", "ge", "eq", "ne", "and_", "or_", "xor", "invert", "logical_not", "isnan",
    "isinf", "isfinite", "any", "all", "equal", "allclose", "isclose",
]


def lt(x: Tensor, other: Any) -> Tensor:
    return _compare(np.less, x, other)


def le(x: Tensor, other: Any) -> Tensor:
    return _compare(np.less_equal, x, other)


def gt(x: Tensor, other: Any) -> Tensor:
    return _compare(np.greater, x, other)


def ge(x: Tensor, other: Any) -> Tensor:
    return _compare(np.greater_equal, x, other)


def eq(x: Tensor, other: Any) -> Any:  # type: ignore[override]
    if other is None:  # `t == None` is False, as in PyTorch (not a tensor of Falses)
        return False
    return _compare(np.equal, x, other)


def ne(x: Tensor, other: Any) -> Any:  # type: ignore[override]
    if other is None:
        return True
    return _compare(np.not_equal, x, other)


def and_(x: Tensor, other: Any) -> Tensor:
    return _compare(np.bitwise_and, x, other)


def or_(x: Tensor, other: Any) -> Tensor:
    return _compare(np.bitwise_or, x, other)


def xor(x: Tensor, other: Any) -> Tensor:
    return _compare(np.bitwise_xor, x, other)


def invert(x: Tensor) -> Tensor:
    return _new(np.invert(x._data))


def logical_not(x: Tensor) -> Tensor:
    return _new(np.logical_not(x._data))


def isnan(x: Tensor) -> Tensor:
    return _new(np.isnan(x._data))


def isinf(x: Tensor) -> Tensor:
    return _new(np.isinf(x._data))


def isfinite(x: Tensor) -> Tensor:
    return _new(np.isfinite(x._data))


def _logical(fn: Any, x: Tensor, dim: Any, keepdim: bool) -> Tensor:
    axes = _norm_axes(dim, None, x.ndim, fn.__name__)
    out = np.asarray(fn(x._data, axis=axes, keepdims=keepdim))
    return _new(out.astype(np.uint8) if x.dtype == np.uint8 else out)  # torch's uint8 quirk


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Is any element non-zero (over `dim`)? bool, or uint8 for a uint8 tensor (as PyTorch)."""
    return _logical(np.any, x, dim, keepdim)


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Is every element non-zero (over `dim`)? bool, or uint8 for a uint8 tensor (as PyTorch)."""
    return _logical(np.all, x, dim, keepdim)


def equal(x: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and elements."""
    return x.shape == other.shape and bool(np.array_equal(x._data, other._data))


def allclose(x: Tensor, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    other = other._data if isinstance(other, Tensor) else other
    return bool(np.allclose(x._data, other, rtol=rtol, atol=atol))


def isclose(x: Tensor, other: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """Elementwise |x - other| <= atol + rtol * |other|, as torch.isclose."""
    return _compare(lambda a, b: np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan),
                    x, other)
