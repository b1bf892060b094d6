"""Module with Tensor parameters: what counts as a parameter, buffers, state dicts (PyTorch's
keys and layouts; every mismatch listed; nothing changed on failure), modes and dtypes."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import Value, nn


class Net(nn.Module):
    """PyTorch style: Parameters and child layers, plus things that are not parameters."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(tg.ones(1))
        self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        self.constant = tg.ones(3)  # a plain Tensor: data, not a parameter
        self.register_buffer("steps", tg.zeros(1))
        self.register_buffer("cache", tg.zeros(2), persistent=False)

    def forward(self, x):
        return self.body(x) * self.scale


def test_only_parameters_count_as_parameters():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert len(net.parameters(recurse=False)) == 1
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]


def test_state_dict_has_parameters_and_persistent_buffers_sharing_storage():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "steps", "body.0.weight", "body.0.bias", "body.2.weight",
                        "body.2.bias"]
    assert not sd["body.0.weight"].requires_grad
    assert np.shares_memory(sd["body.0.weight"].numpy(), net.body[0].weight.numpy())
    assert sd["body.0.weight"].shape == (3, 2)  # (out_features, in_features)


def test_state_dict_matches_an_equivalent_torch_module():
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.body = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
                                            torch.nn.Linear(3, 1))
            self.register_buffer("steps", torch.zeros(1))
            self.register_buffer("cache", torch.zeros(2), persistent=False)

    t_sd = TorchNet().state_dict()
    sd = Net().state_dict()
    assert list(sd) == list(t_sd)
    assert [tuple(v.shape) for v in sd.values()] == [tuple(v.shape) for v in t_sd.values()]
    assert [n for n, _ in Net().named_modules()] == [n for n, _ in TorchNet().named_modules()]


def test_load_state_dict_copies_in_place():
    a, b = Net(), Net()
    storage = b.body[0].weight.numpy()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.body[0].weight.numpy() is storage
    assert np.array_equal(storage, a.body[0].weight.numpy())


def test_load_state_dict_accepts_numpy_and_torch_values():
    t_lin = torch.nn.Linear(2, 3)
    lin = nn.Linear(2, 3)
    lin.load_state_dict({k: v.detach().numpy() for k, v in t_lin.state_dict().items()})
    assert np.array_equal(lin.weight.numpy(), t_lin.weight.detach().numpy())


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    sd = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    sd["body.0.weight"] = np.zeros((2, 3))  # transposed: wrong shape
    sd["body.2.bias"] = np.zeros(5)
    del sd["scale"]
    sd["body.1.weight"] = np.zeros(1)
    sd["body.0.bias"] = np.full(3, 7.0)  # fine, but must not be written either
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert "4; nothing was loaded" in message
    assert "missing key 'scale'" in message and "unexpected key 'body.1.weight'" in message
    assert "shape mismatch for 'body.0.weight': the module has (3, 2), the state dict has " \
           "(2, 3)" in message
    assert "shape mismatch for 'body.2.bias'" in message
    for k, v in net.state_dict().items():
        assert np.array_equal(v.numpy(), before[k])


def test_load_state_dict_non_strict_still_refuses_wrong_shapes():
    net = Net()
    with pytest.raises(RuntimeError, match="shape mismatch for 'body.0.weight'"):
        net.load_state_dict({"body.0.weight": np.zeros((1, 1))}, strict=False)
    keys = net.load_state_dict({"scale": np.array([3.0]), "extra": np.zeros(1)}, strict=False)
    assert net.scale.item() == 3.0 and keys.unexpected_keys == ["extra"]
    assert "body.0.weight" in keys.missing_keys


def test_load_state_dict_refuses_non_numeric_entries():
    with pytest.raises(RuntimeError, match="'weight': expected a Tensor, ndarray or number"):
        nn.Linear(1, 1).load_state_dict({"weight": "zeros", "bias": np.zeros(1)})


def test_loading_bumps_the_version_so_a_pending_backward_notices():
    """As in PyTorch: the input's gradient needs the old weight, so backward refuses once a
    load changed it; with no input gradient the weight is not needed, and backward goes on."""
    lin = nn.Linear(2, 1)
    loss = lin(tg.ones(1, 2, requires_grad=True)).sum()
    lin.load_state_dict({"weight": np.zeros((1, 2)), "bias": np.zeros(1)})
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()
    lin = nn.Linear(2, 1)
    loss = lin(tg.ones(1, 2)).sum()
    lin.load_state_dict({"weight": np.zeros((1, 2)), "bias": np.zeros(1)})
    loss.backward()
    np.testing.assert_array_equal(lin.weight.grad.numpy(), [[1.0, 1.0]])


def test_zero_grad_and_requires_grad():
    net = Net()
    net(tg.ones(4, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.body[0].requires_grad_(False)
    assert [p.requires_grad for p in net.parameters()] == [True, False, False, True, True]
    net(tg.ones(4, 2)).sum().backward()
    assert net.body[0].weight.grad is None and net.body[2].weight.grad is not None


def test_train_eval_reach_nested_modules():
    net = Net()
    net.eval()
    assert not net.training and not net.body[1].training
    net.train()
    assert net.body[2].training


def test_double_converts_parameters_and_buffers_in_place():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.steps.dtype == np.float64
    assert net(tg.ones(1, 2, dtype=tg.float64)).dtype == np.float64
    assert all(p.dtype == np.float32 for p in net.float().parameters())


def test_apply_with_init_reinitializes_every_linear():
    net = Net()

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
            nn.init.ones_(m.bias)

    net.apply(init_weights)
    assert not net.body[0].weight.numpy().any() and net.body[2].bias.numpy().tolist() == [1.0]


def test_parameter_shares_storage_and_requires_grad():
    t = tg.ones(3)
    p = nn.Parameter(t)
    assert p.requires_grad and np.shares_memory(p.numpy(), t.numpy())
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(tg.ones(1), requires_grad=False).requires_grad
    assert type(p * 2) is tg.Tensor


def test_values_and_parameters_can_live_in_one_module():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.v = Value(1.0)
            self.w = nn.Parameter(tg.ones(2))

    assert [n for n, _ in Mixed().named_parameters()] == ["v", "w"]
    sd = Mixed().state_dict()
    assert isinstance(sd["v"], float) and sd["w"].shape == (2,)


def test_register_buffer_checks_its_argument():
    with pytest.raises(TypeError, match="must be a Tensor or None"):
        nn.Module().register_buffer("x", [1, 2])


def test_get_submodule():
    net = Net()
    assert net.get_submodule("body.2") is net.body[2]
    with pytest.raises(AttributeError, match="no submodule 'body.9'"):
        net.get_submodule("body.9")


def test_replacing_a_parameter_by_a_plain_tensor_is_refused():
    lin = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="would stop being trained"):
        lin.weight = tg.zeros(3, 2)
    lin.weight = nn.Parameter(tg.zeros(3, 2))  # a new Parameter is fine
    lin.bias = None  # and so is removing one
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
