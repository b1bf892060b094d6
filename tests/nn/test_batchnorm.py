"""BatchNorm2d (one batch_norm with BatchNorm1d): PyTorch's statistics, running estimates,
gradients, parameter names and repr; F.batch_norm as torch's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn

rng = np.random.default_rng(0)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine,track", [(True, True), (False, True), (True, False)])
def test_batchnorm2d_matches_torch_in_train_and_eval(momentum, affine, track):
    bn = nn.BatchNorm2d(3, momentum=momentum, affine=affine, track_running_stats=track)
    t_bn = torch.nn.BatchNorm2d(3, momentum=momentum, affine=affine,
                                track_running_stats=track)
    bn, t_bn = bn.double(), t_bn.double()
    if affine:
        with torch.no_grad():
            t_bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
            t_bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    bn.load_state_dict({k: v.numpy() for k, v in t_bn.state_dict().items()})
    for step in range(3):
        x = rng.normal(size=(4, 3, 5, 2)) * (step + 1) + step
        a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yb = bn(a), t_bn(b)
        np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-9, atol=1e-12)
        g = rng.normal(size=x.shape)
        ya.backward(tg.tensor(g))
        yb.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (k, v), (_, t_v) in zip(bn.state_dict().items(), t_bn.state_dict().items()):
        np.testing.assert_allclose(np.asarray(v), t_v.numpy(), rtol=1e-12, err_msg=k)
    bn.eval()
    t_bn.eval()
    x = rng.normal(size=(2, 3, 4, 4))
    np.testing.assert_allclose(bn(tg.tensor(x)).numpy(), t_bn(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10)


def test_batchnorm2d_has_torchs_keys_and_repr():
    assert list(nn.BatchNorm2d(4).state_dict()) == list(torch.nn.BatchNorm2d(4).state_dict())
    assert repr(nn.BatchNorm2d(4, eps=1e-3)) == repr(torch.nn.BatchNorm2d(4, eps=1e-3))


def test_batchnorm2d_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(4\): expected input of shape "
                                         r"\(N, 4, H, W\), got \(2, 4\)"):
        nn.BatchNorm2d(4)(tg.ones(2, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(4\): batch_norm: expected more than 1 "
                                         r"value per channel when training"):
        nn.BatchNorm2d(4)(tg.ones(1, 4, 1, 1))


def test_functional_batch_norm_matches_torch_and_updates_the_estimates():
    x = rng.normal(size=(6, 2, 3))
    rm, rv = np.array([0.5, -1.0]), np.array([2.0, 0.5])
    ours_rm, ours_rv = tg.tensor(rm), tg.tensor(rv)
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    w, b = rng.normal(size=2), rng.normal(size=2)
    for training in (True, False):
        ya = F.batch_norm(tg.tensor(x), ours_rm, ours_rv, tg.tensor(w), tg.tensor(b),
                          training=training, momentum=0.3, eps=1e-3)
        yb = TF.batch_norm(torch.tensor(x), t_rm, t_rv, torch.tensor(w), torch.tensor(b),
                           training=training, momentum=0.3, eps=1e-3)
        np.testing.assert_allclose(ya.numpy(), yb.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours_rm.numpy(), t_rm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours_rv.numpy(), t_rv.numpy(), rtol=1e-12)
