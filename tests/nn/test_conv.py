"""Conv1d, Conv2d, ConvTranspose1d/2d: PyTorch's parameter names, shapes, default init and
repr; the same outputs and gradients as torch.nn given the same weights; errors that name the
layer and the shapes."""

import math

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn

rng = np.random.default_rng(0)

LAYERS = [
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("Conv1d", (4, 6, 2), {"padding": "same", "dilation": 3, "groups": 2,
                           "padding_mode": "circular"}, (2, 4, 7)),
    ("Conv2d", (3, 8, 3), {"padding": 1}, (2, 3, 6, 5)),
    ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "padding": (0, 1), "dilation": (1, 2),
                                "groups": 2, "bias": False, "padding_mode": "reflect"},
     (1, 4, 7, 6)),
    ("Conv2d", (2, 2, 3), {"padding": "valid", "padding_mode": "replicate"}, (3, 2, 5, 5)),
    ("ConvTranspose1d", (4, 2, 3), {"stride": 2, "output_padding": 1}, (2, 4, 5)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                    "groups": 2}, (2, 4, 3, 4)),
    ("ConvTranspose2d", (3, 2, (2, 3)), {"dilation": 2, "bias": False}, (1, 3, 4, 4)),
]


def pair(name, args, kwargs):
    ours = getattr(nn, name)(*args, **kwargs).double()
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    return ours, theirs


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_same_parameters_repr_and_outputs_as_torch(name, args, kwargs, shape):
    ours, theirs = pair(name, args, kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.normal(size=shape)
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = rng.normal(size=tuple(yb.shape))
    ya.backward(tg.tensor(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (k, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=k)


def test_conv_transpose_output_size_picks_the_output_padding_as_torch():
    ours, theirs = pair("ConvTranspose2d", (2, 3, 3), {"stride": 2})
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.normal(size=(1, 2, 4, 4))
    ya = ours(tg.tensor(x), output_size=(10, 9))
    yb = theirs(torch.tensor(x), output_size=(10, 9))
    assert ya.shape == tuple(yb.shape) == (1, 3, 10, 9)
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-9)


@pytest.mark.parametrize("name,args", [("Conv2d", (6, 16, 5)), ("Conv1d", (4, 8, 3)),
                                       ("ConvTranspose2d", (6, 4, 3))])
def test_default_init_is_torchs_uniform_range(name, args):
    """kaiming_uniform(a=sqrt(5)): weight and bias in U(-b, b), b = 1/sqrt(fan_in), with
    fan_in = weight.shape[1] * kernel size, as PyTorch (which also uses it for ConvTranspose)."""
    tg.manual_seed(0)
    layer = getattr(nn, name)(*args)
    w = layer.weight.numpy()
    bound = 1 / math.sqrt(w.shape[1] * math.prod(w.shape[2:]))
    for p in (w, layer.bias.numpy()):
        assert p.dtype == np.float32
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.8 * bound  # spread over the range, not a narrower one
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # a uniform's spread


@pytest.mark.parametrize("make,x,message", [
    (lambda: nn.Conv2d(3, 8, 3), tg.ones(2, 3, 5),
     r"Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected 3 input channels "
     r"\(dim 0\), got input of shape \(2, 3, 5\)"),
    (lambda: nn.Conv2d(3, 8, 3), tg.ones(5, 5),
     r"Conv2d\(3, 8, .*\): expected a 4-D input \(N, C, H, W\) or 3-D unbatched, got \(5, 5\)"),
    (lambda: nn.Conv2d(3, 8, 3), tg.ones(1, 4, 5, 5),
     r"expected 3 input channels \(dim 1\), got input of shape \(1, 4, 5, 5\)"),
    (lambda: nn.Conv2d(3, 8, 5), tg.ones(1, 3, 4, 4),
     r"Conv2d\(3, 8, kernel_size=\(5, 5\).*\): conv2d: the kernel \(size 5, dilation 1: spans "
     r"5\) is larger than the padded input \(4 \+ 0 \+ 0 = 4\)"),
    (lambda: nn.Conv1d(3, 8, 3), tg.ones(2, 3, 4, 4),
     r"Conv1d\(3, 8, .*\): expected a 3-D input \(N, C, W\) or 2-D unbatched"),
])
def test_bad_input_names_the_layer_and_the_shapes(make, x, message):
    with pytest.raises(ValueError, match=message):
        make()(x)


@pytest.mark.parametrize("make,message", [
    (lambda: nn.Conv2d(3, 8, 3, groups=2), r"Conv2d: groups=2 must divide both in_channels "
     r"\(3\) and out_channels \(8\)"),
    (lambda: nn.Conv2d(0, 8, 3), "Conv2d: in_channels must be a positive int, got 0"),
    (lambda: nn.Conv2d(3, 8, 3, padding="full"), "padding must be 'same', 'valid' or ints"),
    (lambda: nn.Conv2d(3, 8, 3, padding_mode="mirror"), "padding_mode must be one of"),
])
def test_bad_arguments_name_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()
