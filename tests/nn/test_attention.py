"""scaled_dot_product_attention (and, below, MultiheadAttention) against torch in float64:
outputs and the gradients of query, key, value and an additive mask, over random sizes and
masks (boolean, additive, causal, rows that see nothing), with scale and dropout."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F

TF = torch.nn.functional


def pair(a, requires_grad=True):
    return (tg.tensor(a, dtype=tg.float64, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def check(ours, theirs, rng, inputs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)
    g = rng.normal(size=ours.shape)
    ours.backward(tg.tensor(g, dtype=tg.float64))
    theirs.backward(torch.tensor(g))
    for a, b in inputs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), L=st.integers(1, 5), S=st.integers(1, 5),
       E=st.integers(1, 4), Ev=st.integers(1, 4), seed=st.integers(0, 2**16),
       mask=st.sampled_from(["none", "bool", "float", "causal"]),
       scale=st.sampled_from([None, 0.3]))
def test_sdpa_matches_torch(batch, L, S, E, Ev, seed, mask, scale):
    rng = np.random.default_rng(seed)
    b = tuple(batch)
    (q, tq), (k, tk), (v, tv) = (pair(rng.normal(size=b + s)) for s in ((L, E), (S, E), (S, Ev)))
    inputs = [(q, tq), (k, tk), (v, tv)]
    kwargs, tkwargs = {"scale": scale}, {"scale": scale}
    if mask == "bool":  # some rows may see nothing: PyTorch gives them zero weights
        m = rng.random((L, S)) < 0.6
        kwargs["attn_mask"], tkwargs["attn_mask"] = tg.tensor(m), torch.tensor(m)
    elif mask == "float":
        m = rng.normal(size=(L, S))
        m[rng.random((L, S)) < 0.3] = -math.inf
        am, tam = pair(m)
        kwargs["attn_mask"], tkwargs["attn_mask"] = am, tam
    elif mask == "causal":
        kwargs["is_causal"] = tkwargs["is_causal"] = True
    check(F.scaled_dot_product_attention(q, k, v, **kwargs),
          TF.scaled_dot_product_attention(tq, tk, tv, **tkwargs), rng, inputs)


def test_sdpa_mask_broadcasts_over_heads_and_batch():
    rng = np.random.default_rng(0)
    (q, tq), (k, tk), (v, tv) = (pair(rng.normal(size=(2, 3, 4, 5))) for _ in range(3))
    m = rng.random((2, 1, 4, 4)) < 0.7
    check(F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(m)),
          TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(m)), rng,
          [(q, tq), (k, tk), (v, tv)])


def test_sdpa_grouped_query_heads_match_torch():
    rng = np.random.default_rng(1)
    (q, tq), (k, tk), (v, tv) = (pair(rng.normal(size=s)) for s in
                                 ((2, 4, 3, 5), (2, 2, 3, 5), (2, 2, 3, 5)))
    check(F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
          TF.scaled_dot_product_attention(tq, tk, tv, enable_gqa=True), rng,
          [(q, tq), (k, tk), (v, tv)])


def test_sdpa_dropout_zeroes_weights_and_rescales_the_rest():
    tg.manual_seed(0)
    q = k = tg.zeros(1, 200, 4)  # uniform weights 1/200 each
    v = tg.ones(1, 200, 1)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    # each output is (kept count) * (1/200) / 0.5: about 1 on average, not all equal
    assert abs(out.mean() - 1) < 0.05 and out.std() > 0.01
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).numpy(), 1.0, rtol=1e-6)


def test_sdpa_errors():
    q = tg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.ones(3, 3).bool(), is_causal=True)
    with pytest.raises(ValueError, match="share the last dim"):
        F.scaled_dot_product_attention(q, tg.zeros(2, 3, 5), q)
