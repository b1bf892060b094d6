"""BatchNorm2d (one batch_norm with BatchNorm1d): PyTorch's statistics, running estimates,
gradients, parameter names and repr; F.batch_norm as torch's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.tensor import OPS
from tinygrad_edu.testing import gradcheck, gradgradcheck

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


# ---- the fused batch_norm rows (tensor/ops.py): values, gradients, second derivatives ----------

def _layout(x, channels_last):
    """x itself, or the same values laid out with the channels innermost (a conv's output)."""
    if not channels_last or x.ndim < 3:
        return x
    order = (0, *range(2, x.ndim), 1)
    return np.ascontiguousarray(x.transpose(order)).transpose(np.argsort(order))


def _both(x, w, b, rm, rv, **kw):
    """(ours, torch's): output, running stats, and the grads of x, w, b for one cotangent."""
    res = []
    for lib, f, mk in ((tg, F.batch_norm, lambda v: tg.tensor(v, requires_grad=True)),
                       (torch, TF.batch_norm, lambda v: torch.tensor(v, requires_grad=True))):
        xs = mk(x)
        ws = None if w is None else mk(w)
        bs = None if b is None else mk(b)
        stats = [None if s is None else lib.tensor(s.copy()) for s in (rm, rv)]
        y = f(xs, *stats, ws, bs, **kw)
        g = np.random.default_rng(1).normal(size=x.shape)
        y.backward(lib.tensor(g))
        grads = [t.grad for t in (xs, ws, bs) if t is not None]
        res.append([y.detach().numpy(), *[s.numpy() for s in stats if s is not None],
                    *[gr.numpy() for gr in grads]])
    return res


@pytest.mark.parametrize("shape", [(5, 3), (600, 8), (4, 3, 6), (3, 2, 4, 5), (8, 16, 12, 10)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_batch_norm_row_matches_torch(shape, training, affine, channels_last):
    r = np.random.default_rng(sum(shape))
    c = shape[1]
    x = _layout(r.normal(size=shape) * 3 + 2, channels_last)  # the big ones: BLAS sums
    w = r.normal(size=c) if affine != "none" else None
    b = r.normal(size=c) if affine == "both" else None
    rm, rv = r.normal(size=c), r.uniform(0.5, 2.0, c)
    ours, theirs = _both(x, w, b, rm, rv, training=training, momentum=0.2, eps=1e-4)
    assert len(ours) == len(theirs)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_second_derivatives_match_torch(training):
    """A gradient penalty through batch norm: the rules are differentiated again."""
    r = np.random.default_rng(3)
    x, w, b = r.normal(size=(6, 3, 4)), r.normal(size=3), r.normal(size=3)
    rm, rv = r.normal(size=3), r.uniform(0.5, 2.0, 3)
    grads = []
    for lib, f in ((tg, F.batch_norm), (torch, TF.batch_norm)):
        xs, ws, bs = (lib.tensor(v, requires_grad=True) for v in (x, w, b))
        y = f(xs, lib.tensor(rm), lib.tensor(rv), ws, bs, training=training)
        gx, gw = lib.autograd.grad((y * y * y).sum(), (xs, ws), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        grads.append([t.grad.numpy() for t in (xs, ws, bs)])
    for a, t in zip(*grads):
        np.testing.assert_allclose(a, t, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_passes_gradcheck_and_gradgradcheck(training):
    r = np.random.default_rng(4)
    x, w, b = (tg.tensor(v, requires_grad=True)
               for v in (r.normal(size=(4, 2, 3)), r.normal(size=2), r.normal(size=2)))
    rm, rv = tg.tensor(r.normal(size=2)), tg.tensor(r.uniform(0.5, 2.0, 2))

    def fn(x, w, b):
        return F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.0)

    assert gradcheck(fn, [x, w, b])
    assert gradgradcheck(fn, [x, w, b])


def test_batch_norm_is_one_node():
    x = tg.tensor(rng.normal(size=(4, 3, 2)), requires_grad=True)
    y = F.batch_norm(x, None, None, training=True)
    assert y.grad_fn.op is OPS.batch_norm
    assert F.batch_norm(x, tg.zeros(3), tg.ones(3)).grad_fn.op is OPS.batch_norm_eval


def test_batch_norm_checks_the_shapes_of_its_per_channel_tensors():
    x = tg.ones(4, 3, 2)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\), got \(2,\)"):
        F.batch_norm(x, None, None, tg.ones(2), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: running_var must have shape \(3,\) for "
                                         r"an input of shape \(4, 3, 2\), got \(4,\)"):
        F.batch_norm(x, tg.zeros(3), tg.ones(4))


def test_batch_norm_in_float32_stays_float32_and_close_to_torch():
    x = _layout(rng.normal(size=(16, 8, 10, 10)).astype(np.float32) * 4 + 1, True)
    ya = F.batch_norm(tg.tensor(x), None, None, training=True)
    yb = TF.batch_norm(torch.tensor(x), None, None, training=True)
    assert ya.dtype == tg.float32
    np.testing.assert_allclose(ya.numpy(), yb.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_weight_gradient_is_its_own_when_another_layers_input_rule_ran_last():
    """The weight's rule reuses a sum the input's rule of the same node computed; here the
    last input rule to run belongs to another layer (whose weight is frozen), and the first
    layer's input needs no gradient: its weight's gradient must still be its own."""
    x = rng.normal(size=(8, 3, 4, 4)) * 2 + 1
    g = rng.normal(size=x.shape)
    grads = []
    for lib, mod in ((tg, nn), (torch, torch.nn)):
        first, second = mod.BatchNorm2d(3).double(), mod.BatchNorm2d(3).double()
        with lib.no_grad():
            first.weight.copy_(lib.tensor([1.5, -0.5, 2.0]))
        second.weight.requires_grad_(False)
        y = second(first(lib.tensor(x)) * 2.0)
        (y * lib.tensor(g)).sum().backward()
        grads.append([first.weight.grad.numpy(), first.bias.grad.numpy(),
                      second.bias.grad.numpy()])
    for a, t in zip(*grads):
        np.testing.assert_allclose(a, t, rtol=1e-8, atol=1e-10)
