"""torch.autograd.functional's derivatives of whole functions, checked against torch's."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu.autograd import functional as AF


def f(x):
    return x.sin() * x.sum() + x ** 3


def scalar(x, y):
    return (x.exp() * y).sum() + (x * x).sum() * y[0]


X = np.array([0.3, -1.2, 0.8])
Y = np.array([1.5, -0.4, 2.0])
V = np.array([0.7, 0.1, -0.5])


def _np(x):
    if isinstance(x, tuple):
        return tuple(_np(v) for v in x)
    return x.detach().numpy()


def _close(a, b):
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _close(u, v)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,func,args", [
    ("jacobian", f, (X,)),
    ("jacobian", lambda x, y: (x * y, (x + y).exp()), ((X, Y),)),
    ("hessian", lambda x: (x ** 3).sum() * x[0], (X,)),
    ("hessian", scalar, ((X, Y),)),
])
def test_jacobian_and_hessian_match_torch(name, func, args):
    def run(lib, fn):
        inputs = args[0] if isinstance(args[0], tuple) else (args[0],)
        ins = tuple(lib.tensor(a) for a in inputs)
        ins = ins if isinstance(args[0], tuple) else ins[0]
        return _np(getattr(fn, name)(func, ins))

    _close(run(tg, AF), run(torch, torch.autograd.functional))


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_vjp_and_jvp_match_torch(name):
    ours = getattr(AF, name)(f, tg.tensor(X), tg.tensor(V))
    theirs = getattr(torch.autograd.functional, name)(f, torch.tensor(X), torch.tensor(V))
    _close(_np(ours), _np(theirs))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_matches_torch(name):
    g = lambda x: (x.sin() * x).sum() * x[1]  # noqa: E731
    ours = getattr(AF, name)(g, tg.tensor(X), tg.tensor(V))
    theirs = getattr(torch.autograd.functional, name)(g, torch.tensor(X), torch.tensor(V))
    _close(_np(ours), _np(theirs))


def test_inputs_are_left_alone_and_results_carry_no_graph():
    x = tg.tensor(X)
    j = AF.jacobian(f, x)
    assert not x.requires_grad and x.grad is None and not j.requires_grad


def test_bad_inputs_are_clear_errors():
    with pytest.raises(TypeError, match="floating-point"):
        AF.jacobian(f, tg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="single-element"):
        AF.hessian(lambda x: x * 2, tg.tensor(X))
    with pytest.raises(ValueError, match="shapes"):
        AF.vjp(f, tg.tensor(X), tg.tensor(np.ones(2)))


def test_the_namespace_of_torch_autograd():
    assert tg.autograd.Function is tg.Function
    assert tg.autograd.gradcheck(lambda x: x.tanh(), [tg.tensor(X, requires_grad=True)])
    assert tg.autograd.gradgradcheck(lambda x: x.tanh(), [tg.tensor(X, requires_grad=True)])
    x = tg.tensor(X, requires_grad=True)
    tg.autograd.backward([(x * 2).sum(), (x * 3).sum()])
    assert x.grad.tolist() == [5.0, 5.0, 5.0]
    with tg.inference_mode():
        assert not (x * 2).requires_grad
    with tg.inference_mode(False):
        assert (x * 2).requires_grad
