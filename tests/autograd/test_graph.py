"""The shared graph core, specified on Value graphs: order, accumulation, freeing, grad(), hooks."""

import gc
import weakref

import pytest

from tinygrad_edu import GraphFreedError, Value, grad
from tinygrad_edu.autograd import topological_order


def test_order_puts_parents_before_children_and_is_the_same_every_run():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    c = a * b
    d = c + a
    e = d * c
    orders = [[n.label or n.op for n in topological_order([e])] for _ in range(3)]
    assert orders[0] == orders[1] == orders[2]
    order = topological_order([e])
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert len(order) == 5  # a, b, c, d, e: each node once, though a and c are used twice


def test_a_node_used_twice_gets_both_contributions():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0  # d(a^2)/da = 2a
    b = Value(3.0)
    (b + b).backward()
    assert b.grad == 2.0


def test_shared_subexpression_accumulates_through_both_paths():
    x = Value(2.0)
    h = x * 3.0  # used by both branches
    y = h * h + h  # dy/dh = 2h + 1 = 13, dh/dx = 3
    y.backward()
    assert h.grad == 13.0
    assert x.grad == 39.0


def test_backward_through_a_million_node_chain_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0
    assert y.data == 1_000_000.5


def test_a_second_backward_through_a_freed_graph_is_an_error_not_a_doubled_gradient():
    x = Value(2.0)
    y = (x * x).tanh()
    y.backward()
    first = x.grad
    with pytest.raises(GraphFreedError, match=r"second time.*'tanh'.*retain_graph=True"):
        y.backward()
    assert x.grad == first


def test_retain_graph_allows_a_second_pass_and_grads_accumulate():
    x = Value(2.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == 8.0


def test_grad_returns_derivatives_without_touching_dot_grad():
    x, w = Value(2.0), Value(-1.5)
    y = x * w + x
    dx, dw = grad(y, [x, w])
    assert (dx, dw) == (-0.5, 2.0)
    assert x.grad == 0.0 and w.grad == 0.0


def test_second_derivative_of_x_cubed_at_two_is_twelve():
    x = Value(2.0)
    (dy,) = grad(x**3, x, create_graph=True)
    assert dy.data == 12.0  # 3x^2
    (d2y,) = grad(dy, x)
    assert d2y == 12.0  # 6x


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.data == 12.0
    x.grad = 0.0
    first.backward()
    assert x.grad == 12.0


def test_hessian_of_two_variable_function_matches_finite_differences():
    def f(x, y):
        return (x * y).sin() + x**2 * y.exp()

    def fd_hessian(px, py, h=1e-4):
        def df(axis, qx, qy):  # central difference of the gradient computed by the engine
            a, b = Value(qx), Value(qy)
            return grad(f(a, b), [a, b])[axis]

        rows = []
        for i in range(2):
            dx, dy = (h, 0.0) if i == 0 else (0.0, h)
            rows.append(
                [(df(j, px + dx, py + dy) - df(j, px - dx, py - dy)) / (2 * h) for j in range(2)]
            )
        return rows

    px, py = 0.7, -0.4
    x, y = Value(px), Value(py)
    gx, gy = grad(f(x, y), [x, y], create_graph=True)
    hess = [list(grad(gx, [x, y], retain_graph=True)), list(grad(gy, [x, y]))]
    expected = fd_hessian(px, py)
    for i in range(2):
        for j in range(2):
            assert hess[i][j] == pytest.approx(expected[i][j], rel=1e-6, abs=1e-8)


def test_grad_reports_an_unused_input_unless_allowed():
    x, unused = Value(1.0), Value(5.0)
    y = x * 2.0
    with pytest.raises(RuntimeError, match="not used"):
        grad(y, [x, unused], retain_graph=True)
    assert grad(y, [x, unused], allow_unused=True) == (2.0, None)


def test_hook_sees_the_complete_gradient_and_can_replace_it():
    x = Value(3.0)
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(g))
    handle = h.register_hook(lambda g: g * 10.0)
    (h * h + h).backward()  # dL/dh = 2h + 1 = 13 arrives as one total
    assert seen == [13.0]
    assert x.grad == 13.0 * 10.0 * 2.0
    handle.remove()
    x2 = Value(3.0)
    h2 = x2 * 2.0
    h2.register_hook(lambda g: None)  # returning None keeps the gradient
    h2.backward()
    assert x2.grad == 2.0


def test_a_dropped_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = Value(1.0)
        y = ((x * 2.0).tanh() + x.exp()).relu()
        y.backward()
        probe = weakref.ref(y.parents[0])
        del y
        assert probe() is None  # no reference cycle kept it alive
    finally:
        gc.enable()


# ---- the garbage collector: paused while backward runs, the user's setting always restored ------


@pytest.mark.parametrize("enabled", [True, False])
def test_backward_pauses_the_cyclic_gc_and_restores_the_user_s_setting(enabled):
    was, thresholds = gc.isenabled(), gc.get_threshold()
    (gc.enable if enabled else gc.disable)()
    try:
        x = Value(2.0)
        y = x * 3.0
        during = []
        y.register_hook(lambda g: during.append(gc.isenabled()))
        (y * y).backward()
        assert during == [False]  # no collector passes over the graph while it is walked
        assert gc.isenabled() is enabled and gc.get_threshold() == thresholds
        assert x.grad == 36.0
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_gc_setting_is_restored_when_backward_fails(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        x = Value(2.0)
        y = x * 3.0

        def broken(g):
            raise KeyError("hook failed")

        y.register_hook(broken)
        with pytest.raises(KeyError):
            (y * y).backward()
        assert gc.isenabled() is enabled
        y2 = (x * x).tanh()
        y2.backward()
        with pytest.raises(GraphFreedError):
            y2.backward()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError):
            grad(y2, Value(1.0))  # an error before the pass starts
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# ---- freeing: backward without retain_graph drops what the rules saved, keeps a skeleton ---------


def small_tensor_step(batch: int = 32, params=None):
    import numpy as np

    import tinygrad_edu as tg

    rng = np.random.default_rng(0)
    W1, W2 = params or (tg.Tensor(rng.normal(size=(64, 32)), requires_grad=True),
                        tg.Tensor(rng.normal(size=(32, 10)), requires_grad=True))
    x = tg.Tensor(rng.normal(size=(batch, 64)))
    h = (x @ W1).relu()
    loss = (h @ W2).log_softmax(1).sum()
    return x, W1, W2, h, loss


def test_backward_frees_the_saved_arrays_of_a_tensor_graph_but_not_the_loss():
    x, W1, W2, h, loss = small_tensor_step()
    probes = [weakref.ref(x), weakref.ref(h)]
    del x, h
    assert all(p() is not None for p in probes)  # before backward, the loss keeps them
    loss.backward()
    assert [p() for p in probes] == [None, None]  # after it, nothing keeps them
    assert loss.item() < 0 and W1.grad is not None


def test_retain_graph_keeps_the_saved_arrays():
    x, W1, W2, h, loss = small_tensor_step()
    probe = weakref.ref(h)
    del h
    loss.backward(retain_graph=True)
    assert probe() is not None
    loss.backward()
    assert probe() is None


def test_kept_losses_cost_a_skeleton_not_their_activations():
    import tracemalloc

    def growth(retain: bool) -> int:
        _, W1, W2, _, loss = small_tensor_step(batch=256)
        loss.backward(retain_graph=retain)  # warm-up: the parameters get their .grad
        tracemalloc.start()
        kept = []
        for _ in range(10):
            loss = small_tensor_step(batch=256, params=(W1, W2))[-1]
            loss.backward(retain_graph=retain)
            kept.append(loss)
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return size // len(kept)

    activations = 256 * (64 + 32 + 32 + 10 + 10) * 8  # x, x@W1, relu, @W2, log_softmax
    freed, retained = growth(False), growth(True)
    assert retained > activations  # the measurement sees the arrays when they are kept...
    assert freed < activations / 20  # ...and a freed graph keeps only a few small objects


def test_a_freed_graph_still_names_its_ops_and_shapes_and_refuses_a_second_pass():
    x, W1, W2, h, loss = small_tensor_step()
    del h
    loss.backward()
    assert loss.op == "sum"
    (lsm,) = loss.parents
    assert lsm.op == "log_softmax" and lsm._raw().shape == (32, 10)
    mm2 = lsm.parents[0]
    assert mm2.op == "matmul" and mm2.parents[1] is W2  # parameters stay in the graph
    assert x is mm2.parents[0].parents[0].parents[0]._ref()  # x is alive: read through
    assert graph_is_freed(loss) and graph_is_freed(lsm)
    with pytest.raises(GraphFreedError, match=r"second time.*'sum'.*retain_graph=True"):
        loss.backward()
    with pytest.raises(GraphFreedError, match="'sum'"):
        (loss * 2.0).backward()  # a new graph on top of a freed one


def test_a_freed_tensor_graph_can_still_be_drawn():
    from tinygrad_edu.viz import draw_graph

    x, W1, W2, h, loss = small_tensor_step()
    del x, h
    loss.backward()
    src = draw_graph(loss).source
    assert "(32, 64) float64" in src and "matmul" in src and "log_softmax" in src


def test_a_value_graph_keeps_its_nodes_after_backward_for_drawings():
    x = Value(2.0)
    mid = x * 3.0
    y = mid.tanh()
    y.backward()
    assert y.parents == (mid,) and mid.parents[0] is x  # a Value saves nothing else to free
    with pytest.raises(GraphFreedError, match="'tanh'"):
        y.backward()


def graph_is_freed(node) -> bool:
    from tinygrad_edu.autograd.graph import is_freed

    return is_freed(node)


def test_a_user_defined_function_s_saved_tensors_are_freed_too():
    import numpy as np

    import tinygrad_edu as tg
    from tinygrad_edu import Function

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    w = tg.Tensor(np.arange(6.0), requires_grad=True)
    h = w * 3.0
    loss = Square.apply(h).sum()
    probe = weakref.ref(h)
    del h
    assert probe() is not None
    loss.backward()
    assert probe() is None  # the Function's ctx let go of its input and what it saved
    np.testing.assert_allclose(w.grad.numpy(), 18.0 * np.arange(6.0))
    with pytest.raises(GraphFreedError, match="'sum'"):
        loss.backward()
