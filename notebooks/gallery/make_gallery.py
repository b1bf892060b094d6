"""Make the README's gallery images: a drawn graph, a step of the player, a training curve.

    .venv/bin/python notebooks/gallery/make_gallery.py

Writes graph.png, step_through.png and training.png next to this file. The player screenshot
needs headless Chromium (`/usr/bin/chromium`, or set CHROMIUM=/path/to/chrome); without it
that one image is skipped with a message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
from tinygrad_edu import Value, nn, optim
from tinygrad_edu.data import make_moons
from tinygrad_edu.viz import draw_graph, step_through

HERE = Path(__file__).resolve().parent
BACKWARD_STEP = 4  # which backward frame of the player to show


def neuron() -> Value:
    """out = tanh(x1*w1 + x2*w2 + b): one neuron, every Value labelled."""
    x1, x2 = Value(1.5, label="x1"), Value(-0.5, label="x2")
    w1, w2 = Value(0.8, label="w1"), Value(-1.2, label="w2")
    b = Value(-1.0, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    out = n.tanh()
    out.label = "out"
    return out


def graph_png(path: Path) -> None:
    out = neuron()
    out.backward()
    draw_graph(out).save_png(path)


def chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "chromium",
                      "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def step_png(path: Path) -> bool:
    browser = chromium()
    if browser is None:
        print("step_through.png skipped: no headless Chromium found (set CHROMIUM=...)")
        return False
    stepper = step_through(neuron())
    forward_frames = sum(1 for f in stepper.frames if f.title.startswith(("the inputs", "forw")))
    clicks = forward_frames + BACKWARD_STEP - 1
    page = stepper.to_html().replace(  # open the player at a backward step, for the picture
        "</body>",
        "<script>window.addEventListener('load', () => { for (let i = 0; i < "
        f"{clicks}; i++) document.querySelector('.tge-next').click(); }});</script></body>",
    )
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "steps.html"
        html.write_text(page, encoding="utf-8")
        profile = Path(tmp) / "profile"
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-quic", "--hide-scrollbars", f"--user-data-dir={profile}",
             "--virtual-time-budget=3000", f"--screenshot={path}", "--window-size=1100,440",
             html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    return True


def training_png(path: Path) -> None:
    """A small Tensor MLP on two moons: its decision regions and its training loss."""
    tge.manual_seed(0)
    X, y = make_moons(200, noise=0.15, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    opt = optim.Adam(model.parameters(), lr=0.02)
    Xt, yt = tge.tensor(X.astype(np.float32)), tge.tensor(y.astype(np.float32).reshape(-1, 1))
    losses, accs = [], []
    for _ in range(300):
        opt.zero_grad()
        logits = model(Xt)
        loss = loss_fn(logits, yt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        accs.append(float(((logits.detach().numpy() > 0) == (y.reshape(-1, 1) == 1)).mean()))

    xs, ys = np.linspace(-1.6, 2.6, 200), np.linspace(-1.1, 1.6, 150)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2).astype(np.float32)
    with tge.no_grad():
        Z = model(tge.tensor(grid)).numpy().reshape(len(ys), len(xs))

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.contourf(xs, ys, Z > 0, levels=1, cmap="coolwarm", alpha=0.35)
    ax1.contour(xs, ys, Z, levels=[0.0], colors="k", linewidths=1)
    ax1.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=14, edgecolors="k", linewidths=0.4)
    ax1.set_title("two moons: what a 2-16-16-1 MLP learned")
    ax2.plot(losses, label="loss (binary cross-entropy)")
    ax2.plot(accs, label="training accuracy")
    ax2.set(xlabel="step (Adam, full batch)", title="training")
    ax2.grid(alpha=0.3)
    ax2.legend()
    fig.savefig(path, dpi=90)


def main() -> int:
    graph_png(HERE / "graph.png")
    training_png(HERE / "training.png")
    step_png(HERE / "step_through.png")
    for name in ("graph.png", "step_through.png", "training.png"):
        if (HERE / name).exists():
            print(HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
