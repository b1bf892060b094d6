"""Recurrent layers: RNN, LSTM, GRU and their one-step cells, with PyTorch's API and layouts.

    lstm = nn.LSTM(input_size=8, hidden_size=16, num_layers=2, batch_first=True)
    output, (h_n, c_n) = lstm(x)          # x: (N, L, 8) -> output (N, L, 16)

RNN and GRU layers run their cell over the sequence, one time step after another, so
backpropagation through time is the ordinary backward pass over that unrolled graph (iterative,
so 1,000 steps need no recursion, and time and memory grow linearly with the length: each step's
slice of the input gets its gradient added in place, see ops.Scatter). The input-to-hidden
products of all time steps are one matrix product up front; only h @ W_hh^T is left inside the
loop. An LSTM layer-direction is instead ONE graph node (`LSTMLayer`, a Function): its forward
loops over time on arrays and its backward is one BPTT pass whose weight gradients are each one
matrix product over all steps (the equations are in its docstring); LSTMCell keeps the fused
op-table rows lstm_gates, lstm_cell, lstm_hidden.
Parameters have PyTorch's names and shapes (`weight_ih_l0`, `weight_hh_l0_reverse`, gates
stacked as LSTM's (i, f, g, o) and GRU's (r, z, n)), so state dicts move between the two.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import memory
from ..autograd.mode import MODE
from ..function import Function
from ..parallel import matmul
from ..tensor import OPS, Tensor, apply, cat, empty, stack, zeros
from ..tensor.fused import _lstm_columns
from ..tensor.rule_math import csum
from ..tensor.tensor import _new
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- one time step (shared by the layers and the cells) -----------------------------------------
# Each step gets xp, the input's projection x W_ih^T + b_ih (with b_hh already added, except for
# the GRU, whose b_hn sits inside the reset gate's product), and w_t = W_hh^T.


def _recurrent(xp: Tensor, h: Tensor, w_t: Tensor) -> Tensor:
    return xp + h.matmul(w_t)


def _rnn_step(act: str):
    def step(xp: Tensor, h: Tensor, c: Any, w_t: Tensor, b_hh: Tensor | None):
        pre = _recurrent(xp, h, w_t)
        return (pre.tanh() if act == "tanh" else pre.relu()), None

    return step


def _lstm_step(xp: Tensor, h: Tensor, c: Tensor, w_t: Tensor, b_hh: Tensor | None):
    """c' = f * c + i * g,  h' = o * tanh(c'), the gates (i, f, g, o) stacked in that order.

    Three fused rows of the op table (ops.py: lstm_gates, lstm_cell, lstm_hidden; fused.py);
    `_lstm_step_composed` is the same step in plain ops, which the tests hold them to.
    """
    act = apply(OPS.lstm_gates, (_recurrent(xp, h, w_t),))
    c = apply(OPS.lstm_cell, (act, c))
    return apply(OPS.lstm_hidden, (act, c)), c


def _lstm_step_composed(xp: Tensor, h: Tensor, c: Tensor, w_t: Tensor, b_hh: Tensor | None):
    n = h.shape[-1]
    gates = _recurrent(xp, h, w_t)
    i, f, o = gates[..., :n].sigmoid(), gates[..., n:2 * n].sigmoid(), gates[..., 3 * n:].sigmoid()
    c = f * c + i * gates[..., 2 * n:3 * n].tanh()
    return o * c.tanh(), c


class LSTMLayer(Function):
    """One LSTM layer-direction over the whole sequence as ONE graph node (not 6 per step).

    Inputs: x (T, N, H_in); W_ih (4H, H_in); b (4H,) = b_ih + b_hh, or None; W_hh (4H, H);
    h_0, c_0 (N, H); `reverse` (run t = T-1 .. 0). Output (T+1, N, H): rows 0..T-1 are h_t
    (by time position), row T is the last cell state.

    Forward: z = x W_ih^T + b for all steps in one product, then per step in the running
    order (h_prev, c_prev: the previous step's, or h_0, c_0):
        z_t += h_prev W_hh^T;  (i, f, g, o) = (sig(z_i), sig(z_f), tanh(z_g), sig(z_o))
        c_t = f c_prev + i g;  h_t = o tanh(c_t)
    Backward through time, one pass in the reverse order, starting from dh' = 0 and
    dc' = dL/dc_last (the output's last row):
        dh_t = dL/dh_t + dh';  dc_t = dc' + dh_t o (1 - tanh(c_t)^2)
        dz_t = (dc_t g i(1-i), dc_t c_prev f(1-f), dc_t i (1-g^2), dh_t tanh(c_t) o(1-o))
        dh' = dz_t W_hh;       dc' = dc_t f
    then dh_0 = dh', dc_0 = dc', and every weight's gradient is ONE product over all steps:
        dW_hh = sum_t dz_t^T h_prev,  dW_ih = sum_t dz_t^T x_t,  db = sum_t dz_t,
        dx_t = dz_t W_ih.
    Inside, every per-step array is kept transposed, gates by rows ((4H, N), (H, N)): each
    gate is then a block of whole rows, and BLAS makes W_hh h^T 1.35x faster than h W_hh^T
    (a forward step 32 against 42 us at N = 32, H = 128).
    It runs on arrays: no second derivatives (backward with create_graph=True raises).
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, w_ih: Tensor, b: Tensor | None, w_hh: Tensor,
                h0: Tensor, c0: Tensor, reverse: bool) -> Tensor:
        xs = x._data
        steps, batch, _ = xs.shape
        gates = w_hh.shape[0]
        n = gates // 4
        half = _lstm_columns(n, xs.dtype)[0][:, None]  # sigmoid(v) = 0.5 + 0.5 tanh(v / 2):
        w_in, w_rec = w_ih._data * half, w_hh._data * half  # the scale inside tanh goes into
        # the weights and the bias. z^T = W_ih x^T + b for every step at once, (4H, T, N);
        # the scratch comes from the cache (memory.py): the last step's memory, paged in
        z = memory.empty((gates, steps, batch), xs.dtype)
        matmul(w_in, xs.reshape(-1, xs.shape[-1]).T, out=z.reshape(gates, -1))
        if b is not None:
            z += (b._data[:, None] * half)[:, :, None]
        acts, cs, hs = _lstm_forward_steps(z, w_rec, h0._data.T, c0._data.T, reverse)
        out = np.empty((steps + 1, batch, n), dtype=xs.dtype)
        out[:steps] = hs.transpose(0, 2, 1)
        out[steps] = cs[0, 0 if reverse else steps - 1].T  # the last cell state
        ctx.acts, ctx.cs, ctx.reverse = acts, cs, reverse
        result = _new(out)
        ctx.save_for_backward(x, w_ih, w_hh, h0, c0, result)
        return result

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Any, ...]:
        if MODE.grad_enabled:  # the backward pass records itself only for create_graph=True
            raise RuntimeError(
                "backward(create_graph=True) through 'LSTMLayer' (nn.LSTM): its derivative "
                "rules run on arrays only, so its gradient cannot be differentiated again"
            )
        x, w_ih, w_hh, h0, c0, result = ctx.saved_tensors
        out, gy = result._data, grad_output._data
        steps, batch, n = out.shape[0] - 1, out.shape[1], out.shape[2]
        reverse = ctx.reverse
        w_t = np.ascontiguousarray(w_hh._data.T)
        dz, dh0, dc0 = _lstm_backward_steps(gy.transpose(0, 2, 1), ctx.acts, ctx.cs, w_t,
                                            c0._data.T, reverse)
        flat = memory.empty((4 * n, steps, batch), gy.dtype)  # dz^T, (4H, T, N): one copy
        flat[...] = dz.transpose(1, 0, 2)  # (written per step, dz[t] had to be one block)
        del dz
        need = ctx.needs_input_grad
        xs = x._data
        dx = dw_ih = db = dw_hh = None
        if need[0]:  # dx = dz W_ih, (T N, H_in): BLAS reads dz^T transposed
            dx = matmul(flat.reshape(4 * n, -1).T, w_ih._data).reshape(xs.shape)
        if need[1]:
            dw_ih = matmul(flat.reshape(4 * n, -1), xs.reshape(-1, xs.shape[-1]))
        if need[2]:
            db = csum(flat, (1, 2)).reshape(-1)
        if need[3]:  # sum_t dz_t^T h_prev: one product over all steps but the first
            first, rest = ((flat[:, steps - 1], flat[:, :steps - 1]) if reverse
                           else (flat[:, 0], flat[:, 1:]))
            before = out[1:steps] if reverse else out[:steps - 1]
            dw_hh = matmul(rest.reshape(4 * n, -1), before.reshape(-1, n))
            dw_hh += matmul(first, h0._data)
        wrap = (lambda a: None if a is None else _new(a))
        return (wrap(dx), wrap(dw_ih), wrap(db), wrap(dw_hh), _new(dh0.T) if need[4] else None,
                _new(dc0.T) if need[5] else None, None)


def _lstm_forward_steps(z, w_rec, h, c, reverse):
    """LSTMLayer's recurrence, every per-step array transposed (the batch last): z (4H, T, N)
    the input projections, w_rec = W_hh with each gate's rows scaled as z's, h and c (H, N)
    the initial states. Returns the activations (T, 4H, N), c_t and tanh(c_t) (2, T, H, N)
    and h_t (T, H, N)."""
    gates, steps, batch = z.shape
    n = gates // 4
    half, shift, _ = _lstm_columns(n, z.dtype)
    half, shift = half[:, None], shift[:, None]
    acts = memory.empty((steps, gates, batch), z.dtype)
    cs = memory.empty((2, steps, n, batch), z.dtype)
    hs = memory.empty((steps, n, batch), z.dtype)
    for t in range(steps - 1, -1, -1) if reverse else range(steps):
        a, c_new, tc = acts[t], cs[0, t], cs[1, t]
        matmul(w_rec, h, out=a)                      # the gates' activations, in place
        a += z[:, t]
        np.tanh(a, out=a)
        a *= half
        a += shift
        np.multiply(a[n:2 * n], c, out=c_new)       # c_t = f c_prev + i g
        c_new += np.multiply(a[:n], a[2 * n:3 * n], out=tc)
        np.tanh(c_new, out=tc)
        h, c = np.multiply(a[3 * n:], tc, out=hs[t]), c_new  # h_t = o tanh(c_t)
    return acts, cs, hs


def _lstm_backward_steps(gy, acts, cs, w_t, c_first, reverse):
    """Backward through time over `_lstm_forward_steps`' arrays: gy (T+1, H, N) the gradient
    of h_t and (last row) of the last cell state, w_t = W_hh^T. Returns dz (T, 4H, N) and
    the gradients of h_0 and c_0 (H, N)."""
    cs, tcs = cs
    steps, n, batch = cs.shape
    _, shift, alpha = _lstm_columns(n, acts.dtype)
    dz = memory.empty(acts.shape, acts.dtype)
    # what does not depend on the gradient, for all steps at once: each gate's derivative
    # from its value, alpha - (act - shift)^2, and dh_t/dc_t = o (1 - tanh(c_t)^2)
    slopes = memory.empty(acts.shape, acts.dtype)
    np.subtract(acts, shift[:, None], out=slopes)
    np.square(slopes, out=slopes)
    np.subtract(alpha[:, None], slopes, out=slopes)
    dh_dc = memory.empty(tcs.shape, acts.dtype)
    np.square(tcs, out=dh_dc)
    np.subtract(1, dh_dc, out=dh_dc)
    dh_dc *= acts[:, 3 * n:]
    # then step by step on (4H, N) arrays, into preallocated scratch
    tmp = np.empty((n, batch), dtype=acts.dtype)
    dh = np.zeros((n, batch), dtype=acts.dtype)
    dc = gy[steps].copy()
    order = range(steps) if reverse else range(steps - 1, -1, -1)
    last = order[-1]
    for t in order:
        a, tc, z = acts[t], tcs[t], dz[t]
        c_prev = c_first if t == last else cs[t + 1 if reverse else t - 1]
        dh += gy[t]
        dc += np.multiply(dh_dc[t], dh, out=tmp)            # dc += dh o (1 - tanh(c)^2)
        np.multiply(dc, a[2 * n:3 * n], out=z[:n])            # dc/di = g
        np.multiply(dc, c_prev, out=z[n:2 * n])               # dc/df = c_prev
        np.multiply(dc, a[:n], out=z[2 * n:3 * n])            # dc/dg = i
        np.multiply(dh, tc, out=z[3 * n:])                    # dh/do = tanh(c)
        z *= slopes[t]
        matmul(w_t, z, out=dh)                       # dh_prev = (dz W_hh)^T
        dc *= a[n:2 * n]                             # dc_prev = dc f
    return dz, dh, dc


def _gru_step(xp: Tensor, h: Tensor, c: Any, w_t: Tensor, b_hh: Tensor | None):
    """r, z = sigmoid(...), n = tanh(x_n + r * (W_hn h + b_hn)), h' = n + z * (h - n)."""
    k = h.shape[-1]
    gh = h.matmul(w_t)
    if b_hh is not None:
        gh = gh + b_hh
    rz = (xp[..., :2 * k] + gh[..., :2 * k]).sigmoid()
    r, z = rz[..., :k], rz[..., k:]
    n = (xp[..., 2 * k:] + r * gh[..., 2 * k:]).tanh()
    return n + z * (h - n), None  # = (1 - z) n + z h


def _step_for(mode: str):
    if mode == "LSTM":
        return _lstm_step
    if mode == "GRU":
        return _gru_step
    return _rnn_step("tanh" if mode == "RNN_TANH" else "relu")


def _biases(mode: str, b_ih: Tensor | None,
            b_hh: Tensor | None) -> tuple[Tensor | None, Tensor | None]:
    """The bias to add to x W_ih^T (b_ih, plus b_hh where it can be folded in) and the b_hh
    left for the step (the GRU's, which sits inside the reset gate's product)."""
    if mode == "GRU" or b_hh is None:
        return b_ih, b_hh
    return (b_hh if b_ih is None else b_ih + b_hh), None


def _project(mode: str, x: Tensor, w_ih: Tensor, b_ih: Tensor | None,
             b_hh: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """x W_ih^T + its bias, and the b_hh left for the step."""
    bias, b_left = _biases(mode, b_ih, b_hh)
    return F.linear(x, w_ih, bias), b_left


def _positive(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return n


# ---- the layers ---------------------------------------------------------------------------------


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, and the loop.

    Input (L, N, input_size), or (N, L, input_size) with batch_first, or unbatched
    (L, input_size). Initial states (num_layers * D, N, hidden_size), zeros when not given
    (D = 2 if bidirectional). Every weight and bias starts U(-1/sqrt(hidden), 1/sqrt(hidden)).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size is not supported")
        self.mode = mode
        self.input_size = _positive(input_size, f"{name}: input_size")
        self.hidden_size = _positive(hidden_size, f"{name}: hidden_size")
        self.num_layers = _positive(num_layers, f"{name}: num_layers")
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.dropout = F._check_p(dropout, name)
        self.proj_size = 0
        gate = _GATES[mode] * hidden_size
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[: 2 if bidirectional else 1]:
                width = input_size if layer == 0 else hidden_size * (2 if bidirectional else 1)
                self.register_parameter(f"weight_ih_l{layer}{suffix}",
                                        Parameter(empty(gate, width, dtype=dtype)))
                self.register_parameter(f"weight_hh_l{layer}{suffix}",
                                        Parameter(empty(gate, hidden_size, dtype=dtype)))
                if bias:
                    self.register_parameter(f"bias_ih_l{layer}{suffix}",
                                            Parameter(empty(gate, dtype=dtype)))
                    self.register_parameter(f"bias_hh_l{layer}{suffix}",
                                            Parameter(empty(gate, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, layer: int, direction: int) -> tuple[Tensor, ...]:
        s = f"l{layer}" + ("_reverse" if direction else "")
        return tuple(getattr(self, f"{k}_{s}", None)
                     for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _initial(self, hx: Any, batch: int, unbatched: bool, like: Tensor, what: str) -> Tensor:
        d = 2 if self.bidirectional else 1
        want = (self.num_layers * d, batch, self.hidden_size)
        if hx is None:
            return zeros(*want, dtype=like.dtype)
        if not isinstance(hx, Tensor):
            raise TypeError(f"{type(self).__name__}: {what} must be a Tensor, got "
                            f"{type(hx).__name__}")
        if unbatched:
            if hx.ndim != 2:
                raise ValueError(f"{type(self).__name__}: for an unbatched (2-D) input, {what} "
                                 f"must be 2-D {(want[0], want[2])}, got {hx.shape}")
            hx = hx.unsqueeze(1)
        if hx.shape != want:
            raise ValueError(f"{type(self).__name__}: expected {what} of shape {want} "
                             f"(num_layers * num_directions, batch, hidden_size), got {hx.shape}")
        return hx

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        name = type(self).__name__
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ValueError(f"{name}: expected an input of shape {layout} or (L, H_in) with "
                             f"H_in = {self.input_size}, got {input.shape}")
        if input.shape[1 if self.batch_first and input.ndim == 3 else 0] == 0:
            raise ValueError(f"{name}: expected a sequence length larger than 0, got an input "
                             f"of shape {input.shape}")
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first
                                                  else input)
        batch = x.shape[1]
        lstm = self.mode == "LSTM"
        if lstm:
            h0, c0 = (None, None) if hx is None else hx
            h0 = self._initial(h0, batch, unbatched, x, "h_0")
            c0 = self._initial(c0, batch, unbatched, x, "c_0")
        else:
            h0, c0 = self._initial(hx, batch, unbatched, x, "h_0"), None
        step = _step_for(self.mode)
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                k = layer * directions + direction
                h, c = h0[k], (c0[k] if lstm else None)
                if lstm:  # the whole sequence is one node (LSTMLayer); slice what it packed
                    bias, _ = _biases(self.mode, b_ih, b_hh)
                    hc = LSTMLayer.apply(x, w_ih, bias, w_hh, h, c, bool(direction))
                    outs.append(hc[:-1])
                    h_n.append(hc[0] if direction else hc[-2])
                    c_n.append(hc[-1])
                    continue
                xp, b_left = _project(self.mode, x, w_ih, b_ih, b_hh)  # every step's at once
                w_t = w_hh.mT
                ys: list[Any] = [None] * x.shape[0]
                order = range(x.shape[0] - 1, -1, -1) if direction else range(x.shape[0])
                for t in order:
                    h, c = step(xp[t], h, c, w_t, b_left)
                    ys[t] = h
                outs.append(stack(ys, 0))
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        output = x.squeeze(1) if unbatched else (x.transpose(0, 1) if self.batch_first else x)
        h_last = stack(h_n, 0)
        c_last = stack(c_n, 0) if lstm else None
        if unbatched:
            h_last = h_last.squeeze(1)
            c_last = c_last.squeeze(1) if lstm else None
        return output, ((h_last, c_last) if lstm else h_last)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh) (or relu, `nonlinearity='relu'`).

    Returns (output, h_n): every step's top-layer h, and every layer's last h.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, o (sigmoid) and g (tanh) decide what the cell
    state c forgets and stores. Returns (output, (h_n, c_n)); hx is (h_0, c_0)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: a reset gate r and an update gate z, no separate cell state.
    Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)


# ---- the cells ----------------------------------------------------------------------------------


class RNNCellBase(Module):
    """One time step: weight_ih (G, input_size), weight_hh (G, hidden), bias_ih, bias_hh."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.mode = mode
        self.input_size = _positive(input_size, f"{name}: input_size")
        self.hidden_size = _positive(hidden_size, f"{name}: hidden_size")
        self.bias = bias
        gate = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(empty(gate, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(gate, hidden_size, dtype=dtype))
        self.bias_ih = Parameter(empty(gate, dtype=dtype)) if bias else None
        self.bias_hh = Parameter(empty(gate, dtype=dtype)) if bias else None
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _step(self, input: Tensor, h: Any, c: Any) -> tuple[Tensor, Any]:
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected an input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {input.shape}")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        want = (x.shape[0], self.hidden_size)
        states = []
        pairs = ((h, "h"), (c, "c")) if self.mode == "LSTM" else ((h, "h"),)
        for s, what in pairs:
            if s is None:
                states.append(zeros(*want, dtype=x.dtype))
                continue
            s = s.unsqueeze(0) if unbatched and s.ndim == 1 else s
            if s.shape != want:
                raise ValueError(f"{name}: expected the state {what} of shape {want}, got "
                                 f"{s.shape}")
            states.append(s)
        xp, b_left = _project(self.mode, x, self.weight_ih, self.bias_ih, self.bias_hh)
        states.append(None)  # no cell state outside the LSTM
        h, c = _step_for(self.mode)(xp, states[0], states[1], self.weight_hh.mT, b_left)
        if unbatched:
            h, c = h.squeeze(0), (c.squeeze(0) if c is not None else None)
        return h, c

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). forward(input, hx=None) -> h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, bias, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(input, hx, None)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step. forward(input, (h, c) or None) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        h, c = (None, None) if hx is None else hx
        return self._step(input, h, c)


class GRUCell(RNNCellBase):
    """One GRU step. forward(input, hx=None) -> h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(input, hx, None)[0]
