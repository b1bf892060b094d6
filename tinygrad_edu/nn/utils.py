"""Gradient clipping: `clip_grad_norm_` and `clip_grad_value_`, for Values and Tensors.

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # before optimizer.step()
    optimizer.step()
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..value import Value

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _params(parameters: Any) -> list[Any]:
    if isinstance(parameters, Value) or hasattr(parameters, "_data"):
        return [parameters]
    return list(parameters)


def _grads(params: list[Any]) -> list[tuple[Any, np.ndarray | float]]:
    """(param, gradient) for every parameter that has one: the ndarray itself for Tensors
    (changed in place), the float for Values."""
    out: list[tuple[Any, Any]] = []
    for p in params:
        if isinstance(p, Value):
            out.append((p, float(p.grad)))
        elif p.grad is not None:
            out.append((p, p.grad._data))
    return out


def _norm(x: np.ndarray | float, norm_type: float) -> float:
    a = np.abs(np.asarray(x, dtype=np.float64))
    if norm_type == math.inf:
        return float(a.max()) if a.size else 0.0
    return float(np.sum(a**norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(parameters: Iterable[Any] | Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Any:
    """Scale all gradients together so that their combined norm is at most `max_norm`.

    The norm is that of all gradients concatenated into one vector (`norm_type` 2 by default;
    `math.inf` for the largest entry). Returns the norm before clipping: a 0-d Tensor when
    the parameters are Tensors, a float for Values.
    """
    params = _params(parameters)
    pairs = _grads(params)
    norm_type = float(norm_type)
    norms = [_norm(g, norm_type) for _, g in pairs]
    total = _norm(np.array(norms), norm_type) if norms else 0.0
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of the gradients is {total}; "
                           "pass error_if_nonfinite=False to clip anyway")
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    for p, g in pairs:
        if isinstance(p, Value):
            p.grad = g * coef
        else:
            g *= coef
    if params and not isinstance(params[0], Value):
        from ..tensor import Tensor

        return Tensor(np.asarray(total, dtype=params[0]._data.dtype))
    return total


def clip_grad_value_(parameters: Iterable[Any] | Any, clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    c = float(clip_value)
    for p, g in _grads(_params(parameters)):
        if isinstance(p, Value):
            p.grad = min(max(g, -c), c)
        else:
            np.clip(g, -c, c, out=g)

