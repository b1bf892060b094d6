"""Adagrad (PyTorch's rule, with lr_decay, initial_accumulator_value and maximize)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, State, _check_nonneg, _effective_grad

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Per-coordinate learning rates that shrink with the sum of squared past gradients:

        g = grad (+ weight_decay * p)
        sum = sum + g * g
        p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_settings(self, group: dict[str, Any], where: str) -> None:
        super()._check_settings(group, where)
        _check_nonneg(group, where, "lr_decay", "weight_decay", "initial_accumulator_value",
                      "eps")

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> State:
        return {"step": 0.0,
                "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: State,
                group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        a, b = scratch
        g = _effective_grad(param, grad, group, a)
        state["step"] = t = state["step"] + 1
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        total = state["sum"]
        np.multiply(g, g, out=b)
        total += b
        np.sqrt(total, out=b)
        b += group["eps"]
        np.divide(g, b, out=b)
        b *= -clr
        param += b
