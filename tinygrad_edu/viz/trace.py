"""The forward and backward passes as lists of steps, each with a one-line explanation.

    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    L = (a * b + c).tanh()
    print(trace_forward(L))     # v3 = a * b = 2.0 * -3.0 = -6.0, ...
    t = trace_backward(L)       # runs L.backward(), recording every chain-rule step
    print(t)                    # dL/da += dL/dv3 * dv3/da = 0.0099 * -3.0 = -0.02961, ...

The backward trace is recorded by the engine's own backward driver (the `observer` of
`autograd.graph.backward`), so its steps are exactly the ones backward() runs, in its order.
Tensor steps show shapes, norms and the first few entries instead of every number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import graph
from . import formula as fm
from . import nodes as nd

__all__ = [
    "formula_lines",
    "ForwardStep",
    "BackwardStep",
    "Contribution",
    "Trace",
    "trace_forward",
    "trace_backward",
]

Node = Any
INFIX = {"+", "-", "*", "/", "**", "@"}


@dataclass
class ForwardStep:
    """One op of the forward pass: `name = op(inputs) = value`."""

    index: int
    node: Node
    name: str
    op: str
    inputs: list[str]
    value: Any  # the node's number (Value) or array (Tensor)
    explanation: str


@dataclass
class Contribution:
    """What one backward step added to one input: `added = upstream * local`."""

    parent: Node
    name: str
    local: Any  # d(node)/d(parent) for a Value op; None for tensors (it is a Jacobian there)
    added: Any  # the gradient this step added to the parent
    total: Any  # the parent's gradient so far in this pass, after adding
    explanation: str


@dataclass
class BackwardStep:
    """One node of the backward pass: its gradient is complete and goes to its inputs."""

    index: int
    node: Node
    name: str
    op: str
    upstream: Any  # dL/d(node), complete (after hooks)
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        return "\n".join(c.explanation for c in self.contributions)


class Trace(list):
    """A list of steps (ForwardStep or BackwardStep) that prints as a table.

    `totals` maps id(node) -> the gradient the pass accumulated for it (backward only);
    `names` maps id(node) -> the name used in the explanations.
    """

    def __init__(self, kind: str, root: Node, steps: Sequence[Any], names: dict[int, str],
                 totals: dict[int, Any] | None = None, unreached: Sequence[Node] = ()) -> None:
        super().__init__(steps)
        self.kind, self.root, self.names = kind, root, names
        self.totals = totals or {}
        self.unreached = list(unreached)  # inputs no gradient reached

    def zero_reasons(self) -> list[str]:
        """Why an input's gradient is zero, in words: the steps that stopped it, contributions
        that cancel, or that no gradient reaches it at all."""
        root = self.names.get(id(self.root), "L")
        out = [f"d{root}/d{nd.ref(self.names.get(id(n), '?'))}: no gradient reaches it (the "
               "output does not depend on it through any differentiable path)"
               for n in self.unreached]
        parts: dict[int, list[tuple[str, Contribution]]] = {}  # input -> (op, what it got)
        for s in self:
            for c in s.contributions:
                if c.parent._op is None:
                    parts.setdefault(id(c.parent), []).append((s.op, c))
        for got in parts.values():
            name = nd.ref(got[0][1].name)
            if not _is_zero(got[-1][1].total):
                continue
            added = [c.added for _, c in got]
            if len(got) > 1 and not all(map(_is_zero, added)):
                shown = " and ".join(nd.fmt(a) for a in added)
                out.append(f"d{root}/d{name} = 0: its contributions {shown} cancel, so the "
                           f"output does not depend on {got[0][1].name} here")
            out += [f"d{root}/d{name} gets 0 from '{op}': " + c.explanation.split("\n    ")[1]
                    for op, c in got if "\n    " in c.explanation]
        return out

    def total(self, node: Node) -> Any:
        """The gradient this backward pass gave `node` (None if none reached it)."""
        return self.totals.get(id(node))

    def to_records(self) -> list[dict[str, Any]]:
        """Plain data for notebooks: one dict per row (pandas.DataFrame(trace.to_records()))."""
        rows: list[dict[str, Any]] = []
        for s in self:
            if isinstance(s, ForwardStep):
                rows.append({"step": s.index, "node": s.name, "op": s.op,
                             "inputs": ", ".join(s.inputs), "value": _plain(s.value),
                             "explanation": s.explanation})
                continue
            for c in s.contributions or [None]:
                rows.append({
                    "step": s.index, "node": s.name, "op": s.op, "upstream": _plain(s.upstream),
                    "input": c.name if c else "", "local": _plain(c.local) if c else None,
                    "added": _plain(c.added) if c else None,
                    "total": _plain(c.total) if c else None,
                    "explanation": c.explanation if c else "",
                })
        return rows

    def _table(self) -> tuple[list[str], list[list[str]]]:
        if self.kind == "forward":
            head = ["step", "node", "op", "inputs", "value"]
            rows = [[str(s.index), s.name, s.op, ", ".join(s.inputs), nd.fmt(s.value)]
                    for s in self]
            return head, rows
        root = self.names.get(id(self.root), "L")
        head = ["step", "node", "op", f"d{root}/dnode", "input", "local", "added", "total"]
        rows = []
        for s in self:
            first = [str(s.index), s.name, s.op, nd.fmt(s.upstream)]
            for k, c in enumerate(s.contributions or [None]):
                lead = first if k == 0 else ["", "", "", ""]
                if c is None:
                    rows.append([*lead, "", "", "", ""])
                else:
                    local = "" if c.local is None else nd.fmt(c.local)
                    rows.append([*lead, c.name, local, nd.fmt(c.added), nd.fmt(c.total)])
        return head, rows

    def __str__(self) -> str:
        head, rows = self._table()
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
        out = [f"{self.kind} pass, {len(self)} steps", line(head), line(["-" * w for w in widths])]
        out += [line(r) for r in rows]
        explanations = [s.explanation for s in self if s.explanation]
        if explanations:
            out += ["", *explanations]
        return "\n".join(out)

    def to_markdown(self) -> str:
        """The table in Markdown, with each step's explanation in the last column."""
        head, rows = self._table()
        expl = []
        for s in self:
            lines = s.explanation.split("\n") if s.explanation else [""]
            if isinstance(s, BackwardStep):
                lines += [""] * (max(1, len(s.contributions)) - len(lines))
            expl += lines
        head = [*head, "explanation"]
        cell = lambda t: t.replace("|", "\\|")
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(cell(c) for c in [*r, e]) + " |" for r, e in zip(rows, expl)]
        return "\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return f"<Trace {self.kind}: {len(self)} steps>"


def _plain(x: Any) -> Any:
    """Numbers as floats, arrays as their short summary (for records)."""
    if x is None:
        return None
    raw = x._raw() if hasattr(x, "_raw") else x
    if nd.is_array(raw) and raw.ndim > 0:
        return nd.fmt(raw)
    return float(raw)


def _call(op: str, args: list[str]) -> str:
    if op in INFIX and len(args) == 2:
        return f"{args[0]} {op} {args[1]}"
    return f"{op}({', '.join(args)})"


def trace_forward(root: Node, *, names: dict[int, str] | None = None) -> Trace:
    """The ops that computed `root`, parents before children (arguments left to right).

    The graph records what was computed, not when; this is the order Python evaluates one
    expression in, and an order the engine could have run any graph in. Nothing is changed.
    `names` (id(node) -> name) overrides the default names of `nodes.names`.
    """
    order = nd.walk([root])
    if names is None:
        names = nd.names(order, root, nd.literals(order))
    steps = []
    for node in order:
        if node._op is None:
            continue
        args = [nd.ref(names[id(p)]) for p in node._parents]
        consts = [nd.fmt(c) if isinstance(c, float) else str(c) for c in nd.constants(node)]
        op = node._op.name
        symbolic = _call(op, args + consts)
        raw = node._raw()
        if nd.is_array(raw):
            text = (f"{names[id(node)]} = {symbolic} -> {nd.shape_dtype(raw)} "
                    f"{nd.fmt(raw, shape=False)}")
        else:
            values = [nd.fmt(p._raw()) for p in node._parents]
            if op == "**":  # -3.0 ** 2.0 would read as -(3.0 ** 2.0)
                values = [f"({v})" if v.startswith("-") else v for v in values]
            numeric = _call(op, values + consts)
            text = f"{names[id(node)]} = {symbolic} = {numeric} = {nd.fmt(raw)}"
        steps.append(ForwardStep(len(steps) + 1, node, names[id(node)], op, args, raw, text))
    return Trace("forward", root, steps, names)


def trace_backward(root: Node, grad: Any = None, *, retain_graph: bool = False,
                   names: dict[int, str] | None = None,
                   literals: set[int] | None = None, replay: bool = False) -> Trace:
    """Run `root.backward(grad)` and record every chain-rule step, in the order it ran.

    This is a real backward pass: `.grad` fills in (accumulating, as backward() does; zero the
    grads first for a clean reading) and the graph is freed unless `retain_graph=True`. The
    running totals are this pass's gradients: on fresh grads they end at `.grad`. (A node's
    hooks run on its complete gradient: `upstream` is after them, the totals before.)
    `replay=True` re-runs the steps of a `root.backward()` that already ran (even one that
    freed the graph) without changing any `.grad`: the step-through after backward().
    Each line shows the rule's formula (from the op table) with the graph's names, then its
    numbers. Contributions to literal numbers (`literals`, ids; by default those of
    `nodes.literals`) are not listed.
    """
    order = nd.walk([root])
    if literals is None:
        literals = nd.literals(order)
    if names is None:
        names = nd.names(order, root, literals)
    rname = names[id(root)]
    totals: dict[int, Any] = {}
    steps: list[BackwardStep] = []

    def observe(node: Node, g: Any, parent_grads: Sequence[Any]) -> None:
        name = names.get(id(node), "?")
        totals.setdefault(id(node), _copy(g))  # only the root has no total yet
        step = BackwardStep(len(steps) + 1, node, name, node._op.name, _copy(g))
        parents = node._parents
        for i, (parent, pg) in enumerate(zip(parents, parent_grads)):
            if pg is None:
                continue
            pg = _copy(pg)
            before = totals.get(id(parent))
            total = pg if before is None else before + pg
            totals[id(parent)] = total
            if id(parent) in literals:
                continue
            local = _local(node, i)
            text = _line(node, i, g, pg, local, names, rname)
            if sum(p is parent for p in parents) > 1:  # a * a: say which argument it is
                text += f"  (through argument {i + 1} of {len(parents)})"
            if before is not None:
                text += f"  (so far {nd.fmt(total)})"
            why = _why_zero(node, i, g, pg, names)
            if why:
                text += f"\n    {why}"
            step.contributions.append(Contribution(parent, names.get(id(parent), "?"), local,
                                                   pg, total, text))
        steps.append(step)

    freed = [n for n in order if n._op is not None and graph.is_freed(n)] if replay else []
    if any(n._release is not None for n in freed):  # a Tensor graph let its saved arrays go
        raise graph.GraphFreedError(
            "step_through/trace_backward: backward() already ran on this graph and freed the "
            "arrays its rules saved, so the pass cannot be shown again. Call step_through(loss) "
            "instead of loss.backward() (it runs backward itself), or call "
            "loss.backward(retain_graph=True) first."
        )
    try:
        if replay:  # backward() already ran: replay its steps, capturing, so no .grad changes
            for n in freed:
                n._g = None
            seeds = [root._seed_grad(grad, False)]
            graph._run_graph([root], seeds, retain_graph=True, create_graph=False,
                             capture=order, observer=observe)
        else:
            graph.backward(root, grad, retain_graph=retain_graph, observer=observe)
    except graph.GraphFreedError as err:
        raise graph.GraphFreedError(
            "trace_backward runs a real backward pass, but an earlier backward() already freed "
            "this graph. Pass replay=True to see that pass again (no .grad changes; "
            "step_through does so), recompute the forward, or call the earlier backward with "
            f"retain_graph=True. (backward said: {err})"
        ) from err
    finally:
        if freed and not retain_graph:
            for n in order:
                if n._op is not None:
                    n._g = graph.FREED
    if id(root) not in totals:  # a root that is an input: backward only seeded it
        g = nd.grad_of(root)
        if g is not None:
            totals[id(root)] = g
    never = [n for n in order if n._op is None and n.requires_grad and id(n) not in totals
             and id(n) not in literals]
    return Trace("backward", root, steps, names, totals, never)


def _line(node: Node, i: int, g: Any, pg: Any, local: Any, names: dict[int, str],
          rname: str) -> str:
    """`dL/da += dL/dc * dc/da = 0.5 * b = 0.5 * -3.0 = -1.5`: the chain rule for one input,
    with the rule's formula from the op table, first in names and then in numbers."""
    name, pname = names.get(id(node), "?"), names.get(id(node._parents[i]), "?")
    target, up = f"d{rname}/d{nd.ref(pname)}", f"d{rname}/d{nd.ref(name)}"
    formula = _formula(node, i)
    if local is not None:  # a scalar op: the local derivative, times the upstream number
        d_local = f"d{_spelled(node, names)}/d{nd.ref(pname)}"
        text = f"{target} += {up} * {d_local}"
        if formula:
            sym = fm.show(formula, _operand_names(node, names), outer=3)
            num = fm.show(formula, _operand_names(node, names, numbers=True), outer=3)
            for part in dict.fromkeys([sym, num]):  # the numbers only when they differ
                text += f" = {nd.fmt(g)} * {part}"
        else:
            text += f" = {nd.fmt(g)} * {nd.fmt(local)}"
        return f"{text} = {nd.fmt(pg)}"
    if formula:  # a tensor op: the vector-Jacobian product in matrix form
        shown = fm.show(formula, {**_operand_names(node, names), "g": up})
        text = f"{target} += {shown}"
    else:
        text = f"{target} += {up} through {node._op.name}"
    summed = _summed_dims(node, i)
    if summed:
        text += f", summed over dim{'s' * (len(summed) > 1)} {', '.join(map(str, summed))} " \
                "(broadcast)"
    return f"{text} = {nd.fmt(pg)}"


def formula_lines(node: Node, names: dict[int, str], root: str = "L") -> list[str]:
    """The op's rules from its table row, in this graph's names: one line per input,
    `dtanh(n)/dn = 1 - o²` (a Value op) or `dL/dX = dL/dY @ Wᵀ` (a Tensor op)."""
    if node._op is None:
        return []
    lines = []
    for i, parent in enumerate(node._parents):
        formula = _formula(node, i)
        if not formula:
            continue
        pname = nd.ref(names.get(id(parent), "?"))
        if nd.is_array(node._raw()):
            up = f"d{root}/d{nd.ref(names.get(id(node), '?'))}"
            shown = fm.show(formula, {**_operand_names(node, names), "g": up})
            lines.append(f"d{root}/d{pname} = {shown}")
        else:
            shown = fm.show(formula, _operand_names(node, names))
            lines.append(f"d{_spelled(node, names)}/d{pname} = {shown}")
    return lines


def _formula(node: Node, i: int) -> str:
    formulas = getattr(node._op, "formulas", None) or ()
    return formulas[i] if i < len(formulas) else ""


def _params(node: Node) -> list[str]:
    """The rule's parameter names (out, a, b, n, ... or g, out, a, ...) for its formula."""
    op = node._op
    rule = (op.derivatives[0] if hasattr(op, "derivatives") else
            next(iter(op.vjps), None))
    code = getattr(rule, "__code__", None)
    return list(code.co_varnames[:code.co_argcount]) if code is not None else []


def _operand_names(node: Node, names: dict[int, str], numbers: bool = False) -> dict[str, str]:
    """Formula operand -> what it is in this graph: a node's name, or its number."""
    params = _params(node)
    parents = list(node._parents)
    tensor = nd.is_array(node._raw())
    args = params[2:] if tensor else params[1:]  # after (g, out) or (out)
    values = [*parents, *(node._ctx or ())]
    out: dict[str, str] = {}
    if "out" in params:
        out["out"] = nd.fmt(node._raw()) if numbers else nd.ref(names.get(id(node), "?"))
    for param, v in zip(args, values):
        if hasattr(v, "_op"):
            out[param] = nd.fmt(v._raw()) if numbers else nd.ref(names.get(id(v), "?"))
        elif isinstance(v, float):
            out[param] = nd.fmt(v)
        elif len(str(v)) <= 24:  # a short constant (dims, a shape, a dtype): as it is
            out[param] = str(v)
    return out


_BROADCASTING = {"add", "sub", "mul", "div", "pow", "maximum", "where"}


def _summed_dims(node: Node, i: int) -> list[int]:
    """The dims of the output that broadcasting added to input i, so its gradient sums them."""
    if node._op.name not in _BROADCASTING:
        return []
    out, arg = node._raw(), node._parents[i]._raw()
    if not (nd.is_array(out) and nd.is_array(arg)) or out.shape == arg.shape:
        return []
    lead = out.ndim - arg.ndim
    return list(range(lead)) + [lead + d for d, n in enumerate(arg.shape)
                                if n == 1 and out.shape[lead + d] != 1]


def _why_zero(node: Node, i: int, g: Any, pg: Any, names: dict[int, str]) -> str:
    """Why a contribution is zero although gradient reached the op: a dead relu, a product
    with 0, a saturated tanh. ('' when it is not zero, or nothing reached the op either.)"""
    if not _is_zero(pg) or _is_zero(g):
        return ""
    op, parents = node._op.name, node._parents
    arg = parents[i]
    aname = nd.ref(names.get(id(arg), "?"))
    if op == "relu":
        return (f"relu({aname}) with {aname} = {nd.fmt(arg._raw())} <= 0 passes no gradient "
                "(the relu is dead here)")
    if op in ("*", "mul") and len(parents) == 2 and _is_zero(parents[1 - i]):
        oname = nd.ref(names.get(id(parents[1 - i]), "?"))
        return f"the other factor {oname} is 0, so {aname} does not change the product"
    if op in ("tanh", "sigmoid"):
        return f"{op} is flat here: its output {nd.fmt(node._raw())} is saturated"
    return f"'{op}' passes no gradient to {aname} at these values"


def _is_zero(x: Any) -> bool:
    return not np.any(np.asarray(x._raw() if hasattr(x, "_raw") else x) != 0)


def _copy(x: Any) -> Any:
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x


def _local(node: Node, i: int) -> float | None:
    """d(node)/d(parent i) as a number, for scalar ops that list their derivatives."""
    out = node._raw()
    derivs = getattr(node._op, "derivatives", None)
    if nd.is_array(out) or derivs is None or i >= len(derivs):
        return None
    args = [p._raw() for p in node._parents] + list(node._ctx or ())
    try:
        return float(derivs[i](out, *args))
    except Exception:  # the backward already ran this rule; be quiet if a variant cannot
        return None


def _spelled(node: Node, names: dict[int, str]) -> str:
    """The op applied to its inputs, as a learner would write it: tanh(v4), (a * b)."""
    args = [nd.ref(names.get(id(p), "?")) for p in node._parents]
    op = node._op.name
    if len(args) == 2 and not op.isidentifier():
        return f"({args[0]} {op} {args[1]})"
    return f"{op}({', '.join(args)})"
