"""Scalar neural nets made of `Value`s, micrograd style: small enough to read every node.

    model = MLP(2, [16, 16, 1])          # 2 inputs, two hidden layers of 16 (ReLU), 1 output
    score = model([0.5, -1.0])           # a Value
    score.backward()                     # every weight's .grad is now filled in

A `Neuron` computes nonlin(w . x + b); a `Layer` is `nout` neurons that see the same inputs; an
`MLP` chains layers, with a linear last layer (its outputs are scores, not activations).
Weights start uniform in [-1, 1] and biases at 0, drawn from the library's generator, so
`tinygrad_edu.manual_seed(0)` makes a model reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..random import generator
from ..value import Value
from .module import Module

__all__ = ["Neuron", "Layer", "MLP"]

Nonlin = bool | str | Callable[[Value], Value] | None

_NONLINS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "gelu": Value.gelu,
    "leaky_relu": Value.leaky_relu,
    "softplus": Value.softplus,
}


def _resolve(nonlin: Nonlin) -> tuple[str, Callable[[Value], Value] | None]:
    """(name, function) for a nonlinearity given as True (relu), False/None/'linear', a name,
    or any function of a Value."""
    if nonlin is True:
        return "relu", Value.relu
    if nonlin is False or nonlin is None or nonlin == "linear":
        return "linear", None
    if isinstance(nonlin, str):
        if nonlin not in _NONLINS:
            raise ValueError(f"Neuron: unknown nonlin {nonlin!r}; use one of "
                             f"{sorted(_NONLINS)}, 'linear', or a function of a Value")
        return nonlin, _NONLINS[nonlin]
    if callable(nonlin):
        return getattr(nonlin, "__name__", "custom"), nonlin
    raise TypeError(f"Neuron: nonlin must be a bool, a name or a function, got {nonlin!r}")


def _check_size(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return n


class Neuron(Module):
    """One unit: `nonlin(w . x + b)` with `nin` weights `w` and a bias `b`, all Values."""

    def __init__(self, nin: int, nonlin: Nonlin = True) -> None:
        super().__init__()
        _check_size(nin, "Neuron: nin")
        self.w = [Value(float(x)) for x in generator().uniform(-1.0, 1.0, nin)]
        self.b = Value(0.0)
        self.nonlin_name, self._act = _resolve(nonlin)

    def forward(self, x: Sequence[Any]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act if self._act is None else self._act(act)

    def extra_repr(self) -> str:
        return f"nin={len(self.w)}, nonlin={self.nonlin_name}"


class Layer(Module):
    """`nout` neurons on the same `nin` inputs; returns a list of `nout` Values."""

    def __init__(self, nin: int, nout: int, nonlin: Nonlin = True) -> None:
        super().__init__()
        _check_size(nout, "Layer: nout")
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def forward(self, x: Sequence[Any]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def extra_repr(self) -> str:
        n = self.neurons[0]
        return f"nin={len(n.w)}, nout={len(self.neurons)}, nonlin={n.nonlin_name}"

    def __repr__(self) -> str:  # 16 identical neurons say less than one line
        return f"Layer({self.extra_repr()})"


class MLP(Module):
    """Layers of sizes `nouts` on `nin` inputs: hidden layers use `nonlin` (ReLU), the last is
    linear. Returns a Value if the last layer has one output, else a list of Values."""

    def __init__(self, nin: int, nouts: Sequence[int], nonlin: Nonlin = True) -> None:
        super().__init__()
        if isinstance(nouts, int) or len(nouts) == 0:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}")
        sizes = [_check_size(nin, "MLP: nin"), *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin if i < last else False)
                       for i in range(len(nouts))]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x
