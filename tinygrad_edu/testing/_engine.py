"""What the gradient checker needs to know about each engine, in one place.

The checker itself only talks to nodes through the node protocol of autograd/graph.py
(`_op`, `_parents`, `_ctx`, `_raw()`, `requires_grad`) and through `graph.grad`. This module
adds the three engine-specific things a numerical check needs on top:

- read and write one element of an input in place (to perturb it by +-eps),
- turn an output (a Value, a Tensor, a plain number or array, None) into a float64 array,
- re-run one recorded op on new inputs ("replay"), to check that op's local derivative alone.

`Tensor` is imported lazily, so the checker works on Values even where Tensor is absent.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..autograd.mode import enable_grad
from ..value import Value, _apply


@functools.cache
def tensor_class() -> type | None:
    """The Tensor class, or None if the Tensor engine is not available."""
    try:
        from ..tensor import Tensor
    except ImportError:
        return None
    return Tensor


def is_value(x: Any) -> bool:
    return isinstance(x, Value)


def is_tensor(x: Any) -> bool:
    cls = tensor_class()
    return cls is not None and isinstance(x, cls)


def is_node(x: Any) -> bool:
    return is_value(x) or is_tensor(x)


class Slot:
    """One differentiable input, seen as a flat float vector that can be perturbed in place."""

    def __init__(self, node: Any) -> None:
        self.node = node
        if is_value(node):
            self.shape: tuple[int, ...] = ()
            self.dtype = np.dtype(np.float64)
        else:
            arr = node._data
            if not arr.flags.writeable or not isinstance(arr, np.ndarray):
                node._data = arr = np.array(arr)  # e.g. a broadcast view: give it its own memory
            self.shape, self.dtype = tuple(arr.shape), arr.dtype
        self.size = int(np.prod(self.shape, dtype=np.int64))

    def get(self, k: int) -> float:
        if is_value(self.node):
            return self.node.data
        return float(self.node._data.flat[k])

    def set(self, k: int, v: float) -> None:
        if is_value(self.node):
            self.node.data = v
        else:
            self.node._data.flat[k] = v

def as_outputs(out: Any) -> list[Any]:
    """A function's result as a list of outputs (a tuple or list of outputs stays one per item)."""
    if isinstance(out, (tuple, list)) and not is_node(out):
        return list(out)
    return [out]


def output_array(o: Any) -> np.ndarray:
    """An output's numbers as a float64 array; a missing output (None) is zero."""
    if o is None:
        return np.zeros(())
    if is_node(o):
        return np.array(o._raw(), dtype=np.float64)
    return np.array(o, dtype=np.float64)


def needs_grad(o: Any) -> bool:
    """Is this output connected to a graph that backward can walk?"""
    return is_node(o) and bool(o.requires_grad) and (o._op is not None or _is_leaf_input(o))


def _is_leaf_input(o: Any) -> bool:
    return o._op is None and bool(o.requires_grad)


def seed(o: Any, flat_index: int) -> Any:
    """The gradient that selects one element of output `o`: 1 there, 0 elsewhere."""
    if is_value(o):
        return 1.0
    arr = np.zeros(np.shape(o._raw()), dtype=np.float64)
    arr.flat[flat_index] = 1.0
    return arr


def grad_array(g: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A gradient returned by `graph.grad` (number, Value, Tensor, array or None) as an array."""
    if g is None:
        return np.zeros(shape)
    if is_node(g):
        g = g._raw()
    return np.array(g, dtype=np.float64)


def fresh_leaf(x: Any) -> Any:
    """A new input node with the same numbers as `x` and no history (a copy, not a view)."""
    if is_value(x):
        return Value(x.data)
    if is_tensor(x):
        return tensor_class()(np.array(x._raw(), copy=True), requires_grad=bool(x.requires_grad))
    return x


def replay(node: Any, parents: list[Any]) -> Any:
    """Build the op that made `node` again, on new parents, with the same constants.

    Raises `LookupError` when the op cannot be replayed (then its local rule is not checked).
    """
    op = node._op
    rerun = getattr(op, "replay", None)  # user-defined Functions carry their own
    with enable_grad():
        if rerun is not None:
            return rerun(node, parents)
        if is_value(node):
            return _apply(op, tuple(parents), node._ctx)
        if is_tensor(node):
            return _replay_tensor(node, parents)
    raise LookupError(f"no way to re-run op {getattr(op, 'name', op)!r}")


def _replay_tensor(node: Any, parents: list[Any]) -> Any:
    from ..tensor.tensor import apply

    return apply(node._op, tuple(parents), node._ctx)


def shape_of(x: Any) -> tuple[int, ...]:
    return () if is_value(x) else tuple(np.shape(x._raw()))
