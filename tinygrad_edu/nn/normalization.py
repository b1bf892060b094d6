"""Normalization over features: layer_norm, group_norm, rms_norm and their modules.

    ln = nn.LayerNorm(64)                 # each token's 64 features to mean 0, variance 1
    y = F.group_norm(x, num_groups=4)     # (N, C, ...) normalized within groups of channels

Unlike BatchNorm, these normalize each sample on its own (over its features), so they behave
the same in training and evaluation and keep no running statistics. layer_norm and group_norm
standardize with one row of the op table (`standardize`, its gradient in closed form), then
scale and shift with ordinary ops; rms_norm is composed of Tensor ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor, ones, zeros
from ..tensor.fused import batch_stats
from ..tensor.ops import OPS
from ..tensor.tensor import _floating, apply
from .module import Module
from .parameter import Parameter

__all__ = ["layer_norm", "group_norm", "rms_norm", "LayerNorm", "GroupNorm", "RMSNorm"]


def _shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def _check_trailing(x: Tensor, shape: tuple[int, ...], name: str) -> tuple[int, ...]:
    """The axes `shape` covers at the end of x, or a clear error if x does not end in it."""
    k = len(shape)
    if k == 0 or x.shape[x.ndim - k:] != shape or x.ndim < k:
        raise ValueError(f"{name}: normalized_shape {shape} must be the last dims of the input, "
                         f"whose shape is {x.shape}")
    return tuple(range(x.ndim - k, x.ndim))


def _standardize(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased variance (as PyTorch): one
    row of the op table (`standardize`), its statistics computed once, as batch_norm's."""
    x = _floating(x)
    mean, inv_std, _ = batch_stats(x._data, axes, eps)
    return apply(OPS.standardize, (x,), (axes, eps, mean, inv_std))


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Standardize over the last dims `normalized_shape`, then scale by weight and add bias."""
    shape = _shape(normalized_shape)
    out = _standardize(input, _check_trailing(input, shape, "layer_norm"), eps)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the last dims, times weight: LayerNorm without the mean.

    eps=None is the machine epsilon of the input's dtype, as PyTorch.
    """
    shape = _shape(normalized_shape)
    axes = _check_trailing(input, shape, "rms_norm")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    out = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the C channels of (N, C, *) into `num_groups` groups and standardize each group
    of each sample (over its channels and positions); then a per-channel weight and bias."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got {input.shape}")
    n, c = input.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: {c} channels cannot be split into {num_groups} groups "
                         "(num_groups must divide the channel count)")
    grouped = input.reshape(n, num_groups, -1)
    if grouped.shape[2] == 1:  # as PyTorch: the group would normalize to 0 whatever it holds
        raise ValueError(f"group_norm: expected more than 1 value per group, got input of "
                         f"shape {input.shape} with {num_groups} groups")
    out = _standardize(grouped, (2,), eps).reshape(input.shape)
    per_channel = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    return out if bias is None else out + bias.reshape(per_channel)


class LayerNorm(Module):
    """layer_norm over the last dims `normalized_shape`; weight starts at 1, bias at 0."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        affine = elementwise_affine
        self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype)) if affine else None
        self.bias = (Parameter(zeros(*self.normalized_shape, dtype=dtype))
                     if affine and bias else None)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class RMSNorm(Module):
    """rms_norm over the last dims `normalized_shape`; weight starts at 1 (there is no bias)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = (Parameter(ones(*self.normalized_shape, dtype=dtype))
                       if elementwise_affine else None)

    def forward(self, input: Tensor) -> Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """group_norm with `num_groups` groups of `num_channels`; per-channel weight 1, bias 0."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = None) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} must be divisible by "
                             f"num_groups {num_groups}")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        self.weight = Parameter(ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_channels, dtype=dtype)) if affine else None

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected an "
                             f"input of shape (N, {self.num_channels}, *), got {input.shape}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"

