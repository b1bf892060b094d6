"""Character-level language models of names: an MLP over a context window, a tiny transformer.

    tinygrad-edu train --model charlm --arch transformer --steps 3000
    tinygrad-edu sample runs/charlm-transformer -n 10

The model code takes the library as an argument (`lib` is `tinygrad_edu` or `torch`), so the
very same lines build, train and evaluate the PyTorch twin (benchmarks/charlm_reference.py):
the APIs match, and so should the validation losses. The data are `tinygrad_edu.data`'s
(context, next character) examples; the loss is the cross-entropy of the next character.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ARCHS", "DEFAULTS", "build_model", "evaluate", "train_model", "sample",
           "add_arguments", "run", "add_sample_parser", "run_sample"]

ARCHS = ("mlp", "transformer")
# each architecture's sizes (and the context it reads), also the CLI's defaults
DEFAULTS: dict[str, dict[str, int]] = {
    "mlp": {"context": 3, "embed": 16, "hidden": 256},
    "transformer": {"context": 16, "d_model": 64, "heads": 4, "layers": 4, "ff": 256},
}


def build_model(lib: Any, arch: str, vocab_size: int, **sizes: int) -> Any:
    """The model `arch` for `vocab_size` characters, built with `lib.nn` (ours or torch's).

    mlp: embed each of the `context` characters, concatenate, one tanh hidden layer, logits.
    transformer: token + position embeddings, `layers` pre-norm encoder layers (GELU, tanh
    form, as GPT-2) with a causal mask, a final LayerNorm, and the logits at the last position.
    """
    if arch not in ARCHS:
        raise ValueError(f"charlm: arch must be one of {ARCHS}, got {arch!r}")
    s = {**DEFAULTS[arch], **sizes}
    nn = lib.nn
    if arch == "mlp":
        return nn.Sequential(
            nn.Embedding(vocab_size, s["embed"]), nn.Flatten(),
            nn.Linear(s["context"] * s["embed"], s["hidden"]), nn.Tanh(),
            nn.Linear(s["hidden"], vocab_size))
    return _transformer(lib, vocab_size, s["context"], s["d_model"], s["heads"], s["layers"],
                        s["ff"])


def _transformer(lib: Any, vocab: int, context: int, d_model: int, heads: int, layers: int,
                 ff: int) -> Any:
    nn = lib.nn
    # a plain callable, not nn.GELU: PyTorch's inference fast path would run its exact GELU
    tanh_gelu = functools.partial(nn.functional.gelu, approximate="tanh")

    class TinyTransformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.token = nn.Embedding(vocab, d_model)
            self.position = nn.Embedding(context, d_model)
            layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0.0,
                                               activation=tanh_gelu,
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model),
                                                 enable_nested_tensor=False)
            self.head = nn.Linear(d_model, vocab)
            self._causal = np.triu(np.ones((context, context), dtype=bool), 1)  # True: hidden
            self._positions = np.arange(context)

        def forward(self, idx: Any) -> Any:
            x = self.token(idx) + self.position(lib.from_numpy(self._positions))
            h = self.encoder(x, mask=lib.from_numpy(self._causal), is_causal=True)
            return self.head(h[:, -1])

    return TinyTransformer()


def evaluate(lib: Any, model: Any, X: np.ndarray, y: np.ndarray, batch_size: int = 2048) -> float:
    """Mean cross-entropy (nats) of the next character over (X, y), in eval mode."""
    was = model.training
    model.eval()
    total = 0.0
    with lib.no_grad():
        for i in range(0, len(y), batch_size):
            logits = model(lib.from_numpy(X[i:i + batch_size]))
            total += float(lib.nn.functional.cross_entropy(
                logits, lib.from_numpy(y[i:i + batch_size]), reduction="sum").item())
    model.train(was)
    return total / len(y)


def train_model(lib: Any, model: Any, train: tuple[np.ndarray, np.ndarray],
                val: tuple[np.ndarray, np.ndarray], steps: int = 3000, batch_size: int = 64,
                lr: float = 3e-3, seed: int = 0, eval_every: int = 0,
                on_eval: Any = None, show_progress: bool = False) -> dict[str, list[float]]:
    """AdamW on random minibatches (drawn with `seed`), the learning rate decaying along a
    cosine to lr/10. Every `eval_every` steps and at the end: the validation loss, then
    `on_eval(step, val_loss)`. Returns the history (step, train_loss, val_loss, seconds)."""
    X, y = train
    rng = np.random.default_rng(seed)
    opt = lib.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    history: dict[str, list[float]] = {"step": [], "train_loss": [], "val_loss": [],
                                       "seconds": []}
    model.train()
    steps_iter: Any = range(1, steps + 1)
    if show_progress:
        from .progress import progress

        steps_iter = progress(steps_iter, desc="training", total=steps, every=max(1, steps // 20))
    start, running = time.perf_counter(), None
    for step in steps_iter:
        for group in opt.param_groups:
            group["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - 1) / steps)))
        idx = rng.integers(0, len(y), batch_size)
        loss = lib.nn.functional.cross_entropy(model(lib.from_numpy(X[idx])),
                                               lib.from_numpy(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = float(loss.item())
        running = value if running is None else 0.98 * running + 0.02 * value
        if show_progress and step % 20 == 0:
            steps_iter.set_postfix(loss=f"{running:.4f}")
        if step == steps or (eval_every and step % eval_every == 0):
            val_loss = evaluate(lib, model, *val)
            for key, v in (("step", step), ("train_loss", running), ("val_loss", val_loss),
                           ("seconds", time.perf_counter() - start)):
                history[key].append(v)
            if on_eval is not None:
                on_eval(step, val_loss)
    if show_progress and hasattr(steps_iter, "close"):
        steps_iter.close()
    return history


def sample(model: Any, vocab: Any, context: int, n: int = 10, generator: Any = 0,
           temperature: float = 1.0, max_length: int = 30) -> list[str]:
    """`n` words drawn one character at a time from our `model` (multinomial over softmax of
    logits / temperature), each ended by the end mark '.' or after `max_length` characters."""
    from . import no_grad
    from .data._rng import resolve_rng
    from .tensor import from_numpy

    if not temperature > 0:
        raise ValueError(f"sample: temperature must be positive, got {temperature}")
    rng = resolve_rng(generator, "sample")
    ctx = np.zeros((n, context), dtype=np.int64)
    out: list[list[int]] = [[] for _ in range(n)]
    done = np.zeros(n, dtype=bool)
    was = model.training
    model.eval()
    with no_grad():
        for _ in range(max_length):
            probs = (model(from_numpy(ctx)) / temperature).softmax(-1)
            nxt = probs.to("float64").multinomial(1, generator=rng).numpy()[:, 0]
            for i in np.flatnonzero(~done):
                if nxt[i] == 0:
                    done[i] = True
                else:
                    out[i].append(int(nxt[i]))
            if done.all():
                break
            ctx = np.concatenate([ctx[:, 1:], nxt[:, None]], axis=1)
    model.train(was)
    return [vocab.decode(w) for w in out]


# ---- the commands: `train --model charlm` and `sample` ------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `train` options that only `--model charlm` reads."""
    group = parser.add_argument_group("--model charlm")
    group.add_argument("--arch", choices=ARCHS, default="mlp",
                       help="charlm: an MLP over a context window or a tiny causal transformer")
    group.add_argument("--corpus", choices=("names", "words"), default="names",
                       help="charlm: US-census names (pip install names) or the English word "
                            "list (apt-get install wamerican)")
    group.add_argument("--steps", type=int, default=3000, metavar="N",
                       help="charlm: training steps (default 3000)")
    group.add_argument("--context", type=int, default=None, metavar="N",
                       help="charlm: characters of context (default 3 mlp, 16 transformer)")


def _config(args: argparse.Namespace) -> dict[str, Any]:
    sizes = dict(DEFAULTS[args.arch])
    if args.context is not None:
        sizes["context"] = args.context
    return {"arch": args.arch, "corpus": args.corpus, "sizes": sizes}


def run(args: argparse.Namespace) -> int:
    """`tinygrad-edu train --model charlm`: train, print samples as it learns, save the model."""
    import tinygrad_edu as lib

    from .data.names import CharDataset, Vocabulary, load_words, split_words
    from .serialization import save

    def error(message: str) -> int:
        print(f"tinygrad-edu train: error: {message}", file=sys.stderr)
        return 2

    if args.steps < 1 or (args.context is not None and args.context < 1):
        return error("--steps and --context must be positive")
    try:
        words = load_words(args.corpus, args.root)
    except (OSError, ValueError) as err:
        return error(str(err))
    config = _config(args)
    context = config["sizes"]["context"]
    vocab = Vocabulary.from_words(words)
    train_w, val_w, test_w = split_words(words, seed=args.seed)
    train, val = (CharDataset(w, vocab, context).arrays() for w in (train_w, val_w))
    out = Path(args.out if args.out is not None else Path("runs") / f"charlm-{args.arch}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return error(f"cannot create the output folder {out}: {err}")
    lib.manual_seed(args.seed)
    model = build_model(lib, args.arch, len(vocab), **config["sizes"])
    n_params = sum(p.numel() for p in model.parameters())
    print(f"Training a {n_params:,}-parameter {args.arch} on {len(train_w):,} {args.corpus} "
          f"({len(train[1]):,} examples, context {context}, vocabulary {len(vocab)}), "
          f"{args.steps} steps of {args.batch_size}, AdamW lr={args.lr:g}, seed {args.seed}.",
          flush=True)
    quiet = args.no_progress

    def report(step: int, val_loss: float) -> None:
        if quiet:
            return
        names = sample(model, vocab, context, n=5, generator=step)
        print(f"step {step}: val loss {val_loss:.4f} | samples: {', '.join(names)}", flush=True)

    history = train_model(lib, model, train, val, steps=args.steps, batch_size=args.batch_size,
                          lr=args.lr, seed=args.seed, eval_every=max(1, args.steps // 5),
                          on_eval=report, show_progress=not quiet)
    save(model.state_dict(), out / "model.npz")
    config.update(vocab="".join(vocab.itos), seed=args.seed, steps=args.steps,
                  batch_size=args.batch_size, lr=args.lr)
    (out / "charlm.json").write_text(json.dumps({"config": config, "history": history},
                                                indent=1))
    print(f"Validation loss after {args.steps} steps: {history['val_loss'][-1]:.4f} nats "
          f"({history['seconds'][-1]:.1f} s)")
    print(f"Model: {out / 'model.npz'} and {out / 'charlm.json'}; "
          f"generate names with: tinygrad-edu sample {out}")
    return 0


def add_sample_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "sample", help="generate names from a model saved by `train --model charlm`",
        description="Generate words, one character at a time, from a character-level model "
                    "saved by `tinygrad-edu train --model charlm`.")
    parser.add_argument("folder", help="the folder with model.npz and charlm.json")
    parser.add_argument("-n", "--num", type=int, default=10, help="how many (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="below 1: likelier names; above 1: wilder ones (default 1)")
    parser.set_defaults(run=run_sample)
    return parser


def run_sample(args: argparse.Namespace) -> int:
    """`tinygrad-edu sample FOLDER`: load the model and print `-n` generated words."""
    import tinygrad_edu as lib

    from .data.names import Vocabulary
    from .serialization import load

    folder = Path(args.folder)
    try:
        saved = json.loads((folder / "charlm.json").read_text())["config"]
        state = load(folder / "model.npz")
    except (OSError, ValueError, KeyError) as err:
        print(f"tinygrad-edu sample: error: no model saved by `train --model charlm` in "
              f"{folder} ({err})", file=sys.stderr)
        return 2
    if args.num < 1 or not args.temperature > 0:
        print("tinygrad-edu sample: error: -n and --temperature must be positive",
              file=sys.stderr)
        return 2
    vocab = Vocabulary(list(saved["vocab"]))
    model = build_model(lib, saved["arch"], len(vocab), **saved["sizes"])
    model.load_state_dict(state)
    for word in sample(model, vocab, saved["sizes"]["context"], n=args.num,
                       generator=args.seed, temperature=args.temperature):
        print(word)
    return 0
