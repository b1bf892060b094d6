"""Drawing category indices from weights: `multinomial`, as torch.multinomial.

    probs = logits.softmax(-1)
    next_char = probs.multinomial(1)            # one index per row, from the library generator

Without replacement, each index is drawn at most once per row (weighted sampling without
replacement: the indices with the k smallest keys E/w, E ~ Exponential(1), are exactly a
draw of k in sequence, each from the weights left). `generator=` is an int seed or a
`numpy.random.Generator` (this library has no torch.Generator); None is the library's generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["multinomial"]


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """`num_samples` indices per row of the non-negative weights `input` (1-D or 2-D),
    int64, drawn with probability proportional to the weights (they need not sum to 1)."""
    from ..data._rng import resolve_rng  # here, not above: data imports the tensor package
    from .tensor import _new

    name = "multinomial"
    w = np.asarray(input._data, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"{name}: weights must be 1-D or 2-D, got shape {input.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples < 1:
        raise ValueError(f"{name}: num_samples must be a positive int, got {num_samples!r}")
    rows = w.reshape(-1, w.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError(f"{name}: weights must be finite and >= 0 (probabilities or counts), "
                         f"got values from {rows.min():.4g} to {rows.max():.4g}")
    totals = rows.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError(f"{name}: a row of weights sums to 0; every row needs a positive entry")
    if not replacement and num_samples > rows.shape[1]:
        raise ValueError(f"{name}: cannot draw {num_samples} samples without replacement from "
                         f"{rows.shape[1]} categories; pass replacement=True or fewer samples")
    rng = resolve_rng(generator, name)
    if replacement:  # inverse CDF: where each uniform falls in the running sum of the weights
        cdf = np.cumsum(rows / totals, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:  # exponential keys; zero weights get inf keys and come last (as PyTorch's order)
        e = rng.exponential(size=rows.shape)
        with np.errstate(divide="ignore"):
            keys = np.where(rows > 0, e / rows, np.inf)
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return _new(out.reshape(num_samples) if w.ndim == 1 else out)
