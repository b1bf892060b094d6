"""layer_norm, group_norm, rms_norm and their modules: values and every gradient as torch's,
in float64 to 1e-6, over random sizes (hypothesis); PyTorch's parameter names and init."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F

TF = torch.nn.functional


def pair(a):
    """The same float64 array as our tensor and as torch's, both requiring grad."""
    return tg.tensor(a, dtype=tg.float64, requires_grad=True), torch.tensor(a, requires_grad=True)


sizes = st.lists(st.integers(1, 4), min_size=1, max_size=3)


@settings(max_examples=25, deadline=None)
@given(lead=sizes, k=st.integers(1, 2), seed=st.integers(0, 2**16), affine=st.booleans())
def test_layer_norm_matches_torch(lead, k, seed, affine, same_as_torch):
    rng = np.random.default_rng(seed)
    shape = tuple(lead) + tuple(rng.integers(1, 5, size=k))
    norm_shape = shape[-k:]
    x, tx = pair(rng.normal(size=shape) * 3 + 1)
    inputs = [(x, tx)]
    w = b = tw = tb = None
    if affine:
        (w, tw), (b, tb) = pair(rng.normal(size=norm_shape)), pair(rng.normal(size=norm_shape))
        inputs += [(w, tw), (b, tb)]
    same_as_torch(F.layer_norm(x, norm_shape, w, b, eps=1e-5),
                TF.layer_norm(tx, norm_shape, tw, tb, eps=1e-5), rng, inputs)


@settings(max_examples=25, deadline=None)
@given(lead=sizes, seed=st.integers(0, 2**16), eps=st.sampled_from([None, 1e-6, 0.1]))
def test_rms_norm_matches_torch(lead, seed, eps, same_as_torch):
    rng = np.random.default_rng(seed)
    shape = tuple(lead) + (int(rng.integers(1, 6)),)
    x, tx = pair(rng.normal(size=shape))
    w, tw = pair(rng.normal(size=shape[-1:]))
    same_as_torch(F.rms_norm(x, shape[-1:], w, eps), TF.rms_norm(tx, shape[-1:], tw, eps), rng,
                [(x, tx), (w, tw)])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), groups=st.integers(1, 3), per=st.integers(1, 3),
       spatial=st.lists(st.integers(1, 3), max_size=2), seed=st.integers(0, 2**16))
def test_group_norm_matches_torch(n, groups, per, spatial, seed, same_as_torch):
    rng = np.random.default_rng(seed)
    c = groups * per
    assume(per * int(np.prod(spatial)) > 1)  # one value per group is an error (tested below)
    x, tx = pair(rng.normal(size=(n, c, *spatial)))
    w, tw = pair(rng.normal(size=c))
    b, tb = pair(rng.normal(size=c))
    same_as_torch(F.group_norm(x, groups, w, b), TF.group_norm(tx, groups, tw, tb), rng,
                [(x, tx), (w, tw), (b, tb)])


@pytest.mark.parametrize("ours, theirs, shape", [
    (lambda: nn.LayerNorm((3, 4)), lambda: torch.nn.LayerNorm((3, 4)), (2, 3, 4)),
    (lambda: nn.RMSNorm(4), lambda: torch.nn.RMSNorm(4), (2, 3, 4)),
    (lambda: nn.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4), (2, 4, 3)),
])
def test_modules_match_torch_with_the_same_names_and_init(ours, theirs, shape, same_as_torch):
    m, tm = ours().double(), theirs().double()
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    for (_, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), tp.detach().numpy())  # ones and zeros
    rng = np.random.default_rng(0)
    tm.load_state_dict({k: torch.tensor(rng.normal(size=v.shape))
                        for k, v in tm.state_dict().items()})
    m.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    x, tx = pair(rng.normal(size=shape))
    inputs = [(x, tx)] + list(zip(m.parameters(), tm.parameters()))
    same_as_torch(m(x), tm(tx), rng, inputs)


def test_no_affine_and_no_bias_options():
    assert nn.LayerNorm(4, elementwise_affine=False).parameters() == []
    assert [n for n, _ in nn.LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    assert nn.RMSNorm(4, elementwise_affine=False).weight is None
    assert nn.GroupNorm(2, 4, affine=False).parameters() == []


def test_layer_norm_is_stable_for_a_large_offset():
    x = tg.tensor(np.array([[1e6, 1e6 + 1, 1e6 + 2]]), dtype=tg.float64)
    np.testing.assert_allclose(F.layer_norm(x, 3).numpy(),
                               TF.layer_norm(torch.tensor(x.numpy()), (3,)).numpy(), rtol=1e-6)


def test_bad_shapes_say_what_is_expected():
    with pytest.raises(ValueError, match=r"normalized_shape \(5,\) must be the last dims"):
        F.layer_norm(tg.zeros(2, 4), 5)
    with pytest.raises(ValueError, match="cannot be split into 3 groups"):
        F.group_norm(tg.zeros(2, 4), 3)
    with pytest.raises(ValueError, match="more than 1 value per group"):
        F.group_norm(tg.zeros(2, 4), 4)
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, 4, \*\)"):
        nn.GroupNorm(2, 4)(tg.zeros(2, 6))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)


@pytest.mark.parametrize("norm", ["layer_norm", "group_norm"])
def test_second_derivatives_through_the_standardization_match_torch(norm):
    """A gradient penalty through layer_norm / group_norm: the standardize row's rule is
    differentiated again (gradgradcheck alone would not see a wrong first derivative there)."""
    r = np.random.default_rng(5)
    x, w, b = r.normal(size=(3, 4, 5)) * 2 + 1, r.normal(size=4), r.normal(size=4)
    if norm == "layer_norm":
        w, b = r.normal(size=5), r.normal(size=5)
    grads = []
    for lib, f in ((tg, F), (torch, TF)):
        xs, ws, bs = (lib.tensor(v, requires_grad=True) for v in (x, w, b))
        y = (f.layer_norm(xs, (5,), ws, bs) if norm == "layer_norm"
             else f.group_norm(xs, 2, ws, bs))
        gx, gw = lib.autograd.grad((y * y * y).sum(), (xs, ws), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        grads.append([t.grad.numpy() for t in (xs, ws, bs)])
    for a, t in zip(*grads):
        np.testing.assert_allclose(a, t, rtol=1e-6, atol=1e-9)
