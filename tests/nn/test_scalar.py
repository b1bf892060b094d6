"""Scalar nets of Values (micrograd style) and the Module base, specified on them."""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Value, nn, optim


def two_moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, labels -1 and +1 (written here so the test stands alone)."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0, np.pi, n // 2), rng.uniform(0, np.pi, n - n // 2)
    upper = np.c_[np.cos(a), np.sin(a)]
    lower = np.c_[1 - np.cos(b), 0.5 - np.sin(b)]
    X = np.concatenate([upper, lower]) + rng.normal(0, noise, (n, 2))
    return X, np.r_[-np.ones(n // 2), np.ones(n - n // 2)]


# ---- Neuron, Layer, MLP --------------------------------------------------------------------------

def test_neuron_computes_nonlin_of_w_dot_x_plus_b():
    n = nn.Neuron(3, nonlin="tanh")
    n.w[0].data, n.w[1].data, n.w[2].data, n.b.data = 0.5, -1.0, 2.0, 0.25
    out = n([1.0, 2.0, Value(-0.5)])
    assert out.data == pytest.approx(math.tanh(0.5 - 2.0 - 1.0 + 0.25))
    linear = nn.Neuron(2, nonlin=False)
    linear.w[0].data, linear.w[1].data, linear.b.data = 2.0, 3.0, -1.0
    assert linear([-1.0, -1.0]).data == -6.0  # no ReLU clipping on a linear neuron
    relu = nn.Neuron(2)  # default: ReLU, as micrograd
    relu.w[0].data, relu.w[1].data, relu.b.data = 2.0, 3.0, -1.0
    assert relu([-1.0, -1.0]).data == 0.0


def test_neuron_gradients_are_the_inputs():
    n = nn.Neuron(2, nonlin=False)
    n([3.0, -4.0]).backward()
    assert [w.grad for w in n.w] == [3.0, -4.0]
    assert n.b.grad == 1.0


def test_mlp_returns_a_value_for_one_output_and_a_list_otherwise():
    tg.manual_seed(0)
    assert isinstance(nn.MLP(2, [4, 1])([1.0, 2.0]), Value)
    out = nn.MLP(2, [4, 3])([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3 and all(isinstance(v, Value) for v in out)


def test_mlp_hidden_layers_are_nonlinear_and_the_last_is_linear():
    m = nn.MLP(2, [3, 3, 2])
    kinds = [layer.neurons[0].nonlin_name for layer in m.layers]
    assert kinds == ["relu", "relu", "linear"]
    assert [layer.neurons[0].nonlin_name for layer in nn.MLP(2, [3, 1], "tanh").layers] == [
        "tanh", "linear"]


def test_mlp_has_one_weight_per_connection_plus_biases():
    m = nn.MLP(2, [16, 16, 1])
    assert len(m.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1)  # 337
    assert all(isinstance(p, Value) for p in m.parameters())


def test_init_is_reproducible_with_manual_seed():
    tg.manual_seed(7)
    a = [p.data for p in nn.MLP(3, [4, 2]).parameters()]
    tg.manual_seed(7)
    b = [p.data for p in nn.MLP(3, [4, 2]).parameters()]
    c = [p.data for p in nn.MLP(3, [4, 2]).parameters()]
    assert a == b and a != c
    weights = [p.data for n, p in nn.MLP(3, [50]).named_parameters() if ".w." in n]
    assert all(-1.0 <= w <= 1.0 for w in weights) and min(weights) < -0.5 < 0.5 < max(weights)


def test_wrong_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        nn.MLP(2, [3, 1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="nin"):
        nn.Neuron(0)
    with pytest.raises(ValueError, match="nouts"):
        nn.MLP(2, 3)
    with pytest.raises(ValueError, match="unknown nonlin"):
        nn.Neuron(2, nonlin="swish")


def test_scalar_mlp_learns_two_moons_with_plain_sgd():
    """micrograd's demo (smaller): SVM max-margin loss + L2, SGD with a decaying lr."""
    X, y = two_moons(40, noise=0.1, seed=3)
    tg.manual_seed(1)
    model = nn.MLP(2, [16, 16, 1])
    opt = optim.SGD(model.parameters(), lr=1.0)
    steps = 30
    for k in range(steps):
        scores = [model(list(x)) for x in X]
        data_loss = sum((1 - yi * s).relu() for yi, s in zip(y, scores)) * (1.0 / len(X))
        loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())
        opt.zero_grad()
        loss.backward()
        opt.param_groups[0]["lr"] = 1.0 - 0.9 * k / steps
        opt.step()
    with tg.no_grad():
        accuracy = np.mean([(model(list(x)).data > 0) == (yi > 0) for x, yi in zip(X, y)])
    assert accuracy >= 0.95


def test_scalar_mlp_trains_with_adam():
    X, y = two_moons(40, noise=0.1, seed=4)
    tg.manual_seed(2)
    model = nn.MLP(2, [8, 8, 1])
    opt = optim.Adam(model.parameters(), lr=0.05)

    def loss_fn():
        scores = [model(list(x)) for x in X]
        return sum((1 - yi * s).relu() for yi, s in zip(y, scores)) * (1.0 / len(X))

    first = loss_fn().data
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    assert loss_fn().data < 0.5 * first


# ---- Module on scalar nets -----------------------------------------------------------------------

def test_named_parameters_use_dotted_attribute_paths_in_micrograd_order():
    m = nn.MLP(2, [3, 1])
    names = [n for n, _ in m.named_parameters()]
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.0.b"
    # micrograd's order: each neuron's weights then its bias, layer by layer
    expected = [p for layer in m.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert [id(p) for p in m.parameters()] == [id(p) for p in expected]


def test_children_and_modules():
    m = nn.MLP(2, [3, 1])
    assert [n for n, _ in m.named_children()] == ["layers.0", "layers.1"]
    assert list(m.children()) == m.layers
    names = [n for n, _ in m.named_modules()]
    assert names[0] == "" and "layers.0.neurons.2" in names and len(names) == 1 + 2 + 4


class Affine(nn.Module):
    """A user-written module: own Values, a list of Values, a child, a list of children."""

    def __init__(self):
        super().__init__()
        self.scale = Value(2.0)
        self.shift = [Value(0.5), Value(-0.5)]
        self.inner = nn.Neuron(2, nonlin=False)
        self.heads = [nn.Neuron(1, nonlin=False), nn.Neuron(1, nonlin=False)]
        self.note = "not a parameter"
        self.numbers = [1.0, 2.0]  # plain floats are data, not parameters

    def forward(self, x):
        h = self.inner([x[0] * self.scale + self.shift[0], x[1] * self.scale + self.shift[1]])
        return [head([h]) for head in self.heads]


def test_own_parameters_come_before_childrens():
    m = Affine()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "shift.0", "shift.1", "inner.w.0", "inner.w.1", "inner.b",
                     "heads.0.w.0", "heads.0.b", "heads.1.w.0", "heads.1.b"]


def test_shared_parameters_and_modules_are_listed_once():
    m = Affine()
    m.heads[1] = m.heads[0]
    m.alias = m.scale
    assert len(m.parameters()) == 8
    assert len([x for x in m.modules()]) == 3


def test_call_runs_forward_and_zero_grad_resets_values():
    m = Affine()
    out = m([1.0, 2.0])
    (out[0] + out[1]).backward()
    assert any(p.grad != 0.0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


def test_module_without_forward_says_so():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty has no forward"):
        Empty()(1.0)


def test_train_and_eval_reach_every_submodule():
    m = nn.MLP(2, [3, 1])
    assert m.training
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())


def test_repr_looks_like_pytorch():
    m = nn.MLP(2, [16, 1])
    assert repr(m) == (
        "MLP(\n"
        "  (layers.0): Layer(nin=2, nout=16, nonlin=relu)\n"
        "  (layers.1): Layer(nin=16, nout=1, nonlin=linear)\n"
        ")"
    )
    assert repr(nn.Neuron(3, nonlin="tanh")) == "Neuron(nin=3, nonlin=tanh)"


def test_apply_visits_children_first_then_self():
    m = nn.MLP(2, [3, 1])
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "MLP" and seen.count("Neuron") == 4 and seen.count("Layer") == 2
    assert seen.index("Layer") > seen.index("Neuron")


def test_state_dict_round_trip_for_values():
    tg.manual_seed(0)
    a, b = nn.MLP(2, [3, 1]), nn.MLP(2, [3, 1])
    sd = a.state_dict()
    assert list(sd) == [n for n, _ in a.named_parameters()]
    assert all(isinstance(v, float) for v in sd.values())
    b.load_state_dict(sd)
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]
    sd["layers.0.neurons.0.w.0"] = 123.0  # the state dict is a copy, not the live values
    assert a.layers[0].neurons[0].w[0].data != 123.0


def test_load_state_dict_lists_every_mismatch_and_changes_nothing():
    m = nn.MLP(2, [3, 1])
    before = [p.data for p in m.parameters()]
    sd = {k: 0.0 for k in m.state_dict()}
    del sd["layers.0.neurons.0.b"]
    sd["layers.1.neurons.0.w.0"] = np.zeros(2)  # wrong shape
    sd["extra"] = 1.0
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    message = str(info.value)
    assert "missing key 'layers.0.neurons.0.b'" in message
    assert "unexpected key 'extra'" in message
    assert "shape mismatch for 'layers.1.neurons.0.w.0'" in message
    assert [p.data for p in m.parameters()] == before


def test_load_state_dict_not_strict_reports_and_loads_the_rest():
    m = nn.MLP(1, [1])
    keys = m.load_state_dict({"layers.0.neurons.0.w.0": 3.0, "junk": 1.0}, strict=False)
    assert keys.missing_keys == ["layers.0.neurons.0.b"] and keys.unexpected_keys == ["junk"]
    assert m.layers[0].neurons[0].w[0].data == 3.0


def test_register_and_add_module_check_their_arguments():
    m = nn.Module()
    m.add_module("first", nn.Neuron(1))
    m.register_parameter("gain", Value(1.0))
    assert [n for n, _ in m.named_parameters()] == ["gain", "first.w.0", "first.b"]
    with pytest.raises(KeyError, match="contain no '.'"):
        m.add_module("a.b", nn.Neuron(1))
    with pytest.raises(TypeError, match="is not a Module"):
        m.add_module("x", 3)
    with pytest.raises(TypeError, match="nn.Parameter or a Value"):
        m.register_parameter("w", 3.0)


def test_requires_grad_false_on_values_is_refused():
    with pytest.raises(ValueError, match="Value parameters always"):
        nn.MLP(1, [1]).requires_grad_(False)


def test_a_subclass_that_skips_super_init_still_works():
    """micrograd's own classes never call Module.__init__; that must not matter."""

    class Tiny(nn.Module):
        def __init__(self):
            self.w = Value(2.0)

        def __call__(self, x):
            return self.w * x

    m = Tiny()
    m(3.0).backward()
    assert m.parameters() == [m.w] and m.w.grad == 3.0 and m.training
    m.zero_grad()
    m.eval()
    assert m.w.grad == 0.0 and not m.training
