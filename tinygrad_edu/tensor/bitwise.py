"""Bitwise ops and shifts on integer and bool tensors: &, |, ^, ~, <<, >>, and logical_*.

Computed on the arrays, outside the graph (integers carry no gradient). A floating-point
operand is a clear error, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .tensor import Tensor, _compare, _new

__all__ = [
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "rlshift", "rrshift", "logical_and", "logical_or", "logical_xor",
]


def _integral(name: str, *xs: Any) -> None:
    for x in xs:
        kind = x.dtype.kind if isinstance(x, Tensor) else np.asarray(x).dtype.kind
        if kind not in "biu":
            dt = x.dtype if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"{name}: only integer and bool tensors have bits to operate on, "
                            f"got {dt}; convert with .long() or .bool() first")


def _bitwise(name: str, fn: Callable[..., np.ndarray]) -> Callable[[Tensor, Any], Tensor]:
    def op(x: Tensor, other: Any) -> Tensor:
        _integral(name, x, other)
        return _compare(fn, x, other)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (integers and bools only), as torch.{name}."
    return op


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift)
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift)


def rlshift(x: Tensor, other: Any) -> Tensor:
    """other << x, for a number on the left."""
    return bitwise_left_shift(_new(np.asarray(other, dtype=x.dtype)), x)


def rrshift(x: Tensor, other: Any) -> Tensor:
    """other >> x, for a number on the left."""
    return bitwise_right_shift(_new(np.asarray(other, dtype=x.dtype)), x)


def bitwise_not(x: Tensor) -> Tensor:
    """~x: every bit flipped (for bools, not)."""
    _integral("bitwise_not", x)
    return _new(np.invert(x._data))


def _logical(fn: Callable[..., np.ndarray]) -> Callable[[Tensor, Any], Tensor]:
    def op(x: Tensor, other: Any) -> Tensor:
        return _compare(fn, x, other)

    op.__name__ = op.__qualname__ = fn.__name__
    op.__doc__ = f"Elementwise {fn.__name__} of the truth values (nonzero is True): bools."
    return op


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)
