"""Gradient clipping, against torch.nn.utils on the same gradients."""

import math

import numpy as np
import pytest
import torch

from tinygrad_edu import Value, nn

GRADS = [3.0, -4.0, 0.5, 12.0]


def values_with(grads):
    vs = [Value(0.0) for _ in grads]
    for v, g in zip(vs, grads):
        v.grad = g
    return vs


def torch_with(grads):
    ts = [torch.zeros(1, dtype=torch.float64, requires_grad=True) for _ in grads]
    for t, g in zip(ts, grads):
        t.grad = torch.tensor([g], dtype=torch.float64)
    return ts


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (2.0, 1.0),
                                                 (5.0, math.inf), (0.5, 3.0)])
def test_clip_grad_norm_matches_torch_on_values(max_norm, norm_type):
    vs, ts = values_with(GRADS), torch_with(GRADS)
    total = nn.utils.clip_grad_norm_(vs, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type)
    assert total == pytest.approx(t_total.item(), rel=1e-12)
    np.testing.assert_allclose([v.grad for v in vs], [t.grad.item() for t in ts], rtol=1e-12)


def test_clip_grad_norm_leaves_small_gradients_alone():
    vs = values_with([0.3, 0.4])
    assert nn.utils.clip_grad_norm_(vs, 1.0) == pytest.approx(0.5)
    assert [v.grad for v in vs] == [0.3, 0.4]


def test_clip_grad_norm_can_refuse_a_nonfinite_norm():
    vs = values_with([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="total norm of the gradients is inf"):
        nn.utils.clip_grad_norm_(vs, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_each_entry():
    vs = values_with(GRADS)
    nn.utils.clip_grad_value_(vs, 1.0)
    assert [v.grad for v in vs] == [1.0, -1.0, 0.5, 1.0]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_matches_torch_on_tensors(norm_type):
    import tinygrad_edu as tg

    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)) * 3, rng.normal(size=5)]
    ours = [nn.Parameter(tg.zeros(*g.shape, dtype=tg.float64)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad, t.grad = tg.tensor(g, dtype=tg.float64), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, 2.0, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type)
    assert total.item() == pytest.approx(t_total.item(), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    nn.utils.clip_grad_value_(ours, 0.1)
    assert max(np.abs(p.grad.numpy()).max() for p in ours) <= 0.1
