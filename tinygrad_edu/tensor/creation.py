"""Factories: tensors filled with zeros, ones, ranges or random numbers, as torch.zeros & co.

    zeros(2, 3)                      # or zeros((2, 3))
    randn(64, 784, dtype=float64)    # drawn from tinygrad_edu.manual_seed's generator
    zeros_like(x)                    # same shape and dtype as x

Every factory takes `dtype=` (float32 by default, int64 for integer ranges) and
`requires_grad=`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..device import check_device
from ..random import generator as _rng
from .dims import _shape_arg
from .dtypes import as_dtype, get_default_dtype, int64
from .tensor import Tensor, _new, tensor

__all__ = [
    "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn", "randint",
    "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
    "randint_like", "randperm", "from_numpy", "new_tensor", "new_zeros", "new_ones", "new_full",
]


def _make(data: np.ndarray, requires_grad: bool, device: Any, what: str) -> Tensor:
    check_device(device, what)
    t = _new(data)
    if requires_grad:
        t.requires_grad = True
    return t


def _dt(dtype: Any, default: np.dtype | None = None) -> np.dtype:
    if dtype is None:
        return get_default_dtype() if default is None else default
    return as_dtype(dtype)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape_arg(size, "zeros"), _dt(dtype)), requires_grad, device, "zeros")


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape_arg(size, "ones"), _dt(dtype)), requires_grad, device, "ones")


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialized memory, as torch.empty: fill it before reading it."""
    return _make(np.empty(_shape_arg(size, "empty"), _dt(dtype)), requires_grad, device, "empty")


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value` (its dtype follows the value, as torch)."""
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = np.bool_
        elif isinstance(fill_value, int):
            dtype = int64
    shape = (size,) if isinstance(size, int) else tuple(size)
    return _make(np.full(shape, fill_value, _dt(dtype)), requires_grad, device, "full")


def arange(
    start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... up to (not including) end; int64 if all are ints."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = _dt(dtype, int64 if ints else None)
    return _make(np.arange(start, end, step).astype(dt), requires_grad, device, "arange")


def linspace(
    start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """`steps` evenly spaced values from start to end, both included."""
    if dtype is not None and _dt(dtype).kind == "b":
        raise TypeError("linspace: dtype bool is not supported (as in PyTorch); make it as a "
                        "float tensor and compare it, e.g. linspace(...) > 0.5")
    data = np.linspace(start, end, steps).astype(_dt(dtype))
    return _make(data, requires_grad, device, "linspace")


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix."""
    return _make(np.eye(n, m, dtype=_dt(dtype)), requires_grad, device, "eye")


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples from [0, 1)."""
    data = _rng(generator).random(_shape_arg(size, "rand"))
    return _make(data.astype(_dt(dtype)), requires_grad, device, "rand")


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    data = _rng(generator).standard_normal(_shape_arg(size, "randn"))
    return _make(data.astype(_dt(dtype)), requires_grad, device, "randn")


def randint(
    low: int, high: int | None = None, size: Any = (), *, generator: Any = None,
    dtype: Any = None, device: Any = None, requires_grad: bool = False,
) -> Tensor:
    """Integers drawn uniformly from [low, high); `randint(high, size)` starts at 0."""
    if high is None:
        low, high = 0, low
    shape = (size,) if isinstance(size, int) else tuple(size)
    data = _rng(generator).integers(low, high, size=shape).astype(_dt(dtype, int64))
    return _make(data, requires_grad, device, "randint")


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """0, ..., n-1 in random order (int64), as torch.randperm."""
    data = _rng(generator).permutation(int(n)).astype(_dt(dtype, int64))
    return _make(data, requires_grad, device, "randperm")


def _like(x: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    return x.shape, (x.dtype if dtype is None else as_dtype(dtype))


def zeros_like(x: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype)
    return zeros(shape, dtype=dt, device=device, requires_grad=requires_grad)


def ones_like(x: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype)
    return ones(shape, dtype=dt, device=device, requires_grad=requires_grad)


def empty_like(x: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype)
    return empty(shape, dtype=dt, device=device, requires_grad=requires_grad)


def full_like(
    x: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    shape, dt = _like(x, dtype)
    return full(shape, fill_value, dtype=dt, device=device, requires_grad=requires_grad)


def rand_like(x: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype)
    return rand(shape, dtype=dt, device=device, requires_grad=requires_grad)


def randn_like(x: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    shape, dt = _like(x, dtype)
    return randn(shape, dtype=dt, device=device, requires_grad=requires_grad)


def randint_like(x: Tensor, low: int, high: int | None = None, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    return randint(low, high, x.shape, dtype=x.dtype if dtype is None else dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing memory with `array` (no copy, dtype kept), as torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    as_dtype(array.dtype)
    return _new(array)


# ---- Tensor methods (bound in methods.py): new tensors with x's dtype ----------------------


def new_tensor(x: Tensor, data: Any, dtype: Any = None) -> Tensor:
    """A new tensor from data, with this tensor's dtype unless told otherwise."""
    return tensor(data, dtype=x.dtype if dtype is None else dtype)


def new_zeros(x: Tensor, *size: Any, dtype: Any = None) -> Tensor:
    return _new(np.zeros(_shape_arg(size, "new_zeros"), x.dtype if dtype is None else
                         as_dtype(dtype)))


def new_ones(x: Tensor, *size: Any, dtype: Any = None) -> Tensor:
    return _new(np.ones(_shape_arg(size, "new_ones"), x.dtype if dtype is None else
                        as_dtype(dtype)))


def new_full(x: Tensor, size: Sequence[int], fill_value: Any, dtype: Any = None) -> Tensor:
    return _new(np.full(tuple(size), fill_value, x.dtype if dtype is None else
                        as_dtype(dtype)))
