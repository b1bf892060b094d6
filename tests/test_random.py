"""Generator objects: streams of their own, reproducible, taken by generator= everywhere."""

import numpy as np

import tinygrad_edu as tg
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
