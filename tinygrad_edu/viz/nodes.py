"""Reading a graph through the node protocol only, and saying its numbers briefly.

The visualizer looks at a node through `_op` (with `.name`; None for an input), `_parents`,
`_ctx`, `_raw()`, `.grad`, `.label` and `requires_grad` (see autograd/graph.py), so it draws
`Value` and `Tensor` graphs alike. Numbers print short (`-3.0`, `0.9951`); arrays print as
shape, dtype, norm and their first few entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["walk", "names", "is_array", "fmt", "op_text", "window_text", "constants",
           "grad_of"]

Node = Any


def walk(roots: Iterable[Node]) -> list[Node]:
    """Every node reachable from `roots`, parents before children, arguments left to right.

    Unlike `topological_order` it keeps nodes that need no gradient (constants), since a
    drawing shows them too. Iterative, so deep chains need no recursion.
    """
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(list(roots))]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(node._parents):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


def names(nodes: list[Node], root: Node | None = None) -> dict[int, str]:
    """id(node) -> a short unique name: its label, else `v3`/`t3` (its place in `nodes`).

    The root is called `L` when it has no label, as in the chain rule's dL/dx.
    """
    index = {id(n): i for i, n in enumerate(nodes)}
    taken: set[str] = set()
    out: dict[int, str] = {}
    ordered = ([root] if root is not None else []) + [n for n in nodes if n is not root]
    for node in ordered:
        label = str(getattr(node, "label", "") or "")
        if not label:
            prefix = "t" if is_array(node._raw()) else "v"
            label = "L" if node is root else f"{prefix}{index.get(id(node), len(index))}"
        name, k = label, 2
        while name in taken:
            name, k = f"{label}_{k}", k + 1
        taken.add(name)
        out[id(node)] = name
    return out


def is_array(x: Any) -> bool:
    """True for a Tensor's ndarray (even 0-d); False for a Value's float."""
    return isinstance(x, np.ndarray)


def num(x: float) -> str:
    """A scalar, short: -3.0, 0.9951, 1.234e-05."""
    x = float(x)
    text = f"{x:.4g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


def fmt(x: Any, *, entries: int = 4, shape: bool = True) -> str:
    """A number or array for a label or a message: arrays by shape, norm and first entries."""
    if x is None:
        return "None"
    raw = x._raw() if hasattr(x, "_raw") else x
    if not is_array(raw):
        return num(raw)
    if raw.ndim == 0:
        return num(raw.item())
    flat = raw.reshape(-1)
    head = ", ".join(num(v) for v in flat[:entries].tolist())
    more = ", ..." if flat.size > entries else ""
    norm = float(np.linalg.norm(flat.astype(np.float64)))
    return (f"{tuple(raw.shape)} " if shape else "") + f"norm {num(norm)} [{head}{more}]"


def shape_dtype(x: Any) -> str:
    """'(3, 4) float32' for an array, '' for a scalar Value."""
    raw = x._raw() if hasattr(x, "_raw") else x
    if not is_array(raw):
        return ""
    return f"{tuple(raw.shape)} {raw.dtype}"


def op_text(node: Node) -> str:
    """The op's name, with its constants for scalar ops: '*', '** 2.0', 'leaky_relu 0.01'.

    A tensor op's constants are bookkeeping (dims, saved shapes), so only its name is shown;
    the sliding windows of a convolution or a pooling also show their kernel, stride and
    padding ('windows kernel 3x3 stride 1 padding 1').
    """
    op = node._op
    if op is None:
        return ""
    if op.name in _WINDOW_OPS:  # a convolution's or pooling's geometry is worth showing
        win = node._ctx[0] if op.name == "unfold" else node._ctx[1]  # see ops.py's rows
        return f"{_WINDOW_OPS[op.name]} {window_text(win)}"
    return " ".join([op.name, *(_const(c) for c in constants(node))])


_WINDOW_OPS = {"unfold": "windows", "unfold_backward": "col2im"}


def window_text(win: tuple) -> str:
    """A window geometry (ops.py's `win` constant) as 'kernel 3x3 stride 1 padding 1'; a
    stride or padding that is the same along every dim is said once, dilation only if not 1."""
    dims, sizes, steps, dilations, pads, _ = win

    def same(vs: Any) -> str:
        vs = list(vs)
        return str(vs[0]) if len(set(vs)) == 1 else "x".join(map(str, vs))

    text = f"kernel {'x'.join(map(str, sizes))} stride {same(steps)}"
    flat = [p for lo_hi in pads for p in lo_hi]
    text += f" padding {same(flat) if len(set(flat)) == 1 else pads}"
    if any(d != 1 for d in dilations):
        text += f" dilation {same(dilations)}"
    return text


def constants(node: Node) -> list[Any]:
    """The constants worth showing for an op: a scalar op's exponent or slope; none for tensors."""
    if is_array(node._raw()):
        return []
    return [c for c in (node._ctx or ()) if _is_short_constant(c)]


def _is_short_constant(c: Any) -> bool:
    if isinstance(c, (bool, int, float, str)) or c is None:
        return True
    if isinstance(c, tuple) and len(c) <= 4:
        return all(isinstance(v, (bool, int, float, str)) or v is None for v in c)
    return False


def _const(c: Any) -> str:
    return num(c) if isinstance(c, float) else str(c)


def grad_of(node: Node) -> Any:
    """The node's `.grad` as a raw number/array, or None when it keeps none."""
    g = getattr(node, "grad", None)
    if g is None:
        return None
    return g._raw() if hasattr(g, "_raw") else g
