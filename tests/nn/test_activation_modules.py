"""The activation modules and the five losses give what torch's modules give (values and
gradients), with torch's constructor arguments."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg

X = np.array([[-2.5, -0.7, 0.3, 1.9], [4.0, -4.2, 0.05, -0.05]])


@pytest.mark.parametrize("name,kwargs", [
    ("SiLU", {}), ("ELU", {"alpha": 0.7}), ("CELU", {"alpha": 1.5}), ("SELU", {}),
    ("Hardtanh", {"min_val": -2.0, "max_val": 1.0}), ("ReLU6", {}), ("Hardsigmoid", {}),
    ("Hardswish", {}), ("Mish", {}), ("LogSigmoid", {}), ("Softsign", {}),
    ("Softplus", {"beta": 2.0, "threshold": 3.0}), ("Softmin", {"dim": 1}), ("GLU", {"dim": 1}),
])
def test_activation_module_matches_torch(name, kwargs):
    x_t = torch.tensor(X, requires_grad=True)
    x_o = tg.tensor(X, requires_grad=True)
    out_t = getattr(torch.nn, name)(**kwargs)(x_t)
    out_o = getattr(tg.nn, name)(**kwargs)(x_o)
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.linspace(-1, 1, out_t.numel()).reshape(out_t.shape)
    out_t.backward(torch.tensor(w))
    out_o.backward(tg.tensor(w))
    # torch's hardsigmoid/hardswish backward scales by a float32 1/6 even in float64: 3e-8
    rtol = 1e-7 if name.startswith("Hards") else 1e-10
    np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name", ["CosineSimilarity", "PairwiseDistance"])
def test_two_input_modules_match_torch(name):
    a, b = X, X[::-1] * 0.5 + 0.1
    ours = getattr(tg.nn, name)()(tg.tensor(a), tg.tensor(b))
    theirs = getattr(torch.nn, name)()(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("make,args", [
    (lambda L: L.nn.SmoothL1Loss(beta=0.5), lambda L: (L.tensor(X), L.tensor(X * 0.3))),
    (lambda L: L.nn.KLDivLoss(reduction="batchmean"),
     lambda L: (L.tensor(X).log_softmax(1), L.tensor(X * 0.5).softmax(1))),
    (lambda L: L.nn.GaussianNLLLoss(full=True),
     lambda L: (L.tensor(X), L.tensor(X * 0.3), L.tensor(np.abs(X) + 0.1))),
    (lambda L: L.nn.MarginRankingLoss(margin=0.2),
     lambda L: (L.tensor(X[0]), L.tensor(X[1]), L.tensor([1.0, -1.0, 1.0, -1.0],
                                                          dtype=L.float64))),
    (lambda L: L.nn.CosineEmbeddingLoss(margin=0.1),
     lambda L: (L.tensor(X), L.tensor(X[::-1].copy()), L.tensor([1, -1]))),
])
def test_loss_modules_match_torch(make, args):
    ours = make(tg)(*args(tg)).item()
    theirs = make(torch)(*args(torch)).item()
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="reduction"):
        tg.nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="odd size"):
        tg.nn.GLU()(tg.ones(3))
    with pytest.raises(ValueError, match="only 1 and -1"):
        tg.nn.CosineEmbeddingLoss()(tg.ones(2, 3), tg.ones(2, 3), tg.tensor([1, 0]))
