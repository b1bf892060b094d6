"""The library's random numbers: Generator objects (streams of their own, reproducible, taken
by generator= everywhere), and dropout's fast keep mask (`uniform_at_least`), which draws exactly
what `generator().random(shape, float32) >= p` would and leaves the generator where it would."""

import numpy as np
import pytest

import tinygrad_edu
import tinygrad_edu as tg
from tinygrad_edu.random import generator, uniform_at_least
from tinygrad_edu.utils.data import DataLoader, RandomSampler, TensorDataset, random_split


def test_a_seeded_generator_repeats_and_is_independent_of_the_global_one():
    a = tg.randn(4, generator=tg.Generator().manual_seed(3)).tolist()
    tg.manual_seed(0)
    tg.randn(10)  # the default stream moves; a seeded generator does not care
    b = tg.randn(4, generator=tg.Generator().manual_seed(3)).tolist()
    assert a == b
    assert a != tg.randn(4, generator=tg.Generator().manual_seed(4)).tolist()


def test_generator_state_round_trips():
    g = tg.Generator().manual_seed(1)
    state = g.get_state()
    first = tg.rand(3, generator=g).tolist()
    g.set_state(state)
    assert tg.rand(3, generator=g).tolist() == first
    assert g.initial_seed() == 1


def test_generator_is_taken_by_data_and_inplace_fills():
    ds = TensorDataset(np.arange(10))
    orders = [[int(x) for (b,) in DataLoader(ds, batch_size=10, shuffle=True,
                                             generator=tg.Generator().manual_seed(5)) for x in b]
              for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(10))
    parts = [random_split(ds, [3, 7], generator=tg.Generator().manual_seed(2))[0].indices
             for _ in range(2)]
    assert parts[0].tolist() == parts[1].tolist()
    s = list(RandomSampler(ds, generator=tg.Generator().manual_seed(1)))
    assert s == list(RandomSampler(ds, generator=tg.Generator().manual_seed(1)))
    x = tg.zeros(3).normal_(generator=tg.Generator().manual_seed(0))
    y = tg.zeros(3).normal_(generator=tg.Generator().manual_seed(0))
    assert x.tolist() == y.tolist() and x.abs().sum().item() > 0


def test_manual_seed_returns_the_default_generator():
    assert tg.manual_seed(7) is tg.default_generator and tg.initial_seed() == 7


def plain(shape, p):
    return generator().random(shape, dtype=np.float32) >= p


@pytest.mark.parametrize("shape", [(64, 256), (512, 128), (3, 5), (1025,), (2048,)])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1 / 3, 0.9, np.nextafter(1.0, 0)])
@pytest.mark.parametrize("spare", [False, True])  # a half word left over from an odd draw
def test_the_same_mask_and_the_same_generator_state_as_the_plain_draw(shape, p, spare):
    results = []
    for draw in (uniform_at_least, plain):
        tinygrad_edu.manual_seed(7)
        generator().random(3 if spare else 2, dtype=np.float32)
        mask = draw(shape, p)
        results.append((mask, generator().random(5)))
    (fast, after_fast), (slow, after_slow) = results
    assert fast.dtype == np.bool_ and fast.shape == shape
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(after_fast, after_slow)


def test_the_mask_keeps_each_element_with_probability_one_minus_p():
    tinygrad_edu.manual_seed(0)
    kept = uniform_at_least((1000, 1000), 0.2).mean()
    assert abs(kept - 0.8) < 0.002  # 5 standard deviations of a million draws
