"""One seeded generator behind everything random: init, dropout, shuffling, rand and randn.

    tinygrad_edu.manual_seed(0)   # from here on every run draws the same numbers
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["manual_seed", "generator", "initial_seed", "uniform_at_least"]

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


_FAST_MIN = 1024  # below this many draws the plain call is as fast


def uniform_at_least(shape: tuple[int, ...], p: float) -> np.ndarray:
    """`generator().random(shape, dtype=float32) >= p`: the same draws and the same result
    (dropout's keep mask), computed without making the floats.

    numpy makes a float32 uniform as (32 random bits >> 8) * 2**-24, one bit-generator call
    per number; PCG64 gives its 64-bit words in bulk (`random_raw`), each word two such 32-bit
    draws, low half first. Comparing the bits with the threshold directly skips the per-number
    calls (several times faster on a (512, 256) mask here). Other generators, odd sizes and
    a generator holding a spare half word take the plain path (tests/test_random.py checks
    that both agree).
    """
    gen = generator()
    bits = gen.bit_generator
    n = math.prod(shape)
    # k * 2**-24 >= float32(p)  <=>  k >= ceil(float32(p) * 2**24), with k = word >> 8
    threshold = math.ceil(float(np.float32(p)) * 2**24) << 8
    if type(bits) is not np.random.PCG64 or n % 2 or n < _FAST_MIN or \
            not 0 <= threshold < 2**32 or bits.state["has_uint32"]:
        return gen.random(shape, dtype=np.float32) >= p
    words = bits.random_raw(n // 2).view(np.uint32).reshape(shape)
    return words >= np.uint32(threshold)
