"""RMSprop (PyTorch's rule, with momentum, centered and maximize)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, State, _check_nonneg, _effective_grad

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Divide the gradient by a running root-mean-square of recent gradients:

        g = grad (+ weight_decay * p)
        sq = alpha * sq + (1 - alpha) * g * g
        avg = sqrt(sq - mean_g**2) + eps  (centered: mean_g tracks g like sq tracks g*g)
              sqrt(sq) + eps              (otherwise)
        buf = momentum * buf + g / avg;  p -= lr * buf   (momentum > 0)
        p -= lr * g / avg                                (otherwise)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_settings(self, group: dict[str, Any], where: str) -> None:
        super()._check_settings(group, where)
        _check_nonneg(group, where, "alpha", "eps", "weight_decay", "momentum")

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> State:
        state: State = {"step": 0.0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def _update(self, param: np.ndarray, grad: np.ndarray, state: State,
                group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        a, b = scratch
        alpha, eps, lr, momentum = group["alpha"], group["eps"], group["lr"], group["momentum"]
        g = _effective_grad(param, grad, group, a)
        state["step"] += 1
        sq = state["square_avg"]
        sq *= alpha
        np.multiply(g, g, out=b)
        b *= 1 - alpha
        sq += b
        if group["centered"]:
            mean = state.setdefault("grad_avg", np.zeros_like(param))
            np.subtract(g, mean, out=b)  # mean.lerp_(g, 1 - alpha)
            b *= 1 - alpha
            mean += b
            np.multiply(mean, mean, out=b)
            np.subtract(sq, b, out=b)
            np.sqrt(b, out=b)
        else:
            np.sqrt(sq, out=b)
        b += eps
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(param))
            buf *= momentum
            np.divide(g, b, out=b)
            buf += b
            np.multiply(buf, -lr, out=b)
        else:
            np.divide(g, b, out=b)
            b *= -lr
        param += b
