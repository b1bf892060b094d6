"""Version stamps: how backward notices a value that an in-place op changed after the forward.

A global clock ticks at every in-place change (`_bump`), and the changed array's version
becomes the new reading; a node remembers the clock when it was made (`_stamp`). Backward
(`Tensor._vjps`) calls `_check_versions` only when the clock moved since, so the common case
costs one comparison. Shared by the core (tensor.py) and the in-place ops (inplace.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .ops import PerInput

if TYPE_CHECKING:
    from .tensor import Tensor

__all__: list[str] = []  # internal helpers only


_CLOCK = [0]  # in-place clock: bumped by every in-place change; versions are readings of it


def _bump(t: Tensor) -> None:
    """Record an in-place change of t's array: tick the clock and stamp the array with it."""
    _CLOCK[0] += 1
    t._version[0] = _CLOCK[0]


def _check_versions(node: Tensor) -> None:
    """Raise if a value that node's derivative rules read was changed in place since."""
    op, stamp = node._op, node._stamp
    reads = op.reads
    for i, p in enumerate(node._parents):
        if not p._requires_grad:
            continue
        if reads is None:
            need: Any = None
        elif isinstance(op.vjps, PerInput):
            need = op.vjps.reads
        else:
            need = reads[i]
        candidates = [(0, node)] + [(j + 1, q) for j, q in enumerate(node._parents)]
        for k, t in candidates:
            if (need is None or k in need) and t._version[0] > stamp:
                what = "its output" if k == 0 else f"its input {k - 1}"
                raise RuntimeError(
                    f"backward of '{op.name}' needs {what} (shape {tuple(t.shape)}), which an "
                    "in-place op changed after the forward pass; its gradient would be wrong. "
                    "Use the out-of-place form, or clone() the tensor before changing it."
                )
