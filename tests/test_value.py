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


def test_detach_gives_an_input_with_no_history():
    x = Value(3.0)
    d = (x * 2.0).detach()
    assert d.data == 6.0 and d.parents == () and d.op == ""
