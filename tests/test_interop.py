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
    with pytest.raises(TypeError, match="no Conv2d counterpart"):
        from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3)))


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
