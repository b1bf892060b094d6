"""SGD with momentum, dampening, Nesterov, weight decay and maximize (PyTorch's rule)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, State, _check_nonneg, _effective_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, `p -= lr * g`, optionally with momentum:

        g = grad (+ weight_decay * p)              (-grad with maximize)
        buf = g on the first step, else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf  (nesterov)   or   g = buf
        p = p - lr * g
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_settings(self, group: dict[str, Any], where: str) -> None:
        super()._check_settings(group, where)
        _check_nonneg(group, where, "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{where}: nesterov=True needs momentum > 0 and dampening = 0 "
                             f"(got momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: State,
                group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        a, b = scratch
        g = _effective_grad(param, grad, group, a)
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = buf = g.copy()
            else:
                buf *= momentum
                np.multiply(g, 1 - group["dampening"], out=b)
                buf += b
            if group["nesterov"]:
                np.multiply(buf, momentum, out=b)
                b += g
                g = b
            else:
                g = buf
        out = g if g is a or g is b else a
        np.multiply(g, -group["lr"], out=out)
        param += out
