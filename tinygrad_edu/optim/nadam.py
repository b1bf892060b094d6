"""NAdam (PyTorch's rule, with momentum_decay, decoupled weight decay and maximize)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .adam import _moments
from .optimizer import Optimizer, State, _as_betas, _check_betas, _check_nonneg, _decayed_grad

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Adam with Nesterov momentum: the step looks ahead with the next momentum factor, and
    the momentum factor mu_t warms up over the first steps (momentum_decay sets how fast):

        g = grad (+ weight_decay * p)       (decoupled_weight_decay: p *= 1 - lr * weight_decay)
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay));   prod_t = mu_1 * ... * mu_t
        m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - prod_t) * g / d
              - lr * mu_{t+1} / (1 - prod_t * mu_{t+1}) * m / d
    """

    _scalar_state = ("step", "mu_product")

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=_as_betas(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_settings(self, group: dict[str, Any], where: str) -> None:
        super()._check_settings(group, where)
        _check_betas(group, where)
        _check_nonneg(group, where, "eps", "weight_decay", "momentum_decay")

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> State:
        return {"step": 0.0, "mu_product": 1.0, "exp_avg": np.zeros_like(param),
                "exp_avg_sq": np.zeros_like(param)}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: State,
                group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        a, b = scratch
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["momentum_decay"]
        state["step"] = t = state["step"] + 1
        g = _decayed_grad(param, grad, group, a)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
        state["mu_product"] = prod = state["mu_product"] * mu
        m, v = _moments(g, state, beta1, beta2, b)
        np.divide(v, 1 - beta2**t, out=b)  # b = the denominator d
        np.sqrt(b, out=b)
        b += group["eps"]
        np.divide(g, b, out=a)  # the gradient's part (g is not needed after this)
        a *= -lr * (1.0 - mu) / (1.0 - prod)
        param += a
        np.divide(m, b, out=a)  # the momentum's part
        a *= -lr * mu_next / (1.0 - prod * mu_next)
        param += a
