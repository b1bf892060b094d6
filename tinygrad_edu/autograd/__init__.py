"""The graph core shared by both engines (topological order, backward driver, modes, hooks), and
`torch.autograd`'s namespace: `Function`, `grad`, `backward`, `gradcheck`, `gradgradcheck`,
`functional.jacobian` & co.

`Function`, `gradcheck` and `gradgradcheck` are built on the engines, which sit above this
core, so they are looked up on first use (`tinygrad_edu.autograd.Function`)."""

from typing import Any

from .graph import (
    AnomalyError,
    GraphFreedError,
    Node,
    RemovableHandle,
    backward,
    check_forward,
    grad,
    register_hook,
    topological_order,
)
from .mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)

__all__ = [
    "AnomalyError",
    "GraphFreedError",
    "Node",
    "RemovableHandle",
    "backward",
    "check_forward",
    "grad",
    "register_hook",
    "topological_order",
    "detect_anomaly",
    "enable_grad",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
    "Function",
    "gradcheck",
    "gradgradcheck",
    "functional",
]

_LAZY = {"Function": ("..function", "Function"), "gradcheck": ("..testing", "gradcheck"),
         "gradgradcheck": ("..testing", "gradgradcheck"), "functional": (".functional", None)}


def __getattr__(name: str) -> Any:
    """Function, gradcheck, gradgradcheck and functional, imported when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module 'tinygrad_edu.autograd' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    mod = importlib.import_module(module, __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value
