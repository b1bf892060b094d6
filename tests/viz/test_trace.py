"""Traces: the forward ops in order, and the backward pass exactly as the engine runs it."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.autograd.graph import topological_order
from tinygrad_edu.viz import BackwardStep, ForwardStep, trace_backward, trace_forward


def example():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    d = a * b
    d.label = "d"
    e = d + c
    e.label = "e"
    L = e.tanh()
    L.label = "L"
    return a, b, c, d, e, L


def test_forward_steps_in_evaluation_order_with_numbers_filled_in():
    *_, L = example()
    t = trace_forward(L)
    assert all(isinstance(s, ForwardStep) for s in t)
    assert [s.name for s in t] == ["d", "e", "L"]
    assert [s.op for s in t] == ["*", "+", "tanh"]
    assert t[0].inputs == ["a", "b"]
    assert t[0].explanation == "d = a * b = 2.0 * -3.0 = -6.0"
    assert t[2].explanation == f"L = tanh(e) = tanh(4.0) = {math.tanh(4.0):.4g}"
    assert L.grad == 0.0, "tracing the forward pass changes nothing"


def test_forward_shows_constants_and_brackets_negative_bases():
    b = Value(-3.0, label="b")
    y = b ** 2
    y.label = "y"
    (step,) = trace_forward(y)
    assert step.explanation == "y = b ** 2.0 = (-3.0) ** 2.0 = 9.0"


def test_backward_steps_explain_the_chain_rule():
    a, b, c, d, e, L = example()
    t = trace_backward(L)
    assert all(isinstance(s, BackwardStep) for s in t)
    assert [s.name for s in t] == ["L", "e", "d"]
    step_d = t[2]
    ge = 1 - math.tanh(4.0) ** 2  # dL/de = dL/dd
    assert step_d.upstream == pytest.approx(ge)
    to_a, to_b = step_d.contributions
    assert (to_a.name, to_a.local, to_b.local) == ("a", -3.0, 2.0)  # d(ab)/da = b, d/db = a
    assert to_a.added == pytest.approx(ge * -3.0)
    assert to_a.explanation == (
        f"dL/da += dL/dd * d(a * b)/da = {ge:.4g} * b = {ge:.4g} * -3.0 = {ge * -3.0:.4g}")
    assert a.grad == to_a.total and b.grad == to_b.total


def test_the_documented_example_line():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    L = c + 0.0
    L.label = "L"
    t = trace_backward(L)
    assert t[1].contributions[0].explanation == \
        "dL/da += dL/dc * d(a * b)/da = 1.0 * b = 1.0 * -3.0 = -3.0"


def test_a_value_used_twice_shows_the_running_total():
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    (step,) = trace_backward(y)
    first, second = step.contributions
    assert (first.total, second.total) == (3.0, 6.0)
    assert "(so far 6.0)" in second.explanation and "so far" not in first.explanation
    assert x.grad == 6.0


def test_printing_markdown_and_records():
    *_, L = example()
    t = trace_backward(L)
    text = str(t)
    assert "backward pass, 3 steps" in text and "dL/da += dL/dd * d(a * b)/da" in text
    md = t.to_markdown()
    assert md.startswith("| step | node | op |") and md.count("\n") == 2 + 4  # 4 rows
    records = t.to_records()
    assert [r["input"] for r in records] == ["e", "d", "c", "a", "b"]
    assert records[-1]["total"] == pytest.approx(2.0 * (1 - math.tanh(4.0) ** 2))
    assert all(isinstance(r["added"], float) for r in records)
    forward = trace_forward(L).to_records()
    assert [r["node"] for r in forward] == ["d", "e", "L"]


def test_tracing_a_freed_graph_says_what_to_do():
    *_, L = example()
    L.backward()
    with pytest.raises(RuntimeError, match="replay=True"):
        trace_backward(L)


def test_replay_shows_the_pass_that_ran_without_changing_grad():
    a, b, c, d, e, L = example()
    L.backward()
    first = a.grad
    t = trace_backward(L, replay=True)
    assert t.total(a) == first and a.grad == first
    assert [s.name for s in t] == ["L", "e", "d"]
    with pytest.raises(RuntimeError, match="retain_graph"):
        L.backward()  # the graph stays freed


def test_after_backward_with_retain_graph_the_trace_reports_this_pass_only():
    a, b, c, d, e, L = example()
    L.backward(retain_graph=True)
    first = a.grad
    t = trace_backward(L)
    assert t.total(a) == first, "the running totals are this pass's gradient"
    assert a.grad == 2 * first, "while .grad accumulates, as backward() does"


# ---- random graphs ------------------------------------------------------------------------------

UNARY = ["tanh", "sigmoid", "relu", "square", "neg", "sin"]
BINARY = ["+", "-", "*"]


@st.composite
def random_graph(draw):
    leaves = [Value(draw(st.floats(-2, 2)), label=f"x{i}")
              for i in range(draw(st.integers(1, 3)))]
    nodes = list(leaves)
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            op = draw(st.sampled_from(BINARY))
            a, b = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))  # may be a twice
            nodes.append({"+": a + b, "-": a - b, "*": a * b}[op])
        else:
            op, a = draw(st.sampled_from(UNARY)), draw(st.sampled_from(nodes))
            fn = {"tanh": Value.tanh, "sigmoid": Value.sigmoid, "relu": Value.relu,
                  "neg": Value.__neg__, "sin": Value.sin, "square": lambda v: v ** 2}[op]
            nodes.append(fn(a))
    root = nodes[-1]
    for n in nodes[-3:-1]:  # join a few more nodes in, so graphs branch and rejoin
        root = root + n
    return leaves, root


@settings(max_examples=40, deadline=None)
@given(random_graph())
def test_step_order_is_the_engines_order_and_totals_end_at_grad(graph):
    leaves, root = graph
    engine_order = [n for n in reversed(topological_order([root])) if n._op is not None]
    t = trace_backward(root)
    assert [id(s.node) for s in t] == [id(n) for n in engine_order]
    for node in topological_order([root]):
        assert t.total(node) == node.grad, "the running total ends at .grad"
    for s in t:
        for c in s.contributions:
            assert c.added == s.upstream * c.local  # the chain rule, as the engine applied it


@settings(max_examples=25, deadline=None)
@given(random_graph())
def test_local_derivatives_match_finite_differences(graph):
    _, root = graph
    t = trace_backward(root)
    for s in t:
        for i, c in enumerate(s.contributions):
            args = [p.data for p in s.node._parents]
            consts = list(s.node._ctx)
            h = 1e-6
            if s.op == "relu" and abs(args[0]) <= h:
                continue  # at the kink there is no derivative to compare with
            up, down = list(args), list(args)
            up[i] += h
            down[i] -= h
            fwd = s.node._op.forward  # the partial derivative in argument i (a*a too)
            numeric = (fwd(*up, *consts) - fwd(*down, *consts)) / (2 * h)
            assert numeric == pytest.approx(c.local, rel=1e-4, abs=1e-6)


def test_a_leaf_root_has_no_steps_but_its_seed():
    x = Value(3.0, label="x")
    t = trace_backward(x)
    assert len(t) == 0 and t.total(x) == 1.0 == x.grad



def test_the_root_steps_local_derivative_is_spelled_out_not_named_like_the_total():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    u = a * b
    u.label = "u"
    L = u.tanh()
    L.label = "L"
    root_step = trace_backward(L)[0]
    assert root_step.contributions[0].explanation.startswith("dL/du += dL/dL * dtanh(u)/du = ")
    P = a * b
    P.label = "P"
    assert trace_backward(P)[0].contributions[1].explanation.startswith(
        "dP/db += dP/dP * d(a * b)/db = 1.0 * a = 1.0 * 2.0 = 2.0")


def test_each_line_shows_the_rules_formula_from_the_op_table_then_its_numbers():
    n = Value(0.8813735870195432, label="n")
    o = n.tanh()
    o.label = "o"
    (step,) = trace_backward(o)
    assert step.contributions[0].explanation == \
        "do/dn += do/do * dtanh(n)/dn = 1.0 * (1 - o\u00b2) = 1.0 * (1 - 0.7071\u00b2) = 0.5"


def test_tensor_lines_are_the_vector_jacobian_product_in_matrix_form():
    import numpy as np

    from tinygrad_edu.tensor import Tensor

    X = Tensor(np.ones((4, 3)), requires_grad=True)
    X.label = "X"
    W = Tensor(np.ones((3, 2)), requires_grad=True)
    W.label = "W"
    b = Tensor(np.zeros(2), requires_grad=True)
    b.label = "b"
    Y = X @ W
    Y.label = "Y"
    L = (Y + b).sum()
    lines = [c.explanation for s in trace_backward(L) for c in s.contributions]
    assert any(line.startswith("dL/dX += dL/dY @ W\u1d40 = (4, 3)") for line in lines)
    assert any(line.startswith("dL/dW += X\u1d40 @ dL/dY = (3, 2)") for line in lines)
    assert any(line.startswith("dL/db += dL/dt") and "summed over dim 0 (broadcast)" in line
               for line in lines)


def test_a_zero_gradient_says_why():
    x, w = Value(-2.0, label="x"), Value(3.0, label="w")
    z = Value(0.0, label="z")
    h = x * w
    h.label = "h"
    y = h.relu() + z * w
    t = trace_backward(y)
    text = str(t)
    assert "relu(h) with h = -6.0 <= 0 passes no gradient" in text
    assert "the other factor z is 0, so w does not change the product" in text
    reasons = t.zero_reasons()
    assert any(r.startswith("dL/dw gets 0 from '*'") for r in reasons)
    assert not any("dL/dz" in r for r in reasons), "z's own gradient is w = 3, not zero"


def test_an_input_whose_contributions_cancel_is_said_not_to_matter():
    x, y = Value(3.0, label="x"), Value(2.0, label="y")
    d = x - x
    d.label = "d"
    L = d * y + y
    L.label = "L"
    reasons = trace_backward(L).zero_reasons()
    assert reasons == ["dL/dx = 0: its contributions 2.0 and -2.0 cancel, so the output does "
                       "not depend on x here"]


def _lines(trace):
    return [c.explanation for s in trace for c in s.contributions]


def test_a_conv_layers_backward_reads_as_col2im_of_the_windows_gradient():
    import numpy as np

    from tinygrad_edu.nn import functional as F
    from tinygrad_edu.tensor import Tensor
    from tinygrad_edu.viz.formula import evaluate

    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    X.label = "X"
    W = Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    W.label = "W"
    L = F.conv2d(X, W, stride=2, padding=1).sum()
    t = trace_backward(L, retain_graph=True)  # keeps the row's constants, to read win
    lines = _lines(t)
    assert not any(" through " in line for line in lines), "every step shows its formula"
    (step,) = [s for s in t if s.op == "conv"]
    cx, cw = step.contributions
    assert cx.explanation.startswith(f"dL/dX += col2im(conv_taps(dL/d{step.name}, W, 1), "
                                     "X.shape, win) = (1, 2, 5, 5)")  # the unpadded input
    assert cw.explanation.startswith(f"dL/dW += conv_weight_grad(windows(X, win), "
                                     f"dL/d{step.name}, 1) = (3, 2, 3, 3)")
    win = step.node._ctx[0]
    env = {"g": step.upstream, "w": W.numpy(), "x": X.numpy(), "win": win, "groups": 1}
    np.testing.assert_allclose(cx.added, evaluate("col2im(conv_taps(g, w, groups), x.shape, "
                                                  "win)", env))
    np.testing.assert_allclose(cw.added, evaluate("conv_weight_grad(windows(x, win), g, "
                                                  "groups)", env))
    np.testing.assert_allclose(t.total(X), X.grad)


def test_an_lstm_cells_backward_reads_as_the_gate_formulas():
    import numpy as np

    from tinygrad_edu import nn
    from tinygrad_edu.tensor import Tensor

    cell = nn.LSTMCell(3, 2)
    x = Tensor(np.random.default_rng(0).standard_normal((1, 3)), requires_grad=True)
    x.label = "x"
    h, c = cell(x)
    h.label, c.label = "h", "c"
    A = h._parents[0]  # the activated gates (i, f, g, o), read by the cell and the hidden state
    A.label = "A"
    A._parents[0].label = "z"  # their pre-activations
    L = h.sum() + c.sum()
    t = trace_backward(L)
    lines = _lines(t)
    assert not any(" through " in line for line in lines), "every step shows its formula"
    for expected in (
        "dL/dA += gates(0, 0, 0, dL/dh * tanh(c)) = (1, 8)",
        "dL/dc += dL/dh * gate(A, 'o') * (1 - tanh(c)\u00b2) = (1, 2)",
        "dL/dA += gates(dL/dc * gate(A, 'g'), dL/dc * ",
        "dL/dz += dL/dA * where(is_gate(A, 'g'), 1 - A\u00b2, A * (1 - A)) = (1, 8)",
    ):
        assert any(line.startswith(expected) for line in lines), expected
    np.testing.assert_allclose(t.total(x), x.grad)
