"""Step through the forward and backward pass of a graph, one frame per step.

    L = (a * b + c).tanh()
    s = step_through(L)         # runs L.backward() and records it
    s                           # in Jupyter: the player, inline
    s.save_html("steps.html")   # one self-contained file: open it in any browser, offline

Each frame says how every node looks: not computed yet, computed, its gradient so far (some
consumer has yet to contribute) or complete (every consumer has contributed), which node is
current and which receive a gradient, with the chain-rule lines of the step. The graph is laid
out once (layout.py); the player (player.py) only restyles it from frame to frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..autograd import graph
from . import nodes as nd
from .draw import Drawing, draw_graph
from .groups import call_groups
from .layout import CHAR, ROW, Group, Item, Layout, choose_rankdir, lay_out
from .player import SVG_CSS, player_html
from .trace import Trace, formula_lines, trace_backward, trace_forward

__all__ = ["Frame", "NodeState", "Stepper", "step_through"]

Node = Any

# the colours of a frame drawn with draw_graph (Stepper.drawing); the player has its own CSS
CURRENT, CURRENT_OP, DONE, PENDING = "#fde047", "#f59e0b", "#bbf7d0", "#f3f4f6"
PARTIAL_COLOR, FINAL_COLOR, UNKNOWN_COLOR = "#c2410c", "#15803d", "#6b7280"


class NodeState(NamedTuple):
    """How one node looks in one frame."""

    phase: str  # 'unknown' (not computed), 'computed', 'partial' (grad so far) or 'complete'
    data: str  # the data cell's text
    grad: str  # the grad cell's text ('' when the node takes no gradient)
    full: str | None  # the gradient in full precision (hover, the table), None when unknown
    flags: str = ""  # 'cur' (this step's node), 'recv' (receives a gradient in this step)


@dataclass
class Frame:
    """One step of the step-through: its title, its chain-rule lines, how every node looks."""

    title: str
    explanation: str
    phase: str  # 'f' (forward) or 'b' (backward)
    states: dict[int, NodeState] = field(default_factory=dict)  # id(node) -> its look
    grads: list[tuple[str, Any]] = field(default_factory=list)  # (input, its gradient so far)


class Stepper:
    """The frames of a forward (optional) and a backward pass through the graph of `root`.

    Building it with `backward=True` runs a real backward pass (see `trace_backward`): `.grad`
    fills in and the graph is freed unless `retain_graph=True`. After `root.backward()` (the
    natural order) it replays that pass instead, changing no `.grad`. `grad` seeds a
    non-scalar root, as in `root.backward(grad)`. `rankdir='auto'` picks left-to-right or
    top-to-bottom for the graph's shape. Literal numbers (`a * 2.0`) are shown on their op;
    `literals='nodes'` draws them as nodes of their own, with their gradients.
    """

    def __init__(
        self,
        root: Node,
        *,
        forward: bool = True,
        backward: bool = True,
        rankdir: str = "auto",
        max_steps: int | None = 1000,
        retain_graph: bool = False,
        grad: Any = None,
        literals: str = "inline",
        title: str | None = None,
    ) -> None:
        if rankdir not in ("auto", "LR", "RL", "TB", "BT"):
            raise ValueError(f"step_through: rankdir must be 'auto', 'LR', 'RL', 'TB' or 'BT', "
                             f"got {rankdir!r}")
        if literals not in ("inline", "nodes"):
            raise ValueError(f"step_through: literals must be 'inline' or 'nodes', got "
                             f"{literals!r}")
        self.root, self.rankdir = root, rankdir
        self.nodes = nd.walk([root])
        # the graph as built: a freeing backward swaps parents for husks and drops the ops'
        # constants (graph.release); the layout, the boxes and the formulas are read after it
        self._built = {id(n): (n, n._parents, _constants(n)) for n in self.nodes}
        ops = sum(1 for n in self.nodes if n._op is not None)
        steps = (1 + ops if forward else 0) + (ops + 1 if backward else 0)
        if max_steps is not None and steps > max_steps:
            raise ValueError(
                f"step_through: the graph has {ops} ops, which makes {steps} steps; the "
                f"step-through is for small graphs (max_steps={max_steps}). Draw big graphs "
                "with draw_graph(root, group=...), or pass max_steps=None to step anyway."
            )
        self.literals = nd.literals(self.nodes) if literals == "inline" else set()
        self.names = nd.names(self.nodes, root, self.literals)
        self.title = title or f"Step-through of {self.names[id(root)]}: forward, then backward"
        self.forward_trace: Trace | None = (
            trace_forward(root, names=self.names) if forward else None)
        self.backward_trace: Trace | None = (
            trace_backward(root, grad, retain_graph=retain_graph, names=self.names,
                           literals=self.literals, replay=_freed(root)) if backward else None
        )
        self.drawn = [n for n in self.nodes if id(n) not in self.literals]
        self.frames: list[Frame] = self._frames()
        self._layout: Layout | None = None

    # ---- frames ----------------------------------------------------------------------------
    def _state(self, n: Node, computed: bool, total: Any, complete: bool,
               flags: str = "") -> NodeState:
        scalar = not nd.is_array(n._raw())
        data = nd.fmt(n._raw(), shape=False) if computed else "?"
        data = ("data " if scalar else "") + data
        if not n.requires_grad:
            return NodeState("computed" if computed else "unknown", data, "", None, flags)
        if total is None:
            grad, full = "grad ?", None
        else:
            grad = ("grad " if complete else "grad so far ") + nd.fmt(total, shape=False)
            full = nd.full(total)
        phase = ("unknown" if not computed else "complete" if complete and total is not None
                 else "partial" if total is not None else "computed")
        return NodeState(phase, data, grad, full, flags)

    def _frames(self) -> list[Frame]:
        drawn, names, root = self.drawn, self.names, self.root
        inputs = [n for n in drawn if n._op is None and n.requires_grad]
        unknown = [(names[id(n)], None) for n in inputs]
        frames: list[Frame] = []
        if self.forward_trace is not None:
            computed: set[int] = {id(n) for n in drawn if n._op is None}
            leaves = ", ".join(f"{names[id(n)]} = {nd.fmt(n._raw())}"
                               for n in drawn if n._op is None)
            frames.append(Frame("the inputs", "Inputs: " + leaves, "f", {
                id(n): self._state(n, id(n) in computed, None, False) for n in drawn}, unknown))
            for step in self.forward_trace:
                computed.add(id(step.node))
                states = {id(n): self._state(n, id(n) in computed, None, False) for n in drawn}
                states[id(step.node)] = states[id(step.node)]._replace(flags="cur")
                frames.append(Frame(f"forward {step.index}/{len(self.forward_trace)}",
                                    step.explanation, "f", states, unknown))
        if self.backward_trace is not None:
            steps = self.backward_trace
            last_in: dict[int, int] = {id(root): 1}  # when each node's gradient is complete
            for s in steps:
                for c in s.contributions:
                    last_in[id(c.parent)] = s.index
            totals: dict[int, Any] = {}
            rname = names[id(root)]
            for s in steps:
                totals.setdefault(id(s.node), s.upstream)
                for c in s.contributions:
                    totals[id(c.parent)] = c.total
                receiving = {id(c.parent) for c in s.contributions}
                states = {id(n): self._state(
                    n, True, totals.get(id(n)), last_in.get(id(n), len(steps) + 1) <= s.index,
                    "cur" if n is s.node else "recv" if id(n) in receiving else "")
                    for n in drawn}
                head = (f"d{rname}/d{nd.ref(s.name)} = {nd.fmt(s.upstream)} is complete; the "
                        f"chain rule passes it through '{s.op}' to its inputs:")
                grads = [(names[id(n)], totals.get(id(n))) for n in inputs]
                frames.append(Frame(f"backward {s.index}/{len(steps)}",
                                    head + "\n" + s.explanation, "b", states, grads))
            final = steps.totals
            done = {id(n): self._state(n, True, final.get(id(n)), True) for n in drawn}
            grads = [(names[id(n)], final.get(id(n))) for n in inputs]
            summary = ", ".join(f"d{rname}/d{nd.ref(name)} = {nd.fmt(g)}" for name, g in grads
                                if g is not None)
            why = steps.zero_reasons()
            frames.append(Frame("done", "Backward done: " + summary
                                + "".join("\n" + w for w in why), "b", done, grads))
        return frames

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, k: int) -> Frame:
        return self.frames[k]

    def drawing(self, k: int) -> Drawing:
        """Frame `k` as a Drawing (a static picture of that step; displays inline in Jupyter)."""
        states = self.frames[k].states
        fills = {"unknown": PENDING, "complete": DONE}
        colours = {"partial": PARTIAL_COLOR, "complete": FINAL_COLOR}

        def style(n: Node) -> dict[str, str]:
            st = states.get(id(n))
            if st is None:
                return {}
            s = {"data": st.data, "grad": st.grad,
                 "grad_color": colours.get(st.phase, UNKNOWN_COLOR),
                 "data_color": UNKNOWN_COLOR if st.phase == "unknown" else "#000000"}
            if st.phase in fills:
                s["fill"] = fills[st.phase]
            if st.flags == "cur":
                s.update(fill=CURRENT, border=CURRENT_OP, op_fill=CURRENT_OP)
            return s

        rankdir = self.layout().rankdir
        with self._as_built():
            return draw_graph(self.root, rankdir, max_nodes=None, style=style,
                              literals="inline" if self.literals else "nodes")

    # ---- the HTML player ---------------------------------------------------------------------
    @contextmanager
    def _as_built(self) -> Iterator[None]:
        """The graph's nodes with the parents and constants they were built with, for the time
        of a read; then as they were."""
        now = {k: (n._parents, getattr(n, "_ctx", ())) for k, (n, _, _) in self._built.items()}
        try:
            for n, parents, ctx in self._built.values():
                if n._parents is not parents:
                    n._parents = parents
                if ctx and n._ctx is not ctx:
                    n._ctx = ctx
            yield
        finally:
            for k, (n, _, ctx) in self._built.items():
                if n._parents is not now[k][0]:
                    n._parents = now[k][0]
                if ctx and n._ctx is not now[k][1]:
                    n._ctx = now[k][1]

    def layout(self) -> Layout:
        """The one layout every frame shares: each box as wide as its longest text."""
        if self._layout is not None:
            return self._layout
        with self._as_built():
            return self._lay_out()

    def _lay_out(self) -> Layout:
        items: dict[str, Item] = {}
        edges: list[tuple[str, str]] = []
        index = {id(n): i for i, n in enumerate(self.drawn)}
        for i, n in enumerate(self.drawn):
            states = [f.states[id(n)] for f in self.frames if id(n) in f.states]
            cells = [("name", len(self._head(n))),
                     ("data", max(len(s.data) for s in states))]
            if n.requires_grad:
                cells.append(("grad", max(len(s.grad) for s in states)))
            if n._op is not None:
                items[f"o{i}"] = Item(f"o{i}", "op", [("op", len(self._op_text(n)))])
                for p in n._parents:
                    if id(p) in index:
                        edges.append((f"v{index[id(p)]}", f"o{i}"))
                edges.append((f"o{i}", f"v{i}"))
            items[f"v{i}"] = Item(f"v{i}", "value", cells, stacked=nd.is_array(n._raw()))
        rankdir = self.rankdir if self.rankdir != "auto" else choose_rankdir(items, edges)
        self._layout = lay_out(items, edges, rankdir, self._groups(index))
        return self._layout

    def _groups(self, index: dict[int, int]) -> dict[str, Group]:
        """A box per Module call (neuron, layer, ...), holding the items it computed."""
        calls = call_groups(self.drawn)
        inner: dict[str, set[int]] = {c.key: set() for c in calls}
        for c in calls:
            if c.parent is not None:
                inner[c.parent] |= c.members
        groups: dict[str, Group] = {}
        for c in calls:
            own = [n for n in self.drawn if id(n) in c.members and id(n) not in inner[c.key]]
            keys = [k for n in own for k in ((f"o{index[id(n)]}",) if n._op is not None
                                             else ()) + (f"v{index[id(n)]}",)]
            groups[c.key] = Group(c.key, c.title, keys, c.parent)
        return groups

    def _head(self, n: Node) -> str:
        shape = nd.shape_dtype(n)
        return self.names[id(n)] + (f" {shape}" if shape else "")

    def _op_text(self, n: Node) -> str:
        return nd.op_text(n, self.literals)

    def player_data(self) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """The player's texts of frame 0 (by SVG item) and its data: nodes, frames, inputs."""
        layout = self.layout()
        with self._as_built():
            return self._player_data(layout)

    def _player_data(self, layout: Layout) -> tuple[dict[str, list[str]], dict[str, Any]]:
        order: list[tuple[str, Node]] = []
        for i, n in enumerate(self.drawn):
            if n._op is not None:
                order.append((f"o{i}", n))
            order.append((f"v{i}", n))
        fw: dict[int, int] = {}  # where a click jumps: a node's own step in each pass,
        bk: dict[int, int] = {}  # or for an input, the step its gradient is complete
        leaves = {id(n) for n in self.drawn if n._op is None}
        for k, f in enumerate(self.frames):
            for key, st in f.states.items():
                if st.flags == "cur":
                    (fw if f.phase == "f" else bk)[key] = k
                elif f.phase == "b" and st.phase == "complete" and key in leaves:
                    bk.setdefault(key, k)
        nodes = []
        for key, n in order:
            it = layout.items[key]
            op = key.startswith("o")
            rules = "\n".join(formula_lines(n, self.names, self.names[id(self.root)]))
            nodes.append({"k": key, "n": self._op_text(n) if op else self.names[id(n)],
                          "d": rules if op else nd.full(n._raw()), "op": int(op),
                          "fw": fw.get(id(n), 0 if n._op is None else None),
                          "bk": bk.get(id(n)),
                          "b": [round(it.x - it.w / 2, 1), round(it.y - it.h / 2, 1),
                                round(it.w, 1), round(it.h, 1)]})
        frames, before = [], [None] * len(order)
        for f in self.frames:
            changes = []
            for j, (key, n) in enumerate(order):
                st = f.states[id(n)]
                base = ("leaf " if n._op is None and n.requires_grad else
                        "const " if not n.requires_grad else "")
                row = ([j, "", "", "", None, st.flags] if key.startswith("o") else
                       [j, base + st.phase, st.data, st.grad, st.full, st.flags])
                if row != before[j]:
                    changes.append(row)
                    before[j] = row
            frames.append({"t": f.title, "e": f.explanation, "p": f.phase, "s": changes})
        texts = {key: ([self._op_text(n)] if key.startswith("o") else
                       [self._head(n), self.frames[0].states[id(n)].data,
                        self.frames[0].states[id(n)].grad]) for key, n in order}
        inputs = [j for j, (key, n) in enumerate(order)
                  if key.startswith("v") and n._op is None and n.requires_grad]
        groups = [{"k": g.key, "t": g.title, "n": len(g.members), "p": g.parent,
                   "leaf": not any(h.parent == g.key for h in layout.groups.values()),
                   "r": [round(v, 1) for v in g.rect]}
                  for g in layout.groups.values()]
        return texts, {"nodes": nodes, "frames": frames, "inputs": inputs, "groups": groups,
                       "geom": {"c": CHAR, "r": ROW, "dir": layout.rankdir}, "svgcss": SVG_CSS}

    def to_html(self, *, full_page: bool = True, title: str | None = None) -> str:
        """The player: the graph drawn once, the frames as changes of its look, and controls
        (buttons, keys, slider, zoom, pan, fit, click-to-jump, SVG export)."""
        texts, data = self.player_data()
        return player_html(self.layout(), texts, data, title=title or self.title,
                           full_page=full_page)

    def save_html(self, path: str | Path) -> Path:
        """Write the player to one HTML file that opens offline in any browser."""
        path = Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return self.to_html(full_page=False)

    def __repr__(self) -> str:
        return f"<Stepper: {len(self)} frames; save_html(path) writes the player>"


def _constants(n: Node) -> tuple:
    """A node's stored op constants (a Tensor's `_ctx`); () where `_ctx` is computed."""
    if isinstance(getattr(type(n), "_ctx", None), property):
        return ()
    return tuple(getattr(n, "_ctx", ()) or ())


def _freed(root: Node) -> bool:
    """Has `root.backward()` already run and freed the graph? Then the stepper replays it."""
    return root._op is not None and graph.is_freed(root)


def step_through(root: Node, **options: Any) -> Stepper:
    """A Stepper over the forward and backward pass of `root` (runs `root.backward()`).

    Options: forward=True, backward=True, rankdir='auto', max_steps=1000, retain_graph=False,
    grad=None, literals='inline' (or 'nodes'), title=None.
    """
    return Stepper(root, **options)
