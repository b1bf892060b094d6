"""The Module calls inside a graph: which nodes each call computed, and how calls nest.

A model called to build the graph (a neuron inside a layer inside an MLP) leaves a record on
the nodes it returned (nn/module.py). From there each call's nodes are found by walking back
from its outputs until the walk leaves the call: at an input that is not the module's own
parameter, or at a node another (outside) call returned. The step-through draws one box per
call, nested as the calls were, and lets the learner collapse and expand them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .draw import describe

__all__ = ["CallGroup", "call_groups"]

Node = Any


@dataclass
class CallGroup:
    """One Module call: its title, the ids of the nodes it computed, the call it is inside."""

    key: str
    title: str
    members: set[int]
    parent: str | None = None


def call_groups(nodes: list[Node]) -> list[CallGroup]:
    """The calls that computed some of `nodes`, outer calls first (a call around the whole
    graph included); [] when no Module was called."""
    from ..nn.module import calls_that_made

    drawn = {id(n) for n in nodes}
    outputs: dict[int, list[Node]] = {}
    module_of: dict[int, Any] = {}
    made_by: dict[int, set[int]] = {}
    for n in nodes:
        for m, call in calls_that_made(n):
            outputs.setdefault(call, []).append(n)
            module_of[call] = m
            made_by.setdefault(id(n), set()).add(id(m))
    if not outputs:
        return []
    inside = {call: {id(x) for _, x in m.named_modules()} for call, m in module_of.items()}
    names = _qualified_names(list(module_of.values()))
    groups: list[CallGroup] = []
    number: dict[str, int] = {}  # group key -> its call number (calls are numbered in order)
    for call, outs in outputs.items():
        m = module_of[call]
        params = {id(p) for p in m.parameters()}
        out_ids = {id(o) for o in outs}
        members: set[int] = set()
        stack = list(outs)
        while stack:
            n = stack.pop()
            if id(n) in members or id(n) not in drawn:
                continue
            if n._op is None and id(n) not in params:
                continue  # an input of the call, not its own parameter
            if id(n) not in out_ids and not made_by.get(id(n), set()) <= inside[call]:
                continue  # computed by a call outside this one (an earlier layer)
            members.add(id(n))
            stack.extend(n._parents)
        name = names.get(id(m), "")
        title = f"{name}: {describe(m)}" if name else describe(m)
        number[f"g{len(groups)}"] = call
        groups.append(CallGroup(f"g{len(groups)}", title, members))
    # outer (bigger) calls first; of two calls with the same nodes (a layer that returns its
    # one neuron's output) the outer one, which returned last
    groups.sort(key=lambda g: (-len(g.members), -number[g.key]))
    for i, g in enumerate(groups):
        around = [h for h in groups[:i] if g.members < h.members or
                  (g.members == h.members and h is not g)]
        if around:
            g.parent = min(around, key=lambda h: len(h.members)).key
    _one_home(groups, number)
    return [g for g in groups if g.members]


def _one_home(groups: list[CallGroup], number: dict[str, int]) -> None:
    """A parameter used by several calls (a model run on two inputs) stays in the boxes of
    its first call only: boxes must nest or be apart, or a box would stretch across the
    picture to reach it (and a collapsed one would hide another call's nodes)."""
    by_key = {g.key: g for g in groups}

    def lineage(g: CallGroup) -> set[str]:
        out = {g.key}
        while g.parent is not None:
            g = by_key[g.parent]
            out.add(g.key)
        return out

    holders: dict[int, list[CallGroup]] = {}
    for g in groups:
        for n in g.members:
            holders.setdefault(n, []).append(g)
    for n, hs in holders.items():
        inner = [g for g in hs if not any(h is not g and h.members < g.members for h in hs)]
        if len(inner) < 2:
            continue
        keep = lineage(min(inner, key=lambda g: number[g.key]))
        for g in hs:
            if g.key not in keep:
                g.members.discard(n)


def _qualified_names(modules: list[Any]) -> dict[int, str]:
    """id(module) -> its fullest name within the modules seen ('layers.0.neurons.1')."""
    out: dict[int, str] = {}
    for top in modules:
        for name, m in top.named_modules():
            if len(name) > len(out.get(id(m), "")):
                out[id(m)] = name
    return out
