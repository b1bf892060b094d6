"""Tensor layers: Linear, Identity, Flatten, Dropout, BatchNorm1d, Embedding.

Weights are `Parameter`s initialized as PyTorch does, drawn from the library's generator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.mode import no_grad
from ..tensor import Tensor, empty, from_numpy, ones, zeros
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "Identity", "Flatten", "Dropout", "BatchNorm1d", "Embedding"]


def _positive(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features).

    Init as PyTorch: weight ~ kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)),
    and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features = _positive(in_features, "Linear: in_features")
        self.out_features = _positive(out_features, "Linear: out_features")
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        self.bias = Parameter(empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Merge dims start_dim..end_dim: (N, 1, 28, 28) -> (N, 784) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p);
    in eval(), the identity. p must be in [0, 1)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = F._check_p(p, "Dropout")
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class BatchNorm1d(Module):
    """Normalize each feature over the batch, then scale and shift: for (N, C) or (N, C, L).

    Training: batch mean and (biased) variance, and running estimates updated with
    `momentum` (the running variance from the unbiased estimate, as PyTorch). Eval: the
    running estimates. `momentum=None` keeps a plain cumulative average instead.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = None, bias: bool = True) -> None:
        super().__init__()
        self.num_features = _positive(num_features, "BatchNorm1d: num_features")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_features, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", from_numpy(np.array(0, np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}): expected input of shape "
                             f"(N, {self.num_features}) or (N, {self.num_features}, L), "
                             f"got {input.shape}")
        axes = (0,) if input.ndim == 2 else (0, 2)
        shape = (1, -1) if input.ndim == 2 else (1, -1, 1)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            n = input.shape[0] * (1 if input.ndim == 2 else input.shape[2])
            if self.training and n <= 1:
                raise ValueError(f"BatchNorm1d: expected more than 1 value per channel when "
                                 f"training, got input of shape {input.shape}")
            mean = input.mean(dim=axes, keepdim=True)
            centered = input - mean
            var = (centered * centered).mean(dim=axes, keepdim=True)
            if self.training and self.track_running_stats:
                self._update_running(mean._data.reshape(-1), var._data.reshape(-1), n)
        else:
            mean = self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
            centered = input - mean
        out = centered / (var + self.eps).sqrt()
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        return out

    def _update_running(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        with no_grad():
            self.num_batches_tracked.add_(1)
            m = self.momentum
            if m is None:
                m = 1.0 / float(self.num_batches_tracked.item())
            unbiased = var * (n / (n - 1))
            rm, rv = self.running_mean._data, self.running_var._data
            self.running_mean.copy_(from_numpy(((1 - m) * rm + m * mean).astype(rm.dtype)))
            self.running_var.copy_(from_numpy(((1 - m) * rv + m * unbiased).astype(rv.dtype)))

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None or not self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class Embedding(Module):
    """A lookup table: row i of `weight` (num_embeddings, embedding_dim) for index i.

    Init N(0, 1) as PyTorch. With `padding_idx`, that row starts at zero and gets no gradient;
    with `max_norm`, looked-up rows longer than it are scaled down in place (F.embedding).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, max_norm: float | None = None,
                 norm_type: float = 2.0, dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings = _positive(num_embeddings, "Embedding: num_embeddings")
        self.embedding_dim = _positive(embedding_dim, "Embedding: embedding_dim")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype))
        init.normal_(self.weight)
        if padding_idx is not None:
            self.weight._data[padding_idx] = 0
            self.weight.register_hook(self._no_padding_grad)

    def _no_padding_grad(self, grad: Tensor) -> Tensor:
        g = grad._data.copy()
        g[self.padding_idx] = 0
        return from_numpy(g)

    def forward(self, input: Tensor) -> Tensor:
        idx = F._embedding_indices(input, self.num_embeddings, "Embedding")
        if self.max_norm is not None:
            F._renorm_rows(self.weight, np.unique(idx), self.max_norm, self.norm_type)
        return self.weight[idx]

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
