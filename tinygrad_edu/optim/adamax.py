"""Adamax (PyTorch's rule, with weight_decay and maximize)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, State, _as_betas, _check_betas, _check_nonneg, _effective_grad

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adam with the infinity norm: the step is divided by a decaying maximum of |grad|
    instead of a root mean square, so it needs no second bias correction:

        g = grad (+ weight_decay * p)
        m = m + (1 - beta1) * (g - m);   u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=_as_betas(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_settings(self, group: dict[str, Any], where: str) -> None:
        super()._check_settings(group, where)
        _check_betas(group, where)
        _check_nonneg(group, where, "eps", "weight_decay")

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> State:
        return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: State,
                group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        a, b = scratch
        (beta1, beta2), eps = group["betas"], group["eps"]
        g = _effective_grad(param, grad, group, a)
        state["step"] = t = state["step"] + 1
        m, u = state["exp_avg"], state["exp_inf"]
        np.subtract(g, m, out=b)  # m.lerp_(g, 1 - beta1)
        b *= 1 - beta1
        m += b
        u *= beta2
        np.abs(g, out=b)
        b += eps
        np.maximum(u, b, out=u)
        np.divide(m, u, out=b)
        b *= -group["lr"] / (1 - beta1**t)
        param += b
