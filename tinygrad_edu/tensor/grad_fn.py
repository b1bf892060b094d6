"""`t.grad_fn`: the graph seen from one tensor, as PyTorch's autograd tutorial shows it.

    loss.grad_fn                     # <MeanBackward0>
    loss.grad_fn.next_functions      # ((<MulBackward0>, 0),)  ... down to
    ...                              # ((<AccumulateGrad>, 0), (None, 0)): a leaf and a constant

A `BackwardNode` is a view of a non-leaf tensor (its op row is `.op`); an `AccumulateGrad` of a
leaf that requires grad (its `.variable`). They are made on request and hold no state of their
own, so looking at the graph never changes it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BackwardNode", "AccumulateGrad", "grad_fn_of"]


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


class AccumulateGrad:
    """Where a leaf's gradient ends up (`.variable` is the leaf), as in PyTorch."""

    next_functions: tuple = ()

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)


class BackwardNode:
    """The op that made a tensor, seen as PyTorch's grad_fn: `name()`, `next_functions`.

    Attributes of the op row (`vjps`, `forward`, ...) read through, and it equals the op row
    itself, so `t.grad_fn == OPS.mul` still asks "was t made by mul?".
    """

    def __init__(self, tensor: Any) -> None:
        self._tensor = tensor
        self.op = tensor._op

    def name(self) -> str:
        """PyTorch's style of name: 'MulBackward0' for the op 'mul'."""
        return f"{_camel(self.op.name)}Backward0"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """One (node, 0) per input: its BackwardNode, AccumulateGrad for a leaf that requires
        grad, None for a constant."""
        return tuple((grad_fn_of(p, leaf=True), 0) for p in self._tensor._parents)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.op, attr)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BackwardNode):
            return other._tensor is self._tensor
        return self.op is other

    def __hash__(self) -> int:
        return id(self._tensor)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def grad_fn_of(t: Any, leaf: bool = False) -> BackwardNode | AccumulateGrad | None:
    """t's BackwardNode; for a leaf, None (t.grad_fn) or, as a next function, AccumulateGrad."""
    if t._op is not None:
        return BackwardNode(t)
    if leaf and t._requires_grad:
        return AccumulateGrad(t)
    return None
