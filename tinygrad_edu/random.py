"""One seeded generator behind everything random: init, dropout, shuffling, rand and randn.

    tinygrad_edu.manual_seed(0)   # from here on every run draws the same numbers
"""

from __future__ import annotations

import numpy as np

__all__ = ["manual_seed", "generator", "initial_seed"]

_state = {"seed": None, "rng": np.random.default_rng()}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library's generator so that every random draw is reproducible."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _state["seed"] = int(seed)
    _state["rng"] = np.random.default_rng(int(seed))
    return _state["rng"]


def initial_seed() -> int | None:
    """The seed last given to manual_seed (None if it was never called)."""
    return _state["seed"]


def generator() -> np.random.Generator:
    """The generator every random op of the library draws from."""
    return _state["rng"]
