"""torch-style free functions: `tinygrad_edu.max(x, 1)` is `x.max(1)`, and so on."""

import builtins

import numpy as np

import tinygrad_edu as tg


def test_free_functions_are_the_methods():
    x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
    values, indices = tg.max(x, 1)
    assert values.tolist() == [5.0, 3.0] and indices.tolist() == [1, 0]
    assert tg.sum(x, dim=0).tolist() == [4.0, 7.0]
    assert tg.mean(x).item() == 2.75
    assert tg.argmax(x, dim=1).tolist() == [1, 0]
    np.testing.assert_allclose(tg.exp(x).numpy(), np.exp(x.numpy()), rtol=1e-6)
    assert tg.matmul(x, x).tolist() == [[16.0, 15.0], [9.0, 19.0]]
    assert tg.softmax(x, dim=1).shape == (2, 2)
    assert tg.is_tensor(x) and not tg.is_tensor(1.0)


def test_free_functions_accept_plain_data_and_keep_the_graph():
    assert tg.sum([1.0, 2.0]).item() == 3.0
    x = tg.ones(2, requires_grad=True)
    tg.sum(tg.exp(x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.e, rtol=1e-6)


def test_star_import_keeps_the_builtins():
    namespace: dict = {}
    exec("from tinygrad_edu import *", namespace)
    for name in ("max", "min", "sum", "abs", "pow", "bool", "float", "int"):
        assert name not in namespace or namespace[name] is getattr(builtins, name)


def test_pytorch_dtype_names():
    assert tg.long == np.int64 and tg.float == np.float32 and tg.double == np.float64
    assert tg.int == np.int32 and tg.half == np.float16
    assert tg.tensor([1, 2], dtype=tg.float).dtype == np.float32
