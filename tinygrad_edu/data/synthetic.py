"""Small toy data sets made on the spot: no download, a picture in two dimensions.

    X, y = make_moons(100, noise=0.1)      # X: float32 (100, 2), y: int64 in {0, 1}
    y_svm = 2 * y - 1                      # labels -1/+1 for a max-margin (SVM) loss

The signatures follow scikit-learn's (`n_samples`, `noise`, `shuffle`, ...), with `seed` in
place of `random_state`: `seed=None` draws from the library generator, so
`tinygrad_edu.manual_seed(0)` makes every set reproducible; an int gives a set that does not
depend on anything else. Features come back as float32 arrays of shape (n_samples, n_features),
class labels as int64 arrays of shape (n_samples,), regression targets as float32.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from ._rng import resolve_rng

__all__ = [
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "make_blobs",
    "make_regression",
]

Seed = int | np.random.Generator | None


# ---- checks and the finishing step shared by every maker ----------------------------------------


def _count(value, name: str, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _scale(value, name: str, where: str) -> float:
    value = 0.0 if value is None else value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{where}: {name} must be a number >= 0 (or None), got {value!r}")
    return float(value)


def _finish(X, y, rng, noise: float, shuffle: bool, label_dtype=np.int64):
    """Add Gaussian noise of std `noise` to X, shuffle the rows, cast to the public dtypes."""
    X = np.asarray(X, dtype=np.float64)
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    if shuffle:
        order = rng.permutation(len(X))
        X, y = X[order], y[order]
    return X.astype(np.float32), np.asarray(y).astype(label_dtype)


# ---- the sets ----------------------------------------------------------------------------------


def make_moons(
    n_samples: int = 100, *, shuffle: bool = True, noise: float | None = None, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 on top, class 1 below, shifted right.

    Not linearly separable, the classic first test of a small MLP.
    """
    n = _count(n_samples, "n_samples", "make_moons")
    noise = _scale(noise, "noise", "make_moons")
    rng = resolve_rng(seed, "make_moons")
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(X, y, rng, noise, shuffle)


def make_circles(
    n_samples: int = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    factor: float = 0.8,
    seed: Seed = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (class 0) around a circle of radius `factor` (class 1)."""
    n = _count(n_samples, "n_samples", "make_circles")
    noise = _scale(noise, "noise", "make_circles")
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor!r}")
    rng = resolve_rng(seed, "make_circles")
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0.0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(X, y, rng, noise, shuffle)


def make_spirals(
    n_samples: int = 100,
    n_classes: int = 2,
    *,
    turns: float = 1.0,
    shuffle: bool = True,
    noise: float | None = None,
    seed: Seed = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`n_classes` spiral arms around the origin, one per class, each winding `turns` times.

    Arm k starts at the origin and ends on the unit circle at angle 2*pi*k/n_classes; samples
    are split as evenly as possible (the first arms get one more when it does not divide).
    """
    n = _count(n_samples, "n_samples", "make_spirals")
    k = _count(n_classes, "n_classes", "make_spirals")
    noise = _scale(noise, "noise", "make_spirals")
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not turns > 0:
        raise ValueError(f"make_spirals: turns must be a number > 0, got {turns!r}")
    rng = resolve_rng(seed, "make_spirals")
    sizes = [n // k + (1 if c < n % k else 0) for c in range(k)]
    X, y = [], []
    for c, size in enumerate(sizes):
        r = np.linspace(0.0, 1.0, size)  # distance from the origin
        angle = 2 * np.pi * (c / k + turns * r)
        X.append(np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1))
        y.append(np.full(size, c))
    return _finish(np.concatenate(X), np.concatenate(y), rng, noise, shuffle)


def make_xor(
    n_samples: int = 4, *, shuffle: bool = True, noise: float | None = None, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points at the corners of the unit square, labelled x1 XOR x2.

    `make_xor()` is the four-row truth table; more samples repeat the corners in turn
    (so the classes stay balanced) and `noise` blurs each corner into a cloud.
    """
    n = _count(n_samples, "n_samples", "make_xor")
    noise = _scale(noise, "noise", "make_xor")
    rng = resolve_rng(seed, "make_xor")
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    which = np.arange(n) % 4
    X = corners[which]
    y = (X[:, 0] != X[:, 1]).astype(np.int64)
    return _finish(X, y, rng, noise, shuffle)


def make_blobs(
    n_samples: int | Sequence[int] = 100,
    n_features: int = 2,
    *,
    centers: int | np.ndarray | None = None,
    cluster_std: float | Sequence[float] = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    seed: Seed = None,
    return_centers: bool = False,
):
    """Gaussian clouds around `centers`, one class per center.

    `centers` is a count (random centers drawn uniformly in `center_box`; default 3) or an
    array of shape (n_centers, n_features). `n_samples` is a total, split evenly, or one count
    per center. Returns (X, y), or (X, y, centers) with `return_centers=True`.
    """
    where = "make_blobs"
    rng = resolve_rng(seed, where)
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        total = _count(n_samples, "n_samples", where)
        per_center = None
    elif isinstance(n_samples, (Sequence, np.ndarray)) and not isinstance(n_samples, str):
        per_center = [_count(s, "each entry of n_samples", where, 0) for s in n_samples]
        total = sum(per_center)
        if total < 1:
            raise ValueError(f"{where}: n_samples must add up to at least 1, got {n_samples!r}")
        if centers is None:
            centers = len(per_center)
    else:
        raise ValueError(
            f"{where}: n_samples must be an int >= 1 or one count per center, got {n_samples!r}"
        )
    if centers is None:
        centers = 3
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        d = _count(n_features, "n_features", where)
        k = _count(centers, "centers", where)
        low, high = center_box
        center_array = rng.uniform(low, high, size=(k, d))
    else:
        center_array = np.asarray(centers, dtype=np.float64)
        if center_array.ndim != 2 or len(center_array) == 0:
            raise ValueError(
                f"{where}: centers must be an int or an array of shape (n_centers, n_features), "
                f"got shape {center_array.shape}"
            )
        k, d = center_array.shape
    if per_center is None:
        per_center = [total // k + (1 if c < total % k else 0) for c in range(k)]
    elif len(per_center) != k:
        raise ValueError(
            f"{where}: n_samples has {len(per_center)} counts but there are {k} centers"
        )
    stds = np.asarray(cluster_std, dtype=np.float64)
    if stds.ndim == 0:
        stds = np.full(k, float(stds))
    if stds.shape != (k,) or not np.all(stds >= 0):
        raise ValueError(
            f"{where}: cluster_std must be a number >= 0 or one per center ({k}), "
            f"got {cluster_std!r}"
        )
    X = np.concatenate(
        [center_array[c] + stds[c] * rng.standard_normal((per_center[c], d)) for c in range(k)]
    )
    y = np.concatenate([np.full(per_center[c], c) for c in range(k)])
    X, y = _finish(X, y, rng, 0.0, shuffle)
    if return_centers:
        return X, y, center_array.astype(np.float32)
    return X, y


def make_regression(
    n_samples: int = 100,
    n_features: int = 100,
    *,
    n_informative: int = 10,
    n_targets: int = 1,
    bias: float = 0.0,
    noise: float = 0.0,
    shuffle: bool = True,
    coef: bool = False,
    seed: Seed = None,
):
    """A linear target: y = X @ w + bias + noise, with X standard normal.

    Only `n_informative` of the features (chosen at random) have a nonzero weight, drawn from
    U(0, 100). y has shape (n_samples,) for one target, (n_samples, n_targets) for more.
    Returns (X, y), or (X, y, w) with `coef=True` (w: (n_features,) or (n_features, n_targets)).
    """
    where = "make_regression"
    n = _count(n_samples, "n_samples", where)
    d = _count(n_features, "n_features", where)
    informative = _count(n_informative, "n_informative", where, 0)
    targets = _count(n_targets, "n_targets", where)
    noise = _scale(noise, "noise", where)
    rng = resolve_rng(seed, where)
    informative = min(informative, d)
    X = rng.standard_normal((n, d))
    w = np.zeros((d, targets))
    chosen = rng.permutation(d)[:informative]
    w[chosen] = 100.0 * rng.uniform(size=(informative, targets))
    y = X @ w + float(bias)
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=y.shape)
    if shuffle:
        order = rng.permutation(n)
        X, y = X[order], y[order]
    if targets == 1:
        y, w = y[:, 0], w[:, 0]
    X, y = X.astype(np.float32), y.astype(np.float32)
    if coef:
        return X, y, w.astype(np.float32)
    return X, y
