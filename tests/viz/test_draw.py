"""Drawings: a box per value, an oval per op, arrows in data-flow order; big graphs stay small."""

import re
import time

import graphviz
import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import Drawing, by_label_prefix, by_module, draw_dot, draw_graph

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def parse(source: str):
    """(boxes: name -> DOT id, ops: DOT id -> op label, edges: list of (tail, head))."""
    boxes = {m.group(2): m.group(1)
             for m in re.finditer(r"^\s*(\w+) \[label=<.*?<B>([^<]+)</B>", source, re.M)}
    ops = {m.group(1): m.group(2).strip('"')
           for m in re.finditer(r"^\s*(\w+op) \[label=(\"[^\"]*\"|\S+)", source, re.M)}
    edges = re.findall(r"^\s*(\w+) -> (\w+)", source, re.M)
    return boxes, ops, edges


def abc():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    d = a * b
    d.label = "d"
    L = d + c
    L.label = "L"
    return a, b, c, d, L


def test_value_boxes_op_ovals_and_data_flow_edges():
    *_, L = abc()
    boxes, ops, edges = parse(draw_graph(L).source)
    assert set(boxes) == {"a", "b", "c", "d", "L"}
    (mul,) = [i for i, name in ops.items() if name == "*"]
    (add,) = [i for i, name in ops.items() if name == "+"]
    assert sorted(edges) == sorted([
        (boxes["a"], mul), (boxes["b"], mul), (mul, boxes["d"]),
        (boxes["d"], add), (boxes["c"], add), (add, boxes["L"]),
    ])


def test_labels_show_data_and_grad_and_grad_can_be_hidden():
    a, b, c, d, L = abc()
    L.backward()
    src = draw_graph(L).source
    assert "data 2.0" in src and "data -3.0" in src and "data -6.0" in src
    assert "grad -3.0" in src and "grad 2.0" in src  # dL/da = b, dL/db = a
    assert "grad" not in draw_graph(L, show_grad=False).source


def test_a_value_used_twice_gets_two_arrows_and_constants_are_shown():
    x = Value(3.0, label="x")
    y = x * x + 2 * x ** 2
    boxes, ops, edges = parse(draw_graph(y).source)
    (square,) = [i for i, name in ops.items() if name == "** 2.0"]  # the exponent is shown
    mul_ids = [i for i, name in ops.items() if name == "*"]
    xx = [i for i in mul_ids if edges.count((boxes["x"], i)) == 2]
    assert len(xx) == 1, "x * x draws one arrow per use"
    assert (boxes["x"], square) in edges
    assert "2.0 *" in ops.values(), "the literal 2 is shown on its op"
    assert "data 2.0" in draw_graph(y, literals="nodes").source  # or as a box of its own


def test_rankdir_and_alias():
    *_, L = abc()
    assert "rankdir=TB" in draw_dot(L, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(L, rankdir="sideways")


def test_returns_a_graphviz_digraph_that_renders_svg_and_png(tmp_path):
    *_, L = abc()
    d = draw_graph(L)
    assert isinstance(d, graphviz.Digraph) and isinstance(d, Drawing)
    svg = d._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert re.search(r">data (-|&#45;)6\.0<", svg), "the labels are in the picture"
    bundle = d._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]
    assert d._repr_mimebundle_(include=["image/png"])["image/png"][:8] == PNG_MAGIC
    assert d.save_svg(tmp_path / "g.svg").read_text().rstrip().endswith("</svg>")
    assert d.save_png(tmp_path / "g.png").read_bytes()[:8] == PNG_MAGIC
    out = d.render(tmp_path / "g", format="png", cleanup=True)
    assert out.endswith(".png") and open(out, "rb").read(8) == PNG_MAGIC
    assert not (tmp_path / "g").exists(), "cleanup removes the DOT source"


def chain(n):
    x = Value(0.5, label="x")
    y = x
    for _ in range(n):
        y = y * 1.01 + 0.1
    return x, y


def test_max_nodes_keeps_the_nodes_nearest_the_output_and_says_what_it_cut():
    x, y = chain(50)  # 1 + 50*4 values (two constants and two results per step)
    inline = draw_graph(y, max_nodes=10)
    assert inline.cut == 101 - 10, "the constants are literals on their ops, not boxes"
    d = draw_graph(y, max_nodes=10, literals="nodes")
    boxes, ops, edges = parse(d.source)
    assert d.cut == 201 - 10
    assert len(boxes) == 10
    assert "x" not in boxes, "the input is farthest from the output, so it is cut"
    assert f"{d.cut} more nodes not drawn (max_nodes=10)" in d.source
    assert any(tail == "cut" for tail, _ in edges), "the cut is drawn where it happened"
    full = draw_graph(y, max_nodes=None)
    assert full.cut == 0 and "not drawn" not in full.source
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(y, max_nodes=0)


def mlp_on_a_batch(batch=32, hidden=8):
    """A Value MLP whose parameters are labelled 'layers.<i>.<name>', run on a batch."""
    import random

    rng = random.Random(0)
    layers = []
    for i, (nin, nout) in enumerate([(2, hidden), (hidden, 1)]):
        w = [[Value(rng.uniform(-1, 1), label=f"layers.{i}.w{r}_{c}") for c in range(nin)]
             for r in range(nout)]
        b = [Value(0.0, label=f"layers.{i}.b{r}") for r in range(nout)]
        layers.append((w, b))
    loss = Value(0.0, label="zero")
    for _ in range(batch):
        h = [Value(rng.uniform(-1, 1)) for _ in range(2)]
        for w, b in layers:
            h = [sum((wi * hi for wi, hi in zip(row, h)), bias).tanh() for row, bias in zip(w, b)]
        loss = loss + (h[0] - 1.0) ** 2
    loss.label = "loss"
    return loss


def test_grouping_collapses_each_module_into_one_box_and_keeps_the_flow():
    loss = mlp_on_a_batch(batch=2)
    d = draw_graph(loss, group=by_label_prefix(), max_nodes=None)
    groups = dict(re.findall(r"^\s*(g\d+) \[label=\"(layers\.\d)", d.source, re.M))
    assert sorted(groups.values()) == ["layers.0", "layers.1"]
    by_name = {v: k for k, v in groups.items()}
    edges = re.findall(r"^\s*(\w+) -> (\w+)", d.source, re.M)
    assert (by_name["layers.0"], by_name["layers.1"]) in edges
    assert edges.count((by_name["layers.0"], by_name["layers.1"])) == 1, "one arrow per pair"
    assert "layers.0.w" not in d.source, "the parameters are inside the box"
    assert "<B>loss</B>" in d.source, "the output is never hidden in a group"


def test_an_mlp_on_a_batch_draws_quickly_when_grouped_or_cut():
    loss = mlp_on_a_batch(batch=64)
    start = time.perf_counter()
    d = draw_graph(loss, group=by_label_prefix(), max_nodes=150)
    svg = d.pipe("svg")
    assert time.perf_counter() - start < 30
    assert b"<svg" in svg
    assert len(parse(d.source)[0]) <= 150
    plain = draw_graph(loss)  # no options at all: the default max_nodes keeps it drawable
    assert plain.cut > 0 and b"<svg" in plain.pipe("svg")
    assert time.perf_counter() - start < 60


def test_a_custom_group_function_decides_membership():
    a, b, c, d, L = abc()
    drawing = draw_graph(L, group=lambda n: "inner" if n.label in ("a", "b") else None)
    boxes, _, _ = parse(drawing.source)
    assert set(boxes) == {"c", "L"}, "d = a*b uses only grouped inputs, so it joins the group"
    assert '"inner' in drawing.source


def test_by_module_gives_each_layer_of_a_scalar_mlp_a_box():
    from tinygrad_edu.nn import MLP

    model = MLP(2, [8, 8, 1])
    loss = sum(((model([0.1 * i, -0.3 * i]) - 1.0) ** 2 for i in range(16)), Value(0.0))
    start = time.perf_counter()
    d = draw_graph(loss, group=by_module(model))
    assert b"<svg" in d.pipe("svg")
    assert time.perf_counter() - start < 30
    boxes = dict(re.findall(r'^\s*(g\d+) \[label="(layers\.\d)', d.source, re.M))
    assert sorted(boxes.values()) == ["layers.0", "layers.1", "layers.2"]
    g = {name: gid for gid, name in boxes.items()}
    edges = re.findall(r"^\s*(\w+) -> (\w+)", d.source, re.M)
    assert (g["layers.0"], g["layers.1"]) in edges and (g["layers.1"], g["layers.2"]) in edges
    assert not re.search(r"op \[label=relu", d.source), "each neuron's relu is in its layer"
    assert "layers.1: Layer(8\u21928)" in d.source


def test_by_module_on_tensor_layers_boxes_each_linear():
    import numpy as np

    from tinygrad_edu.nn import Linear, ReLU, Sequential
    from tinygrad_edu.tensor import Tensor

    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    out = model(Tensor(np.ones((8, 3)))).sum()
    d = draw_graph(out, group=by_module(model))
    boxes = dict(re.findall(r'^\s*(g\d+) \[label="(\d)', d.source, re.M))
    assert sorted(boxes.values()) == ["0", "2"], "the parameter-free ReLU has no box of its own"
    assert not re.search(r"op \[label=(matmul|permute)", d.source), "W.T and x @ W.T are inside"
    assert by_module(model, depth=1)(model[0].weight) == "0"
    titles = re.findall(r'^\s*g\d+ \[label="([^\\]+)', d.source, re.M)
    assert sorted(titles) == ["0: Linear(3\u21924)", "2: Linear(4\u21922)"], "type and shape"


def test_literal_numbers_sit_on_their_op_unless_asked_for_as_nodes():
    a = Value(3.0, label="a")
    y = a * 2.0 + 1.0
    y.label = "y"
    boxes, ops, _ = parse(draw_graph(y).source)
    assert sorted(boxes) == ["a", "v1", "y"], "no boxes for 2.0 and 1.0"
    assert sorted(ops.values()) == ["* 2.0", "+ 1.0"]
    boxes, ops, _ = parse(draw_graph(y, literals="nodes").source)
    assert len(boxes) == 5 and sorted(ops.values()) == ["*", "+"]
