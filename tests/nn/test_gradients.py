"""Every layer's and every loss's gradients agree with central finite differences.

Layers go through `check_module_gradients` (each parameter, and the input, against a fixed
random weighting of the outputs, in float64); losses through `gradcheck` with respect to the
input and, where the loss is differentiable in it, the target. Inputs are hypothesis draws
kept off each loss's kinks (|input - target| away from 0 for L1, probabilities away from 0
and 1 for BCE) by filters, never offsets.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu
from tinygrad_edu import Value, nn
from tinygrad_edu.nn import functional as F
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.testing import GradcheckError, check_module_gradients, gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as tst

FEW = settings(max_examples=8, deadline=None,
               suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
batch = st.integers(1, 3)


def t(shape, elements=None):
    """float64 Tensors that require grad, of `shape` (a tuple or a strategy)."""
    return tst.tensors(shape, elements=tst.floats(-3.0, 3.0) if elements is None else elements)


def far_apart(a: Tensor, b: Tensor, margin: float = tst.MARGIN) -> bool:
    return bool(np.all(np.abs(a.numpy() - b.numpy()) > margin))


def defined(x: Tensor, reduction: str) -> bool:
    """The mean over no elements is NaN (as in PyTorch): nothing to differentiate."""
    return reduction != "mean" or x.numel() > 0


# ---- layers --------------------------------------------------------------------------------------


@FEW
@given(batch.flatmap(lambda n: t((n, 3))), st.booleans(), st.integers(0, 2**16))
def test_linear(x, bias, seed):
    tinygrad_edu.manual_seed(seed)
    assert check_module_gradients(nn.Linear(3, 2, bias=bias), x)


@FEW
@given(st.integers(2, 4).flatmap(lambda n: st.one_of(t((n, 3)), t((n, 3, 2)))),
       st.booleans(), st.booleans())
def test_batchnorm1d_in_training_and_in_eval(x, affine, training):
    bn = nn.BatchNorm1d(3, affine=affine)
    if affine:
        with tinygrad_edu.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-1.0, 1.0)
    bn.train(training)
    if not affine:  # nothing to train: the gradient with respect to x is what is checked
        assert gradcheck(bn, [x])
    else:
        assert check_module_gradients(bn, x)


@FEW
@given(st.lists(st.integers(0, 4), min_size=1, max_size=6))
def test_embedding_rows_get_the_gradient_of_their_uses(indices):
    emb = nn.Embedding(5, 3)
    assert check_module_gradients(emb, Tensor(np.array(indices)))


def test_embedding_with_a_padding_row_is_right_for_the_other_rows():
    # the padding row's gradient is zeroed by design (not a derivative), so it is not looked up
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert check_module_gradients(emb, Tensor(np.array([1, 2, 2, 4])))


@FEW
@given(batch.flatmap(lambda n: t((n, 2, 3))))
def test_flatten_identity_and_dropout_in_eval(x):
    assert gradcheck(nn.Flatten(), [x])
    assert gradcheck(nn.Identity(), [x])
    assert gradcheck(nn.Dropout(0.5).eval(), [x])


def test_dropout_in_training_is_refused_as_random():
    x = Tensor(np.ones((4, 4)), requires_grad=True)
    with pytest.raises(GradcheckError, match="different outputs"):
        gradcheck(nn.Dropout(0.5), [x])


ACTIVATIONS = {
    "ReLU": (nn.ReLU, tst.nonzero(bound=3.0)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), tst.nonzero(bound=3.0)),
    "Sigmoid": (nn.Sigmoid, None),
    "Tanh": (nn.Tanh, None),
    "GELU": (nn.GELU, None),
    "GELU_tanh": (lambda: nn.GELU(approximate="tanh"), None),
    "Softmax": (lambda: nn.Softmax(dim=1), None),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), None),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_modules(name):
    make, elements = ACTIVATIONS[name]

    @FEW
    @given(batch.flatmap(lambda n: t((n, 3), elements)))
    def check(x):
        assert gradcheck(make(), [x])

    check()


@FEW
@given(batch.flatmap(lambda n: t((n, 3))), st.integers(0, 2**16))
def test_sequential_and_module_list(x, seed):
    tinygrad_edu.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.LogSoftmax(dim=1))
    assert check_module_gradients(model, x)
    layers = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 1)])

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = layers

        def forward(self, x):
            for layer in self.layers:
                x = layer(x).sigmoid()
            return x

    assert check_module_gradients(Stack(), x)


@FEW
@given(st.lists(tst.floats(-2.0, 2.0), min_size=2, max_size=2), st.integers(0, 2**16))
def test_scalar_neuron_layer_and_mlp(x, seed):
    tinygrad_edu.manual_seed(seed)
    assert check_module_gradients(nn.MLP(2, [3, 1], nonlin="tanh"), x)
    assert check_module_gradients(nn.Layer(2, 2, nonlin="sigmoid"), x)
    assert check_module_gradients(nn.Neuron(2, nonlin="gelu"), x)


@FEW
@given(st.lists(tst.floats(), min_size=1, max_size=4))
def test_functional_softmax_of_values(xs):
    assert gradcheck(lambda *vs: tuple(F.softmax(list(vs))), [Value(x) for x in xs])
    assert gradcheck(lambda *vs: tuple(F.log_softmax(list(vs))), [Value(x) for x in xs])


# ---- losses --------------------------------------------------------------------------------------

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
pairs = tst.shapes(max_dims=2, max_side=3).flatmap(lambda s: st.tuples(t(s), t(s)))


@FEW
@given(pairs, REDUCTIONS)
def test_mse_loss(xy, reduction):
    x, y = xy
    assume(defined(x, reduction))
    assert gradcheck(nn.MSELoss(reduction=reduction), [x, y])


@FEW
@given(pairs, REDUCTIONS)
def test_l1_loss_away_from_equal_input_and_target(xy, reduction):
    x, y = xy
    assume(defined(x, reduction))
    assume(far_apart(x, y))
    assert gradcheck(nn.L1Loss(reduction=reduction), [x, y])


@FEW
@given(pairs, REDUCTIONS, st.sampled_from([0.5, 1.0, 2.0]))
def test_huber_loss_on_both_sides_of_delta(xy, reduction, delta):
    x, y = xy
    assume(defined(x, reduction))
    assume(far_apart(x, y) and np.all(np.abs(np.abs(x.numpy() - y.numpy()) - delta) > 1e-3))
    assert gradcheck(nn.HuberLoss(reduction=reduction, delta=delta), [x, y])


probabilities = tst.away_from(0.0, 1.0, min_value=0.0, max_value=1.0)


@FEW
@given(tst.shapes(max_dims=2, max_side=3).flatmap(
    lambda s: st.tuples(t(s, probabilities), t(s, probabilities), t(s))), REDUCTIONS,
    st.booleans())
def test_binary_cross_entropy_loss_in_probability_and_target(pyw, reduction, weighted):
    p, y, w = pyw
    assume(defined(p, reduction))
    w.requires_grad = False
    loss = nn.BCELoss(weight=w if weighted else None, reduction=reduction)
    assert gradcheck(loss, [p, y])
    assert gradgradcheck(loss, [p, y])


@FEW
@given(tst.shapes(max_dims=2, max_side=3).flatmap(
    lambda s: st.tuples(t(s), t(s, tst.floats(0.0, 1.0)), t(s, tst.positive(max_value=3.0)))),
    REDUCTIONS, st.booleans())
def test_bce_with_logits_loss(xyw, reduction, pos_weighted):
    x, y, w = xyw
    assume(defined(x, reduction))
    w.requires_grad = False
    loss = nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=w if pos_weighted else None)
    assert gradcheck(loss, [x, y])


def class_inputs(extra_dims=False):
    """(scores (N, C[, d]), int targets (N[, d]), class weights (C,))."""
    def draw(ncd):
        n, c, d = ncd
        shape, tshape = ((n, c, d), (n, d)) if extra_dims else ((n, c), (n,))
        return st.tuples(t(shape), tst.arrays(tshape, np.int64, st.integers(0, c - 1)),
                         tst.arrays((c,), elements=tst.floats(0.5, 2.0)))

    return st.tuples(batch, st.integers(2, 4), st.integers(1, 2)).flatmap(draw)


@FEW
@given(class_inputs(), REDUCTIONS, st.booleans(), st.booleans())
def test_nll_loss(xtw, reduction, weighted, ignore_first):
    x, target, w = xtw
    ignore = int(target[0]) if ignore_first else -100
    loss = nn.NLLLoss(weight=Tensor(w) if weighted else None, ignore_index=ignore,
                      reduction=reduction)
    assume(reduction != "mean" or np.any(target != ignore))  # nothing left to average
    assert gradcheck(lambda x: loss(x, Tensor(target)), [x])


@FEW
@given(st.one_of(class_inputs(), class_inputs(extra_dims=True)), REDUCTIONS, st.booleans(),
       st.sampled_from([0.0, 0.1]))
def test_cross_entropy_loss_with_class_targets(xtw, reduction, weighted, smoothing):
    x, target, w = xtw
    loss = nn.CrossEntropyLoss(weight=Tensor(w) if weighted else None, reduction=reduction,
                               label_smoothing=smoothing)
    assert gradcheck(lambda x: loss(x, Tensor(target)), [x])
    assert gradgradcheck(lambda x: loss(x, Tensor(target)), [x])


@FEW
@given(st.tuples(batch, st.integers(2, 4)).flatmap(
    lambda nc: st.tuples(t(nc), t(nc, tst.floats(0.0, 1.0)))), REDUCTIONS)
def test_cross_entropy_loss_with_probability_targets(xp, reduction):
    x, p = xp
    assert gradcheck(nn.CrossEntropyLoss(reduction=reduction), [x, p])
