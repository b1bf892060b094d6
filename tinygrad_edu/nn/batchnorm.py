"""Batch normalization layers: BatchNorm1d and BatchNorm2d, both calling `F.batch_norm`.

Each channel (dim 1) is normalized over every other dim: the batch, and the length (1-D) or
the height and width (2-D). The two modules differ only in the input ranks they accept.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, from_numpy, ones, zeros
from . import functional as F
from .layers import _positive
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share: parameters, buffers and the forward."""

    _ranks: tuple[int, ...] = ()
    _layouts: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = None, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive(num_features, f"{name}: num_features")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_features, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", from_numpy(np.array(0, np.int64)))
        else:
            for buf in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buf, None)

    def forward(self, input: Tensor) -> Tensor:
        c = self.num_features
        if input.ndim not in self._ranks or input.shape[1] != c:
            raise ValueError(f"{type(self).__name__}({c}): expected input of shape "
                             f"{self._layouts.format(c=c)}, got {input.shape}")
        factor = 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            m = self.momentum  # None: a cumulative average, 1/n for the n-th batch
            factor = 1.0 / float(self.num_batches_tracked.item()) if m is None else m
        try:
            return F.batch_norm(input, self.running_mean, self.running_var, self.weight,
                              self.bias, self.training or not self.track_running_stats,
                              factor, self.eps)
        except ValueError as err:
            raise ValueError(f"{type(self).__name__}({c}): {err}") from None

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None or not self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Normalize each feature over the batch (and length), then scale and shift: (N, C) or
    (N, C, L).

    Training: batch mean and (biased) variance, and running estimates updated with
    `momentum` (the running variance from the unbiased estimate, as PyTorch). Eval: the
    running estimates. `momentum=None` keeps a plain cumulative average instead.
    """

    _ranks = (2, 3)
    _layouts = "(N, {c}) or (N, {c}, L)"


class BatchNorm2d(_BatchNorm):
    """BatchNorm1d for images (N, C, H, W): each channel normalized over batch, height, width."""

    _ranks = (4,)
    _layouts = "(N, {c}, H, W)"
