"""Weight initialization, in place, with PyTorch's names and formulas (`nn.init`).

    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5))   # what Linear does by default
    nn.init.zeros_(layer.bias)

Every function fills the tensor's own storage (no graph is recorded), draws from the
library's generator (so `tinygrad_edu.manual_seed` makes it reproducible) and returns the tensor.
For a weight of shape (out, in, ...), fan_in = in * prod(...) and fan_out = out * prod(...).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.mode import no_grad
from ..random import generator

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]


def _array(tensor: Any, where: str) -> np.ndarray:
    arr = getattr(tensor, "_data", None)
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"nn.init.{where}: expected a Tensor, got {type(tensor).__name__}")
    return arr


def _fill(tensor: Any, values: np.ndarray | float) -> Any:
    """Write in place, recording nothing; the tensor's version changes, so a graph that saved
    the old values notices."""
    with no_grad():
        tensor.copy_(np.asarray(values, dtype=tensor.dtype))
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through a layer with this
    nonlinearity: 1 for linear/sigmoid, 5/3 for tanh, sqrt(2) for relu, ..."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(arr: np.ndarray, where: str) -> tuple[int, int]:
    if arr.ndim < 2:
        raise ValueError(f"nn.init.{where}: fan in and fan out need a tensor with at least 2 "
                         f"dims, got shape {arr.shape}")
    receptive = int(np.prod(arr.shape[2:])) if arr.ndim > 2 else 1
    return arr.shape[1] * receptive, arr.shape[0] * receptive


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0) -> Any:
    """Fill with draws from U(a, b)."""
    arr = _array(tensor, "uniform_")
    return _fill(tensor, generator().uniform(a, b, arr.shape))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    """Fill with draws from N(mean, std^2)."""
    arr = _array(tensor, "normal_")
    return _fill(tensor, generator().normal(mean, std, arr.shape))


def constant_(tensor: Any, val: float) -> Any:
    _array(tensor, "constant_")
    return _fill(tensor, val)


def zeros_(tensor: Any) -> Any:
    return constant_(tensor, 0.0)


def ones_(tensor: Any) -> Any:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Any, gain: float = 1.0) -> Any:
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _fans(_array(tensor, "xavier_uniform_"), "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Any, gain: float = 1.0) -> Any:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(_array(tensor, "xavier_normal_"), "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str, where: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init.{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(_array(tensor, where), where)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Any:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015). With a=sqrt(5) and the
    default leaky_relu gain this gives b = 1/sqrt(fan_in): Linear's default."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Any:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return normal_(tensor, 0.0, std)
