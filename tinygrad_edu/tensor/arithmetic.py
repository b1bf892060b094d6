"""Arithmetic: the operators + - * / ** @ and their named forms (add, mul, matmul, mm, ...).

Each function takes the Tensor first and is bound as a Tensor method in methods.py
(`arithmetic.add` is `Tensor.__add__`). Most are one `apply` of a primitive row of ops.py; the
rest (outer, mm, bmm, dot) are compositions of primitives, so the chain rule needs no
derivative code here. Reflected forms keep the data-flow order: `2 - x` has parents (2, x).
Result dtypes are PyTorch's (`_result_type` in tensor.py: a 0-d tensor does not widen one with
dims of its kind); integer // and % by zero raise, as PyTorch.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .dtypes import get_default_dtype
from .ops import OPS
from .tensor import (
    Tensor,
    _binary,
    _compare,
    _floating,
    _lift,
    _new,
    _pair,
    _result_type,
    apply,
    tensor,
)

__all__ = [
    "div", "addmm",
    "add", "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "floordiv", "rfloordiv",
    "mod", "neg", "pos", "pow", "rpow", "matmul", "rmatmul", "add_scaled", "sub_scaled", "power",
    "dot", "outer", "mm", "bmm",
]


# ---- the operators ------------------------------------------------------------------------------


def add(x: Tensor, other: Any) -> Tensor:
    return _binary(OPS.add, x, other)


def radd(x: Tensor, other: Any) -> Tensor:
    return _binary(OPS.add, other, x)


def sub(x: Tensor, other: Any) -> Tensor:
    return _binary(OPS.sub, x, other)


def rsub(x: Tensor, other: Any) -> Tensor:
    return _binary(OPS.sub, other, x)


def mul(x: Tensor, other: Any) -> Tensor:
    return _binary(OPS.mul, x, other)


def rmul(x: Tensor, other: Any) -> Tensor:
    return _binary(OPS.mul, other, x)


def _true_divide(a: Any, b: Any) -> Tensor:
    """a / b in PyTorch's dtype: the promoted one, or float32 for two integer operands, each
    converted to it directly (int8 -1 / uint8 1 is -1.0, not 255.0 via uint8)."""
    if not isinstance(a, Tensor):
        a = _lift(a, b)
    elif not isinstance(b, Tensor):
        b = _lift(b, a)
    dt = _result_type(a._data, b._data) if a._data.dtype != b._data.dtype else a._data.dtype
    if dt.kind != "f":
        dt = get_default_dtype()
    return apply(OPS.div, (a.to(dt), b.to(dt)))


def truediv(x: Tensor, other: Any) -> Tensor:
    return _true_divide(x, other)


def rtruediv(x: Tensor, other: Any) -> Tensor:
    return _true_divide(other, x)


def _floor_divide(a: Any, b: Any) -> Tensor:
    """a // b in PyTorch's result dtype; not differentiable (PyTorch defines no derivative)."""
    a, b = _pair(a, b)
    if a._data.dtype.kind in "iub" and not np.all(b._data):
        raise ZeroDivisionError("floor_divide (//): integer division by zero (as in PyTorch)")
    return _new(np.asarray(np.floor_divide(a._data, b._data)))


def floordiv(x: Tensor, other: Any) -> Tensor:
    return _floor_divide(x, other)


def rfloordiv(x: Tensor, other: Any) -> Tensor:
    return _floor_divide(other, x)


def mod(x: Tensor, other: Any) -> Tensor:
    """x - floor(x / other) * other (the sign of other, as Python and torch.remainder)."""
    return _binary(OPS.mod, x, other)


def neg(x: Tensor) -> Tensor:
    return apply(OPS.neg, (x,))


def pos(x: Tensor) -> Tensor:
    return x


def pow(x: Tensor, other: Any) -> Tensor:
    if isinstance(other, np.generic):
        other = other.item()  # a numpy scalar exponent must not make float32 float64
    if isinstance(other, numbers.Real) and not isinstance(other, (bool, np.bool_)):
        if isinstance(other, numbers.Integral):
            if other < 0 and x._data.dtype.kind in "iub":
                raise RuntimeError(
                    f"pow: integers to negative integer powers are not allowed ({x.dtype} "
                    f"tensor ** {other}, as in PyTorch); use x.float() ** {other}"
                )
        else:
            x = _floating(x)
        return apply(OPS.pow_const, (x,), (other,))
    return _binary(OPS.pow, x, other)


def rpow(x: Tensor, other: Any) -> Tensor:
    a, b = _pair(other, x)
    return apply(OPS.pow, (a, b))


# ---- products ---------------------------------------------------------------------------------


def matmul(x: Tensor, other: Any) -> Tensor:
    """Matrix product with numpy's rules: 1-D, 2-D and batched (batch dims broadcast)."""
    if not isinstance(other, Tensor):
        other = tensor(other, dtype=x.dtype)
    if x._data.ndim == 0 or other._data.ndim == 0:
        raise ValueError(
            f"matmul: both arguments need at least 1 dim, got shapes {x.shape} and "
            f"{other.shape}; use * to multiply by a scalar"
        )
    return _binary(OPS.matmul, x, other)


def rmatmul(x: Tensor, other: Any) -> Tensor:
    return Tensor(other).matmul(x) if not isinstance(other, Tensor) else other.matmul(x)


def dot(x: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors."""
    if x.ndim != 1 or other.ndim != 1:
        raise ValueError(f"dot: needs two 1-D tensors, got shapes {x.shape}, {other.shape}")
    return x.matmul(other)


def outer(x: Tensor, other: Tensor) -> Tensor:
    """The outer product of two 1-D tensors."""
    return x.reshape(-1, 1) * other.reshape(1, -1)


def mm(x: Tensor, other: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors."""
    if x.ndim != 2 or other.ndim != 2:
        raise ValueError(f"mm: needs two 2-D tensors, got shapes {x.shape} and {other.shape}")
    return x.matmul(other)


def bmm(x: Tensor, other: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors."""
    if x.ndim != 3 or other.ndim != 3:
        raise ValueError(f"bmm: needs two 3-D tensors, got shapes {x.shape} and {other.shape}")
    return x.matmul(other)


# ---- named forms with torch's extra arguments --------------------------------------------------


def add_scaled(x: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    return x + (other if alpha == 1 else other * alpha)


def sub_scaled(x: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    return x - (other if alpha == 1 else other * alpha)


def addmm(x: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * x + alpha * (mat1 @ mat2), as torch.addmm."""
    return x * beta + mm(mat1, mat2) * alpha


def div(x: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """x / other; `rounding_mode='trunc'` or `'floor'` rounds the quotient (then an integer
    division of integers stays an integer, as torch.div)."""
    if rounding_mode is None:
        return truediv(x, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    a, b = _pair(x, other)
    if a.dtype.kind != "f":
        if rounding_mode == "floor":
            return _compare(np.floor_divide, a, b)
        q = _compare(np.true_divide, a, b)
        return q.trunc().to(a.dtype)
    q = truediv(a, b)
    return q.floor() if rounding_mode == "floor" else q.trunc()


def power(x: Tensor, exponent: Any) -> Tensor:
    """`x ** exponent` (torch's `x.pow(exponent)`)."""
    return x**exponent
