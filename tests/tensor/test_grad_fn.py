"""`grad_fn`: PyTorch's view of the graph (name(), next_functions), as the tutorials print it."""

import tinygrad_edu as tg
from tinygrad_edu.tensor import OPS


def test_next_functions_walk_down_to_the_leaves():
    w = tg.randn(3, requires_grad=True)
    x = tg.randn(3)
    loss = (w * x).sum()
    assert loss.grad_fn.name() == "SumBackward0"
    (mul, _), = loss.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and mul == OPS.mul
    (acc, _), (const, _) = mul.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is w
    assert const is None  # x needs no gradient: no node, as in PyTorch
    assert w.grad_fn is None and repr(mul) == "<MulBackward0>"


def test_tensor_constructor_is_torch_tensor():
    assert tg.Tensor([1, 2]).dtype == tg.float32
    assert tg.Tensor(2, 3).shape == (2, 3) and tg.Tensor().shape == (0,)
    assert tg.Tensor(tg.tensor([1, 2])).dtype == tg.int64  # a tensor keeps its dtype
    assert tg.tensor([1, 2]).dtype == tg.int64


def test_default_dtype_reaches_every_float_factory():
    try:
        tg.set_default_dtype(tg.float64)
        assert tg.get_default_dtype() == tg.float64
        assert tg.tensor([1.5]).dtype == tg.zeros(2).dtype == tg.randn(2).dtype == tg.float64
        assert tg.arange(0, 1, 0.5).dtype == tg.float64 and tg.arange(3).dtype == tg.int64
    finally:
        tg.set_default_dtype(tg.float32)
    assert tg.tensor([1.5]).dtype == tg.float32
