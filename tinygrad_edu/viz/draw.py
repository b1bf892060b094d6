"""Draw a computation graph: one box per value, one oval per op, arrows in data-flow order.

    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = (a * b).tanh(); L.backward()
    draw_graph(L)                 # displays inline in Jupyter
    draw_graph(L).save_svg("L.svg")

Works on `Value` and `Tensor` graphs (it reads only the node protocol). Big graphs stay
drawable: `group=` collapses each module's internals into one box and `max_nodes` keeps the
nodes nearest the output, saying in the picture how many it left out.
"""

from __future__ import annotations

import html
import webbrowser
from collections import Counter, deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import graphviz

from . import nodes as nd
from .render import render_dot
from .trace import formula_lines

__all__ = ["Drawing", "draw_graph", "draw_dot", "by_label_prefix", "by_module", "describe"]

Node = Any
GroupFn = Callable[[Node], "str | None"]

# colours: inputs that need a gradient, constants, results, groups
LEAF_FILL, CONST_FILL, RESULT_FILL, GROUP_FILL, OP_FILL = (
    "#dbeafe", "#eeeeee", "#ffffff", "#ede9fe", "#fef9c3",
)


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` that lays itself out with the system `dot` or `graphviz-pure`.

    `pipe`, `render`, and Jupyter's inline display use that renderer, so no system Graphviz is
    needed. `cut` is how many nodes `max_nodes` left out (0 when the whole graph is drawn).
    """

    cut: int = 0

    def pipe(  # type: ignore[override]
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: Any = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> Any:
        """The rendered picture as bytes (or str with `encoding`), like graphviz's `pipe`."""
        data = render_dot(self.source, format or self.format or "svg")
        return data.decode(encoding) if encoding else data

    def render(  # type: ignore[override]
        self,
        filename: str | Path | None = None,
        directory: str | Path | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        *,
        outfile: str | Path | None = None,
        **_ignored: Any,
    ) -> str:
        """Save the DOT source and the rendered picture next to it; return the picture's path."""
        fmt = format or (Path(outfile).suffix.lstrip(".") if outfile else "") or self.format
        source_path = Path(self.save(filename, directory=directory))
        out = Path(outfile) if outfile else source_path.with_name(f"{source_path.name}.{fmt}")
        out.write_bytes(self.pipe(fmt))
        if cleanup:
            source_path.unlink()
        if view:
            webbrowser.open(out.resolve().as_uri())
        return str(out)

    def save_svg(self, path: str | Path) -> Path:
        """Write the drawing as an SVG file."""
        path = Path(path)
        path.write_bytes(self.pipe("svg"))
        return path

    def save_png(self, path: str | Path) -> Path:
        """Write the drawing as a PNG file."""
        path = Path(path)
        path.write_bytes(self.pipe("png"))
        return path

    def _repr_svg_(self) -> str:
        return self.pipe("svg", encoding="utf-8")


def by_label_prefix(sep: str = ".") -> GroupFn:
    """A `group=` function: a labelled node goes in the group named by its label up to the last
    `sep` ('layers.0.weight' -> 'layers.0'); unlabelled nodes are placed by `draw_graph`."""

    def group(node: Node) -> str | None:
        label = str(getattr(node, "label", "") or "")
        return label.rsplit(sep, 1)[0] if sep in label else None

    return group


def by_module(model: Any, depth: int | None = None) -> GroupFn:
    """A `group=` function from a model: each parameter goes in the box of its module.

    `model` is anything with PyTorch's `named_modules()` and `named_parameters()` (an
    `nn.Module`). `depth` is how many name parts the box names keep ('layers.0' is 2); by
    default the first depth that splits the parameters into two or more boxes, so both
    `Sequential(Linear, ReLU, Linear)` ('0', '2') and `MLP` ('layers.0', 'layers.1') get a
    box per layer. The results computed from a layer's parameters join its box too.
    """
    modules = {name for name, _ in model.named_modules() if name}
    paths: dict[int, list[str]] = {}
    for name, param in model.named_parameters():
        parts = name.split(".")
        owner = next((parts[:k] for k in range(len(parts) - 1, 0, -1)
                      if ".".join(parts[:k]) in modules), [])
        if owner:
            paths[id(param)] = owner
    if depth is None:
        depth, deepest = 1, max((len(p) for p in paths.values()), default=1)
        while depth < deepest and len({tuple(p[:depth]) for p in paths.values()}) < 2:
            depth += 1
    groups = {key: ".".join(path[:depth]) for key, path in paths.items()}
    named = dict(model.named_modules())

    def group(node: Node) -> str | None:
        return groups.get(id(node))

    group.titles = {g: describe(named[g]) for g in set(groups.values()) if g in named}
    return group


def describe(module: Any) -> str:
    """A module by type and shape, as a box's title: `Linear(784→256)`, `Neuron(3→1)`."""
    kind = type(module).__name__
    for into, out in (("in_features", "out_features"), ("in_channels", "out_channels"),
                      ("input_size", "hidden_size"), ("num_embeddings", "embedding_dim")):
        if hasattr(module, into) and hasattr(module, out):
            return f"{kind}({getattr(module, into)}\u2192{getattr(module, out)})"
    if hasattr(module, "w") and isinstance(module.w, list):  # a scalar Neuron
        return f"{kind}({len(module.w)}\u21921)"
    if hasattr(module, "neurons") and module.neurons:  # a scalar Layer
        return f"{kind}({len(module.neurons[0].w)}\u2192{len(module.neurons)})"
    return kind


def draw_graph(
    root: Node | Sequence[Node],
    rankdir: str = "LR",
    show_grad: bool = True,
    *,
    max_nodes: int | None = 300,
    group: GroupFn | None = None,
    show_data: bool = True,
    style: Callable[[Node], dict[str, str]] | None = None,
    literals: str = "inline",
) -> Drawing:
    """The graph that computed `root` (a node or a list of nodes) as a `Drawing`.

    rankdir     'LR' (inputs left) or 'TB' (inputs on top)
    show_grad   show `.grad` (and for tensors its norm and first entries)
    max_nodes   draw at most this many boxes, keeping those nearest the output (None: all)
    group       node -> group name or None; each group is drawn as one box. Unlabelled op
                results join the group of the labelled inputs they use, or of their inputs
                when those all agree. `by_module(model)` puts each layer in a box;
                `by_label_prefix()` groups labels like 'layers.0.weight'.
    literals    'inline': literal numbers sit on their op (`* 2.0`); 'nodes': boxes of their own
    style       node -> extra attributes (used by the step-through viewer to colour nodes;
                keys 'fill', 'border', 'op_fill', 'pen' (of the op), 'data', 'grad',
                'data_color', 'grad_color', 'data_width', 'width')
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be at least 1 (or None), got {max_nodes}")
    if literals not in ("inline", "nodes"):
        raise ValueError(f"draw_graph: literals must be 'inline' or 'nodes', got {literals!r}")
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    order = nd.walk(roots)
    lits = nd.literals(order) if literals == "inline" else set()
    names = nd.names(order, roots[0] if len(roots) == 1 else None, lits)
    groups = _assign_groups(order, group, {id(r) for r in roots}) if group else {}

    # a "unit" is what gets one box: a value (with its op) or a whole group
    def unit(n: Node) -> str:
        return "g:" + groups[id(n)] if id(n) in groups else f"n{id(n)}"

    kept = _nearest_units(roots, [n for n in order if id(n) not in lits], unit, max_nodes)
    dot = Drawing(
        "graph",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"arrowsize": "0.7"},
    )
    ids = {id(n): f"n{i}" for i, n in enumerate(order)}
    total_units = len({unit(n) for n in order if id(n) not in lits})
    dot.cut = total_units - len(kept)

    members: dict[str, list[Node]] = {}
    for n in order:
        if id(n) in groups:
            members.setdefault(groups[id(n)], []).append(n)
    group_ids = {g: f"g{i}" for i, g in enumerate(members)}

    def box(n: Node) -> str:  # the DOT id an arrow out of n starts from
        return group_ids[groups[id(n)]] if id(n) in groups else ids[id(n)]

    for gname, inside in members.items():
        if "g:" + gname in kept:
            title = getattr(group, "titles", {}).get(gname)
            dot.node(group_ids[gname], _group_label(f"{gname}: {title}" if title else gname,
                                                    inside), shape="box3d",
                     style="filled", fillcolor=GROUP_FILL)
    box_ids = set(group_ids.values())
    group_edges: set[tuple[str, str]] = set()
    cut_into: set[str] = set()

    def link(p: Node, head: str) -> None:  # an arrow from value p into the box `head`
        if id(p) in lits:  # its number is on the op
            return
        if unit(p) not in kept:
            cut_into.add(head)
            return
        tail = box(p)
        if tail in box_ids or head in box_ids:  # one arrow per pair of boxes
            if (tail, head) in group_edges:
                return
            group_edges.add((tail, head))
        dot.edge(tail, head)  # otherwise one per use: a*a gets two arrows

    for n in order:
        if unit(n) not in kept or id(n) in lits:
            continue
        if id(n) in groups:  # only arrows into the group's box from outside it
            for p in n._parents:
                if groups.get(id(p)) != groups[id(n)]:
                    link(p, box(n))
            continue
        extra = style(n) if style else {}
        dot.node(ids[id(n)], _value_label(n, names[id(n)], show_grad, show_data, extra),
                 shape="plaintext", margin="0")
        if n._op is None:
            continue
        op_id = ids[id(n)] + "op"
        rules = formula_lines(n, names, names.get(id(roots[0]), "L"))
        dot.node(op_id, nd.op_text(n, lits) or "?", shape="ellipse", style="filled",
                 tooltip="\n".join(rules) or nd.op_text(n),
                 fillcolor=extra.get("op_fill", OP_FILL), color=extra.get("border", "black"),
                 penwidth=extra.get("pen", "1"),
                 margin="0.02,0.02", height="0.3")
        for p in n._parents:
            link(p, op_id)
        dot.edge(op_id, ids[id(n)])
    if dot.cut:
        note = (f"{dot.cut} more nodes not drawn (max_nodes={max_nodes}): only the "
                f"{len(kept)} nearest the output are shown. Pass max_nodes=None to draw "
                "all, or group= to collapse modules.")
        dot.node("cut", f"... {dot.cut} nodes cut", shape="note",
                 style="filled,dashed", fillcolor="#fee2e2")
        for head in sorted(cut_into):
            dot.edge("cut", head, style="dashed")
        dot.attr(label=note, labelloc="t")
    return dot


draw_dot = draw_graph  # the name micrograd's notebooks use


def _assign_groups(order: list[Node], group: GroupFn, roots: set[int]) -> dict[int, str]:
    """id(node) -> group. Nodes the function leaves out join a group when they use that
    group's own values (its parameters, or results computed only from them, like W.T), else
    when all their inputs are in one group (an activation after its layer)."""
    out: dict[int, str] = {}
    own: set[int] = set()  # the group's parameters and what is computed only from them
    for n in order:  # parents come first, so their groups are known
        if id(n) in roots:
            continue
        name = group(n)
        if name is not None:
            own.add(id(n))
        elif n._op is not None:
            parents = [out.get(id(p)) for p in n._parents]
            from_own = {out[id(p)] for p in n._parents if id(p) in own}
            if len(from_own) == 1:
                name = from_own.pop()
                if all(id(p) in own for p in n._parents):
                    own.add(id(n))
            elif parents and all(parents) and len(set(parents)) == 1:
                name = parents[0]
        if name:
            out[id(n)] = str(name)
    return out


def _nearest_units(
    roots: list[Node], order: list[Node], unit: Callable[[Node], str], max_nodes: int | None
) -> set[str]:
    """The units to draw: all of them, or the `max_nodes` nearest the roots (breadth first)."""
    if max_nodes is None:
        return {unit(n) for n in order}
    drawn = {id(n) for n in order}  # literal numbers are not (they sit on their op)
    kept: set[str] = set()
    seen: set[int] = set()
    queue = deque(roots)
    while queue and len(kept) < max_nodes:
        n = queue.popleft()
        if id(n) in seen:
            continue
        seen.add(id(n))
        kept.add(unit(n))
        queue.extend(p for p in n._parents if id(p) in drawn)
    return kept


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _value_label(n: Node, name: str, show_grad: bool, show_data: bool, extra: dict) -> str:
    raw = n._raw()
    array = nd.is_array(raw)
    if extra.get("fill"):
        fill = extra["fill"]
    elif not n.requires_grad:
        fill = CONST_FILL
    else:
        fill = LEAF_FILL if n._op is None else RESULT_FILL
    cells = [f"<B>{_esc(name)}</B>" + (f" {_esc(nd.shape_dtype(n))}" if array else "")]
    if show_data:
        text = extra.get("data", ("" if array else "data ") + nd.fmt(raw, shape=False))
        cells.append(_cell(text, extra.get("data_width"), extra.get("data_color", "#000000")))
    if show_grad and n.requires_grad:
        g = nd.grad_of(n)
        color = "#b91c1c" if g is not None else "#9ca3af"  # interior tensors keep no grad
        text = "grad " + (nd.fmt(g, shape=False) if g is not None else "not kept")
        text = extra.get("grad", text)
        cells.append(_cell(text, extra.get("width"), extra.get("grad_color", color)))
    cells = [c if c.startswith("<TD") else f"<TD>{c}</TD>" for c in cells]
    rows = "".join(f"<TR>{c}</TR>" for c in cells) if array else f"<TR>{''.join(cells)}</TR>"
    border = extra.get("border", "#000000")  # a colour, not a width: the layout stays put
    return (f'<<TABLE BORDER="1" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
            f'BGCOLOR="{fill}" COLOR="{border}">{rows}</TABLE>>')


def _cell(text: str, width: Any, color: str) -> str:
    """A table cell; a fixed width keeps the layout still while the text changes (stepper)."""
    size = f' WIDTH="{width}" HEIGHT="20" FIXEDSIZE="TRUE"' if width else ""
    return f'<TD{size}><FONT COLOR="{color}">{_esc(text)}</FONT></TD>'


def _group_label(name: str, inside: list[Node]) -> str:
    ops = Counter(n._op.name for n in inside if n._op is not None)
    params = sum(1 for n in inside if n._op is None)
    top = ", ".join(f"{op} x{k}" for op, k in ops.most_common(4))
    more = ", ..." if len(ops) > 4 else ""
    return f"{name}\\n{len(inside)} nodes ({params} inputs)\\n{top}{more}"
