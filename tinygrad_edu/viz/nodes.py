"""Reading a graph through the node protocol only, and saying its numbers briefly.

The visualizer looks at a node through `_op` (with `.name`; None for an input), `_parents`,
`_ctx`, `_raw()`, `.grad`, `.label` and `requires_grad` (see autograd/graph.py), so it draws
`Value` and `Tensor` graphs alike. Numbers print short (`-3.0`, `0.9951`); arrays print as
shape, dtype, norm and their first few entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["walk", "names", "literals", "module_names", "ref", "is_array", "fmt", "full",
           "op_text", "window_text", "constants", "grad_of"]

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


def names(nodes: list[Node], root: Node | None = None,
          literal: set[int] | frozenset[int] = frozenset()) -> dict[int, str]:
    """id(node) -> a short unique name for the explanations and the boxes.

    Its label; else its name in the Module that was called to build the graph (`0.weight`,
    `fc1.bias`); else `v1, v2, ...` (`t1, ...` for tensors), numbered in reading order; the
    root is `L` when it has neither, as in the chain rule's dL/dx. Literal numbers (the ids in
    `literal`) are named by their value, as they are shown on their op.
    """
    from_modules = module_names(nodes)
    taken: set[str] = set()
    out: dict[int, str] = {}
    counter = 0
    for node in nodes:
        if id(node) in literal:
            out[id(node)] = fmt(node._raw())
            continue
        label = str(getattr(node, "label", "") or "") or from_modules.get(id(node), "")
        if not label and node is root:
            label = "L"
        if not label:
            counter += 1
            label = f"{'t' if is_array(node._raw()) else 'v'}{counter}"
        name, k = label, 2
        while name in taken:
            name, k = f"{label}_{k}", k + 1
        taken.add(name)
        out[id(node)] = name
    if root is not None and id(root) not in out:
        out[id(root)] = str(getattr(root, "label", "") or "") or "L"
    return out


def module_names(nodes: list[Node]) -> dict[int, str]:
    """id(parameter) -> its name in the Modules whose calls built these nodes: `0.weight`.

    Module calls remember their outputs (nn/module.py, `CALLS`); each such module names its
    parameters with `named_parameters()`, and the fullest name wins (the outermost module's).
    """
    from ..nn.module import calls_that_made  # nn is only asked for names

    modules: dict[int, Any] = {}
    for n in nodes:
        for m, _ in calls_that_made(n):
            modules[id(m)] = m
    out: dict[int, str] = {}
    for m in modules.values():
        for name, p in m.named_parameters():
            if len(name) > len(out.get(id(p), "")):
                out[id(p)] = name
    return out


def literals(nodes: list[Node]) -> set[int]:
    """The ids of literal numbers: `2.0` in `a * 2.0`, shown on their op instead of as nodes.

    A literal is an unlabelled scalar leaf used once that no Module owns: what Python numbers
    become. (Label a Value to keep it as a node of its own.)
    """
    uses: dict[int, int] = {}
    for n in nodes:
        for p in n._parents:
            uses[id(p)] = uses.get(id(p), 0) + 1
    owned = module_names(nodes)
    out: set[int] = set()
    for n in nodes:
        if n._op is not None or getattr(n, "label", "") or id(n) in owned:
            continue
        raw = n._raw()
        scalar = not is_array(raw) or raw.ndim == 0
        constant = not is_array(raw) or not n.requires_grad  # a tensor literal needs no grad
        if scalar and constant and uses.get(id(n), 0) == 1:
            out.add(id(n))
    return out


def ref(name: str) -> str:
    """A name as it goes into a formula: `(x1*w1)` for a label that is itself a formula."""
    if re.fullmatch(r"[A-Za-z_][\w.]*|-?[\d.]+(e[-+]?\d+)?", name):
        return name
    return f"({name})"


def is_array(x: Any) -> bool:
    """True for a Tensor's ndarray (even 0-d); False for a Value's float."""
    return isinstance(x, np.ndarray)


def num(x: float) -> str:
    """A scalar, short: -3.0, 0.9951, 1.234e-05."""
    x = float(x)
    text = f"{x + 0.0:.4g}"  # + 0.0: no -0.0
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


def full(x: Any) -> str:
    """A number in full precision, or a small array whole (a big one by shape and summary)."""
    raw = x._raw() if hasattr(x, "_raw") else x
    if not is_array(raw):
        return repr(float(raw))
    if raw.size <= 64:  # every digit needed to get the same floats back
        return np.array2string(raw, precision=17, separator=", ", max_line_width=100)
    flat = raw.reshape(-1).astype(np.float64)
    return (f"{tuple(raw.shape)} {raw.dtype}: min {flat.min():.8g}, max {flat.max():.8g}, "
            f"mean {flat.mean():.8g}, norm {np.linalg.norm(flat):.8g}")


def shape_dtype(x: Any) -> str:
    """'(3, 4) float32' for an array, '' for a scalar Value."""
    raw = x._raw() if hasattr(x, "_raw") else x
    if not is_array(raw):
        return ""
    return f"{tuple(raw.shape)} {raw.dtype}"


def op_text(node: Node, literal: set[int] | frozenset[int] = frozenset()) -> str:
    """The op's name, with its constants and literal operands: '*', '** 2.0', '* 0.5'.

    A tensor op's constants are bookkeeping (dims, saved shapes), so only its name is shown;
    the sliding windows of a convolution or a max pooling also show their kernel, stride and
    padding ('conv kernel 3x3 stride 1 padding 1', 'max_pool kernel 2x2 stride 2 ...').
    """
    op = node._op
    if op is None:
        return ""
    if op.name in _WINDOW_OPS:  # a convolution's or pooling's geometry is worth showing
        win = node._ctx[1] if op.name == "unfold_backward" else node._ctx[0]  # see ops.py
        return f"{_WINDOW_OPS[op.name]} {window_text(win)}"
    lits = [(i, fmt(p._raw())) for i, p in enumerate(node._parents) if id(p) in literal]
    parts = [op.name, *(_const(c) for c in constants(node))]
    for i, text in lits:
        parts = [text, *parts] if i == 0 and len(node._parents) == 2 else [*parts, text]
    return " ".join(parts)


_WINDOW_OPS = {"unfold": "windows", "unfold_backward": "col2im", "max_pool": "max_pool",
               "conv": "conv"}


def window_text(win: tuple) -> str:
    """A window geometry (rule_math.py's `win` constant) as 'kernel 3x3 stride 1 padding 1'; a
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
