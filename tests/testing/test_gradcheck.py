"""The gradient checker: it passes right gradients, and for wrong ones says where and why."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from tinygrad_edu import Value, value
from tinygrad_edu.nn import MLP
from tinygrad_edu.tensor import Tensor, ops
from tinygrad_edu.testing import (
    GradcheckError,
    GradcheckWarning,
    assert_grads_close,
    check_module_gradients,
    gradcheck,
    gradgradcheck,
    numeric_grad,
)


def wrong_tanh(scale=1.01):
    """The tanh row of the Value table with its derivative off by `scale`."""
    return value.TANH._replace(derivatives=(lambda out, a: scale * (1.0 - out * out),))


def test_right_gradients_pass_for_several_inputs_and_outputs():
    def f(x, y, z):
        return (x * y).tanh() + z.exp(), x.sigmoid() * z, (y / z).sin()

    assert gradcheck(f, [Value(0.3), Value(-1.2), Value(0.8)]) is True
    assert gradgradcheck(f, [Value(0.3), Value(-1.2), Value(0.8)]) is True


def test_constants_among_the_inputs_are_passed_through():
    assert gradcheck(lambda x, n: x ** n, [Value(1.5), 3.0])


def test_a_wrong_rule_is_reported_entry_by_entry_and_by_op(monkeypatch):
    monkeypatch.setattr(value, "TANH", wrong_tanh())
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: (x * y).tanh().exp(), [Value(0.3), Value(-1.2)])
    message = str(info.value)
    # the entries: which input, the analytic and numeric values, both errors
    assert "input 0 -> output 0: analytic" in message and "input 1 -> output 0" in message
    assert "numeric" in message and "abs err" in message and "rel err 0.01" in message
    # and the op: only tanh's own rule disagrees; mul and exp pass on their own
    culprits = info.value.report.culprits
    assert len(culprits) == 1 and culprits[0].startswith("op 'tanh' on inputs (-0.36)")


def test_the_worst_entry_comes_first():
    x, y = Value(1.0), Value(2.0)
    # a multiply whose d/da is off by 0.5 and d/db by 0.01
    bad_mul = value.MUL._replace(derivatives=(lambda out, a, b: b + 0.5,
                                              lambda out, a, b: a + 0.01))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(value, "MUL", bad_mul)
        with pytest.raises(GradcheckError) as info:
            gradcheck(lambda a, b: a * b, [x, y])
    entries = info.value.report.entries
    assert [e.input for e in entries] == [0, 1]
    assert entries[0].analytic == pytest.approx(2.5) and entries[0].numeric == pytest.approx(2.0)


def test_raise_exception_false_returns_false(monkeypatch):
    monkeypatch.setattr(value, "TANH", wrong_tanh())
    assert gradcheck(lambda x: x.tanh(), [Value(0.2)], raise_exception=False) is False


def test_errors_within_tolerance_pass_and_just_outside_fail(monkeypatch):
    # rule off by 0.05% < rtol = 0.1%: passes; off by 1%: fails
    monkeypatch.setattr(value, "TANH", wrong_tanh(1.0005))
    assert gradcheck(lambda x: x.tanh(), [Value(0.2)])
    monkeypatch.setattr(value, "TANH", wrong_tanh(1.01))
    assert not gradcheck(lambda x: x.tanh(), [Value(0.2)], raise_exception=False)


def test_a_wrong_second_derivative_alone_is_caught_by_gradgradcheck(monkeypatch):
    # The rule evaluated on plain floats is right, but under create_graph it is a constant:
    # the first derivative is fine, the second is not (a classic higher-order bug).
    rule = value.SIGMOID.derivatives[0]
    detached = lambda out, a: rule(float(out), float(a))
    monkeypatch.setattr(value, "SIGMOID", value.SIGMOID._replace(derivatives=(detached,)))
    assert gradcheck(lambda x: x.sigmoid(), [Value(0.4)])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: x.sigmoid(), [Value(0.4)])
    assert "input 0 -> output 0" in str(info.value)


def test_at_a_kink_central_differences_average_the_two_slopes():
    # relu at exactly 0: backward says 0 (the convention), the difference quotient says 0.5.
    # Not a wrong rule: the reason the strategies keep inputs off kinks.
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x.relu(), [Value(0.0)])
    entry = info.value.report.entries[0]
    assert entry.analytic == 0.0 and entry.numeric == pytest.approx(0.5)


def test_a_random_function_is_refused_with_a_reason():
    rng = random.Random(0)
    with pytest.raises(GradcheckError, match="different outputs"):
        gradcheck(lambda x: x * rng.random(), [Value(1.0)])


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, [3.0])


def test_numeric_grad_of_textbook_functions():
    (gx, gy) = numeric_grad(lambda x, y: x * y, [Value(2.0), Value(3.0)])
    assert gx == pytest.approx(3.0) and gy == pytest.approx(2.0)
    (g,) = numeric_grad(lambda x: x.sin(), Value(0.5))
    assert g == pytest.approx(math.cos(0.5), rel=1e-8)
    with pytest.raises(ValueError, match="one scalar"):
        numeric_grad(lambda x: (x, x), Value(0.5))


def test_assert_grads_close():
    assert_grads_close([1.0, 2.0], [1.0, 2.0000001])
    assert_grads_close(None, 0.0)  # no gradient counts as zero
    with pytest.raises(AssertionError, match=r"gradient 1: actual 2\.1, expected 2"):
        assert_grads_close([1.0, 2.1], [1.0, 2.0])
    with pytest.raises(AssertionError, match="2 gradients against 1"):
        assert_grads_close([1.0, 2.0], [1.0])


def test_check_module_gradients_on_a_scalar_mlp(monkeypatch):
    model = MLP(3, [4, 2], nonlin="tanh")
    x = [0.5, -1.0, 0.25]
    assert check_module_gradients(model, x)
    monkeypatch.setattr(value, "TANH", wrong_tanh())
    with pytest.raises(GradcheckError) as info:
        check_module_gradients(model, x)
    assert info.value.report.culprits[0].startswith("op 'tanh'")


# ---- Tensors -------------------------------------------------------------------------------------


def test_tensor_functions_of_any_shape_pass():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=(3,)), requires_grad=True)
    s = Tensor(rng.normal(size=()), requires_grad=True)
    empty = Tensor(np.zeros((0, 3)), requires_grad=True)
    assert gradcheck(lambda x, b, s: ((x + b) * s, (x * b).sum(0).tanh(), s.exp()), [x, b, s])
    assert gradgradcheck(lambda x, b: (x * b).sum(1).sigmoid(), [x, b])
    assert gradcheck(lambda e, b: (e * b).sum(0), [empty, b])


def test_a_wrong_tensor_rule_is_named(monkeypatch):
    tanh = ops.OPS.tanh
    monkeypatch.setattr(ops.OPS, "tanh", tanh._replace(
        vjps=(lambda g, out, a: g * (1 - out * out) * 1.01,)))
    x = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: (x * 2).tanh().sum(1), [x])
    assert "input 0[0, 0] -> output 0[0]" in str(info.value)
    culprits = info.value.report.culprits
    assert len(culprits) == 1 and culprits[0].startswith("op 'tanh' on inputs (array(2, 3)")


def test_float32_inputs_get_a_warning_that_says_why_and_what_to_do():
    x = Tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    with pytest.warns(GradcheckWarning, match="float32") as record:
        gradcheck(lambda x: x * 1.0, [x], raise_exception=False)
    text = str(record[0].message)
    assert "rounding" in text and "float64" in text and "double()" in text


def test_float32_rounding_makes_a_right_gradient_look_wrong():
    x = Tensor(np.array([0.3, 1.7, -2.2], dtype=np.float32), requires_grad=True)
    with pytest.warns(GradcheckWarning):
        assert not gradcheck(lambda x: x.exp(), [x], raise_exception=False)
    x64 = Tensor(np.array([0.3, 1.7, -2.2]), requires_grad=True)
    assert gradcheck(lambda x: x.exp(), [x64])


def test_numeric_grad_of_a_tensor_function():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    (g,) = numeric_grad(lambda x: (x * x).sum(), x)
    assert isinstance(g, np.ndarray) and g.shape == (2, 2)
    assert_grads_close(g, 2 * x.numpy())


def test_only_tensors_that_require_grad_are_checked():
    x = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.arange(3.0))
    assert gradcheck(lambda x, c: x * c, [x, c])


def test_check_module_gradients_runs_float32_layers_in_float64_and_puts_them_back(monkeypatch):
    from tinygrad_edu import nn

    layer = nn.Linear(3, 2)
    before = [p.numpy().copy() for p in layer.parameters()]
    x = Tensor(np.array([[0.5, -1.0, 2.0]], dtype=np.float32))
    assert layer.weight.dtype == np.float32
    assert check_module_gradients(layer, x)
    assert all(p.dtype == np.float32 for p in layer.parameters())
    assert all(np.array_equal(p.numpy(), b) for p, b in zip(layer.parameters(), before))
    dx, dw, db = ops.OPS.linear.vjps
    monkeypatch.setattr(ops.OPS, "linear", ops.OPS.linear._replace(
        vjps=(dx, lambda g, out, x, w, b: -dw(g, out, x, w, b), db)))
    with pytest.raises(GradcheckError) as info:
        check_module_gradients(layer, x)
    assert info.value.report.culprits[0].startswith("op 'linear'")
    assert all(p.dtype == np.float32 for p in layer.parameters())
