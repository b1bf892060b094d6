"""The main job: train an MLP made of scalar Values on two-moons, as a learner would write it."""

from __future__ import annotations

from . import nn
from .data import make_moons
from .progress import progress
from .random import manual_seed
from .value import Value

__all__ = ["run_demo", "svm_loss"]


def svm_loss(model: nn.Module, X, y) -> tuple[Value, float]:
    """Max-margin loss over the batch plus a little L2, and the accuracy; y holds -1 or +1."""
    scores = [model([Value(float(a)), Value(float(b))]) for a, b in X]
    margins = [(1 - yi * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(margins) * (1.0 / len(margins))
    l2 = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = sum((s.data > 0) == (yi > 0) for yi, s in zip(y, scores)) / len(y)
    return data_loss + l2, accuracy


def run_demo(steps: int = 100, seed: int = 0) -> float:
    """Train MLP(2, [16, 16, 1]) with SGD on 100 two-moons points; returns the final accuracy."""
    manual_seed(seed)
    X, labels = make_moons(100, noise=0.1)
    y = [1.0 if c == 1 else -1.0 for c in labels]
    model = nn.MLP(2, [16, 16, 1])
    print(f"Training {model.__class__.__name__}(2, [16, 16, 1]) of scalar Values "
          f"({len(model.parameters())} parameters) on 100 two-moons points.")
    bar = progress(range(steps), desc="demo", every=10)
    accuracy = 0.0
    for k in bar:
        loss, accuracy = svm_loss(model, X, y)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / steps  # decays from 1.0 to 0.1
        for p in model.parameters():
            p.data -= lr * p.grad
        bar.set_postfix(loss=f"{loss.data:.4f}", accuracy=f"{accuracy:.0%}")
    _, accuracy = svm_loss(model, X, y)
    print(f"Final training accuracy: {accuracy:.0%}")
    return accuracy
