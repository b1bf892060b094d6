"""The main job, `tinygrad-edu demo`: the library's tour in under a minute.

1. One neuron, built from Values, drawn as a graph and stepped through, forward and backward.
2. An MLP made of scalar Values learns two-moons with SGD (micrograd's classic demo).
3. A Tensor MLP (nn.Sequential, Adam) learns two spirals.
4. Plots: both decision boundaries and both loss curves.
Everything goes to one output folder; the last lines say what to open.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import nn, optim
from .autograd import no_grad
from .data import make_moons, make_spirals
from .progress import progress
from .random import manual_seed
from .tensor import Tensor
from .value import Value

__all__ = ["DemoResult", "run_demo", "svm_loss"]


@dataclass
class DemoResult:
    """What the demo trained and wrote: accuracies, loss curves, and the files by name."""

    scalar_accuracy: float = 0.0
    tensor_accuracy: float = 0.0
    scalar_losses: list[float] = field(default_factory=list)
    tensor_losses: list[float] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def svm_loss(model: nn.Module, X, y) -> tuple[Value, float]:
    """The SVM (max-margin, hinge) loss and the accuracy; y holds -1 or +1.

    Each point costs relu(1 - y * score): nothing once it is on the right side by a margin of
    1, more the further it is on the wrong side; plus a little L2 on the weights.
    """
    scores = [model([Value(float(a)), Value(float(b))]) for a, b in X]
    margins = [(1 - yi * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(margins) * (1.0 / len(margins))
    l2 = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = sum((s.data > 0) == (yi > 0) for yi, s in zip(y, scores)) / len(y)
    return data_loss + l2, accuracy


def one_neuron(out: Path, files: dict[str, Path]) -> None:
    """sigmoid(x1*w1 + x2*w2 + b) for x = (2, 3), w = (0.5, -0.3), b = 0.1: drawn and stepped."""
    from .viz import draw_graph, step_through

    x1, x2 = Value(2.0, label="x1"), Value(3.0, label="x2")
    w1, w2, b = Value(0.5, label="w1"), Value(-0.3, label="w2"), Value(0.1, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.sigmoid()
    o.label = "o"
    files["neuron player"] = step_through(o).save_html(out / "neuron_steps.html")  # runs backward
    files["neuron graph"] = draw_graph(o).save_svg(out / "neuron.svg")
    print(f"One neuron: o = sigmoid(2*0.5 + 3*(-0.3) + 0.1) = {o.data:.4f}; "
          f"do/dw1 = {w1.grad:.4f}, do/dw2 = {w2.grad:.4f}, do/db = {b.grad:.4f}")


def train_scalar_mlp(steps: int, result: DemoResult,
                     quiet: bool = False) -> tuple[nn.Module, np.ndarray, np.ndarray]:
    """MLP(2, [16, 16, 1]) of Values on 100 two-moons points, SGD with a decaying rate."""
    X, labels = make_moons(100, noise=0.1)
    y = [1.0 if c == 1 else -1.0 for c in labels]
    model = nn.MLP(2, [16, 16, 1])
    print(f"Scalar engine: MLP(2, [16, 16, 1]) of Values ({len(model.parameters())} parameters) "
          f"on 100 two-moons points, SGD on the SVM (max-margin) loss: mean relu(1 - y * score)")
    bar = progress(range(steps), desc="scalar MLP", every=10, quiet=quiet)
    for k in bar:
        loss, accuracy = svm_loss(model, X, y)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / steps  # decays from 1.0 to 0.1
        for p in model.parameters():
            p.data -= lr * p.grad
        result.scalar_losses.append(loss.data)
        bar.set_postfix(loss=f"{loss.data:.4f}", accuracy=f"{accuracy:.0%}")
    with no_grad():
        _, result.scalar_accuracy = svm_loss(model, X, y)
    return model, X, labels


def train_tensor_mlp(steps: int, result: DemoResult,
                     quiet: bool = False) -> tuple[nn.Module, np.ndarray, np.ndarray]:
    """A 2-64-64-2 Tensor MLP on 600 points of two spirals: cross-entropy, Adam, full batch."""
    X, labels = make_spirals(600, noise=0.05)  # 0.1 blurs the arms into each other near 0
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    inputs, targets = Tensor(X), Tensor(labels)
    print("Tensor engine: Sequential(Linear(2, 64), ReLU, Linear(64, 64), ReLU, Linear(64, 2)) "
          "on 600 points of two spirals, Adam")
    bar = progress(range(steps), desc="tensor MLP", every=50, quiet=quiet)
    for _ in bar:
        logits = model(inputs)
        loss = loss_fn(logits, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        result.tensor_losses.append(loss.item())
        accuracy = (logits.argmax(dim=1) == targets).float().mean().item()
        bar.set_postfix(loss=f"{loss.item():.4f}", accuracy=f"{accuracy:.0%}")
    model.eval()
    with no_grad():
        result.tensor_accuracy = (model(inputs).argmax(dim=1) == targets).float().mean().item()
    return model, X, labels


def _grid(X: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (x0, y0), (x1, y1) = X.min(0) - 0.5, X.max(0) + 0.5
    xx, yy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return xx, yy, np.stack([xx.ravel(), yy.ravel()], 1)


def plot(result: DemoResult, scalar: tuple, tensor_run: tuple, out: Path) -> None:
    """Both decision boundaries and both loss curves, if matplotlib is installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("(plots skipped: matplotlib is not installed; pip install 'tinygrad-edu[extras]')")
        return
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    axes = fig.subplots(1, 2)
    with no_grad():
        panels = [(axes[0], scalar, "scalar MLP on two moons", 40, result.scalar_accuracy),
                  (axes[1], tensor_run, "Tensor MLP on two spirals", 200,
                   result.tensor_accuracy)]
        for ax, (model, X, labels), name, n, accuracy in panels:
            xx, yy, points = _grid(X, n)
            if isinstance(model, nn.MLP):
                scores = np.array([model([Value(a), Value(b)]).data for a, b in points])
            else:
                scores = model(Tensor(points.astype(np.float32))).numpy()
                scores = scores[:, 1] - scores[:, 0]
            ax.contourf(xx, yy, (scores > 0).reshape(xx.shape), levels=1, alpha=0.25,
                        cmap="coolwarm")
            for c, colour in ((0, "#3b4cc0"), (1, "#b40426")):
                pick = labels == c
                ax.scatter(X[pick, 0], X[pick, 1], s=12, color=colour, edgecolors="k",
                           linewidths=0.3, label=f"class {c}")
            ax.set_xlabel("$x_1$")
            ax.set_ylabel("$x_2$")
            ax.legend(loc="upper right", fontsize=8, title="shaded: predicted class",
                      title_fontsize=8)
            ax.set_title(f"{name}\n{accuracy:.0%} of the training points classified right")
    fig.savefig(out / "decision_boundaries.png", dpi=110)
    result.files["decision boundaries"] = out / "decision_boundaries.png"

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    axes = fig.subplots(1, 2)
    curves = [(axes[0], result.scalar_losses, "scalar MLP: SVM (max-margin) loss",
               "mean of relu(1 - y * score) + L2;\n0 once every point is right by a margin"),
              (axes[1], result.tensor_losses, "Tensor MLP: cross-entropy loss",
               "mean of -log(softmax probability of the true class)")]
    for ax, losses, name, what in curves:
        ax.plot(losses, label=what)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=8))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.2, not 2x10^-1
        ax.yaxis.set_minor_formatter(NullFormatter())  # no label on every minor tick
        ax.set_xlabel("training step")
        ax.set_ylabel("loss (log scale)")
        ax.legend(loc="upper right", fontsize=8)
        ax.set_title(name)
    fig.savefig(out / "loss_curves.png", dpi=110)
    result.files["loss curves"] = out / "loss_curves.png"


def run_demo(steps: int = 50, seed: int = 0, out: str | Path = "demo-output",
             tensor_steps: int = 300, quiet: bool = False) -> DemoResult:
    """Run the tour; returns the accuracies and the files written to `out`.

    `quiet` drops the progress bars (the summary lines stay).
    """
    start = time.perf_counter()
    manual_seed(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult()
    one_neuron(out, result.files)
    scalar = train_scalar_mlp(steps, result, quiet)
    print(f"Scalar MLP training accuracy: {result.scalar_accuracy:.0%}")
    tensor_run = train_tensor_mlp(tensor_steps, result, quiet)
    print(f"Tensor MLP training accuracy: {result.tensor_accuracy:.0%}")
    plot(result, scalar, tensor_run, out)
    print(f"\nDone in {time.perf_counter() - start:.0f} s. Wrote to {out.resolve()}:")
    for what, path in result.files.items():
        print(f"  {what:20s} {path}")
    print(f"Open next: {out / 'neuron_steps.html'} in a browser, and press the right arrow "
          "to watch the gradient flow back through the neuron, one chain-rule step at a time.")
    return result
