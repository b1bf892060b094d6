"""Tensor layers and activations: same outputs and gradients as torch.nn given the same
weights; PyTorch's default init; Dropout, BatchNorm1d and Embedding semantics."""

import math

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import Value, nn

rng = np.random.default_rng(1)


def f64(x, requires_grad=False):
    return tg.tensor(x, dtype=tg.float64, requires_grad=requires_grad)


def copy_params(ours, theirs):
    """Load torch's weights into our module (same key names and layouts)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


# ---- Linear -------------------------------------------------------------------------------------

def test_linear_matches_torch_given_the_same_weights():
    t_lin = torch.nn.Linear(5, 3).double()
    lin = nn.Linear(5, 3).double()
    copy_params(lin, t_lin)
    x = rng.normal(size=(4, 5))
    a, b = f64(x, True), torch.tensor(x, requires_grad=True)
    ya, yb = lin(a), t_lin(b)
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-12)
    g = rng.normal(size=(4, 3))
    ya.backward(f64(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.numpy(), t_lin.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), t_lin.bias.grad.numpy(), rtol=1e-12)


def test_linear_layout_and_default_init():
    tg.manual_seed(0)
    lin = nn.Linear(400, 300)
    assert lin.weight.shape == (300, 400) and lin.bias.shape == (300,)
    assert lin.weight.dtype == np.float32 and lin.weight.requires_grad
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) on fan_in 400
    w = lin.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # the std of U(-b, b)
    assert np.abs(lin.bias.numpy()).max() <= bound
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert nn.Linear(3, 2, bias=False).bias is None
    assert len(nn.Linear(3, 2, bias=False).parameters()) == 1


def test_linear_init_follows_manual_seed():
    tg.manual_seed(3)
    a = nn.Linear(4, 4).weight.numpy().copy()
    tg.manual_seed(3)
    assert np.array_equal(nn.Linear(4, 4).weight.numpy(), a)


def test_linear_says_which_sizes_disagree():
    with pytest.raises(ValueError, match=r"input has 4 features .* expects 5"):
        nn.Linear(5, 3)(tg.ones(2, 4))


# ---- activations --------------------------------------------------------------------------------

ACTIVATIONS = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
    (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
    (nn.Identity(), torch.nn.Identity()),
    (nn.Flatten(0), torch.nn.Flatten(0)),
]


@pytest.mark.parametrize("ours, theirs", ACTIVATIONS, ids=[repr(a) for a, _ in ACTIVATIONS])
def test_activation_matches_torch(ours, theirs):
    x = rng.normal(size=(4, 5)) * 3
    a, b = f64(x, True), torch.tensor(x, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=ya.shape)
    ya.backward(f64(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_activation_reprs_are_pytorchs():
    for ours, theirs in ACTIVATIONS:
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("layer, fn", [
    (nn.ReLU(), Value.relu), (nn.Sigmoid(), Value.sigmoid), (nn.Tanh(), Value.tanh),
    (nn.GELU(), Value.gelu), (nn.LeakyReLU(0.1), lambda v: v.leaky_relu(0.1)),
])
def test_activations_accept_values_and_lists_of_values(layer, fn):
    v = Value(-0.7)
    assert layer(v).data == fn(Value(-0.7)).data
    out = layer([Value(1.5), Value(-2.0)])
    assert [o.data for o in out] == [fn(Value(1.5)).data, fn(Value(-2.0)).data]


def test_softmax_of_a_list_of_values_is_a_stable_distribution():
    xs = [Value(1000.0), Value(999.0), Value(-5.0)]
    probs = nn.Softmax(dim=0)(xs)
    expected = torch.softmax(torch.tensor([1000.0, 999.0, -5.0], dtype=torch.float64), 0)
    np.testing.assert_allclose([p.data for p in probs], expected.numpy(), rtol=1e-12)
    logp = nn.LogSoftmax(dim=0)(xs)
    logp[0].backward()
    assert xs[0].grad == pytest.approx(1 - expected[0].item())


def test_activations_reject_other_inputs():
    with pytest.raises(TypeError, match="relu: expected a Tensor, a Value or a list of Values"):
        nn.ReLU()("x")


# ---- Sequential and ModuleList ------------------------------------------------------------------

def make_classifier():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))


def test_sequential_is_indexable_and_names_children_by_position():
    model = make_classifier()
    assert len(model) == 8
    assert isinstance(model[1], nn.Linear) and model[-1] is model[7]
    assert [n for n, _ in model.named_children()] == [str(i) for i in range(8)]
    assert list(model.state_dict()) == ["1.weight", "1.bias", "4.weight", "4.bias",
                                        "7.weight", "7.bias"]
    assert isinstance(model[1:3], nn.Sequential) and len(model[1:3]) == 2
    assert list(model[1:3].state_dict()) == ["1.weight", "1.bias"]  # names kept, as PyTorch
    assert list(model)[2] is model[2]
    with pytest.raises(IndexError, match="index 8 is out of range for 8 modules"):
        model[8]


def test_sequential_repr_is_pytorchs():
    t_model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 10))
    assert repr(make_classifier()) == repr(t_model)


def test_sequential_state_dict_is_torch_compatible_both_ways():
    model, t_model = make_classifier(), torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 10))
    copy_params(model, t_model)
    x = rng.normal(size=(3, 1, 28, 28)).astype(np.float32)
    model.eval()
    t_model.eval()
    with tg.no_grad(), torch.no_grad():
        np.testing.assert_allclose(model(tg.tensor(x)).numpy(), t_model(torch.tensor(x)).numpy(),
                                   rtol=1e-4, atol=1e-5)
    t_model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})


def test_sequential_with_named_modules_and_editing():
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in model.named_children()] == ["fc", "act"]
    model.append(nn.Linear(3, 1))
    assert list(model.state_dict())[-1] == "2.bias"
    del model[1]
    assert len(model) == 2


def test_module_list_registers_its_modules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    net = Net()
    assert list(net.state_dict())[:2] == ["blocks.0.weight", "blocks.0.bias"]
    assert len(net.parameters()) == 6 and len(net.blocks) == 3
    net.blocks.append(nn.Linear(2, 2))
    assert len(net.parameters()) == 8
    assert net(tg.ones(1, 2)).shape == (1, 2)
    with pytest.raises(TypeError, match="is not a Module"):
        net.blocks.append(3)


# ---- Dropout ------------------------------------------------------------------------------------

def test_dropout_is_inverted_and_identity_in_eval():
    tg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = tg.ones(200, 500, requires_grad=True)
    y = drop(x)
    values = np.unique(y.numpy())
    assert values.tolist() == [0.0, pytest.approx(1 / 0.75)]
    kept = (y.numpy() != 0).mean()
    assert abs(kept - 0.75) < 0.01
    y.sum().backward()
    assert np.array_equal(x.grad.numpy() != 0, y.numpy() != 0)  # gradient only where kept
    drop.eval()
    assert drop(x) is x


def test_dropout_masks_follow_the_seed():
    x = tg.ones(10, 10)
    tg.manual_seed(5)
    a = nn.Dropout(0.5)(x).numpy().copy()
    tg.manual_seed(5)
    assert np.array_equal(nn.Dropout(0.5)(x).numpy(), a)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5"])
def test_dropout_probability_must_be_in_zero_one(p):
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\)"):
        nn.Dropout(p)


def test_dropout_zero_is_the_identity():
    x = tg.ones(3)
    assert nn.Dropout(0.0)(x) is x


# ---- BatchNorm1d --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_matches_torch_in_train_and_eval(shape, momentum):
    bn, t_bn = nn.BatchNorm1d(3, momentum=momentum).double(), \
        torch.nn.BatchNorm1d(3, momentum=momentum).double()
    with torch.no_grad():
        t_bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        t_bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    copy_params(bn, t_bn)
    for step in range(3):
        x = rng.normal(size=shape) * (step + 1) + step
        a, b = f64(x, True), torch.tensor(x, requires_grad=True)
        ya, yb = bn(a), t_bn(b)
        np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-9, atol=1e-12)
        g = rng.normal(size=shape)
        ya.backward(f64(g))
        yb.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(bn.weight.grad.numpy(), t_bn.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(bn.running_mean.numpy(), t_bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), t_bn.running_var.numpy(), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    t_bn.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(bn(f64(x)).numpy(), t_bn(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10)


def test_batchnorm_state_dict_has_torchs_keys():
    keys = list(nn.BatchNorm1d(4).state_dict())
    assert keys == list(torch.nn.BatchNorm1d(4).state_dict())
    assert repr(nn.BatchNorm1d(4)) == repr(torch.nn.BatchNorm1d(4))


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 4\)"):
        nn.BatchNorm1d(4)(tg.ones(2, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(4)(tg.ones(1, 4))


# ---- Embedding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_matches_torch(padding_idx):
    emb = nn.Embedding(6, 3, padding_idx=padding_idx).double()
    t_emb = torch.nn.Embedding(6, 3, padding_idx=padding_idx).double()
    copy_params(emb, t_emb)
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    ya, yb = emb(tg.tensor(idx)), t_emb(torch.tensor(idx))
    np.testing.assert_array_equal(ya.numpy(), yb.detach().numpy())
    g = rng.normal(size=(2, 3, 3))
    ya.backward(f64(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(emb.weight.grad.numpy(), t_emb.weight.grad.numpy(), rtol=1e-12)


def test_embedding_init_and_errors():
    tg.manual_seed(0)
    emb = nn.Embedding(1000, 8, padding_idx=0)
    w = emb.weight.numpy()
    assert abs(w[1:].std() - 1) < 0.05 and not w[0].any()
    with pytest.raises(IndexError, match="out of range for 1000 embeddings"):
        emb(tg.tensor([1000]))
    with pytest.raises(TypeError, match="integer tensor"):
        emb(tg.tensor([1.0]))


# ---- Dropout2d, Unflatten -----------------------------------------------------------------------

def test_dropout2d_zeros_whole_channels_and_keeps_the_mean():
    tg.manual_seed(0)
    x = tg.ones(200, 10, 3, 3)
    y = nn.Dropout2d(0.3)(x).numpy()
    per_channel = y.reshape(200, 10, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # all or nothing per channel
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    assert abs((per_channel[..., 0] == 0).mean() - 0.3) < 0.03
    layer = nn.Dropout2d(0.3).eval()
    assert layer(x) is x
    assert repr(layer) == repr(torch.nn.Dropout2d(0.3))


def test_unflatten_is_flattens_inverse():
    x = tg.tensor(rng.normal(size=(2, 12)))
    layer = nn.Unflatten(1, (3, 4))
    assert repr(layer) == repr(torch.nn.Unflatten(1, (3, 4)))
    assert layer(x).shape == (2, 3, 4)
    np.testing.assert_array_equal(nn.Flatten()(layer(x)).numpy(), x.numpy())
    with pytest.raises(ValueError, match=r"Unflatten: dim 1 of shape \(2, 12\) \(size 12\) "
                                         r"cannot be split into \(5, 3\)"):
        nn.Unflatten(1, (5, 3))(x)
