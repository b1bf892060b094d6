"""Fuzzing the engines against each other: random op sequences over random (broadcasting) shapes.

A program is a list of steps; each applies one op to earlier results (or the inputs). It runs
three times, in float64: on the scalar engine one element at a time (numpy object arrays of
Values, so numpy does the broadcasting and `+` of the Values does the reductions), on the
Tensor engine, and on PyTorch. Values and gradients must agree. Inputs where an op leaves its
domain (log of x <= 0, division by ~0, overflow) are rejected with `assume`, never shifted.

    FUZZ_EXAMPLES=2000 pytest tests/robustness/test_fuzz_graphs.py     # a longer run
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Tensor, Value

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))

UNARY = ["neg", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "abs", "square",
         "pow"]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum"]
REDUCE = ["sum", "mean", "mix"]  # mix: x @ W, W a constant square matrix (shape kept)
LIMIT = 1e6  # values beyond this are rejected: exp(exp(...)) overflows differently per engine


def apply(op: str, args: list, arg_const: int, engine: str):
    """One op on one engine: Value object arrays ('value'), Tensors or torch tensors."""
    a = args[0]
    if op in ("sum", "mean"):
        if engine == "value":
            return getattr(a, op)(axis=arg_const % a.ndim, keepdims=True)
        return getattr(a, op)(dim=arg_const % a.ndim, keepdim=True)
    if op == "mix":
        w = np.random.default_rng(arg_const).uniform(-1, 1, (a.shape[-1], a.shape[-1]))
        if engine == "value":
            return np.matmul(a, w.astype(object))
        return a @ (Tensor(w) if engine == "tensor" else torch.from_numpy(w))
    if op == "pow":
        return a ** (2 + arg_const % 2) if engine != "value" else np.frompyfunc(
            lambda v: v ** (2 + arg_const % 2), 1, 1)(a)
    if engine == "value":
        if op in UNARY:
            fn = {"neg": lambda v: -v, "square": lambda v: v * v}.get(
                op, lambda v: getattr(v, op)())
            return np.frompyfunc(fn, 1, 1)(a)
        fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
              "div": lambda x, y: x / y}.get(op, lambda x, y: getattr(x, op)(y))
        return np.frompyfunc(fn, 2, 1)(a, args[1])
    if op == "neg":
        return -a
    if op == "square":
        return a * a
    if op in UNARY:
        return getattr(a, op)()
    b = args[1]
    return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
            "div": lambda: a / b}.get(op, lambda: getattr(a, op)(b))()


def in_domain(op: str, args: list[np.ndarray]) -> bool:
    """Is the op defined, with a finite derivative, at these (numpy) inputs?"""
    if op in ("log", "sqrt"):
        return bool(np.all(args[0] > 1e-3))
    if op == "div":
        return bool(np.all(np.abs(args[1]) > 1e-3))
    if op == "exp":
        return bool(np.all(args[0] < 20))
    return True


@st.composite
def programs(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    n_inputs = draw(st.integers(1, 3))
    inputs = []
    for _ in range(n_inputs):  # each input broadcasts to `shape`: some dims 1, maybe fewer dims
        keep = draw(st.integers(0, ndim - 1))
        sub = tuple(s if draw(st.booleans()) else 1 for s in shape[keep:])
        inputs.append(draw(hnp.arrays(np.float64, sub, elements=st.floats(-2, 2, width=64))))
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(UNARY + BINARY + REDUCE))
        n_nodes = n_inputs + len(steps)
        arity = 2 if op in BINARY else 1
        args = [draw(st.integers(0, n_nodes - 1)) for _ in range(arity)]
        steps.append((op, args, draw(st.integers(0, 2))))
    weights = draw(st.integers(0, 2**32 - 1))
    return inputs, steps, weights


def run_numpy(inputs, steps):
    """The program on plain arrays, to check domains before any engine runs it."""
    nodes = list(inputs)
    for op, args, const in steps:
        xs = [nodes[i] for i in args]
        assume(in_domain(op, xs))
        with np.errstate(all="ignore"):
            out = np.asarray(apply(op, [torch.from_numpy(np.asarray(x)) for x in xs], const,
                                   "torch").numpy())
        assume(np.all(np.isfinite(out)) and np.all(np.abs(out) < LIMIT))
        nodes.append(out)
    return nodes


def run_engine(engine, inputs, steps, weights):
    """Values and input gradients of loss = sum(w * last) on one engine."""
    if engine == "value":
        leaves = [np.frompyfunc(Value, 1, 1)(x) if x.ndim else np.array(Value(float(x)))
                  for x in inputs]
        leaves = [np.asarray(v, dtype=object) for v in leaves]
    elif engine == "tensor":
        leaves = [Tensor(x.copy(), requires_grad=True) for x in inputs]
    else:
        leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    nodes = list(leaves)
    for op, args, const in steps:
        nodes.append(apply(op, [nodes[i] for i in args], const, engine))
    out = nodes[-1]
    w = np.random.default_rng(weights).uniform(-1, 1, np.shape(out))
    if engine == "value":
        loss = sum((v * float(c) for v, c in zip(out.ravel(), w.ravel())), Value(0.0))
        loss.backward()
        value = np.vectorize(lambda v: v.data, otypes=[float])(out)
        grads = [np.vectorize(lambda v: v.grad, otypes=[float])(leaf) for leaf in leaves]
    elif engine == "tensor":
        (out * Tensor(w)).sum().backward()
        value = out.numpy()
        grads = [np.zeros(x.shape) if t.grad is None else t.grad.numpy() for t, x in
                 zip(leaves, inputs)]
    else:
        (out * torch.from_numpy(w)).sum().backward()
        value = out.detach().numpy()
        grads = [np.zeros(x.shape) if t.grad is None else t.grad.numpy() for t, x in
                 zip(leaves, inputs)]
    return np.asarray(value, dtype=float), grads


def _close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=what)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(programs())
def test_scalar_tensor_and_torch_agree_on_random_graphs(program):
    inputs, steps, weights = program
    run_numpy(inputs, steps)
    results = {e: run_engine(e, inputs, steps, weights) for e in ("value", "tensor", "torch")}
    ref_value, ref_grads = results["torch"]
    for engine in ("value", "tensor"):
        value, grads = results[engine]
        assert value.shape == ref_value.shape, (engine, value.shape, ref_value.shape)
        _close(value, ref_value, f"{engine} forward of {steps}")
        for i, (g, ref) in enumerate(zip(grads, ref_grads)):
            assert g.shape == ref.shape, (engine, i, g.shape, ref.shape)
            _close(g, ref, f"{engine} gradient of input {i} for {steps}")


def test_the_comparison_catches_a_wrong_derivative(monkeypatch):
    """Break the scalar engine's tanh rule (1 - out instead of 1 - out**2): the check fails."""
    import math

    from tinygrad_edu import value as value_module

    inputs, steps = [np.array([0.3, -0.7])], [("tanh", [0], 0), ("mul", [1, 0], 0)]
    ref_value, ref_grads = run_engine("torch", inputs, steps, 1)
    value, grads = run_engine("value", inputs, steps, 1)
    _close(grads[0], ref_grads[0], "the correct rule passes")
    broken = value_module.Op("tanh", math.tanh, (lambda out, a: 1.0 - out,))
    monkeypatch.setattr(value_module, "TANH", broken)
    _, wrong = run_engine("value", inputs, steps, 1)
    with pytest.raises(AssertionError):
        _close(wrong[0], ref_grads[0], "the broken rule")
