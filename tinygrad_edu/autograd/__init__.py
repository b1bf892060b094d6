"""The graph core shared by both engines: topological order, backward driver, modes, hooks."""

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
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]
