"""RNN, LSTM, GRU and their cells against torch.nn with the same weights, in float64 to 1e-6:
the outputs, the final states and the gradient of every parameter, input and initial state,
over random sizes, both batch layouts, one and several layers, both directions; gradcheck of
each cell; backpropagation through 200 time steps; PyTorch's names, shapes and init."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.testing import gradcheck

KINDS = {
    "RNN": (nn.RNN, torch.nn.RNN),
    "RNN_relu": (lambda *a, **k: nn.RNN(*a, nonlinearity="relu", **k),
                 lambda *a, **k: torch.nn.RNN(*a, nonlinearity="relu", **k)),
    "LSTM": (nn.LSTM, torch.nn.LSTM),
    "GRU": (nn.GRU, torch.nn.GRU),
}


def twins(kind, *args, **kwargs):
    """Our module and torch's, in float64, with torch's (random) weights in both."""
    ours, theirs = KINDS[kind]
    t = theirs(*args, **kwargs).double()
    m = ours(*args, **kwargs).double()
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return m, t


def pair(a):
    return tg.tensor(a, dtype=tg.float64, requires_grad=True), torch.tensor(a, requires_grad=True)


def close(a, b):
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-9)


def flat(out):
    """(output, h) or (output, (h, c)) as a list of tensors."""
    y, s = out
    return [y, *s] if isinstance(s, tuple) else [y, s]


def compare(m, t, x, tx, states, rng):
    """Forward both, compare every output, backprop a random weighting of all of them, and
    compare the gradients of the input, the initial states and every parameter."""
    hx = None if states is None else (states[0][0] if len(states) == 1 else
                                      tuple(s for s, _ in states))
    thx = None if states is None else (states[0][1] if len(states) == 1 else
                                       tuple(s for _, s in states))
    ours, theirs = flat(m(x, hx)), flat(t(tx, thx))
    loss, tloss = 0, 0
    for a, b in zip(ours, theirs):
        close(a, b)
        g = rng.normal(size=a.shape)
        loss = loss + (a * tg.tensor(g, dtype=tg.float64)).sum()
        tloss = tloss + (b * torch.tensor(g)).sum()
    loss.backward()
    tloss.backward()
    close(x.grad, tx.grad)
    for s, ts in states or []:
        close(s.grad, ts.grad)
    for (name, p), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=name)


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(sorted(KINDS)), L=st.integers(1, 5), N=st.integers(1, 3),
       H_in=st.integers(1, 4), H=st.integers(1, 4), layers=st.integers(1, 3),
       bidirectional=st.booleans(), batch_first=st.booleans(), bias=st.booleans(),
       given_state=st.booleans(), seed=st.integers(0, 2**16))
def test_layers_match_torch(kind, L, N, H_in, H, layers, bidirectional, batch_first, bias,
                            given_state, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    m, t = twins(kind, H_in, H, layers, bias=bias, batch_first=batch_first,
                 bidirectional=bidirectional)
    x, tx = pair(rng.normal(size=(N, L, H_in) if batch_first else (L, N, H_in)))
    states = None
    if given_state:
        shape = (layers * (2 if bidirectional else 1), N, H)
        states = [pair(rng.normal(size=shape)) for _ in range(2 if kind == "LSTM" else 1)]
    compare(m, t, x, tx, states, rng)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_unbatched_input_matches_torch(kind):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    m, t = twins(kind, 3, 4, 2, bidirectional=True)
    x, tx = pair(rng.normal(size=(5, 3)))
    states = [pair(rng.normal(size=(4, 4))) for _ in range(2 if kind == "LSTM" else 1)]
    compare(m, t, x, tx, states, rng)


def test_dropout_between_layers_only_in_training():
    tg.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5).double()
    x = tg.tensor(np.random.default_rng(0).normal(size=(6, 2, 3)), dtype=tg.float64)
    a, b = m(x)[0].numpy(), m(x)[0].numpy()
    assert not np.allclose(a, b)  # two different dropout masks
    m.eval()
    np.testing.assert_array_equal(m(x)[0].numpy(), m(x)[0].numpy())
    one = nn.LSTM(3, 4, num_layers=1, dropout=0.5).double()  # nothing between: no dropout
    np.testing.assert_array_equal(one(x)[0].numpy(), one(x)[0].numpy())


CELLS = {
    "RNNCell": (nn.RNNCell, torch.nn.RNNCell),
    "LSTMCell": (nn.LSTMCell, torch.nn.LSTMCell),
    "GRUCell": (nn.GRUCell, torch.nn.GRUCell),
}


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(kind, batched):
    rng = np.random.default_rng(2)
    ours, theirs = CELLS[kind]
    t = theirs(3, 5).double()
    c = ours(3, 5).double()
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    c.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    lead = (4,) if batched else ()
    x, tx = pair(rng.normal(size=lead + (3,)))
    (h, th), (s, ts) = pair(rng.normal(size=lead + (5,))), pair(rng.normal(size=lead + (5,)))
    if kind == "LSTMCell":
        out, tout = c(x, (h, s)), t(tx, (th, ts))
        loss, tloss = out[0].sum() + (out[1] * 2).sum(), tout[0].sum() + (tout[1] * 2).sum()
        close(out[1], tout[1])
        out, tout = out[0], tout[0]
    else:
        out, tout = c(x, h), t(tx, th)
        loss, tloss = out.sum(), tout.sum()
    close(out, tout)
    loss.backward()
    tloss.backward()
    for a, b in [(x, tx), (h, th)] + ([(s, ts)] if kind == "LSTMCell" else []):
        close(a.grad, b.grad)
    for p, tp in zip(c.parameters(), t.parameters()):
        close(p.grad, tp.grad)
    first = (lambda o: o[0]) if kind == "LSTMCell" else (lambda o: o)
    close(first(c(x)), first(t(tx)))  # no state given: zeros


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_cells_pass_gradcheck(kind):
    tg.manual_seed(1)
    cell = CELLS[kind][0](2, 3).double()
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.normal(size=(2, 2)), dtype=tg.float64, requires_grad=True)
    h = tg.tensor(rng.normal(size=(2, 3)), dtype=tg.float64, requires_grad=True)
    if kind == "LSTMCell":
        c = tg.tensor(rng.normal(size=(2, 3)), dtype=tg.float64, requires_grad=True)
        assert gradcheck(lambda x, h, c, *weights: cell(x, (h, c)), [x, h, c, *cell.parameters()])
    else:
        assert gradcheck(lambda x, h, *weights: cell(x, h), [x, h, *cell.parameters()])


def test_backprop_through_200_steps_matches_torch():
    rng = np.random.default_rng(4)
    torch.manual_seed(4)
    m, t = twins("LSTM", 2, 3, batch_first=True)
    x, tx = pair(rng.normal(size=(2, 200, 2)))
    compare(m, t, x, tx, None, rng)


def test_the_unrolled_graph_grows_linearly_with_the_length():
    def nodes(L):
        m = nn.GRU(2, 3)
        out, _ = m(tg.randn(L, 1, 2))
        return len(tg.autograd.graph.topological_order([out.sum()]))

    n100, n200, n400 = nodes(100), nodes(200), nodes(400)
    assert n400 - n200 == 2 * (n200 - n100)


def test_parameter_names_shapes_and_init_are_pytorchs():
    tg.manual_seed(0)
    m = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    t = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    assert [(n, p.shape) for n, p in m.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in t.named_parameters()]
    bound = 1 / math.sqrt(5)
    w = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert nn.GRU(2, 4, bias=False).parameters()[0].shape == (12, 2)
    assert len(nn.GRU(2, 4, bias=False).parameters()) == 2


def test_bad_inputs_say_what_is_expected():
    m = nn.LSTM(3, 4, batch_first=True)
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, L, H_in\)"):
        m(tg.zeros(2, 5, 7))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 2, 4\)"):
        m(tg.zeros(2, 5, 3), (tg.zeros(1, 3, 4), tg.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(2, 2, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, 3\)"):
        nn.GRUCell(3, 2)(tg.zeros(2, 4))


def test_the_fused_lstm_step_equals_the_step_in_plain_ops():
    from tinygrad_edu.nn.rnn import _lstm_step, _lstm_step_composed

    rng = np.random.default_rng(6)
    results = []
    for step in (_lstm_step, _lstm_step_composed):
        xp, h, c, w = (tg.tensor(rng.normal(size=s), dtype=tg.float64, requires_grad=True)
                       for s in ((3, 8), (3, 2), (3, 2), (2, 8)))
        h2, c2 = step(xp, h, c, w, None)
        (h2 * tg.tensor([[1.0, -2.0]], dtype=tg.float64) + c2 * 3).sum().backward()
        results.append([h2, c2, xp.grad, h.grad, c.grad, w.grad])
        rng = np.random.default_rng(6)
    for fused, plain in zip(*results):
        np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12, atol=1e-14)


def test_the_fused_lstm_rows_refuse_second_derivatives_clearly():
    m = nn.LSTMCell(2, 3).double()
    x = tg.tensor(np.ones((1, 2)), dtype=tg.float64, requires_grad=True)
    (g,) = tg.grad(m(x)[0].sum(), x, create_graph=False)
    with pytest.raises(RuntimeError, match="'lstm_(hidden|cell)': its derivative rules run on "
                                           "arrays only"):
        tg.grad(m(x)[0].sum(), x, create_graph=True)


def test_an_lstm_layer_direction_is_one_node_whatever_the_length():
    def ops(L, layers, bidirectional):
        m = nn.LSTM(2, 3, num_layers=layers, bidirectional=bidirectional)
        out, (h, c) = m(tg.randn(L, 2, 2))
        order = tg.autograd.graph.topological_order([out.sum() + h.sum() + c.sum()])
        return [n._op.name for n in order if n._op is not None]

    for layers, bidirectional in [(1, False), (2, True)]:
        short, long = ops(4, layers, bidirectional), ops(40, layers, bidirectional)
        assert len(short) == len(long)  # O(1) nodes in the length, not O(L)
        assert short.count("LSTMLayer") == layers * (2 if bidirectional else 1)


def test_lstm_graphs_alive_at_once_and_retained_match_torch():
    """Two forward passes alive together, backward in the other order, one of them twice
    (retain_graph): every gradient as torch's (the layer reuses scratch memory between calls)."""
    rng = np.random.default_rng(7)
    torch.manual_seed(7)
    m, t = twins("LSTM", 3, 4, 2, bidirectional=True, batch_first=True)
    (x1, tx1), (x2, tx2) = pair(rng.normal(size=(2, 6, 3))), pair(rng.normal(size=(2, 6, 3)))
    w1, w2 = rng.normal(size=(2, 6, 8)), rng.normal(size=(2, 6, 8))
    l1 = (m(x1)[0] * tg.tensor(w1, dtype=tg.float64)).sum()
    l2 = (m(x2)[0] * tg.tensor(w2, dtype=tg.float64)).sum()
    tl1 = (t(tx1)[0] * torch.tensor(w1)).sum()
    tl2 = (t(tx2)[0] * torch.tensor(w2)).sum()
    for loss in (l2, l1):
        loss.backward(retain_graph=True)
    l1.backward()
    for loss in (tl2, tl1):
        loss.backward(retain_graph=True)
    tl1.backward()
    close(x1.grad, tx1.grad)
    close(x2.grad, tx2.grad)
    for (name, p), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=name)


def test_the_lstm_layer_refuses_second_derivatives_clearly():
    m = nn.LSTM(2, 3).double()
    x = tg.tensor(np.ones((4, 1, 2)), dtype=tg.float64, requires_grad=True)
    (g,) = tg.grad(m(x)[0].sum(), x, create_graph=False)
    assert g.shape == (4, 1, 2)
    with pytest.raises(RuntimeError, match="'LSTMLayer' \\(nn.LSTM\\): its derivative rules run "
                                           "on arrays only"):
        tg.grad(m(x)[0].sum(), x, create_graph=True)


def test_an_empty_sequence_is_refused_clearly():
    with pytest.raises(ValueError, match="LSTM: expected a sequence length larger than 0"):
        nn.LSTM(2, 3)(tg.zeros(0, 1, 2))
    with pytest.raises(ValueError, match="GRU: expected a sequence length larger than 0"):
        nn.GRU(2, 3, batch_first=True)(tg.zeros(1, 0, 2))
