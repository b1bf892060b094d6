"""to_torch / from_torch: same architecture, same weights, same outputs, both directions."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.interop import from_torch, state_dict_from_torch, state_dict_to_torch, to_torch

rng = np.random.default_rng(0)


def classifier():
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(16, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 3),
                         nn.LogSoftmax(dim=1))


def test_to_torch_gives_the_same_outputs():
    tg.manual_seed(0)
    model = classifier()
    model.train()
    model(tg.tensor(rng.normal(size=(5, 3, 4)).astype(np.float32)))  # move BatchNorm's stats
    model.eval()
    t_model = to_torch(model)
    assert isinstance(t_model, torch.nn.Sequential) and not t_model.training
    assert [type(m).__name__ for m in t_model] == [type(m).__name__ for m in model]
    x = rng.normal(size=(4, 3, 4)).astype(np.float32)
    with tg.no_grad(), torch.no_grad():
        np.testing.assert_allclose(t_model(torch.tensor(x)).numpy(), model(tg.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)
    t_sd = t_model.state_dict()
    assert list(t_sd) == list(model.state_dict())  # running stats and counters included
    assert t_sd["5.num_batches_tracked"].item() == 1


def test_from_torch_gives_the_same_outputs_and_gradients():
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(),
                                  torch.nn.Linear(6, 2)).double()
    model = from_torch(t_model)
    assert model[0].weight.dtype == np.float64 and model.training
    x = rng.normal(size=(3, 4))
    out, t_out = model(tg.tensor(x, dtype=tg.float64)), t_model(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), t_model[0].weight.grad.numpy(),
                               rtol=1e-12)


def test_round_trip_keeps_layer_settings():
    model = nn.Sequential(nn.LeakyReLU(0.3), nn.Dropout(0.4), nn.Softmax(dim=0),
                          nn.Flatten(0, 1), nn.Identity(), nn.Embedding(5, 2, padding_idx=1),
                          nn.Linear(3, 2, bias=False))
    back = from_torch(to_torch(model))
    assert repr(back) == repr(model)
    assert np.array_equal(back[5].weight.numpy(), model[5].weight.numpy())


def test_copies_do_not_share_storage():
    model = nn.Sequential(nn.Linear(2, 2))
    t_model = to_torch(model)
    with torch.no_grad():
        t_model[0].weight.zero_()
    assert model[0].weight.numpy().any()


def test_unsupported_modules_say_what_to_do():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="no Custom counterpart .* state_dict_to_torch"):
        to_torch(nn.Sequential(nn.Linear(2, 2), Custom()))
    with pytest.raises(TypeError, match="no Bilinear counterpart"):
        from_torch(torch.nn.Sequential(torch.nn.Bilinear(2, 2, 1)))


def test_state_dict_helpers_move_custom_modules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(2, 4), nn.Linear(4, 1)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = torch.nn.Linear(2, 4), torch.nn.Linear(4, 1)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    net, t_net = Net(), TorchNet()
    t_net.load_state_dict(state_dict_to_torch(net.state_dict()))
    x = rng.normal(size=(5, 2)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(t_net(torch.tensor(x)).numpy(), net(tg.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)
    net2 = Net()
    net2.load_state_dict(state_dict_from_torch(t_net.state_dict()))
    np.testing.assert_array_equal(net2.fc1.weight.numpy(), net.fc1.weight.numpy())


def test_batchnorm_without_bias_round_trips():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, bias=False))
    t_model = to_torch(model)
    assert t_model[1].bias is None
    back = from_torch(t_model)
    assert back[1].bias is None and list(back.state_dict()) == list(model.state_dict())


# ---- what is shared stays shared: modules used twice, tied weights, nesting -------------------


def shared_model():
    """A ReLU used twice, a Linear applied twice, a weight tied between two Linears, inside a
    nested Sequential and a ModuleList, and a BatchNorm with running statistics."""
    tg.manual_seed(0)
    relu, square = nn.ReLU(), nn.Linear(4, 4)
    first, last = nn.Linear(4, 4), nn.Linear(4, 4)
    last.weight = first.weight  # tied
    inner = nn.Sequential(square, relu, square)
    model = nn.Sequential(nn.Linear(3, 4), relu, inner, first, nn.BatchNorm1d(4), relu, last,
                          nn.ModuleList([square, nn.Tanh()]))
    model.train()
    model[:7](tg.tensor(rng.normal(size=(6, 3)).astype(np.float32)))  # move the running stats
    return model


def held(m) -> list[tuple[str, object]]:
    """The parameters, buffers and modules `m` holds itself, a module held twice twice."""
    if isinstance(m, torch.nn.Module):
        items = [*m._parameters.items(), *m._buffers.items(), *m._modules.items()]
    else:
        items = list(m._members())
    return [(name, v) for name, v in items if v is not None]


def sharing(model) -> set[tuple[str, str]]:
    """(first path, later path) for every module, parameter or buffer met again on a walk."""
    first: dict[int, str] = {}
    pairs = set()

    def walk(m, path):
        for name, obj in held(m):
            where = f"{path}.{name}" if path else name
            if id(obj) in first:
                pairs.add((first[id(obj)], where))
            else:
                first[id(obj)] = where
                if isinstance(obj, (nn.Module, torch.nn.Module)):
                    walk(obj, where)

    walk(model, "")
    return pairs


def test_to_torch_keeps_modules_used_twice_and_tied_weights():
    model = shared_model()
    t_model = to_torch(model)
    assert len(t_model) == len(model) == 8 and len(t_model[2]) == 3
    ours = sharing(model)
    assert sharing(t_model) == ours
    assert ("1", "5") in ours and ("3.weight", "6.weight") in ours  # what the test is about
    assert t_model[6].weight is t_model[3].weight and t_model[2][0] is t_model[7][0]
    model.eval()
    t_model.eval()
    x = rng.normal(size=(5, 3)).astype(np.float32)
    with tg.no_grad(), torch.no_grad():
        np.testing.assert_allclose(t_model[:7](torch.tensor(x)).numpy(),
                                   model[:7](tg.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(t_model[4].running_mean.numpy(), model[4].running_mean.numpy())
    assert t_model[4].num_batches_tracked.item() == 1


def test_from_torch_keeps_modules_used_twice_and_tied_weights_with_their_gradients():
    torch.manual_seed(0)
    relu, square = torch.nn.ReLU(), torch.nn.Linear(3, 3, dtype=torch.float64)
    embed = torch.nn.Embedding(5, 3, dtype=torch.float64)
    head = torch.nn.Linear(3, 5, bias=False, dtype=torch.float64)
    head.weight = embed.weight  # the usual tying of a language model's input and output
    t_model = torch.nn.Sequential(embed, square, relu, square, relu, head)
    model = from_torch(t_model)
    assert len(model) == 6 and model[3] is model[1] and model[4] is model[2]
    assert model[5].weight is model[0].weight
    assert sharing(model) == sharing(t_model) != set()
    idx = np.array([0, 3, 4, 3])
    out, t_out = model(tg.tensor(idx)), t_model(torch.tensor(idx))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-12)
    (out**2).sum().backward()
    (t_out**2).sum().backward()  # the tied weight collects the gradient of both uses
    np.testing.assert_allclose(model[0].weight.grad.numpy(), t_model[0].weight.grad.numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(model[1].weight.grad.numpy(), t_model[1].weight.grad.numpy(),
                               rtol=1e-10)


def test_round_trip_keeps_the_sharing_and_the_state():
    model = shared_model()
    back = from_torch(to_torch(model))
    assert sharing(back) == sharing(model) != set()
    assert repr(back) == repr(model)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key].numpy(), value.numpy())


def test_frozen_parameters_and_modes_survive_both_ways():
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 1))
    model[0].weight.requires_grad = False
    model[1].eval()
    t_model = to_torch(model)
    assert not t_model[0].weight.requires_grad and t_model[0].bias.requires_grad
    assert t_model.training and not t_model[1].training
    back = from_torch(t_model)
    assert not back[0].weight.requires_grad and back[0].bias.requires_grad
    assert back.training and not back[1].training


def test_a_module_dict_has_no_counterpart_and_says_so():
    with pytest.raises(TypeError, match="no ModuleDict counterpart"):
        from_torch(torch.nn.ModuleDict({"fc": torch.nn.Linear(2, 2)}))


def test_state_dicts_of_shared_modules_have_pytorchs_keys_and_move_both_ways():
    """PyTorch's state_dict lists a shared module or tied weight under every name it has."""
    relu, lin = nn.ReLU(), nn.Linear(2, 2)
    tied = nn.Linear(2, 2)
    tied.weight = lin.weight
    model = nn.Sequential(lin, relu, lin, tied)
    t_model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    t_model.append(t_model[0])
    t_model.append(torch.nn.Linear(2, 2))
    t_model[3].weight = t_model[0].weight
    assert list(model.state_dict()) == list(t_model.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"]
    t_model.load_state_dict(state_dict_to_torch(model.state_dict()))
    np.testing.assert_array_equal(t_model[3].weight.detach().numpy(), lin.weight.numpy())
    model.load_state_dict(state_dict_from_torch(t_model.state_dict()))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "3.bias"]


def cnn():
    return nn.Sequential(
        nn.Unflatten(1, (2, 8, 8)),
        nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True), nn.Dropout2d(0.1),
        nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=1, dilation=(2, 1), groups=2,
                  bias=False),
        nn.ConvTranspose2d(6, 4, 3, stride=2, output_padding=1), nn.AvgPool2d(3, 2, 1),
        nn.Upsample(scale_factor=2, mode="bilinear"), nn.AdaptiveAvgPool2d((2, 3)),
        nn.Flatten(), nn.Unflatten(1, (4, 6)),
        nn.Conv1d(4, 4, 2, padding="same"), nn.ConvTranspose1d(4, 2, 3, groups=2),
        nn.MaxPool1d(2), nn.AvgPool1d(2, count_include_pad=False), nn.AdaptiveAvgPool1d(1),
        nn.BatchNorm1d(2),
    )  # fmt: skip


@pytest.mark.parametrize("train", [True, False])
def test_a_cnn_moves_both_ways_with_the_same_outputs(train):
    tg.manual_seed(0)
    model = cnn().double()
    model.train()
    model(tg.tensor(rng.normal(size=(4, 128))))  # move the BatchNorm statistics
    model.train(train)
    t_model = to_torch(model)
    assert [type(m).__name__ for m in t_model] == [type(m).__name__ for m in model]
    assert repr(from_torch(t_model)) == repr(model) == repr(t_model)
    x = rng.normal(size=(3, 128))
    if train:  # no dropout, so that the outputs can be compared
        model[5].p = t_model[5].p = 0.0
    out, t_out = model(tg.tensor(x)), t_model(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-12)
    out.sum().backward()
    t_out.sum().backward()
    for (name, p), (t_name, q) in zip(model.named_parameters(), t_model.named_parameters()):
        assert name == t_name
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-12)
    back = from_torch(t_model)
    for (k, v), (t_k, t_v) in zip(back.state_dict().items(), t_model.state_dict().items()):
        assert k == t_k
        np.testing.assert_array_equal(np.asarray(v), t_v.numpy())
# ---- sequence-model layers ----------------------------------------------------------------------


def _sequence_models():
    from tinygrad_edu import nn as tnn

    layer = tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                        batch_first=True, norm_first=True)
    return [
        (tnn.LayerNorm(8), (2, 5, 8)), (tnn.RMSNorm(8, eps=1e-6), (2, 5, 8)),
        (tnn.GroupNorm(2, 4), (2, 4, 3)),
        (tnn.TransformerEncoder(layer, 2, norm=tnn.LayerNorm(8)), (2, 5, 8)),
        (tnn.MultiheadAttention(8, 2, batch_first=True), (2, 5, 8)),
        (tnn.LSTM(8, 3, num_layers=2, bidirectional=True, batch_first=True), (2, 5, 8)),
        (tnn.GRU(8, 3), (5, 2, 8)), (tnn.RNN(8, 3, nonlinearity="relu"), (5, 2, 8)),
        (tnn.LSTMCell(8, 3), (2, 8)), (tnn.GRUCell(8, 3), (2, 8)), (tnn.RNNCell(8, 3), (2, 8)),
    ]


def _first(out):
    while isinstance(out, tuple):
        out = out[0]
    return out


@pytest.mark.parametrize("index", range(11))
def test_sequence_layers_round_trip_with_the_same_outputs(index):
    tg.manual_seed(index)
    model, shape = _sequence_models()[index]
    model = model.double()
    x = np.random.default_rng(index).normal(size=shape)
    args = (x, x, x) if type(model).__name__ == "MultiheadAttention" else (x,)
    theirs = to_torch(model)
    assert type(theirs).__name__ == type(model).__name__
    ours_out = _first(model(*[tg.tensor(a, dtype=tg.float64) for a in args]))
    with torch.no_grad():
        torch_out = _first(theirs(*[torch.tensor(a) for a in args]))
    np.testing.assert_allclose(ours_out.numpy(), torch_out.numpy(), rtol=1e-6, atol=1e-9)
    back = from_torch(theirs)
    np.testing.assert_allclose(_first(back(*[tg.tensor(a, dtype=tg.float64) for a in args]))
                               .numpy(), ours_out.numpy(), rtol=1e-12)
