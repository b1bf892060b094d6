"""One layout for a whole step-through: boxes sized for their longest text, placed by dot once.

The player changes only colours and texts between frames, so the graph is laid out a single
time (one run of `dot -Tplain`, which gives positions and edge curves) and drawn as one SVG
whose elements the frames restyle. Each value is a box of cells (name, data, grad); each op
an oval; the direction (left to right or top to bottom) is chosen for the graph's shape.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .render import render_dot

__all__ = ["CHAR", "FONT", "Group", "Item", "Layout", "choose_rankdir", "lay_out"]

FONT = 13  # CSS px of the graph's text at scale 1
CHAR = 0.62 * FONT  # the width of one monospace character
ROW = FONT + 9  # the height of one row of text
PAD = 10  # horizontal padding of a cell


@dataclass
class Item:
    """One drawn thing: a value's box (cells side by side, or stacked for a tensor) or an op."""

    key: str  # unique id in the SVG
    kind: str  # 'value' or 'op'
    cells: list[tuple[str, int]]  # (role, width in characters): role is name/data/grad/op
    stacked: bool = False  # tensors stack their cells; scalars put them in one row
    x: float = 0.0  # centre, px
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0

    def size(self) -> tuple[float, float]:
        widths = [chars * CHAR + PAD for _, chars in self.cells]
        if self.kind == "op":
            return widths[0] + 14, ROW + 2
        if self.stacked:
            return max(widths), ROW * len(self.cells)
        return sum(widths), ROW


@dataclass
class Group:
    """A box around the items one Module call computed (a neuron, a layer), maybe nested."""

    key: str
    title: str  # 'layers.0.neurons.1: Neuron(3→1)'
    items: list[str]  # the items directly inside (not in a nested group)
    parent: str | None = None
    rect: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x, y, w, h (px)
    members: list[str] = field(default_factory=list)  # every item inside, nested ones too


@dataclass
class Layout:
    """Where every item is, the edge curves between them, and the picture's size (px)."""

    items: dict[str, Item]
    edges: list[tuple[str, str, list[tuple[float, float]]]] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    rankdir: str = "LR"
    groups: dict[str, Group] = field(default_factory=dict)


def choose_rankdir(items: dict[str, Item], edges: list[tuple[str, str]],
                   view: tuple[float, float] = (960.0, 560.0)) -> str:
    """'LR' or 'TB', whichever needs less shrinking to fit a `view`-sized window.

    Estimated from the graph's depth (the longest path) and breadth (the most items at one
    depth), with the items' average size: long chains read left to right, wide graphs down.
    """
    rank: dict[str, int] = {}
    parents: dict[str, list[str]] = {k: [] for k in items}
    for tail, head in edges:
        parents[head].append(tail)
    for key in items:  # items come parents first
        rank[key] = 1 + max((rank[p] for p in parents[key] if p in rank), default=-1)
    depth = 1 + max(rank.values(), default=0)
    per_rank: dict[int, int] = {}
    for r in rank.values():
        per_rank[r] = per_rank.get(r, 0) + 1
    breadth = max(per_rank.values(), default=1)
    sizes = [it.size() for it in items.values()] or [(1.0, 1.0)]
    w = sum(s[0] for s in sizes) / len(sizes)
    h = sum(s[1] for s in sizes) / len(sizes)
    lr = max(depth * (w + 30) / view[0], breadth * (h + 14) / view[1])
    tb = max(breadth * (w + 16) / view[0], depth * (h + 36) / view[1])
    return "LR" if lr <= tb else "TB"


def lay_out(items: dict[str, Item], edges: list[tuple[str, str]], rankdir: str,
            groups: dict[str, Group] | None = None) -> Layout:
    """Place `items` (in data-flow order) and route `edges` with one run of dot; `groups`
    (outer ones first) become boxes that keep their items together."""
    groups = groups or {}
    lines = [f"digraph g {{ rankdir={rankdir}; nodesep=0.18; ranksep=0.3;",
             'node [shape=box, fixedsize=true, label=""];']
    for key, it in items.items():
        it.w, it.h = it.size()
        lines.append(f'"{key}" [width={it.w / 72:.4f}, height={it.h / 72:.4f}'
                     + (", shape=ellipse" if it.kind == "op" else "") + "];")

    def cluster(g: Group) -> list[str]:
        inner = [c for c in groups.values() if c.parent == g.key]
        body = [f'"{k}";' for k in g.items]
        for c in inner:
            body += cluster(c)
        return [f'subgraph "cluster_{g.key}" {{ label=" "; fontsize={FONT + 4}; margin=10;',
                *body, "}"]

    for g in groups.values():
        if g.parent is None:
            lines += cluster(g)
    lines += [f'"{t}" -> "{h}";' for t, h in edges]
    lines.append("}")
    plain = render_dot("\n".join(lines), "plain", timeout=600.0).decode("utf-8")
    layout = Layout(items, rankdir=rankdir)
    top = 0.0
    for row in plain.splitlines():
        parts = _split(row)
        if not parts:
            continue
        if parts[0] == "graph":
            layout.width, top = float(parts[2]) * 72, float(parts[3]) * 72
            layout.height = top
        elif parts[0] == "node" and parts[1] in items:
            it = items[parts[1]]
            it.x, it.y = float(parts[2]) * 72, top - float(parts[3]) * 72
        elif parts[0] == "edge":
            n = int(parts[3])
            xy = [float(v) * 72 for v in parts[4:4 + 2 * n]]
            points = [(xy[i], top - xy[i + 1]) for i in range(0, len(xy), 2)]
            layout.edges.append((parts[1], parts[2], points))
    for g in reversed(list(groups.values())):  # inner groups first: outer ones contain them
        inner = [c for c in groups.values() if c.parent == g.key]
        g.members = list(g.items) + [k for c in inner for k in c.members]
        boxes = [(it.x - it.w / 2, it.y - it.h / 2, it.x + it.w / 2, it.y + it.h / 2)
                 for it in (items[k] for k in g.items)] + [
                (c.rect[0], c.rect[1], c.rect[0] + c.rect[2], c.rect[1] + c.rect[3])
                for c in inner]
        if not boxes:
            continue
        x0, y0 = min(b[0] for b in boxes) - 6, min(b[1] for b in boxes) - ROW - 2
        x1, y1 = max(b[2] for b in boxes) + 6, max(b[3] for b in boxes) + 6
        g.rect = (x0, y0, x1 - x0, y1 - y0)
    layout.groups = groups
    return layout


def _split(row: str) -> list[str]:
    """A line of dot's plain output into fields (names may be quoted)."""
    out, word, quoted = [], "", False
    for ch in row:
        if ch == '"':
            quoted = not quoted
        elif ch == " " and not quoted:
            if word:
                out.append(word)
            word = ""
        else:
            word += ch
    if word:
        out.append(word)
    return out


def esc(text: str) -> str:
    return html.escape(text, quote=True)
