"""Grad mode and anomaly mode: the two switches every op consults before it records itself.

Both are per thread, as in PyTorch, and both work as context managers and as decorators:

    with no_grad():            # evaluation: ops build no graph
        y = model(x)

    @no_grad()
    def evaluate(model): ...
"""

from __future__ import annotations

import contextlib
import threading

__all__ = [
    "no_grad",
    "enable_grad",
    "inference_mode",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
]


class _Mode(threading.local):
    grad_enabled = True
    anomaly = False


MODE = _Mode()  # read by the engines on every op: `if MODE.grad_enabled: record`


def is_grad_enabled() -> bool:
    """True when new ops record the graph that backward() walks."""
    return MODE.grad_enabled


class _Switch(contextlib.ContextDecorator):
    """Sets one field of MODE for a block, restoring the old value after; reentrant, so
    a decorated function may call itself."""

    field = "grad_enabled"

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(getattr(MODE, self.field))
        setattr(MODE, self.field, self.mode)

    def __exit__(self, *exc: object) -> None:
        setattr(MODE, self.field, self._saved.pop())


class no_grad(_Switch):
    """Ops inside build no graph: for evaluation and for updating parameters in place."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_Switch):
    """Ops inside record the graph again, even within `no_grad()`."""

    def __init__(self) -> None:
        super().__init__(True)


class inference_mode(_Switch):
    """`no_grad()` under PyTorch's other name (`inference_mode(False)` records as usual).

    PyTorch's inference tensors, which refuse to enter a graph later, are not modelled: here
    a tensor made in inference mode is an ordinary tensor without history.
    """

    def __init__(self, mode: bool = True) -> None:
        super().__init__(not mode)


class set_grad_enabled:
    """Turn graph recording on or off; as a plain call it stays so, as a `with` it is undone after.

        set_grad_enabled(False)          # from here on, no graph
        with set_grad_enabled(is_train): # only inside the block
            ...
    """

    def __init__(self, mode: bool) -> None:
        self.prev = MODE.grad_enabled
        MODE.grad_enabled = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        MODE.grad_enabled = self.prev


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly()`: every op checks its results for NaN and inf."""
    return MODE.anomaly


class set_detect_anomaly(_Switch):
    """Switch anomaly checks on or off for the enclosed block."""

    field = "anomaly"


class detect_anomaly(set_detect_anomaly):
    """Raise `AnomalyError` at the first op whose forward or backward makes NaN or inf.

        with detect_anomaly():
            loss.backward()     # AnomalyError: backward of 'log' produced inf for input 0 ...
    """

    def __init__(self) -> None:
        super().__init__(True)
