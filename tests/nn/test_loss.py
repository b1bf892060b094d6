"""Losses: values and input gradients equal torch.nn's (float64), every reduction and option;
stable for extreme logits; clear errors for targets of the wrong shape, dtype or range."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F

rng = np.random.default_rng(0)
N, C = 6, 4
LOGITS = rng.normal(size=(N, C)) * 3
CLASSES = np.array([0, 3, 1, 1, 2, 3])
PROBS = rng.dirichlet(np.ones(C), size=N)
PRED = rng.normal(size=(N, 3))
REAL = rng.normal(size=(N, 3)) * 2
P01 = rng.uniform(0.01, 0.99, size=(N, 3))
BITS = (rng.uniform(size=(N, 3)) > 0.5).astype(np.float64)


def ours(x):
    return tg.tensor(x, dtype=tg.float64, requires_grad=True)


def theirs(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def compare(make_ours, make_theirs, x, *targets, reduction):
    """Same loss value, and same gradient of (loss * fixed weights).sum() for the input."""
    a, b = ours(x), theirs(x)
    la = make_ours(reduction)(a, *[_ours_target(t) for t in targets])
    lb = make_theirs(reduction)(b, *[torch.tensor(t) for t in targets])
    assert la.shape == tuple(lb.shape)
    np.testing.assert_allclose(la.numpy(), lb.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = rng.uniform(0.5, 1.5, size=la.shape)
    (la * tg.tensor(weights, dtype=tg.float64)).sum().backward()
    (lb * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def _ours_target(t):
    return tg.tensor(t, dtype=tg.float64) if t.dtype.kind == "f" else tg.tensor(t)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kw", [
    ("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {}), ("HuberLoss", {"delta": 0.5}),
])
def test_regression_losses(name, kw, reduction):
    compare(lambda r: getattr(nn, name)(reduction=r, **kw),
            lambda r: getattr(torch.nn, name)(reduction=r, **kw), PRED, REAL, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    compare(lambda r: nn.BCEWithLogitsLoss(reduction=r),
            lambda r: torch.nn.BCEWithLogitsLoss(reduction=r), PRED * 5, BITS, reduction=reduction)
    pw = np.array([0.5, 2.0, 3.0])
    compare(lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=tg.tensor(pw, dtype=tg.float64)),
            lambda r: torch.nn.BCEWithLogitsLoss(reduction=r, pos_weight=torch.tensor(pw)),
            PRED * 5, P01, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    compare(lambda r: nn.BCELoss(reduction=r), lambda r: torch.nn.BCELoss(reduction=r),
            P01, BITS, reduction=reduction)
    w = np.array([1.0, 0.5, 2.0])
    compare(lambda r: nn.BCELoss(weight=tg.tensor(w, dtype=tg.float64), reduction=r),
            lambda r: torch.nn.BCELoss(weight=torch.tensor(w), reduction=r),
            P01, P01[::-1].copy(), reduction=reduction)


def test_bce_at_exact_zero_and_one_is_finite_as_in_torch():
    """log(0) is clamped at -100, and the gradient's denominator at 1e-12: no inf, no nan."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    compare(lambda r: nn.BCELoss(reduction=r), lambda r: torch.nn.BCELoss(reduction=r),
            p, t, reduction="sum")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.1}, {"ignore_index": 1},
                                {"ignore_index": 3, "label_smoothing": 0.2}, {"weight": True},
                                {"weight": True, "label_smoothing": 0.3, "ignore_index": 0}])
def test_cross_entropy_with_class_indices(kw, reduction):
    kw_ours, kw_theirs = dict(kw), dict(kw)
    if kw.get("weight"):
        w = np.array([1.0, 2.0, 0.5, 1.5])
        kw_ours["weight"], kw_theirs["weight"] = tg.tensor(w, dtype=tg.float64), torch.tensor(w)
    compare(lambda r: nn.CrossEntropyLoss(reduction=r, **kw_ours),
            lambda r: torch.nn.CrossEntropyLoss(reduction=r, **kw_theirs),
            LOGITS, CLASSES, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_with_class_probabilities(smoothing, reduction):
    compare(lambda r: nn.CrossEntropyLoss(reduction=r, label_smoothing=smoothing),
            lambda r: torch.nn.CrossEntropyLoss(reduction=r, label_smoothing=smoothing),
            LOGITS, PROBS, reduction=reduction)


def test_cross_entropy_on_extra_dims_and_unbatched_input():
    x = rng.normal(size=(2, C, 5))
    t = rng.integers(0, C, size=(2, 5))
    for r in REDUCTIONS:
        compare(lambda r: nn.CrossEntropyLoss(reduction=r),
                lambda r: torch.nn.CrossEntropyLoss(reduction=r), x, t, reduction=r)
    compare(lambda r: nn.CrossEntropyLoss(reduction=r),
            lambda r: torch.nn.CrossEntropyLoss(reduction=r), LOGITS[0], np.array(2),
            reduction="mean")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    logp = torch.log_softmax(torch.tensor(LOGITS), 1).numpy()
    compare(lambda r: nn.NLLLoss(reduction=r), lambda r: torch.nn.NLLLoss(reduction=r),
            logp, CLASSES, reduction=reduction)
    compare(lambda r: nn.NLLLoss(reduction=r, ignore_index=3),
            lambda r: torch.nn.NLLLoss(reduction=r, ignore_index=3),
            logp, CLASSES, reduction=reduction)


def test_cross_entropy_is_stable_for_extreme_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3e38, 0.0, -3e38]])
    t = np.array([1, 2, 0])
    a, b = ours(x), theirs(x)
    la = F.cross_entropy(a, tg.tensor(t), reduction="none")
    lb = torch.nn.functional.cross_entropy(b, torch.tensor(t), reduction="none")
    assert np.isfinite(la.numpy()).all()
    np.testing.assert_allclose(la.numpy(), lb.detach().numpy(), rtol=1e-12)
    la.sum().backward()
    lb.sum().backward()
    assert np.isfinite(a.grad.numpy()).all()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


def test_bce_with_logits_is_stable_for_extreme_logits():
    x = np.array([1e4, -1e4, 800.0, -800.0, 0.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    a, b = ours(x), theirs(x)
    la = F.binary_cross_entropy_with_logits(a, tg.tensor(t, dtype=tg.float64), reduction="none")
    lb = torch.nn.functional.binary_cross_entropy_with_logits(b, torch.tensor(t),
                                                              reduction="none")
    np.testing.assert_allclose(la.numpy(), lb.detach().numpy(), rtol=1e-12)
    la.sum().backward()
    lb.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


def test_float32_cross_entropy_stays_float32():
    x = tg.tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor(CLASSES))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("target, error, message", [
    (np.array([0, 1, 2, 3, 4, 10]), IndexError, "target 10 is out of bounds for 4 classes"),
    (np.array([0, 1, 2, 3, -1, 0]), IndexError, "target -1 is out of bounds"),
    (np.array([0, 1, 2]), ValueError, r"needs a target of shape \(6,\), got \(3,\)"),
    (CLASSES.reshape(6, 1), ValueError, r"needs a target of shape \(6,\), got \(6, 1\)"),
    (CLASSES.astype(np.float64), ValueError, "probability targets must have the input's shape"),
    (CLASSES.astype(np.float32).reshape(3, 2), ValueError, "probability targets"),
])
def test_cross_entropy_rejects_bad_targets(target, error, message):
    with pytest.raises(error, match=message):
        F.cross_entropy(ours(LOGITS), tg.tensor(target))


def test_nll_loss_rejects_float_class_targets():
    with pytest.raises(TypeError, match="integer tensor"):
        F.nll_loss(ours(LOGITS), tg.tensor(CLASSES.astype(np.float32)))


def test_elementwise_losses_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"target shape \(6,\) differs from input shape \(6, 1\)"):
        F.mse_loss(ours(PRED[:, :1]), tg.tensor(REAL[:, 0]))
    with pytest.raises(ValueError, match="reduction must be"):
        nn.L1Loss(reduction="average")


def test_bce_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        F.binary_cross_entropy(ours(PRED), tg.tensor(BITS, dtype=tg.float64))


def test_bce_rule_checks_against_finite_differences_including_second_order():
    """binary_cross_entropy is the one loss with its own derivative rule: check both of its
    inputs, first and second derivatives (inside (0, 1), where the clamps are inactive)."""
    from tinygrad_edu.testing import gradcheck, gradgradcheck

    p = ours(P01)
    t = ours(rng.uniform(0.0, 1.0, size=P01.shape))
    gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"), [p, t])
    gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"), [p, t])


def test_bce_rule_gives_the_same_gradient_when_recorded():
    """With create_graph=True the rule runs on Tensors; it must agree with the array path."""
    p, t = ours(P01), ours(rng.uniform(0.0, 1.0, size=P01.shape))
    plain = tg.grad(F.binary_cross_entropy(p, t), [p, t])
    recorded = tg.grad(F.binary_cross_entropy(p, t), [p, t], create_graph=True)
    for a, b in zip(plain, recorded):
        assert b.requires_grad
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12)
