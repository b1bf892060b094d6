"""Adam and AdamW (PyTorch's rules, including amsgrad, maximize and decoupled weight decay)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, State, _as_betas, _check_betas, _check_nonneg, _decayed_grad

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adaptive moments: a running mean of gradients divided by the root of a running mean of
    their squares, both bias-corrected for the first steps:

        g = grad (+ weight_decay * p)       (decoupled_weight_decay: p *= 1 - lr * weight_decay)
        m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) with amsgrad, else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=_as_betas(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_settings(self, group: dict[str, Any], where: str) -> None:
        super()._check_settings(group, where)
        _check_betas(group, where)
        _check_nonneg(group, where, "eps", "weight_decay")

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> State:
        state: State = {"step": 0.0, "exp_avg": np.zeros_like(param),
                        "exp_avg_sq": np.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def _update(self, param: np.ndarray, grad: np.ndarray, state: State,
                group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        a, b = scratch
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        g = _decayed_grad(param, grad, group, a)
        state["step"] = t = state["step"] + 1
        m, v = _moments(g, state, beta1, beta2, b)
        if group["amsgrad"]:
            vmax = state.get("max_exp_avg_sq")
            if vmax is None:
                vmax = state["max_exp_avg_sq"] = np.zeros_like(param)
            np.maximum(vmax, v, out=vmax)
            v = vmax
        # lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), with sqrt(bc2) moved into the scalars:
        # one pass over the arrays fewer than dividing sqrt(v) first (equal up to rounding)
        root_bc2 = (1 - beta2**t) ** 0.5
        np.sqrt(v, out=b)
        b += eps * root_bc2
        np.divide(m, b, out=b)
        b *= -lr * root_bc2 / (1 - beta1**t)
        param += b


def _moments(g: np.ndarray, state: State, beta1: float, beta2: float,
             tmp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adam's running moments, in place: m += (1 - beta1) * (g - m) (PyTorch's lerp) and
    v = beta2 * v + (1 - beta2) * g * g. Returns (m, v); `tmp` is overwritten."""
    m, v = state["exp_avg"], state["exp_avg_sq"]
    np.subtract(g, m, out=tmp)
    tmp *= 1 - beta1
    m += tmp
    v *= beta2
    np.multiply(g, g, out=tmp)
    tmp *= 1 - beta2
    v += tmp
    return m, v


class AdamW(Adam):
    """Adam with decoupled weight decay: `p *= 1 - lr * weight_decay` before the Adam step,
    instead of adding the decay to the gradient. Default weight_decay 0.01, as in PyTorch."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
