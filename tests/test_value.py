"""The scalar engine: what a Value is, what its ops compute, and how it fails."""

import math

import pytest

from tinygrad_edu import Value


def test_a_value_is_a_float_that_remembers_its_op_and_parents():
    a, b = Value(2, label="a"), Value(-3.0, label="b")
    c = a * b
    assert type(a.data) is float and c.data == -6.0
    assert c.op == "*" and c.parents == (a, b)
    assert a.op == "" and a.parents == ()
    assert a.name == "a"


def test_numbers_mix_in_on_either_side_and_keep_data_flow_order():
    a = Value(4.0)
    for expr, expected in [(a + 1, 5.0), (1 + a, 5.0), (a - 1, 3.0), (1 - a, -3.0), (a * 2, 8.0),
                           (2 * a, 8.0), (a / 2, 2.0), (2 / a, 0.5), (a**2, 16.0), (2**a, 16.0),
                           (-a, -4.0), (a ** Value(0.5), 2.0)]:
        assert expr.data == expected
    assert (1 - a).parents[1] is a and (1 - a).parents[0].data == 1.0


@pytest.mark.parametrize(
    "name, x, expected",
    [("exp", 1.0, math.e), ("log", math.e, 1.0), ("sqrt", 9.0, 3.0), ("tanh", 0.5, math.tanh(0.5)),
     ("sigmoid", 0.0, 0.5), ("relu", -2.0, 0.0), ("relu", 2.0, 2.0), ("sin", 0.3, math.sin(0.3)),
     ("cos", 0.3, math.cos(0.3)), ("abs", -2.5, 2.5), ("softplus", 0.0, math.log(2.0)),
     ("gelu", 1.0, 0.5 * (1 + math.erf(1 / math.sqrt(2)))), ("erf", 0.5, math.erf(0.5))],
)
def test_unary_functions_compute_the_textbook_value(name, x, expected):
    assert getattr(Value(x), name)().data == pytest.approx(expected, rel=1e-12)


def test_leaky_relu_maximum_and_minimum():
    assert Value(-2.0).leaky_relu().data == pytest.approx(-0.02)
    assert Value(-2.0).leaky_relu(0.2).data == pytest.approx(-0.4)
    assert Value(1.0).maximum(3.0).data == 3.0 and Value(1.0).minimum(3.0).data == 1.0


def test_sigmoid_and_softplus_do_not_overflow_for_large_inputs():
    assert Value(-1000.0).sigmoid().data == 0.0 and Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).softplus().data == 1000.0
    assert Value(-1000.0).softplus().data == 0.0


def test_ties_split_the_gradient_of_maximum_evenly_like_torch():
    a, b = Value(2.0), Value(2.0)
    a.maximum(b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)


def test_comparisons_compare_data_and_return_plain_bools():
    a, b = Value(1.0), Value(2.0)
    assert (a < b) is True and (a >= b) is False and (a == 1.0) is True and (a != b) is True
    assert len({a, Value(1.0)}) == 2  # equal numbers, distinct nodes: hashing is by identity


def test_repr_shows_data_and_grad():
    v = Value(2.0, label="w")
    v.grad = 0.25
    assert repr(v) == "Value(data=2, grad=0.25, label='w')"


@pytest.mark.parametrize("bad", ["3", None, [1.0], 1 + 2j])
def test_non_numeric_data_is_a_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(1.0) + bad


# The documented policy: Python float semantics. Undefined results raise, naming op and inputs.
@pytest.mark.parametrize(
    "make, error, words",
    [(lambda: 1 / Value(0.0), ZeroDivisionError, r"'/' at \(1.0, 0.0\).*division by zero"),
     (lambda: Value(0.0).log(), ValueError, r"'log' at \(0.0\).*positive"),
     (lambda: Value(-1.0).sqrt(), ValueError, r"'sqrt' at \(-1.0\)"),
     (lambda: Value(1000.0).exp(), OverflowError, r"'exp' at \(1000.0\)"),
     (lambda: Value(-8.0) ** (1 / 3), ValueError, r"'\*\*'.*integer exponent")],
)
def test_undefined_forward_results_raise_with_the_op_and_inputs(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_an_infinite_derivative_raises_in_backward_naming_the_op():
    y = Value(0.0).sqrt()
    assert y.data == 0.0
    with pytest.raises(ZeroDivisionError, match=r"backward of Value op 'sqrt' at \(0.0\)"):
        y.backward()
    with pytest.raises(ZeroDivisionError):  # the failed pass used nothing up: same error again
        y.backward()


def test_detach_gives_an_input_with_no_history():
    x = Value(3.0)
    d = (x * 2.0).detach()
    assert d.data == 6.0 and d.parents == () and d.op == ""


# ---- powers at base 0 (issue 11 items 19, 21): the derivative exists, so backward gives it


def _torch_pow_grads(base: float, exponent: float, exponent_is_value: bool):
    import torch

    a = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    if exponent_is_value:
        b = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
        (a**b).backward()
        return a.grad.item(), b.grad.item()
    (a**exponent).backward()
    return a.grad.item(), None


@pytest.mark.parametrize("exponent", [0.0, 0.3, 0.5, 0.9, 1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("exponent_is_value", [False, True])
def test_powers_of_zero_have_torch_s_derivatives(exponent, exponent_is_value):
    a = Value(0.0)
    b = Value(exponent) if exponent_is_value else exponent
    y = a**b
    y.backward()
    da, db = _torch_pow_grads(0.0, exponent, exponent_is_value)
    assert y.data == (1.0 if exponent == 0 else 0.0)
    assert a.grad == da  # 0 for x**0 (a constant), inf for 0 < n < 1, as torch
    if exponent_is_value:
        assert b.grad == db  # d(0**x)/dx = 0**x ln 0, which torch defines as 0 for x >= 0


def test_a_polynomial_evaluated_at_zero_has_its_derivative():
    x = Value(0.0)
    p = 3 * x**0 + 2 * x**1 + 5 * x**2  # 3 + 2x + 5x^2
    p.backward()
    assert p.data == 3.0 and x.grad == 2.0


def test_zero_to_a_value_power_differentiates_in_the_exponent():
    x = Value(0.5)
    (0 ** x).backward()  # the base 0 is a constant: only the exponent's derivative matters
    assert x.grad == 0.0


def test_an_overflowing_power_says_overflow_not_negative_base():
    for make in (lambda: Value(1e200) ** 2, lambda: Value(1e200) ** Value(2.0)):
        words = r"'\*\*' at \(1e\+200, 2.0\).*float64's range"
        with pytest.raises(OverflowError, match=words) as e:
            make()
        assert "negative" not in str(e.value)


# ---- the micrograd lecture's code, as typed (issue 15 item 8)


def lecture_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, [x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n]


def test_prev_and_op_read_as_in_micrograd():
    o, (x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n) = lecture_neuron()
    assert o._prev == {n} and n._prev == {x1w1x2w2, b} and x1._prev == set()
    assert o._op == "tanh" and n._op == "+" and x1w1._op == "*"
    assert "node" + n._op == "node+" and f"{o._op}" == "tanh"  # a str, as the lecture uses it


def test_manual_backward_node_by_node_fills_the_gradients_as_backward_does():
    o, nodes = lecture_neuron()
    o.grad = 1.0
    for node in [o, *reversed(nodes)]:  # the lecture's cells: o._backward(), n._backward(), ...
        node._backward()
    by_hand = {v.label: v.grad for v in nodes}
    o2, nodes2 = lecture_neuron()
    o2.backward()
    assert by_hand == {v.label: v.grad for v in nodes2}
    assert by_hand["n"] == pytest.approx(0.5) and by_hand["w1"] == pytest.approx(1.0)


def test_manual_backward_accumulates_with_plus_equals():
    a = Value(3.0, label="a")
    b = a + a  # a is used twice: both shares add up
    b.grad = 1.0
    b._backward()
    assert a.grad == 2.0
    b._backward()  # a second call adds again, exactly as micrograd's closures do
    assert a.grad == 4.0
    a._backward()  # an input's step does nothing
    assert a.grad == 4.0


def test_the_lecture_s_own_graph_drawing_code_runs():
    graphviz = pytest.importorskip("graphviz")
    o, _ = lecture_neuron()
    o.backward()
    nodes, edges, todo = set(), set(), [o]
    while todo:  # the lecture's trace(): walk _prev
        v = todo.pop()
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                todo.append(child)
    dot = graphviz.Digraph(graph_attr={"rankdir": "LR"})
    for n in nodes:
        uid = str(id(n))
        label = "{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad)  # noqa: UP031
        dot.node(name=uid, label=label, shape="record")
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    assert "label=tanh" in dot.source and "grad 1.0000" in dot.source
    assert dot.source.count("->") == 5 + 9  # op -> result for 5 ops, input -> op for 9 inputs


def test_a_recorded_op_costs_at_most_120_bytes():
    import tracemalloc

    def traced(steps: int) -> int:
        a, b = Value(1.0000001), Value(1e-9)
        y = Value(0.5)
        tracemalloc.start()
        for _ in range(steps):
            y = y * a + b  # two recorded ops, each one node holding one new float
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return size

    import sys

    node = Value(1.0) * Value(2.0)
    own = sys.getsizeof(node) + sys.getsizeof(node.data)
    assert own <= 120  # the node (8 slots, no tuple of parents) and its float
    per_op = (traced(60_000) - traced(20_000)) / (2 * 40_000)  # fixed overheads cancel
    assert per_op == pytest.approx(own, rel=0.01)  # and an op allocates nothing else that stays
