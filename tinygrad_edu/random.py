"""One seeded generator behind everything random: init, dropout, shuffling, rand and randn.

    tinygrad_edu.manual_seed(0)   # from here on every run draws the same numbers
    g = tinygrad_edu.Generator().manual_seed(1)
    tinygrad_edu.randn(3, generator=g)         # a stream of its own, as torch.Generator

A `Generator` wraps a numpy Generator; ops that take `generator=` draw from it instead of from
the library's default one (`default_generator`, which `manual_seed` reseeds).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .device import check_device

__all__ = ["manual_seed", "generator", "initial_seed", "seed", "Generator", "default_generator",
           "get_rng_state", "set_rng_state", "uniform_at_least"]


class Generator:
    """A random stream of its own, as torch.Generator: `Generator().manual_seed(0)`."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = check_device(device, "Generator")
        self._seed: int | None = None
        self.rng = np.random.default_rng()

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed`; returns the generator, as torch's."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int | None:
        """The seed last given (None if it was never seeded)."""
        return self._seed

    def get_state(self) -> dict:
        """The stream's state (a dict, unlike torch's byte tensor); give it to set_state."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Reseed the library's generator so that every random draw is reproducible."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Reseed the library's generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int | None:
    """The seed last given to manual_seed (None if it was never called)."""
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def generator(gen: Generator | np.random.Generator | None = None) -> np.random.Generator:
    """The numpy generator to draw from: `gen`'s if given, else the library's default one."""
    if gen is None:
        return default_generator.rng
    if isinstance(gen, Generator):
        return gen.rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator= must be a tinygrad_edu.Generator, got {type(gen).__name__}")


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
