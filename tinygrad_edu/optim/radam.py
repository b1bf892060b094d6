"""RAdam (PyTorch's rule, with decoupled weight decay and maximize)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .adam import _moments
from .optimizer import Optimizer, State, _as_betas, _check_betas, _check_nonneg, _decayed_grad

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Rectified Adam: plain momentum SGD for the first steps, while the variance of the
    adaptive rate is too large to trust, then Adam scaled by a rectification factor r_t:

        g = grad (+ weight_decay * p)       (decoupled_weight_decay: p *= 1 - lr * weight_decay)
        m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;   rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        p = p - lr * m / (1 - beta1**t) * r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)  (rho_t > 5)
        p = p - lr * m / (1 - beta1**t)                                            (otherwise)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=_as_betas(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_settings(self, group: dict[str, Any], where: str) -> None:
        super()._check_settings(group, where)
        _check_betas(group, where)
        _check_nonneg(group, where, "eps", "weight_decay")

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> State:
        return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: State,
                group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        a, b = scratch
        lr, (beta1, beta2) = group["lr"], group["betas"]
        g = _decayed_grad(param, grad, group, a)
        state["step"] = t = state["step"] + 1
        m, v = _moments(g, state, beta1, beta2, b)
        correction2 = 1 - beta2**t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / correction2
        np.divide(m, 1 - beta1**t, out=a)  # the bias-corrected momentum
        a *= -lr
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            np.sqrt(v, out=b)
            b += group["eps"]
            np.divide(math.sqrt(correction2), b, out=b)  # the adaptive rate
            a *= b
            a *= rect
        param += a
