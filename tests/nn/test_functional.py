"""nn.functional beyond the losses and layers: linear, one_hot, dropout, softmax defaults."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.nn import functional as F


def test_linear_is_x_times_w_transposed_plus_b():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    out = F.linear(tg.tensor(x, dtype=tg.float64), tg.tensor(w, dtype=tg.float64),
                   tg.tensor(b, dtype=tg.float64))
    np.testing.assert_allclose(out.numpy(), x @ w.T + b, rtol=1e-12)
    no_bias = F.linear(tg.tensor(x, dtype=tg.float64), tg.tensor(w, dtype=tg.float64))
    np.testing.assert_allclose(no_bias.numpy(), x @ w.T, rtol=1e-12)


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
