"""The graph core: topological order, the backward driver, hooks and anomaly checks.

Written once; `Value` and `Tensor` both use it, and so do the visualizer and the gradient
checker. A *node* is any object with these attributes (the engines declare them as slots):

    requires_grad   does a gradient flow into this node?
    grad            the gradient that backward() accumulated here
    _op             the op that made it (it has a `.name`), or None for a leaf
    _parents        the nodes it was made from, in argument order
    _ctx            constants the op saved for its derivative (an exponent, a dim, a mask)
    _g              the gradient pending for it during a backward pass, else None; FREED
                    once a pass without retain_graph has used it (a second pass then raises)
    _hooks          functions to call on its gradient, or None
    _retains_grad   write the gradient into `.grad`? (every Value; leaf Tensors)

and these methods, where each engine plugs in its own arithmetic:

    _vjps(g, create_graph)      the chain rule's local step: one gradient per parent (None
                                for a parent that needs none), given the gradient g of the node
    _accumulate_grad(g)         add this pass's gradient into `.grad`
    _seed_grad(grad, create_graph)  the starting gradient for a root (None means "ones")
    _wrap_grad(g) / _unwrap_grad(u, create_graph)  convert between the pass's raw gradient
                                and what hooks see (a Tensor's pass runs on bare arrays)
    _clear_grad(set_to_none)    what zero_grad() does to `.grad` (a Value's becomes 0.0)
    _raw()                      the node's number or array, for messages and checks
    _is_finite(x), _is_nan(x)   for anomaly checks
    _backprop(g)                an ordinary pass's whole step at an op's node (Node has the
                                generic one: accumulate, _vjps, send; Value fuses it for speed)
    _release(husks)             drop what the rules saved once they have run (see `release`),
                                or None when there is nothing worth freeing (Value)

Gradients are raw numbers/arrays during an ordinary pass (fast), and nodes of the engine
when `create_graph=True`, so that the pass itself is recorded and can be differentiated again.
While a pass runs, the cyclic garbage collector is paused (and then restored as it was).

A rule may also return a `Partial`: a gradient that is zero outside part of its node (a
slice's). `send` adds it into the node's pending gradient in place, in a buffer that only the
pass holds, so T slices of one tensor cost T slices of work, not T arrays of the whole size.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .mode import MODE

__all__ = [
    "Node",
    "AnomalyError",
    "GraphFreedError",
    "RemovableHandle",
    "topological_order",
    "backward",
    "grad",
    "register_hook",
    "check_forward",
    "FreedNode",
    "release",
    "is_freed",
    "send",
    "Partial",
]

Observer = Callable[[Any, Any, Sequence[Any]], None]


class Node:
    """The base of Value and Tensor: what a learner reads off any node of the graph.

    It holds no data of its own (the engines declare the slots of the protocol above).
    """

    __slots__ = ()

    @property
    def op(self) -> str:
        """The name of the op that made this node ('' for an input)."""
        return self._op.name if self._op is not None else ""

    @property
    def parents(self) -> tuple[Any, ...]:
        """The nodes this one was computed from, in argument order."""
        return self._parents

    def _backprop(self, g: Any) -> None:
        """An ordinary pass's whole step at a node made by an op, given its complete gradient:
        keep it in `.grad` if the node does, and add its rules' gradients to its parents'."""
        if self._retains_grad:
            self._accumulate_grad(g)
        send(self, self._vjps(g, False))

    # `_release(husks)`: drop what the rules saved once backward has used them (see `release`);
    # None for an engine whose nodes save nothing worth freeing
    _release: Callable[[dict], None] | None = None
    _new_hooks: Callable[[], list] = list  # the empty list register_hook starts `_hooks` with

    @property
    def name(self) -> str:
        """The node's label, as drawings show it."""
        return self.label

    @name.setter
    def name(self, label: str) -> None:
        self.label = label


class AnomalyError(RuntimeError):
    """Raised inside `detect_anomaly()` at the first op that makes NaN or inf."""


class GraphFreedError(RuntimeError):
    """Raised by a second backward through a graph whose first backward freed it."""


def topological_order(roots: Iterable[Node]) -> list[Node]:
    """Every node that needs a gradient, reachable from `roots`, parents before children.

    Iterative depth-first search, so a chain a million nodes deep needs no recursion. Parents
    are visited in argument order, so the order is the same on every run.
    """
    order: list[Node] = []
    seen: set[Node] = set()
    stack: list[Any] = list(reversed(list(roots)))
    # the stack holds nodes to visit; `node, None` on it means: node's parents are done
    push, pop, visit, done = stack.append, stack.pop, seen.add, order.append
    while stack:
        node = pop()
        if node is None:
            done(pop())
            continue
        if node in seen:
            continue
        visit(node)
        push(node)
        push(None)
        for parent in reversed(node._parents):
            if parent.requires_grad and parent not in seen:
                push(parent)
    return order


_FREED_MESSAGE = (
    "backward through the graph a second time: op '{op}' already had its backward run and its "
    "saved values freed. Gradients would silently double. Pass retain_graph=True to the first "
    "backward() if you really need a second pass, or recompute the forward."
)


class _Freed:
    """What a node's pending gradient `_g` holds once a pass without retain_graph has used the
    node: adding a gradient to it (a second pass reaching it) raises GraphFreedError."""

    __slots__ = ()

    def __add__(self, other: Any) -> Any:
        raise GraphFreedError(_FREED_MESSAGE.format(op="?"))

    def __repr__(self) -> str:
        return "FREED"


FREED = _Freed()


def is_freed(node: Node) -> bool:
    """Has a backward pass without retain_graph already run through this node?"""
    return node._g is FREED


class Partial:
    """A gradient that is zero outside part of its node, or a sum of such in a buffer that only
    the backward pass holds. An engine subclasses it (Tensor's, for a slice's gradient: the
    module tensor/partials.py).

    `send` keeps a lone one as it is and calls `add` / `add_onto` to combine; the driver calls
    `resolve(node)` for the complete gradient once every child has sent its share.
    """

    __slots__ = ()

    def add(self, other: Any) -> Any:
        """self + other (a gradient or a Partial): may add into a buffer self owns, in place."""
        raise NotImplementedError

    def add_onto(self, dense: Any) -> Any:
        """dense + self, for a gradient `dense` that others may hold (it is not changed)."""
        raise NotImplementedError

    def dense(self) -> Any:
        """The whole gradient as a new raw array (what an observer of the pass is shown)."""
        raise NotImplementedError

    def resolve(self, node: Node) -> Any:
        """The whole gradient of `node` (its last share has arrived), as a raw array."""
        raise NotImplementedError


def send(node: Node, parent_grads: Sequence[Any]) -> None:
    """Add each parent's share of the gradient to the gradient pending for it."""
    for parent, pg in zip(node._parents, parent_grads):
        if pg is not None:
            pending = parent._g
            if pending is None:
                parent._g = pg
            elif isinstance(pending, Partial):
                parent._g = pending.add(pg)
            elif isinstance(pg, Partial) and pending is not FREED:
                parent._g = pg.add_onto(pending)
            else:
                parent._g = pending + pg


class FreedNode(Node):
    """What a freed graph keeps of a node it no longer holds: the op, the label and a stand-in
    for the value with its shape and dtype but no data. While the node itself is alive (the
    user holds it), its value and gradient are read from it.

    Made by `release` for the parents of a node whose backward has run, so a loss kept after
    backward() keeps a skeleton of its graph (for drawings and messages), not its arrays.
    """

    __slots__ = ("_op", "_parents", "label", "requires_grad", "_g", "_ref", "_stand_in",
                 "__weakref__")
    _ctx: tuple = ()
    _hooks = None
    _retains_grad = False
    _release = None

    def __init__(self, node: Node, stand_in: Any) -> None:
        self._op, self._parents, self.label = node._op, (), node.label
        self.requires_grad, self._g = node.requires_grad, FREED
        self._ref, self._stand_in = weakref.ref(node), stand_in

    def _raw(self) -> Any:
        node = self._ref()
        return self._stand_in if node is None else node._raw()

    @property
    def grad(self) -> Any:
        node = self._ref()
        return None if node is None else node.grad

    def __repr__(self) -> str:
        return f"FreedNode(op={self.op!r}, label={self.label!r})"


def release(node: Node, husks: dict[Node, FreedNode], stand_in: Callable[[Node], Any]) -> None:
    """Let `node` drop what its rules saved, once its backward has run: its constants, and its
    parents, each replaced by a FreedNode (one per parent per pass, kept in `husks`). Inputs
    that keep a gradient (parameters) stay as they are, as PyTorch's graph keeps them."""
    parents = []
    for p in node._parents:
        if p._op is None and p._retains_grad:
            parents.append(p)
            continue
        husk = husks.get(p)
        if husk is None:
            husk = husks[p] = FreedNode(p, stand_in(p))
        parents.append(husk)
    node._parents = own = tuple(parents)
    node._ctx = ()
    forget = getattr(node._op, "release", None)  # a row that saved things itself (a Function)
    if forget is not None:
        forget()
    mine = husks.get(node)
    if mine is not None:  # a child released earlier points at this node's husk
        mine._parents = own


class _GCPaused:
    """The cyclic garbage collector off for one backward pass, and back as it was after.

    A pass allocates many short-lived objects (gradients, stacks) while the whole graph is
    alive, so the collector would walk every node again and again and find nothing: graphs
    have no reference cycles. The user's setting is restored whatever happens (even on error).
    """

    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


def _run_graph(
    roots: Sequence[Node],
    seeds: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Node] | None = None,
    observer: Observer | None = None,
) -> dict[Node, Any]:
    """The backward driver: visit nodes from the roots down, applying the chain rule at each.

    A node's gradient is complete once every child has added its share, which reverse
    topological order guarantees; then its hooks run, `.grad` is updated, and each parent gets
    `vjp` of it. With `capture`, gradients of those nodes are returned and no `.grad` changes.
    `observer(node, g, parent_grads)` sees every step in the order it runs (the step-through
    viewer uses it, so it shows the engine's own traversal). Without retain_graph, each node
    is marked FREED once used, and `node._release(husks)` lets it drop what its rules saved.
    """
    for root in roots:
        if root._g is FREED:
            raise GraphFreedError(_FREED_MESSAGE.format(op=root._op.name))
    with _GCPaused():
        order = topological_order(roots)
        wanted = set(capture) if capture is not None else None
        captured: dict[Node, Any] = {}
        husks: dict[Node, FreedNode] = {}
        anomaly = MODE.anomaly
        fast = not (create_graph or anomaly or observer is not None or capture is not None)
        releasing = not retain_graph and any(type(r)._release is not None for r in roots)
        saved_mode = MODE.grad_enabled
        MODE.grad_enabled = create_graph  # the pass records itself only for higher-order grads
        node: Any = None
        try:
            for root, seed in zip(roots, seeds):
                root._g = seed if root._g is None else root._g + seed
            for node in reversed(order):
                g = node._g
                if g is None or g is FREED:  # nothing flowed here (in this pass)
                    continue
                if isinstance(g, Partial):  # slices' gradients, added up in place
                    g = g.resolve(node)
                op = node._op
                node._g = None if retain_graph or op is None else FREED
                if node._hooks:
                    g = _run_hooks(node, g, create_graph)
                if fast and op is not None:  # the common case, in one call to the engine
                    node._backprop(g)
                else:
                    if wanted is not None:
                        if node in wanted:
                            captured[node] = g
                    elif node._retains_grad:
                        node._accumulate_grad(g)
                    if op is None:
                        continue
                    parent_grads = node._vjps(g, create_graph)
                    if anomaly:
                        _check_backward(node, parent_grads)
                    send(node, parent_grads)
                    if observer is not None:
                        observer(node, g, [pg.dense() if isinstance(pg, Partial) else pg
                                           for pg in parent_grads])
                if releasing and node._release is not None:
                    node._release(husks)
        except BaseException as err:
            for n in order:  # after an error, leave no half-finished pass behind
                if n._g is not FREED:
                    n._g = None
            if node is not None and node._op is not None:
                node._g = None  # the node whose step failed was not used up
            if isinstance(err, GraphFreedError):  # name the op whose graph was freed
                freed = [p for p in node._parents if p._g is FREED] if node is not None else []
                op_name = freed[0]._op.name if freed else "?"
                raise GraphFreedError(_FREED_MESSAGE.format(op=op_name)) from None
            raise
        finally:
            MODE.grad_enabled = saved_mode
    return captured


def _as_seq(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _check_roots(roots: Sequence[Node], what: str) -> None:
    for i, root in enumerate(roots):
        if not root.requires_grad:
            raise RuntimeError(
                f"{what}: output {i} does not require grad, so there is no graph to differentiate. "
                "Was it computed under no_grad(), or from inputs without requires_grad=True?"
            )


def backward(
    roots: Node | Sequence[Node],
    grads: Any = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    observer: Observer | None = None,
) -> None:
    """Accumulate d(roots)/d(node) into `.grad` of every node that keeps its gradient.

    `grads` are the gradients of some later scalar with respect to each root (None means 1 for
    a scalar root). The graph is freed afterwards unless `retain_graph=True`.
    """
    roots = _as_seq(roots)
    grads = [None] * len(roots) if grads is None else _as_seq(grads)
    if len(grads) != len(roots):
        raise ValueError(f"backward: got {len(roots)} outputs but {len(grads)} gradients")
    _check_roots(roots, "backward")
    seeds = [r._seed_grad(g, create_graph) for r, g in zip(roots, grads)]
    if retain_graph is None:
        retain_graph = create_graph
    _run_graph(
        roots, seeds, retain_graph=retain_graph, create_graph=create_graph, observer=observer
    )


def grad(
    outputs: Node | Sequence[Node],
    inputs: Node | Sequence[Node],
    grad_outputs: Any = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """Return d(outputs)/d(inputs) without touching any `.grad` (as `torch.autograd.grad`).

        x = Value(2.0); y = x ** 3
        (dy,) = grad(y, x, create_graph=True)    # 3x^2 = 12, itself differentiable
        (d2y,) = grad(dy, x)                     # 6x = 12
    """
    outputs, inputs = _as_seq(outputs), _as_seq(inputs)
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _as_seq(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    _check_roots(outputs, "grad")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    seeds = [o._seed_grad(g, create_graph) for o, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    captured = _run_graph(
        outputs, seeds, retain_graph=retain_graph, create_graph=create_graph, capture=inputs
    )
    result = []
    for i, x in enumerate(inputs):
        if x not in captured:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} is not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
        else:
            result.append(x._wrap_grad(captured[x]))
    return tuple(result)


class RemovableHandle:
    """Returned by `register_hook`; `.remove()` takes the hook off again."""

    def __init__(self, hooks: list[Callable[..., Any]], fn: Callable[..., Any]) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def register_hook(node: Node, fn: Callable[[Any], Any]) -> RemovableHandle:
    """Call `fn(grad)` when the node's gradient is complete; a non-None result replaces it."""
    if not node.requires_grad:
        raise RuntimeError("register_hook: the node does not require grad; no gradient reaches it")
    if node._hooks is None:
        node._hooks = node._new_hooks()
    node._hooks.append(fn)
    return RemovableHandle(node._hooks, fn)


def _run_hooks(node: Node, g: Any, create_graph: bool) -> Any:
    user = node._wrap_grad(g)
    for hook in list(node._hooks):
        result = hook(user)
        if result is not None:
            user = result
    return node._unwrap_grad(user, create_graph)


def _bad_kind(node: Node, x: Any) -> str:
    return "NaN" if node._is_nan(x) else "inf"


def check_forward(node: Node) -> None:
    """Anomaly mode's forward check, called by the engines right after an op runs."""
    out = node._raw()
    if not node._is_finite(out):
        inputs = ", ".join(_short(p._raw()) for p in node._parents)
        raise AnomalyError(
            f"forward of '{node._op.name}' produced {_bad_kind(node, out)} "
            f"from inputs ({inputs}). The first bad value appears here."
        )


def _check_backward(node: Node, parent_grads: Sequence[Any]) -> None:
    for i, pg in enumerate(parent_grads):
        if pg is None:
            continue
        raw = pg._raw() if hasattr(pg, "_raw") else pg
        if not node._is_finite(raw):
            inputs = ", ".join(_short(p._raw()) for p in node._parents)
            raise AnomalyError(
                f"backward of '{node._op.name}' produced {_bad_kind(node, raw)} in the gradient "
                f"for its input {i}; inputs were ({inputs}). The first bad gradient appears here."
            )


def _short(x: Any) -> str:
    """A value for an error message: numbers in full, arrays by shape and a few entries."""
    shape = getattr(x, "shape", None)
    if shape is None or shape == ():
        return repr(float(x))
    flat = x.reshape(-1)[:4].tolist()
    more = ", ..." if x.size > 4 else ""
    return f"array{tuple(shape)} [{', '.join(f'{v:.4g}' for v in flat)}{more}]"
