"""Shared by the nn tests that hold a layer to torch's: one comparison of values and gradients."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg


def _same_as_torch(ours, theirs, rng, inputs):
    """Outputs equal (float64, 1e-6), then the gradient of <out, g> for one random g equal
    for every (ours, theirs) pair in `inputs`."""
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)
    g = rng.normal(size=ours.shape)
    ours.backward(tg.tensor(g, dtype=tg.float64))
    theirs.backward(torch.tensor(g))
    for a, b in inputs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.fixture(scope="session")
def same_as_torch():
    return _same_as_torch
