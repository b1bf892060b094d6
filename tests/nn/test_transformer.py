"""TransformerEncoderLayer and TransformerEncoder against torch.nn with the same weights, in
float64 to 1e-6: outputs and every gradient, post-norm and pre-norm, relu and gelu, with a
causal mask and key padding, both batch layouts; PyTorch's state-dict keys."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn


def twins(num_layers=None, final_norm=False, **kwargs):
    tl = torch.nn.TransformerEncoderLayer(**kwargs)
    layer = nn.TransformerEncoderLayer(**kwargs)
    if num_layers is None:
        t, m = tl, layer
    else:
        t = torch.nn.TransformerEncoder(tl, num_layers, enable_nested_tensor=False,
                                        norm=torch.nn.LayerNorm(kwargs["d_model"]) if final_norm
                                        else None)
        m = nn.TransformerEncoder(layer, num_layers,
                                  norm=nn.LayerNorm(kwargs["d_model"]) if final_norm else None)
    t, m = t.double(), m.double()
    assert list(m.state_dict()) == list(t.state_dict())
    rng = np.random.default_rng(0)  # random weights everywhere (LayerNorm's too)
    t.load_state_dict({k: torch.tensor(rng.normal(size=tuple(v.shape)) * 0.5)
                       for k, v in t.state_dict().items()})
    m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    return m, t


def compare(m, t, x_np, rng, **masks):
    x = tg.tensor(x_np, dtype=tg.float64, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    ours = m(x, **{k: (tg.tensor(v) if v is not None else None) for k, v in masks.items()})
    theirs = t(tx, **{k: (torch.tensor(v) if v is not None else None) for k, v in masks.items()})
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)
    g = rng.normal(size=ours.shape)
    ours.backward(tg.tensor(g, dtype=tg.float64))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-9)
    for (name, p), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=name)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch(norm_first, activation, batch_first):
    rng = np.random.default_rng(1)
    m, t = twins(d_model=8, nhead=2, dim_feedforward=12, dropout=0.0, activation=activation,
                 batch_first=batch_first, norm_first=norm_first)
    L, N = 5, 3
    causal = np.triu(np.ones((L, L), dtype=bool), 1)  # True: may not attend (MHA convention)
    pad = np.zeros((N, L), dtype=bool)
    pad[1, 3:] = True
    x = rng.normal(size=(N, L, 8) if batch_first else (L, N, 8))
    compare(m, t, x, rng, src_mask=causal, src_key_padding_mask=pad)
    compare(m, t, x, rng)


@pytest.mark.parametrize("final_norm", [False, True])
def test_encoder_stack_matches_torch(final_norm):
    rng = np.random.default_rng(2)
    m, t = twins(num_layers=3, final_norm=final_norm, d_model=8, nhead=4, dim_feedforward=16,
                 dropout=0.0, batch_first=True, norm_first=True)
    causal = np.triu(np.ones((6, 6), dtype=bool), 1)
    compare(m, t, rng.normal(size=(2, 6, 8)), rng, mask=causal)


def test_layers_are_independent_copies_and_dropout_only_trains():
    tg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True)
    enc = nn.TransformerEncoder(layer, 2)
    a, b = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert a is not b and np.array_equal(a.numpy(), b.numpy())
    x = tg.randn(2, 4, 8)
    assert not np.allclose(enc(x).numpy(), enc(x).numpy())
    enc.eval()
    np.testing.assert_array_equal(enc(x).numpy(), enc(x).numpy())


def test_bad_activation_is_named():
    with pytest.raises(ValueError, match="activation must be 'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")
