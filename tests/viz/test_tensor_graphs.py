"""The visualizer on Tensor graphs: shapes and summaries instead of every number."""

import ast
import json
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.autograd.graph import topological_order
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.viz import by_label_prefix, draw_graph, step_through, trace_backward
from tinygrad_edu.viz.draw import CONST_FILL


def named(t, label):
    t.label = label
    return t


def layer_graph():
    x = named(Tensor(np.arange(6.0).reshape(2, 3)), "x")
    W = named(Tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True), "W")
    b = named(Tensor(np.array([0.1, -0.2, 0.3, 0.0]), requires_grad=True), "b")
    h = named((x @ W + b).tanh(), "h")
    loss = named((h * h).sum(), "loss")
    return x, W, b, h, loss


def test_boxes_show_shape_dtype_norm_and_first_entries():
    x, W, b, h, loss = layer_graph()
    loss.backward()
    src = draw_graph(loss).source
    assert "<B>W</B> (3, 4) float64" in src
    assert "<B>x</B> (2, 3) float64" in src
    assert "norm 7.416 [0.0, 1.0, 2.0, 3.0, ...]" in src  # |arange(6)| = sqrt(55)
    w_grad = W.grad.numpy()
    assert f"grad norm {np.linalg.norm(w_grad):.4g}" in src
    assert "grad not kept" in src, "interior tensors keep no .grad, as in PyTorch"
    (x_line,) = [line for line in src.split("\n") if "<B>x</B>" in line]
    assert f'BGCOLOR="{CONST_FILL}"' in x_line, "a tensor without requires_grad is a constant"
    assert "grad" not in x_line


def test_op_ovals_show_names_only_and_edges_follow_the_data():
    *_, loss = layer_graph()
    src = draw_graph(loss).source
    ops = dict(re.findall(r"^\s*(\w+op) \[label=(\w+)", src, re.M))
    assert sorted(ops.values()) == ["add", "matmul", "mul", "sum", "tanh"]
    (mul,) = [k for k, v in ops.items() if v == "mul"]
    h_id = re.search(r"^\s*(\w+) \[label=<.*<B>h</B>", src, re.M).group(1)
    assert src.count(f"{h_id} -> {mul}") == 2, "h * h: two arrows"


def test_conv_and_pooling_ovals_show_kernel_stride_and_padding():
    import tinygrad_edu.nn.functional as F

    x = Tensor(np.ones((1, 2, 6, 6)), requires_grad=True)
    w = Tensor(np.ones((3, 2, 3, 3)), requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, w, stride=(2, 1), padding=1, dilation=2), 2)
    src = draw_graph(y.sum()).source
    assert "conv kernel 3x3 stride 2x1 padding 1 dilation 2" in src  # the convolution
    assert "max_pool kernel 2x2 stride 2 padding 0" in src  # the pooling, one node


def test_backward_trace_on_tensors_matches_the_engine_and_grad():
    x, W, b, h, loss = layer_graph()
    engine = [n for n in reversed(topological_order([loss])) if n._op is not None]
    t = trace_backward(loss)  # (backward frees the graph: the order is read before)
    assert [id(s.node) for s in t] == [id(n) for n in engine]
    np.testing.assert_array_equal(t.total(W), W.grad.numpy())
    np.testing.assert_array_equal(t.total(b), b.grad.numpy())
    assert t.total(b).shape == (4,), "the broadcast add sums back to b's shape"
    assert t.total(x) is None, "x needs no gradient, so none is computed for it"
    step = t[-1]
    assert step.op == "matmul" and [c.name for c in step.contributions] == ["W"]
    assert step.contributions[0].local is None  # a Jacobian, not a number
    assert step.contributions[0].explanation.startswith("dloss/dW += x\u1d40 @ dloss/dt1")
    assert "(3, 4) norm" in step.contributions[0].explanation
    records = t.to_records()
    assert all(isinstance(r["added"], str) and "norm" in r["added"] for r in records)


def test_stepper_on_tensors_ends_at_grad(tmp_path):
    x, W, b, h, loss = layer_graph()
    s = step_through(loss)
    final = dict(s.frames[-1].grads)
    assert set(final) == {"W", "b"}
    np.testing.assert_array_equal(final["W"], W.grad.numpy())
    page = s.save_html(tmp_path / "t.html").read_text()
    data = json.loads(re.search(r'class="tge-json">(.*?)</script>', page, re.S).group(1))
    (j,) = [j for j, n in enumerate(data["nodes"]) if n["n"] == "b" and not n["op"]]
    last = [row for f in data["frames"] for row in f["s"] if row[0] == j][-1]
    shown = np.array(ast.literal_eval(last[4]))  # the full-precision text shown on hover
    np.testing.assert_allclose(shown, b.grad.numpy(), rtol=0, atol=0)


def test_grouping_a_tensor_mlp_into_layer_boxes():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((64, 3)))
    params = {name: named(Tensor(rng.standard_normal(shape), requires_grad=True), name)
              for name, shape in [("fc1.weight", (3, 16)), ("fc1.bias", (16,)),
                                  ("fc2.weight", (16, 1)), ("fc2.bias", (1,))]}
    h = (x @ params["fc1.weight"] + params["fc1.bias"]).relu()
    out = h @ params["fc2.weight"] + params["fc2.bias"]
    loss = named((out * out).mean(), "loss")
    src = draw_graph(loss, group=by_label_prefix()).source
    boxes = dict(re.findall(r'^\s*(g\d+) \[label="(fc\d)', src, re.M))
    assert sorted(boxes.values()) == ["fc1", "fc2"]
    g = {name: gid for gid, name in boxes.items()}
    assert f"{g['fc1']} -> {g['fc2']}" in src
    assert not re.search(r"op \[label=(matmul|relu)", src), "the layers' ops are inside the boxes"
    assert "<B>loss</B>" in src and "fc1.weight" not in src


@st.composite
def tensor_graph(draw):
    rows = draw(st.integers(1, 3))
    cols = draw(st.integers(1, 3))
    elems = st.floats(-2, 2)
    a = named(Tensor(np.array(draw(st.lists(elems, min_size=rows * cols, max_size=rows * cols)))
                     .reshape(rows, cols), requires_grad=True), "a")
    v = named(Tensor(np.array(draw(st.lists(elems, min_size=cols, max_size=cols))),
                     requires_grad=True), "v")
    nodes = [a, a * v]  # broadcasting
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["add", "mul", "tanh", "sigmoid", "neg"]))
        p, q = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        if op in ("add", "mul"):
            nodes.append(p + q if op == "add" else p * q)
        else:
            nodes.append({"tanh": p.tanh, "sigmoid": p.sigmoid, "neg": p.__neg__}[op]())
    return a, v, nodes[-1].sum()


@settings(max_examples=20, deadline=None)
@given(tensor_graph())
def test_random_tensor_graphs_order_and_totals(graph):
    a, v, root = graph
    engine = [n for n in reversed(topological_order([root])) if n._op is not None]
    t = trace_backward(root)
    assert [id(s.node) for s in t] == [id(n) for n in engine]
    for leaf in (a, v):
        if leaf.grad is not None:
            np.testing.assert_array_equal(t.total(leaf), leaf.grad.numpy())
        else:
            assert t.total(leaf) is None


def test_a_non_scalar_root_needs_its_gradient_as_in_backward():
    W = named(Tensor(np.ones((2, 2)), requires_grad=True), "W")
    seed = np.array([[0.5, 1.0], [2.0, 4.0]])
    t = trace_backward(W * 3.0, seed)
    np.testing.assert_array_equal(t.total(W), 3.0 * seed)
    np.testing.assert_array_equal(W.grad.numpy(), 3.0 * seed)
    s = step_through(W * 3.0, grad=Tensor(seed))
    np.testing.assert_array_equal(dict(s.frames[-1].grads)["W"], 3.0 * seed)
