"""Where the data module gets its random numbers: a seed of its own, or the library's generator."""

from __future__ import annotations

import numbers

import numpy as np

from .. import random as _random

__all__ = ["resolve_rng"]


def resolve_rng(seed: int | np.random.Generator | None, where: str) -> np.random.Generator:
    """`None` -> the library generator (so `manual_seed` governs it); an int -> a fresh one;
    a `tinygrad_edu.Generator` -> its stream.

    A `numpy.random.Generator` is used as it is, so callers can share one stream.
    """
    if seed is None:
        return _random.generator()
    if isinstance(seed, (np.random.Generator, _random.Generator)):
        return _random.generator(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            f"{where}: seed must be None, a non-negative int or a numpy Generator, got {seed!r}"
        )
    return np.random.default_rng(int(seed))
