"""The step-through: frames for every forward and backward step, and the offline HTML player."""

import json
import re

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import Stepper, step_through, trace_forward
from tinygrad_edu.viz.stepper import CURRENT


def example():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    L = (a * b + c).tanh() + a
    return a, b, c, L


def player_json(html):
    raw = re.search(r'<script type="application/json" class="tge-json">(.*?)</script>', html,
                    re.S).group(1)
    return json.loads(raw)


def test_one_frame_for_the_inputs_each_op_each_backward_step_and_the_end():
    a, b, c, L = example()
    s = step_through(L)
    forward, backward = s.forward_trace, s.backward_trace
    assert len(forward) == 4 and len(backward) == 4
    assert len(s) == 1 + 4 + 4 + 1
    titles = [f.title for f in s.frames]
    assert titles[0] == "the inputs" and titles[1] == "forward 1/4"
    assert titles[5] == "backward 1/4" and titles[-1] == "done"
    assert s.frames[1].explanation == trace_forward(L)[0].explanation


def test_the_current_node_is_flagged_and_the_inputs_it_feeds_receive():
    a, b, c, L = example()
    s = step_through(L)
    first_backward = s.frames[5]
    assert first_backward.states[id(L)].flags == "cur"
    assert first_backward.states[id(a)].flags == "recv"  # L = tanh(..) + a
    assert first_backward.states[id(b)].flags == ""


def test_a_node_is_complete_exactly_when_every_consumer_has_contributed():
    """Interior nodes and leaves alike: `a` feeds '*' and the last '+'; so it stays partial
    until '*' has run, while tanh's input is complete as soon as tanh (its only consumer) has."""
    a, b, c, L = example()
    s = step_through(L)
    backward = [f for f in s.frames if f.phase == "b"]
    consumers = {}
    for n in s.nodes:
        for p in n._parents:
            consumers.setdefault(id(p), set()).add(id(n))
    for k, frame in enumerate(backward[:-1], start=1):
        ran = {id(st.node) for st in s.backward_trace[:k]}
        for n in s.drawn:
            complete = n is L or (id(n) in consumers and consumers[id(n)] <= ran)
            assert (frame.states[id(n)].phase == "complete") == complete, (k, s.names[id(n)])
    step1 = backward[0]
    assert step1.states[id(a)].grad.startswith("grad so far")
    assert all(backward[-1].states[id(n)].phase == "complete" for n in (a, b, c, L))
    assert backward[-1].states[id(a)].grad == f"grad {a.grad:.4g}"


def test_gradients_fill_in_as_they_become_known_and_end_at_grad():
    a, b, c, L = example()
    s = step_through(L)
    assert dict(s.frames[0].grads) == {"a": None, "b": None, "c": None}
    known = [sum(g is not None for _, g in f.grads) for f in s.frames]
    assert known == sorted(known), "a gradient once known stays known"
    assert dict(s.frames[-1].grads) == {"a": a.grad, "b": b.grad, "c": c.grad}


def test_forward_only_changes_nothing():
    a, b, c, L = example()
    s = Stepper(L, backward=False)
    assert len(s) == 5 and a.grad == 0.0
    L.backward()  # the graph is still there


def test_step_through_after_backward_replays_the_pass_and_leaves_grad_alone():
    a, b, c, L = example()
    L.backward()
    grads = (a.grad, b.grad, c.grad)
    s = step_through(L)
    assert (a.grad, b.grad, c.grad) == grads, "the replay changes no .grad"
    assert dict(s.frames[-1].grads) == {"a": grads[0], "b": grads[1], "c": grads[2]}
    with pytest.raises(RuntimeError, match="retain_graph"):
        L.backward()  # still freed, as backward() left it


def test_big_graphs_are_refused_with_advice():
    x = Value(1.0, label="x")
    for _ in range(100):
        x = x * 1.0
    with pytest.raises(ValueError, match="draw_graph"):
        step_through(x, max_steps=50)


def test_literals_sit_on_their_op_unless_asked_for_as_nodes():
    a = Value(3.0, label="a")
    y = a * 2.0 + 1.0
    s = step_through(y)
    assert [n for n in s.drawn if n._op is None] == [a], "2.0 and 1.0 are no nodes"
    texts, _ = s.player_data()
    ops = sorted(t[0] for k, t in texts.items() if k.startswith("o"))
    assert ops == ["* 2.0", "+ 1.0"]
    assert "1.0" not in dict(s.frames[-1].grads)
    y = a * 2.0 + 1.0
    kept = step_through(y, literals="nodes")
    assert len([n for n in kept.drawn if n._op is None]) == 3


def test_the_player_is_one_self_contained_html_file(tmp_path):
    a, b, c, L = example()
    path = step_through(L).save_html(tmp_path / "steps.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1, "the graph is drawn once; frames only restyle it"
    assert "<?xml" not in page
    for pattern in (r"<script[^>]+src=", r"<link\b", r"@import", r"url\(\s*['\"]?http"):
        assert not re.search(pattern, page), f"no external resources ({pattern})"
    hosts = set(re.findall(r"https?://([^/\"' ]+)", page))
    assert hosts <= {"www.w3.org"}, f"only XML namespace names, no links: {hosts}"
    for control in ("tge-prev", "tge-next", "tge-play", "tge-fit", "tge-zin", "tge-export",
                    "ArrowRight", "ArrowLeft", "tge-legend", "tge-help"):
        assert control in page
    data = player_json(page)
    assert len(data["frames"]) == 10
    assert "dL/da += dL/dL" in data["frames"][5]["e"], "the chain-rule lines are in the frames"


def test_frames_store_only_what_changed_and_rebuild_every_state():
    *_, L = example()
    s = step_through(L)
    texts, data = s.player_data()
    frames, nodes = data["frames"], data["nodes"]
    assert len(frames[0]["s"]) == len(nodes), "the first frame sets every item"
    assert max(len(f["s"]) for f in frames[1:]) < len(nodes), "later frames only changes"
    state = {}
    for k, f in enumerate(frames):
        state.update({row[0]: row for row in f["s"]})
        for nd_info, row in zip(nodes, [state[i] for i in range(len(nodes))]):
            if nd_info["op"]:
                continue
            n = next(n for n in s.drawn if s.names[id(n)] == nd_info["n"])
            st = s.frames[k].states[id(n)]
            assert (row[2], row[3], row[4], row[5]) == (st.data, st.grad, st.full, st.flags)


def test_a_300_step_scalar_mlp_is_a_small_file():
    from tinygrad_edu import random as tge_random
    from tinygrad_edu.nn.scalar import MLP

    tge_random.manual_seed(0)
    model = MLP(3, [4, 4, 1])
    loss = sum(((model(x) - y) ** 2 for x, y in [([2.0, 3.0, -1.0], 1.0),
                                                  ([3.0, -1.0, 0.5], -1.0)]), Value(0.0))
    s = step_through(loss)
    assert len(s) >= 300
    assert len(s.to_html().encode()) < 500_000


def test_parameters_are_named_from_the_module_that_was_called():
    from tinygrad_edu.nn.scalar import MLP

    model = MLP(2, [2, 1])
    out = model([1.0, -2.0])
    s = step_through(out)
    names = set(s.names.values())
    assert {"layers.0.neurons.0.w.0", "layers.1.neurons.0.b"} <= names
    out.label = ""


def test_notebook_display_is_an_html_fragment():
    *_, L = example()
    fragment = step_through(L)._repr_html_()
    assert fragment.startswith('<div class="tge-player"') and "<html" not in fragment
    ids = set(re.findall(r'id="(tge-[0-9a-f]+)"', fragment))
    assert len(ids) == 1 and f'"{ids.pop()}"' in fragment, "the script finds its own player"


def test_a_frame_can_be_drawn_on_its_own():
    *_, L = example()
    s = step_through(L)
    d = s.drawing(5)
    assert CURRENT in d.source
    assert b"<svg" in d.pipe("svg")


def test_each_module_call_is_a_box_nested_as_the_calls_were():
    from tinygrad_edu import random as tge_random
    from tinygrad_edu.nn.scalar import MLP

    tge_random.manual_seed(0)
    model = MLP(2, [2, 1])
    out = model([1.0, -2.0])
    s = step_through(out)
    groups = {g.title: g for g in s.layout().groups.values()}
    assert set(groups) == {"MLP", "layers.0: Layer(2\u21922)", "layers.1: Layer(2\u21921)",
                           "layers.0.neurons.0: Neuron(2\u21921)",
                           "layers.0.neurons.1: Neuron(2\u21921)",
                           "layers.1.neurons.0: Neuron(2\u21921)"}
    by_key = {g.key: g for g in groups.values()}
    neuron = groups["layers.0.neurons.1: Neuron(2\u21921)"]
    assert by_key[neuron.parent].title == "layers.0: Layer(2\u21922)"
    assert by_key[by_key[neuron.parent].parent].title == "MLP"
    w = model.layers[0].neurons[1].w[0]
    (i,) = [i for i, n in enumerate(s.drawn) if n is w]
    assert f"v{i}" in neuron.members and f"v{i}" not in groups["layers.1: Layer(2\u21921)"].members
    x, y, bw, bh = neuron.rect
    item = s.layout().items[f"v{i}"]
    assert x <= item.x - item.w / 2 and item.x + item.w / 2 <= x + bw, "the box holds its items"


def test_boxes_nest_or_stay_apart_when_a_model_is_called_twice():
    """The parameters both calls use belong to the first call's boxes only; a layer that
    returns its one neuron's output is the box around that neuron, not inside it."""
    from tinygrad_edu import Value
    from tinygrad_edu import random as tge_random
    from tinygrad_edu.nn.scalar import MLP

    tge_random.manual_seed(0)
    model = MLP(2, [2, 1])
    loss = sum(((model(x) - y) ** 2 for x, y in [([1.0, -2.0], 1.0), ([0.5, 3.0], -1.0)]),
               Value(0.0))
    s = step_through(loss)
    layout = s.layout()
    groups = list(layout.groups.values())
    by_key = {g.key: g for g in groups}
    assert sum(g.title == "MLP" for g in groups) == 2, "one box per call"

    def lineage(g):
        out = {g.key}
        while g.parent is not None:
            g = by_key[g.parent]
            out.add(g.key)
        return out

    for g in groups:
        for h in groups:
            common = set(g.members) & set(h.members)
            if common and g is not h:
                assert g.key in lineage(h) or h.key in lineage(g), \
                    f"{g.title} and {h.title} share {sorted(common)} without nesting"
    w = model.layers[0].neurons[0].w[0]
    (i,) = [i for i, n in enumerate(s.drawn) if n is w]
    holders = [g for g in groups if f"v{i}" in g.members]
    assert {g.title for g in holders} == {"MLP", "layers.0: Layer(2\u21922)",
                                          "layers.0.neurons.0: Neuron(2\u21921)"}
    assert len(holders) == 3, "the first call's boxes, not the second's"
    for g in groups:
        if g.title == "layers.1.neurons.0: Neuron(2\u21921)":
            assert by_key[g.parent].title == "layers.1: Layer(2\u21921)"
            x, y, bw, bh = g.rect
            px, py, pw, ph = by_key[g.parent].rect
            assert px <= x and x + bw <= px + pw and py <= y and y + bh <= py + ph


def test_a_freed_tensor_graph_is_drawn_as_it_was_built():
    """backward() swaps a Tensor graph's parents for husks; the player's edges, boxes and
    formulas are those of the graph as built, the same as with retain_graph=True."""
    import numpy as np

    from tinygrad_edu import nn
    from tinygrad_edu import random as tge_random
    from tinygrad_edu.tensor import Tensor

    def build():
        tge_random.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
        return (model(Tensor(np.array([[0.5, -1.0], [1.5, 2.0]]))) ** 2).mean()

    freed, kept = step_through(build()), step_through(build(), retain_graph=True)
    a, b = freed.layout(), kept.layout()
    ops = sum(1 for n in freed.drawn if n._op is not None)
    drawn = {id(n) for n in freed.drawn}
    parents = sum(id(p) in drawn for _, ps, _ in freed._built.values() for p in ps)
    assert len(a.edges) == ops + parents, "an edge out of each op, and in from each input"
    assert [(t, h) for t, h, _ in a.edges] == [(t, h) for t, h, _ in b.edges]
    assert [(g.title, g.members) for g in a.groups.values()] == \
        [(g.title, g.members) for g in b.groups.values()]
    assert [n["d"] for n in freed.player_data()[1]["nodes"]] == \
        [n["d"] for n in kept.player_data()[1]["nodes"]], "the same formulas on hover"
    assert any(type(p).__name__ == "FreedNode" for n in freed.drawn for p in n._parents), \
        "reading it leaves the graph freed"
