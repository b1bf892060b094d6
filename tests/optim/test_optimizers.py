"""Optimizers: PyTorch 2.13's exact update rules (checked step by step against torch itself),
param groups, state dicts, zero_grad, and clear errors that leave parameters untouched."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Value, nn, optim

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-6)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.2, amsgrad=True)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.7)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, eps=1e-6)),
    ("Adagrad", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.02, weight_decay=0.2, decoupled_weight_decay=True, amsgrad=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-4)),
    ("Adamax", dict(lr=0.02, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, betas=(0.8, 0.95), momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.02, eps=1e-4, maximize=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.7, 0.9))),
    ("RAdam", dict(lr=0.05, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.02, eps=1e-4, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]

STEPS = 50
rng = np.random.default_rng(0)
W0 = rng.normal(size=8)  # starting weights
A = rng.uniform(0.5, 2.0, size=8)  # curvature of each coordinate's bowl
B = rng.uniform(-2.0, 2.0, size=8)  # frequency of its ripple


def torch_trajectory(name, kw, steps=STEPS):
    """Minimize sum(a w^2 / 2 + sin(b w)) with torch's own optimizer; params after each step."""
    w = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    a, b = torch.tensor(A), torch.tensor(B)
    opt = getattr(torch.optim, name)([w], **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (a * w * w / 2 + torch.sin(b * w)).sum().backward()
        opt.step()
        out.append(w.detach().numpy().copy())
    return np.array(out)


def value_loss(ws):
    return sum(a * w * w / 2 + (b * w).sin() for a, b, w in zip(A, B, ws))


def value_trajectory(name, kw, steps=STEPS, ws=None, opt=None):
    ws = [Value(float(x)) for x in W0] if ws is None else ws
    opt = getattr(optim, name)(ws, **kw) if opt is None else opt
    out = []
    for _ in range(steps):
        opt.zero_grad()
        value_loss(ws).backward()
        opt.step()
        out.append([w.data for w in ws])
    return np.array(out)


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_value_parameters_follow_torch_for_50_steps(name, kw):
    expected = torch_trajectory(name, kw)
    got = value_trajectory(name, kw)
    assert np.abs(expected[-1] - W0).max() > 0.05  # the run really moved the weights
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


RESUMED = [2, 10, 17, 20, 24, 27, 29, 31, 34, 36]  # each kind of state (NAdam: mu_product)


@pytest.mark.parametrize("name, kw", [CONFIGS[i] for i in RESUMED],
                         ids=[IDS[i] for i in RESUMED])
def test_state_dict_resumes_exactly(name, kw):
    """25 steps, save the optimizer's state, restore it into a fresh optimizer, 25 more steps:
    the same as 50 steps in one go."""
    straight = value_trajectory(name, kw)
    ws = [Value(float(x)) for x in W0]
    first = getattr(optim, name)(ws, **kw)
    value_trajectory(name, kw, 25, ws, first)
    saved = first.state_dict()
    second = getattr(optim, name)(ws, lr=123.0)  # settings come from the state dict too
    second.load_state_dict(saved)
    assert second.param_groups[0]["lr"] == kw["lr"]
    resumed = value_trajectory(name, kw, 25, ws, second)
    np.testing.assert_allclose(resumed[-1], straight[-1], rtol=1e-12, atol=1e-12)


def test_state_dict_layout_is_pytorchs():
    ws = [Value(1.0), Value(2.0), Value(3.0)]
    opt = optim.Adam([{"params": ws[:2]}, {"params": ws[2:], "lr": 0.5}], lr=0.1)
    value_loss(ws).backward()
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][2]["step"] == 1


def test_lr_can_be_a_one_element_tensor_as_in_torch():
    opt = optim.SGD([{"params": [Value(1.0)], "lr": tg.tensor([0.5])}], lr=tg.tensor(0.1))
    assert opt.defaults["lr"] == pytest.approx(0.1) and opt.param_groups[0]["lr"] == 0.5
    assert isinstance(opt.param_groups[0]["lr"], float)


def test_param_groups_have_their_own_settings():
    ws = [Value(1.0), Value(1.0)]
    opt = optim.SGD([{"params": [ws[0]]}, {"params": [ws[1]], "lr": 0.5}], lr=0.1)
    (ws[0] * 1.0 + ws[1] * 1.0).backward()
    opt.step()
    assert ws[0].data == pytest.approx(0.9) and ws[1].data == pytest.approx(0.5)


def test_param_groups_follow_torch():
    w1, w2 = torch.tensor(W0[:4], requires_grad=True), torch.tensor(W0[4:], requires_grad=True)
    t_opt = torch.optim.Adam([{"params": [w1]}, {"params": [w2], "lr": 0.01}], lr=0.05)
    ws = [Value(float(x)) for x in W0]
    opt = optim.Adam([{"params": ws[:4]}, {"params": ws[4:], "lr": 0.01}], lr=0.05)
    a, b = torch.tensor(A), torch.tensor(B)
    for _ in range(20):
        t_opt.zero_grad()
        w = torch.cat([w1, w2])
        (a * w * w / 2 + torch.sin(b * w)).sum().backward()
        t_opt.step()
        opt.zero_grad()
        value_loss(ws).backward()
        opt.step()
    expected = torch.cat([w1, w2]).detach().numpy()
    np.testing.assert_allclose([w.data for w in ws], expected, rtol=1e-6, atol=1e-6)


def test_zero_grad_resets_value_gradients():
    ws = [Value(1.0), Value(2.0)]
    opt = optim.SGD(ws, lr=0.1)
    (ws[0] * ws[1]).backward()
    opt.zero_grad()
    assert [w.grad for w in ws] == [0.0, 0.0]


@pytest.mark.parametrize("make, message", [
    (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda: optim.SGD([Value(1.0)], lr=-0.1), "invalid learning rate"),
    (lambda: optim.Adam([Value(1.0)], betas=(0.9, 1.0)), "invalid betas"),
    (lambda: optim.Adam([Value(1.0)], betas=(-0.1, 0.9)), "invalid betas"),
    (lambda: optim.Adam([Value(1.0)], eps=-1e-8), "invalid eps"),
    (lambda: optim.SGD([Value(1.0)], lr=0.1, nesterov=True), "nesterov=True needs momentum"),
    (lambda: optim.RMSprop([Value(1.0)], alpha=-0.5), "invalid alpha"),
    (lambda: optim.SGD(Value(1.0), lr=0.1), "iterable of parameters"),
    (lambda: optim.SGD([1.0], lr=0.1), "parameter 0 is a float"),
    (lambda: optim.Adamax([Value(1.0)], lr=-0.01), r"Adamax: invalid learning rate lr=-0.01"),
    (lambda: optim.Adamax([Value(1.0)], betas=(0.9, 1.5)), r"Adamax: invalid betas"),
    (lambda: optim.NAdam([Value(1.0)], betas=0.9), r"NAdam: invalid betas=0.9; need two"),
    (lambda: optim.NAdam([Value(1.0)], momentum_decay=-1.0),
     r"NAdam: invalid momentum_decay=-1.0"),
    (lambda: optim.NAdam([Value(1.0)], weight_decay=-0.1), r"NAdam: invalid weight_decay"),
    (lambda: optim.RAdam([Value(1.0)], eps=-1.0), r"RAdam: invalid eps=-1.0"),
    (lambda: optim.RAdam([Value(1.0)], betas=(1.0, 0.9)), r"RAdam: invalid betas=\(1.0, 0.9\)"),
    (lambda: optim.SGD([Value(1.0)], lr=tg.ones(2)), r"SGD: a Tensor lr must have one element"),
])
def test_bad_settings_are_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_a_parameter_in_two_groups_is_refused():
    w = Value(1.0)
    with pytest.raises(ValueError, match="more than one param group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


def test_a_failed_step_leaves_every_parameter_unchanged():
    good, bad = Value(1.0), Value(2.0)
    opt = optim.SGD([{"params": [good]}, {"params": [bad]}], lr=0.1)
    good.grad, bad.grad = 1.0, "oops"
    with pytest.raises(RuntimeError, match="not a number"):
        opt.step()
    assert (good.data, bad.data) == (1.0, 2.0)
    opt.param_groups[1]["lr"] = -1.0  # e.g. set by a buggy schedule
    bad.grad = 1.0
    with pytest.raises(ValueError, match="invalid learning rate"):
        opt.step()
    assert (good.data, bad.data) == (1.0, 2.0)


def test_step_with_closure_returns_its_loss():
    w = Value(3.0)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = w * w
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.data == 9.0 and w.data == pytest.approx(3.0 - 0.25 * 6.0)


def test_repr_lists_the_settings():
    text = repr(optim.SGD([Value(1.0)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "lr: 0.1" in text and "momentum: 0.9" in text


def test_adam_first_step_moves_each_weight_by_about_lr():
    """Bias correction makes Adam's first step lr * sign(grad) (up to eps), whatever the scale."""
    ws = [Value(0.0), Value(0.0)]
    opt = optim.Adam(ws, lr=0.01)
    ws[0].grad, ws[1].grad = 1000.0, -1e-3
    opt.step()
    assert ws[0].data == pytest.approx(-0.01) and ws[1].data == pytest.approx(0.01, rel=1e-4)
    assert not math.isnan(ws[0].data)


# ---- Tensor parameters: a small float64 network, every option, against torch --------------------

X = rng.normal(size=(16, 4))
Y = rng.normal(size=(16, 3))
W_INIT, B_INIT = rng.normal(size=(3, 4)) * 0.5, rng.normal(size=3) * 0.1


def torch_net_trajectory(name, kw, steps=STEPS):
    w = torch.tensor(W_INIT, requires_grad=True)
    b = torch.tensor(B_INIT, requires_grad=True)
    x, y = torch.tensor(X), torch.tensor(Y)
    opt = getattr(torch.optim, name)([w, b], **kw)
    for _ in range(steps):
        opt.zero_grad()
        ((torch.tanh(x @ w.T + b) - y) ** 2).mean().backward()
        opt.step()
    return w.detach().numpy(), b.detach().numpy()


def net_trajectory(name, kw, steps=STEPS):
    w = nn.Parameter(tg.tensor(W_INIT, dtype=tg.float64))
    b = nn.Parameter(tg.tensor(B_INIT, dtype=tg.float64))
    x, y = tg.tensor(X, dtype=tg.float64), tg.tensor(Y, dtype=tg.float64)
    opt = getattr(optim, name)([w, b], **kw)
    for _ in range(steps):
        opt.zero_grad()
        ((x @ w.T + b).tanh() - y).pow(2).mean().backward()
        opt.step()
    return w.numpy(), b.numpy()


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_tensor_parameters_follow_torch_for_50_steps(name, kw):
    (tw, tb), (w, b) = torch_net_trajectory(name, kw), net_trajectory(name, kw)
    assert np.abs(tw - W_INIT).max() > 0.01  # the run really moved the weights
    np.testing.assert_allclose(w, tw, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b, tb, rtol=1e-6, atol=1e-6)


def test_tensor_update_is_in_place_and_keeps_dtype():
    w = nn.Parameter(tg.tensor([[1.0, 2.0]]))  # float32
    storage = w.numpy()
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.numpy() is storage and w.dtype == np.float32
    assert w.numpy()[0, 0] == pytest.approx(0.9, rel=1e-5)


def test_parameters_without_grad_are_skipped():
    a, b = nn.Parameter(tg.ones(2)), nn.Parameter(tg.ones(2))
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9, weight_decay=0.1)
    a.sum().backward()
    opt.step()
    assert b.numpy().tolist() == [1.0, 1.0] and b not in opt.state


def test_zero_grad_on_tensors():
    w = nn.Parameter(tg.ones(2))
    opt = optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad.numpy().tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_a_bad_tensor_gradient_fails_before_anything_changes():
    a, b = nn.Parameter(tg.ones(2)), nn.Parameter(tg.ones(3))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = tg.ones(2), tg.ones(3)
    b.grad.data = tg.ones(2)  # b's gradient storage swapped for one of the wrong shape
    with pytest.raises(RuntimeError, match=r"shape \(3,\) but its .grad is \(2,\)"):
        opt.step()
    assert a.numpy().tolist() == [1.0, 1.0] and opt.state == {}


def test_non_leaf_tensors_are_refused():
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([w * 2], lr=0.1)


def test_a_step_between_forward_and_backward_is_caught():
    """The step changes the weight in place; the pending backward needs its old value."""
    w = nn.Parameter(tg.tensor([[1.0, 2.0]]))
    x = tg.tensor([[3.0], [4.0]])
    opt = optim.SGD([w], lr=0.1)
    w.grad = tg.ones(1, 2)
    loss = (w @ x).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()


@pytest.mark.parametrize("name, kw", [
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.6))),  # rho_t > 5 from step 2 on
])
def test_tensor_optimizer_state_dict_round_trip(tmp_path, name, kw):
    w = nn.Parameter(tg.tensor(W_INIT, dtype=tg.float64))
    opt = getattr(optim, name)([w], **kw)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    tg.save(opt.state_dict(), tmp_path / "opt.npz")
    w2 = nn.Parameter(tg.tensor(w.numpy().copy(), dtype=tg.float64))
    opt2 = getattr(optim, name)([w2], lr=1.0)
    opt2.load_state_dict(tg.load(tmp_path / "opt.npz"))
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    for _ in range(3):
        for o, p in ((opt, w), (opt2, w2)):
            o.zero_grad()
            (p * p).sum().backward()
            o.step()
    np.testing.assert_array_equal(w2.numpy(), w.numpy())


def test_values_and_tensors_in_one_optimizer():
    """A scalar MLP and a Tensor parameter, stepped together; the state dict numbers them in
    order and restores both kinds."""
    tg.manual_seed(0)
    mlp = nn.MLP(2, [2, 1])
    w = nn.Parameter(tg.ones(3, dtype=tg.float64))
    opt = optim.Adam([*mlp.parameters(), w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (mlp([1.0, -2.0]) * 1.0).backward()
        (w * w).sum().backward()
        opt.step()
    sd = opt.state_dict()
    n_values = len(mlp.parameters())
    assert sorted(sd["state"]) == list(range(n_values + 1))
    assert isinstance(sd["state"][0]["exp_avg"], float)
    assert sd["state"][n_values]["exp_avg"].shape == (3,)
    opt2 = optim.Adam([*mlp.parameters(), w], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state_dict()["state"][1] == sd["state"][1]
    np.testing.assert_array_equal(opt2.state_dict()["state"][n_values]["exp_avg_sq"],
                                  sd["state"][n_values]["exp_avg_sq"])


def test_named_parameters_can_be_given_as_in_torch():
    lin = nn.Linear(2, 1)
    opt = optim.SGD(lin.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["params"] == [lin.weight, lin.bias]
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]


def test_add_param_group_uses_the_defaults_for_missing_settings():
    a, b = Value(1.0), Value(1.0)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01


def test_load_state_dict_checks_state_shapes_and_group_sizes():
    w = nn.Parameter(tg.ones(3))
    opt = optim.Adam([w])
    bad = {"state": {0: {"step": 1.0, "exp_avg": np.zeros(2), "exp_avg_sq": np.zeros(3)}},
           "param_groups": [{**opt.state_dict()["param_groups"][0]}]}
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(2,\)"):
        opt.load_state_dict(bad)
    assert opt.state == {}
    two = {"state": {}, "param_groups": [{**bad["param_groups"][0], "params": [0, 1]}]}
    with pytest.raises(ValueError, match="param group 0 has 1 parameters, the state dict 2"):
        opt.load_state_dict(two)
    values = [Value(1.0), Value(2.0)]
    vopt = optim.SGD(values, lr=0.1, momentum=0.9)
    vbad = {"state": {0: {"momentum_buffer": np.zeros(2)}, 1: {"momentum_buffer": 1.0}},
            "param_groups": vopt.state_dict()["param_groups"]}
    with pytest.raises(ValueError, match="not one number per Value parameter"):
        vopt.load_state_dict(vbad)


# ---- property: any valid settings, against torch -------------------------------------------------

unit = st.floats(0.0, 0.99)
SETTINGS = st.one_of(
    st.tuples(st.just("SGD"), st.fixed_dictionaries({
        "lr": st.floats(1e-3, 0.1), "momentum": unit, "dampening": unit,
        "weight_decay": st.floats(0.0, 0.5), "maximize": st.booleans()})),
    st.tuples(st.just("SGD"), st.fixed_dictionaries({
        "lr": st.floats(1e-3, 0.1), "momentum": st.floats(0.1, 0.99), "nesterov": st.just(True),
        "weight_decay": st.floats(0.0, 0.5)})),
    st.tuples(st.sampled_from(["Adam", "AdamW"]), st.fixed_dictionaries({
        "lr": st.floats(1e-3, 0.1), "betas": st.tuples(unit, unit),
        "eps": st.floats(1e-10, 1e-3), "weight_decay": st.floats(0.0, 0.5),
        "amsgrad": st.booleans(), "maximize": st.booleans()})),
    st.tuples(st.just("RMSprop"), st.fixed_dictionaries({
        "lr": st.floats(1e-4, 0.01), "alpha": unit, "eps": st.floats(1e-10, 1e-3),
        "weight_decay": st.floats(0.0, 0.5), "momentum": unit, "maximize": st.booleans()})),
    # centered: sqrt(mean(g^2) - mean(g)^2) cancels to ~0 when alpha is small (alpha = 0 makes
    # it exactly g^2 - g^2), and then rounding decides between 0 and NaN in both libraries
    st.tuples(st.just("RMSprop"), st.fixed_dictionaries({
        "lr": st.floats(1e-4, 0.01), "alpha": st.floats(0.5, 0.99), "centered": st.just(True),
        "eps": st.floats(1e-10, 1e-3), "weight_decay": st.floats(0.0, 0.5), "momentum": unit,
        "maximize": st.booleans()})),
    st.tuples(st.sampled_from(["Adam", "NAdam", "RAdam"]), st.fixed_dictionaries({
        "lr": st.floats(1e-3, 0.1), "betas": st.tuples(unit, unit),
        "eps": st.floats(1e-10, 1e-3), "weight_decay": st.floats(0.0, 0.5),
        "decoupled_weight_decay": st.booleans(), "maximize": st.booleans()})),
    st.tuples(st.just("NAdam"), st.fixed_dictionaries({
        "lr": st.floats(1e-3, 0.1), "momentum_decay": st.floats(0.0, 0.1),
        "weight_decay": st.floats(0.0, 0.5)})),
    st.tuples(st.just("Adamax"), st.fixed_dictionaries({
        "lr": st.floats(1e-3, 0.1), "betas": st.tuples(unit, unit),
        "eps": st.floats(1e-10, 1e-3), "weight_decay": st.floats(0.0, 0.5),
        "maximize": st.booleans()})),
    st.tuples(st.just("Adagrad"), st.fixed_dictionaries({
        "lr": st.floats(1e-3, 0.1), "lr_decay": st.floats(0.0, 0.1),
        "weight_decay": st.floats(0.0, 0.5), "initial_accumulator_value": st.floats(0.0, 1.0),
        "eps": st.floats(1e-10, 1e-3), "maximize": st.booleans()})),
)


@settings(max_examples=40, deadline=None)
@given(SETTINGS)
def test_any_valid_settings_follow_torch(config):
    name, kw = config
    (tw, tb), (w, b) = torch_net_trajectory(name, kw, steps=10), net_trajectory(name, kw, 10)
    np.testing.assert_allclose(w, tw, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b, tb, rtol=1e-6, atol=1e-6)
