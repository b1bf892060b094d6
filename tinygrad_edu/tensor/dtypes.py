"""Tensor dtypes: numpy's, under PyTorch's names and PyTorch's defaults.

    tinygrad_edu.tensor([1.0, 2.0]).dtype        # float32, as torch (numpy would say float64)
    tinygrad_edu.tensor([1, 2]).dtype            # int64
    tinygrad_edu.zeros(3, dtype=tinygrad_edu.float64)

A dtype is a plain `numpy.dtype`, so numpy dtypes, `float`/`int`/`bool` and strings such as
"float64" are accepted wherever a dtype is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool_",
    "long",
    "double",
    "half",
    "float_",
    "int_",
    "as_dtype",
    "is_floating",
    "get_default_dtype",
    "set_default_dtype",
    "promote",
]

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)  # exported from the package as `tinygrad_edu.bool`, as torch.bool

# PyTorch's other names (the package exports them as tinygrad_edu.long, .float, ...)
long = int64
double = float64
half = float16
float_ = float32  # tinygrad_edu.float
int_ = int32  # tinygrad_edu.int

_DEFAULT = [float32]  # what Python floats become; one cell, so that set_default_dtype reaches all


def get_default_dtype() -> np.dtype:
    """The dtype Python floats and float factories give (float32 unless set), as torch's."""
    return _DEFAULT[0]


def set_default_dtype(dtype: Any) -> None:
    """Make `dtype` (float16, float32 or float64) the default floating-point dtype, as torch's."""
    dt = as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point dtypes can be the default, "
                        f"got {dt}; use float32 or float64")
    _DEFAULT[0] = dt

_SUPPORTED = "bool, uint8, int8, int16, int32, int64, float16, float32, float64"


def as_dtype(dtype: Any) -> np.dtype:
    """The numpy dtype for `dtype` (a dtype, a numpy type, float/int/bool or a name)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind not in "biuf":
        raise TypeError(f"Tensor dtype: {dtype!r} is not supported; use one of {_SUPPORTED}")
    return dt


def is_floating(dtype: np.dtype) -> bool:
    """Can a tensor of this dtype require grad? (Only floating-point ones can.)"""
    return dtype.kind == "f"


def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's result dtype for two tensors: floats win over ints, ints over bools.

    numpy agrees except that int64 with float32 gives float64 there; PyTorch keeps float32.
    """
    if a == b:
        return a
    fa, fb = a.kind == "f", b.kind == "f"
    if fa != fb:
        return a if fa else b
    return np.promote_types(a, b)
