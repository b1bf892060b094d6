"""Pooling and resampling layers: PyTorch's repr and outputs, and indices that MaxUnpool2d
puts back where MaxPool2d found them."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn

rng = np.random.default_rng(0)

LAYERS = [
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 5)),
    ("MaxPool2d", ((3, 2),), {"stride": 1, "dilation": (1, 2), "ceil_mode": True},
     (1, 2, 5, 7)),
    ("AvgPool1d", (2,), {"ceil_mode": True}, (2, 3, 7)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False},
     (2, 3, 6, 5)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (1, 1, 4, 4)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 4, 4)),
    ("Upsample", (), {"scale_factor": 2}, (1, 2, 3, 4)),
    ("Upsample", ((5, 7),), {"mode": "bilinear", "align_corners": True}, (1, 2, 3, 4)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_same_repr_and_outputs_as_torch(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.1  # distinct: no ties for max
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-12)
    g = rng.normal(size=tuple(yb.shape))
    ya.backward(tg.tensor(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_max_unpool2d_puts_the_maxima_back():
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    assert repr(unpool) == repr(torch.nn.MaxUnpool2d(2))
    x = tg.tensor(rng.permutation(36).reshape(1, 1, 6, 6).astype(np.float64))
    values, idx = pool(x)
    back = unpool(values, idx).numpy()
    kept = x.numpy() * (back != 0)
    np.testing.assert_array_equal(back, kept)
    assert (back != 0).sum() == 9  # one maximum per 2x2 window
    t_values, t_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x.numpy()))
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    np.testing.assert_array_equal(back, torch.nn.MaxUnpool2d(2)(t_values, t_idx).numpy())


def test_pooling_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 3-D \(unbatched\) or 4-D "
                                         r"\(batched\) input .* got shape \(4,\)"):
        nn.MaxPool2d(2)(tg.ones(4))
    with pytest.raises(ValueError, match=r"avg_pool2d: the kernel \(size 5, dilation 1: spans "
                                         r"5\) is larger than the padded input"):
        nn.AvgPool2d(5)(tg.ones(1, 1, 3, 3))
