"""User-defined ops (`Function`): nodes like the built-in ones, checked like them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinygrad_edu import AnomalyError, Value, detect_anomaly, grad, no_grad
from tinygrad_edu.autograd import graph
from tinygrad_edu.function import Function
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.testing import GradcheckError, gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as tst


class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (1 + x.exp()).log()

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.sigmoid()


class WrongSoftplus(Softplus):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.sigmoid() * 1.01


class Exp(Function):
    """Saves its output, as torch's exp does."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y


class Scale(Function):
    """Two inputs, one of them a constant: backward returns None for it."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad_output):
        assert ctx.needs_input_grad == (True, False)
        return grad_output * ctx.k, None


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = (a * a + b * b).sqrt()
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        a, b, out = ctx.saved_tensors
        return grad_output * a / out, grad_output * b / out


def test_apply_builds_one_node_named_after_the_class():
    x = Value(0.7)
    y = Softplus.apply(x)
    assert y.op == "Softplus" and y.parents == (x,)
    assert y.data == pytest.approx(math.log1p(math.exp(0.7)), rel=1e-12)
    y.backward()
    assert x.grad == pytest.approx(1 / (1 + math.exp(-0.7)), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(tst.floats(), tst.floats())
def test_first_and_second_derivatives_of_functions_are_right(a, b):
    assume(math.hypot(a, b) > tst.MARGIN)  # hypot has a cone point at the origin
    assert gradcheck(lambda x: Softplus.apply(x) * x, [Value(a)])
    assert gradgradcheck(lambda x: Softplus.apply(x) * x, [Value(a)])
    assert gradgradcheck(lambda x: Exp.apply(x.tanh()), [Value(a)])
    assert gradgradcheck(lambda x, y: Hypot.apply(x, y), [Value(a), Value(b)])
    assert gradcheck(lambda x: Scale.apply(x, b), [Value(a)])


def test_a_wrong_backward_is_caught_and_named():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: WrongSoftplus.apply(x * 2).tanh(), [Value(0.3)])
    culprits = info.value.report.culprits
    assert len(culprits) == 1 and culprits[0].startswith("op 'WrongSoftplus' on inputs (0.6)")


def test_a_function_used_twice_accumulates_like_a_built_in_op():
    x = Value(0.4)
    (Softplus.apply(x) * Softplus.apply(x)).backward()
    s = math.log1p(math.exp(0.4))
    assert x.grad == pytest.approx(2 * s / (1 + math.exp(-0.4)), rel=1e-12)


def test_the_backward_driver_steps_through_it_like_any_op():
    x = Value(0.4)
    seen = []
    graph.backward(Softplus.apply(x).tanh(), observer=lambda node, g, pg: seen.append(node.op))
    assert seen == ["tanh", "Softplus"]


def test_the_visualizer_draws_and_traces_it_by_its_class_name():
    from tinygrad_edu.viz import draw_dot, trace_backward

    x = Value(0.5, label="x")
    dot = draw_dot(Softplus.apply(x * 2).tanh())
    assert "Softplus" in getattr(dot, "source", str(dot))
    trace = str(trace_backward(Softplus.apply(x * 2).tanh()))
    assert "Softplus" in trace and f"{1 / (1 + math.exp(-1.0)):.4f}" in trace  # its local slope


def test_the_step_through_viewer_steps_through_it():
    from tinygrad_edu.viz import step_through

    x = Value(0.5, label="x")
    frames = step_through(Softplus.apply(x * 2).tanh()).frames
    assert any("Softplus(1.0)" in f.explanation for f in frames)  # forward
    assert any("through 'Softplus'" in f.explanation for f in frames)  # backward


def test_no_graph_under_no_grad():
    with no_grad():
        y = Softplus.apply(Value(0.4))
    assert y.op == "" and y.parents == ()


def test_backward_must_return_one_gradient_per_input():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    x = Value(1.0)
    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradient"):
        TooFew.apply(x, Value(2.0)).backward()


def test_anomaly_mode_names_the_function():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return math.nan

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    with detect_anomaly(), pytest.raises(AnomalyError, match="'Bad'"):
        Bad.apply(Value(1.0))


def test_second_derivative_through_a_saved_output():
    x = Value(0.5)
    (d1,) = grad(Exp.apply(x), x, create_graph=True)
    (d2,) = grad(d1, x)
    assert d1.data == pytest.approx(math.exp(0.5)) and d2 == pytest.approx(math.exp(0.5))


def test_an_error_in_backward_names_the_function():
    x, y = Value(0.0), Value(0.0)
    out = Hypot.apply(x, y)
    with pytest.raises(RuntimeError, match=r"backward of Function 'Hypot' at \(0, 0\)"):
        out.backward()


def test_apply_needs_a_node_and_a_subclass():
    with pytest.raises(TypeError, match="no input is a Value or a Tensor"):
        Softplus.apply(1.0)
    with pytest.raises(TypeError, match="subclass Function"):
        Function.apply(Value(1.0))


def test_numpy_scalars_are_constants():
    assert Scale.apply(Value(2.0), np.float64(3.0)).data == 6.0


# ---- Tensors -------------------------------------------------------------------------------------


class LogCosh(Function):
    """log(cosh(x)) = x + softplus(-2x) - log 2, stable; derivative tanh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x + (x * -2.0).softplus() - math.log(2.0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.tanh()


class ScaledAdd(Function):
    """a + k * b, broadcasting; backward has to sum the gradient back to each input's shape."""

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.k, ctx.shapes = k, (a.shape, b.shape)
        return a + b * k

    @staticmethod
    def backward(ctx, grad_output):
        a_shape, b_shape = ctx.shapes
        return sum_to(grad_output, a_shape), sum_to(grad_output * ctx.k, b_shape), None


class ForgetsToSum(ScaledAdd):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output * ctx.k, None


def sum_to(g, shape):
    """Sum a broadcast gradient back to `shape` (the user's job in a custom backward)."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axes).reshape(shape) if axes else g


def test_tensor_function_builds_one_node_and_matches_its_math():
    x = Tensor(np.array([-30.0, -1.0, 0.0, 2.0, 30.0]), requires_grad=True)
    y = LogCosh.apply(x)
    assert y.op == "LogCosh" and y.parents == (x,)
    np.testing.assert_allclose(y.numpy(), np.logaddexp(x.numpy(), -x.numpy()) - math.log(2))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.tanh(x.numpy()))


@settings(max_examples=15, deadline=None)
@given(tst.broadcastable_shapes(2, max_side=3).flatmap(
    lambda s: st.tuples(tst.tensors(s[0]), tst.tensors(s[1]))), tst.floats())
def test_tensor_functions_have_right_first_and_second_derivatives(ab, k):
    a, b = ab
    assert gradcheck(lambda a, b: ScaledAdd.apply(a, b, k), [a, b])
    assert gradcheck(LogCosh.apply, [a])
    assert gradgradcheck(LogCosh.apply, [a])


def test_a_wrong_tensor_backward_is_caught_and_named():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones((3,)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"ForgetsToSum.backward returned a gradient of shape "
                                           r"\(2, 3\) for input 1, which has shape \(3,\)"):
        ForgetsToSum.apply(a, b, 2.0).sum().backward()

    class WrongLogCosh(LogCosh):
        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * x.tanh() * 1.01

    x = Tensor(np.array([0.5, -1.5]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: WrongLogCosh.apply(x * 2).sum(), [x])
    assert info.value.report.culprits[0].startswith("op 'WrongLogCosh'")


def test_backward_runs_once_per_call_for_all_inputs():
    calls = []

    class Counted(ScaledAdd):
        @staticmethod
        def backward(ctx, grad_output):
            calls.append(1)
            return ScaledAdd.backward(ctx, grad_output)

    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    Counted.apply(a, b, 3.0).sum().backward()
    assert len(calls) == 1 and b.grad.numpy().tolist() == [3.0, 3.0]


def test_needs_input_grad_and_constant_tensors():
    seen = []

    class Spy(ScaledAdd):
        @staticmethod
        def forward(ctx, a, b, k):
            seen.append(ctx.needs_input_grad)
            return ScaledAdd.forward(ctx, a, b, k)

    a, c = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2))
    Spy.apply(a, c, 2.0).sum().backward()
    assert seen == [(True, False, False)] and c.grad is None
    assert a.grad.numpy().tolist() == [1.0, 1.0]


def test_a_function_of_three_values_gets_all_three_gradients():
    class Product3(Function):
        @staticmethod
        def forward(ctx, a, b, c):
            ctx.save_for_backward(a, b, c)
            return a * b * c

        @staticmethod
        def backward(ctx, grad_output):
            a, b, c = ctx.saved_tensors
            return grad_output * b * c, grad_output * a * c, grad_output * a * b

    a, b, c = Value(1.5), Value(2.0), Value(-3.0)
    Product3.apply(a, b, c).backward()
    assert (a.grad, b.grad, c.grad) == (-6.0, -4.5, 3.0)
    assert gradcheck(Product3.apply, [Value(0.5), Value(-1.25), Value(2.0)])


def test_apply_refuses_what_it_cannot_record():
    class Three(Function):
        @staticmethod
        def forward(ctx, a, b, c):
            return a * b * c

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output, grad_output

    with pytest.raises(TypeError, match="mix Values and Tensors"):
        Three.apply(Value(1.0), Tensor(np.ones(2)), 1.0)

    class ReturnsArray(Function):
        @staticmethod
        def forward(ctx, x):
            return x.numpy() * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    with pytest.raises(TypeError, match="ReturnsArray.forward must return one Tensor"):
        ReturnsArray.apply(Tensor(np.ones(2), requires_grad=True))
