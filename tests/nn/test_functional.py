"""nn.functional beyond the losses and layers: linear, one_hot, dropout, softmax defaults."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.nn import functional as F


def test_linear_is_x_times_w_transposed_plus_b():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    out = F.linear(tg.tensor(x, dtype=tg.float64), tg.tensor(w, dtype=tg.float64),
                   tg.tensor(b, dtype=tg.float64))
    np.testing.assert_allclose(out.numpy(), x @ w.T + b, rtol=1e-12)
    no_bias = F.linear(tg.tensor(x, dtype=tg.float64), tg.tensor(w, dtype=tg.float64))
    np.testing.assert_allclose(no_bias.numpy(), x @ w.T, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 5, 3), (2, 1, 4, 3), (0, 3)])
def test_linear_is_one_node_with_torchs_values_and_gradients_at_any_rank(shape):
    """The fused row (x @ w.T + b in one node, for a batch or a stack of batches; a single
    row is a matmul and an add): values, the three gradients and, through create_graph,
    second derivatives equal torch's."""
    rng = np.random.default_rng(1)
    arrays = rng.normal(size=shape), rng.normal(size=(2, 3)), rng.normal(size=2)
    grads = []
    for lib, f in ((tg, F.linear), (torch, torch.nn.functional.linear)):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = f(x, w, b)
        if lib is tg and len(shape) > 1:
            assert y.grad_fn.op is tg.tensor.OPS.linear
        gx, gw, gb = lib.autograd.grad((y * y).sum(), (x, w, b), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum() + (gb * gb).sum()).backward()
        grads.append([y.detach().numpy(), gx.detach().numpy(), gw.detach().numpy(),
                      gb.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 3), (4, 3), (2, 1, 3), (0, 3)])
def test_linear_keeps_torchs_dtypes_and_shares_no_memory(dtype, shape):
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=s).astype(dtype) for s in (shape, (2, 3), (2,))]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ya, yt = F.linear(*ours), torch.nn.functional.linear(*theirs)
    g = rng.normal(size=tuple(yt.shape)).astype(dtype)
    ya.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    tol = {"rtol": 2e-3, "atol": 2e-3} if dtype == "float16" else {"rtol": 1e-5, "atol": 1e-6}
    for p, q in [(ya, yt.detach()), *((a.grad, t.grad) for a, t in zip(ours, theirs))]:
        assert p.dtype == q.numpy().dtype
        np.testing.assert_allclose(p.numpy(), q.numpy(), **tol)
    assert not any(np.shares_memory(ya.numpy(), a) for a in arrays)


def test_one_hot_matches_torch():
    idx = np.array([[0, 2], [1, 0]])
    ours = F.one_hot(tg.tensor(idx), 4)
    theirs = torch.nn.functional.one_hot(torch.tensor(idx), 4)
    assert ours.dtype == np.int64 and np.array_equal(ours.numpy(), theirs.numpy())
    assert F.one_hot(tg.tensor([3, 1])).shape == (2, 4)  # classes: max + 1


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"class values must be in \[0, 3\)"):
        F.one_hot(tg.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="integer tensor"):
        F.one_hot(tg.tensor([0.0, 1.0]), 2)


def test_functional_dropout_respects_training_flag():
    x = tg.ones(4, 4)
    assert F.dropout(x, 0.5, training=False) is x
    tg.manual_seed(0)
    y = F.dropout(x, 0.5).numpy()
    assert set(np.unique(y).tolist()) <= {0.0, 2.0} and 0 < (y == 0).sum() < 16


def test_softmax_default_dim_is_pytorchs_legacy_choice():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(F.softmax(tg.tensor(x, dtype=tg.float64)).numpy().sum(axis=1),
                               [1.0, 1.0])
    np.testing.assert_allclose(F.log_softmax(tg.tensor(x[0], dtype=tg.float64)).numpy(),
                               torch.log_softmax(torch.tensor(x[0]), 0).numpy(), rtol=1e-12)


def test_value_softmax_gradients_match_torch():
    data = [0.5, -1.0, 2.0]
    xs = [Value(v) for v in data]
    probs = F.softmax(xs)
    (probs[0] * 2.0 + probs[2]).backward()
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    p = torch.softmax(t, 0)
    (p[0] * 2 + p[2]).backward()
    np.testing.assert_allclose([x.grad for x in xs], t.grad.numpy(), rtol=1e-12)


def test_value_gelu_with_tanh_approximation_is_refused():
    with pytest.raises(ValueError, match="for Tensors only"):
        F.gelu(Value(1.0), approximate="tanh")


# ---- sequence-model ops: embedding, gelu(approximate='tanh') ----------------------------------


def test_embedding_matches_torch_with_padding_idx():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 3))
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    ours_w = tg.tensor(w, dtype=tg.float64, requires_grad=True)
    theirs_w = torch.tensor(w, requires_grad=True)
    ours = F.embedding(tg.tensor(idx), ours_w, padding_idx=2)
    theirs = torch.nn.functional.embedding(torch.tensor(idx), theirs_w, padding_idx=2)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    g = rng.normal(size=ours.shape)
    ours.backward(tg.tensor(g, dtype=tg.float64))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(ours_w.grad.numpy(), theirs_w.grad.numpy(), rtol=1e-12)
    assert not ours_w.grad.numpy()[2].any() and ours_w.grad.numpy()[0].any()


def test_embedding_max_norm_renormalizes_the_rows_looked_up_in_place_as_torch():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(5, 4)) * 3
    idx = np.array([1, 3, 3])
    ours_w, theirs_w = tg.tensor(w, dtype=tg.float64), torch.tensor(w)
    out = F.embedding(tg.tensor(idx), ours_w, max_norm=1.5, norm_type=1.0)
    ref = torch.nn.functional.embedding(torch.tensor(idx), theirs_w, max_norm=1.5, norm_type=1.0)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_w.numpy(), theirs_w.numpy(), rtol=1e-12)  # rows 1 and 3
    assert np.array_equal(ours_w.numpy()[0], w[0])  # rows not looked up stay as they were
    layer, t_layer = nn.Embedding(5, 4, max_norm=1.0), torch.nn.Embedding(5, 4, max_norm=1.0)
    assert layer.max_norm == t_layer.max_norm
    assert np.linalg.norm(layer(tg.tensor([0, 4])).numpy(), axis=1).max() <= 1.0 + 1e-6


def test_embedding_errors():
    with pytest.raises(IndexError, match="index 6 is out of range for 6 embeddings"):
        F.embedding(tg.tensor([6]), tg.zeros(6, 2))
    with pytest.raises(TypeError, match="integer tensor"):
        F.embedding(tg.tensor([0.0]), tg.zeros(6, 2))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch_in_value_and_gradient(approximate):
    x = np.linspace(-6, 6, 41)
    a, b = tg.tensor(x, dtype=tg.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = F.gelu(a, approximate=approximate)
    yb = torch.nn.functional.gelu(b, approximate=approximate)
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-12, atol=1e-15)
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-12)
