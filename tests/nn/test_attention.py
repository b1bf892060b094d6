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
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F

TF = torch.nn.functional


def pair(a, requires_grad=True):
    return (tg.tensor(a, dtype=tg.float64, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), L=st.integers(1, 5), S=st.integers(1, 5),
       E=st.integers(1, 4), Ev=st.integers(1, 4), seed=st.integers(0, 2**16),
       mask=st.sampled_from(["none", "bool", "float", "causal"]),
       scale=st.sampled_from([None, 0.3]))
def test_sdpa_matches_torch(batch, L, S, E, Ev, seed, mask, scale, same_as_torch):
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
    same_as_torch(F.scaled_dot_product_attention(q, k, v, **kwargs),
          TF.scaled_dot_product_attention(tq, tk, tv, **tkwargs), rng, inputs)


def test_sdpa_mask_broadcasts_over_heads_and_batch(same_as_torch):
    rng = np.random.default_rng(0)
    (q, tq), (k, tk), (v, tv) = (pair(rng.normal(size=(2, 3, 4, 5))) for _ in range(3))
    m = rng.random((2, 1, 4, 4)) < 0.7
    same_as_torch(F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(m)),
          TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(m)), rng,
          [(q, tq), (k, tk), (v, tv)])


def test_sdpa_grouped_query_heads_match_torch(same_as_torch):
    rng = np.random.default_rng(1)
    (q, tq), (k, tk), (v, tv) = (pair(rng.normal(size=s)) for s in
                                 ((2, 4, 3, 5), (2, 2, 3, 5), (2, 2, 3, 5)))
    same_as_torch(F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
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


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_sdpa_matches_torch_at_sizes_its_row_sums_with_blas(mask, same_as_torch):
    """Scores of 4 x 3 x 32 x 24 (and more): the attention row takes its max and its sums
    over the keys the fast way (rule_math's row_max and csum); an additive mask here is a
    constant, so it goes through the row too (a learned one is tested above)."""
    rng = np.random.default_rng(7)
    (q, tq), (k, tk), (v, tv) = (pair(rng.normal(size=(4, 3) + s))
                                 for s in ((32, 8), (24, 8), (24, 5)))
    kwargs = {}
    if mask == "bool":
        m = rng.random((32, 24)) < 0.5
        m[3] = False  # a query that sees nothing
        kwargs["attn_mask"] = m
    elif mask == "float":
        m = rng.normal(size=(3, 32, 24))
        m[rng.random((3, 32, 24)) < 0.3] = -math.inf
        kwargs["attn_mask"] = m
    elif mask == "causal":
        kwargs["is_causal"] = True
    ours = F.scaled_dot_product_attention(
        q, k, v, **{n: tg.tensor(a) if n == "attn_mask" else a for n, a in kwargs.items()})
    theirs = TF.scaled_dot_product_attention(
        tq, tk, tv, **{n: torch.tensor(a) if n == "attn_mask" else a for n, a in kwargs.items()})
    same_as_torch(ours, theirs, rng, [(q, tq), (k, tk), (v, tv)])
    # float32, as a model runs it: within float32's rounding of torch's
    ours32 = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), **{
        n: tg.tensor(a) if n == "attn_mask" else a for n, a in kwargs.items()})
    assert ours32.dtype == tg.float32
    np.testing.assert_allclose(ours32.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("L, S", [(0, 3), (3, 0), (1, 1)])
def test_sdpa_with_no_queries_or_no_keys_matches_torch(L, S, same_as_torch):
    """No keys: zero outputs and zero gradients, as torch gives (softmax over nothing)."""
    rng = np.random.default_rng(2)
    (q, tq), (k, tk), (v, tv) = (pair(rng.normal(size=(2, n, 5))) for n in (L, S, S))
    same_as_torch(F.scaled_dot_product_attention(q, k, v),
                  TF.scaled_dot_product_attention(tq, tk, tv), rng, [(q, tq), (k, tk), (v, tv)])


def test_sdpa_errors():
    q = tg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.ones(3, 3).bool(), is_causal=True)
    with pytest.raises(ValueError, match="share the last dim"):
        F.scaled_dot_product_attention(q, tg.zeros(2, 3, 5), q)
    with pytest.raises(TypeError, match="query must be floating point, got int64"):
        F.scaled_dot_product_attention(q.long(), q, q)
    with pytest.raises(TypeError, match="attn_mask must be boolean .* got int64"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), np.int64))
    # as in torch, the mask broadcasts to the scores, not the scores to the mask
    with pytest.raises(ValueError, match=r"attn_mask of shape \(5, 2, 3, 3\) must broadcast to "
                                         r"the scores' shape \(2, 3, 3\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((5, 2, 3, 3), bool))
    with pytest.raises(RuntimeError):
        TF.scaled_dot_product_attention(*[torch.zeros(2, 3, 4)] * 3,
                                        attn_mask=torch.ones(5, 2, 3, 3, dtype=torch.bool))


# ---- MultiheadAttention -------------------------------------------------------------------------


def mha_twins(E, H, **kwargs):
    t = torch.nn.MultiheadAttention(E, H, **kwargs).double()
    m = nn.MultiheadAttention(E, H, **kwargs).double()
    assert list(m.state_dict()) == list(t.state_dict())
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return m, t


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")  # torch's own
@settings(max_examples=30, deadline=None)
@given(H=st.integers(1, 3), d=st.integers(1, 3), L=st.integers(1, 4), S=st.integers(1, 4),
       N=st.integers(1, 3), batch_first=st.booleans(), self_attention=st.booleans(),
       mask=st.sampled_from(["none", "bool", "float", "per_head"]), padding=st.booleans(),
       average=st.booleans(), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_mha_matches_torch(H, d, L, S, N, batch_first, self_attention, mask, padding, average,
                           bias, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    E = H * d
    if self_attention:
        S = L
    m, t = mha_twins(E, H, batch_first=batch_first, bias=bias)
    shape = (lambda n: (N, n, E)) if batch_first else (lambda n: (n, N, E))
    q, tq = pair(rng.normal(size=shape(L)))
    inputs = [(q, tq)]
    if self_attention:
        k, tk, v, tv = q, tq, q, tq
    else:
        (k, tk), (v, tv) = pair(rng.normal(size=shape(S))), pair(rng.normal(size=shape(S)))
        inputs += [(k, tk), (v, tv)]
    kw, tkw = {"average_attn_weights": average}, {"average_attn_weights": average}
    # every query keeps key 0, so no row is fully masked (PyTorch gives NaN weights there)
    if mask == "bool":
        am = rng.random((L, S)) < 0.4
        am[:, 0] = False
        kw["attn_mask"], tkw["attn_mask"] = tg.tensor(am), torch.tensor(am)
    elif mask in ("float", "per_head"):
        am = rng.normal(size=(L, S) if mask == "float" else (N * H, L, S))
        kw["attn_mask"], tkw["attn_mask"] = tg.tensor(am, dtype=tg.float64), torch.tensor(am)
    if padding:
        kp = rng.random((N, S)) < 0.4
        kp[:, 0] = False
        kw["key_padding_mask"], tkw["key_padding_mask"] = tg.tensor(kp), torch.tensor(kp)
    out, w = m(q, k, v, **kw)
    tout, tw = t(tq, tk, tv, **tkw)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-6, atol=1e-9)
    g_out, g_w = rng.normal(size=out.shape), rng.normal(size=w.shape)
    ((out * tg.tensor(g_out, dtype=tg.float64)).sum()
     + (w * tg.tensor(g_w, dtype=tg.float64)).sum()).backward()
    ((tout * torch.tensor(g_out)).sum() + (tw * torch.tensor(g_w)).sum()).backward()
    for a, b in inputs + list(zip(m.parameters(), t.parameters())):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_mha_unbatched_and_need_weights_false_match_torch(same_as_torch):
    rng = np.random.default_rng(5)
    m, t = mha_twins(6, 2)
    x, tx = pair(rng.normal(size=(4, 6)))
    out, w = m(x, x, x, need_weights=False)
    tout, tw = t(tx, tx, tx, need_weights=False)
    assert w is None and tw is None
    same_as_torch(out, tout, rng, [(x, tx)] + list(zip(m.parameters(), t.parameters())))


def test_mha_init_is_pytorchs():
    tg.manual_seed(0)
    m = nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform on (3E, E)
    w = m.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert not m.in_proj_bias.numpy().any() and not m.out_proj.bias.numpy().any()


def test_mha_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    m = nn.MultiheadAttention(4, 2)
    x = tg.zeros(3, 2, 4)
    with pytest.raises(ValueError, match=r"attn_mask must be \(3, 3\) or \(4, 3, 3\)"):
        m(x, x, x, attn_mask=tg.zeros(2, 2))
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(2, 3\)"):
        m(x, x, x, key_padding_mask=tg.zeros(3, 2).bool())
    with pytest.raises(ValueError, match="expected a query of shape"):
        m(tg.zeros(3, 2, 5), x, x)
