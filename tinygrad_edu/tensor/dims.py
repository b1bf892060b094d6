"""How ops are told dims and shapes: `dim=` or numpy's `axis=`, negative dims, `f(2, 3)` or
`f((2, 3))`, normalised once here (with errors naming the op) for the core and every family."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__: list[str] = []  # internal helpers only


def _norm_dim(d: int, ndim: int, what: str) -> int:
    """A dim as a non-negative index (0-d tensors accept 0 and -1, as PyTorch)."""
    n = ndim or 1
    if type(d) is not int:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{what}: dim must be an int, got {type(d).__name__}")
        d = int(d)
    if not -n <= d < n:
        raise IndexError(
            f"{what}: dim {d} is out of range for a tensor with {ndim} dims "
            f"(expected in [{-n}, {n - 1}])"
        )
    return d % n if ndim else 0


def _norm_axes(dim: Any, axis: Any, ndim: int, what: str) -> tuple[int, ...] | None:
    """PyTorch's `dim=` (or numpy's `axis=`) as a sorted tuple of dims, or None for all."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{what}: give dim= or axis=, not both")
        dim = axis
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    normed = [_norm_dim(d, ndim, what) for d in dims]
    out = sorted(set(normed))
    if len(out) != len(normed):
        twice = next(d for d in out if normed.count(d) > 1)
        raise RuntimeError(
            f"{what}: dim {twice} appears more than once in dims {tuple(dims)} (as PyTorch, "
            "each dim may be given once)"
        )
    if ndim == 0:
        return None
    return tuple(out)


def _shape_arg(shape: Sequence[Any], what: str) -> tuple[int, ...]:
    """`f(2, 3)` and `f((2, 3))` alike, as PyTorch accepts both."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        return tuple(int(n) for n in shape)
    except TypeError:
        raise TypeError(f"{what}: sizes must be ints, got {shape!r}") from None
