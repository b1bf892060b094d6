"""Samplers, IterableDataset, ConcatDataset and the torch.utils.data path."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.utils import data as D


def test_utils_data_is_the_data_modules_classes():
    import tinygrad_edu.data as data

    assert D.DataLoader is data.DataLoader and D.Subset is data.Subset
    assert tg.utils.data.TensorDataset is data.TensorDataset


def test_sequential_and_subset_random_samplers_feed_the_loader():
    ds = D.TensorDataset(np.arange(10))
    got = [b[0].tolist() for b in D.DataLoader(ds, batch_size=4, sampler=D.SequentialSampler(ds))]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    picks = [int(x) for (b,) in D.DataLoader(ds, batch_size=3,
                                            sampler=D.SubsetRandomSampler([1, 3, 5, 7]))
             for x in b]
    assert sorted(picks) == [1, 3, 5, 7]


def test_batch_sampler_and_weighted_sampler():
    ds = D.TensorDataset(np.arange(7))
    bs = D.BatchSampler(D.SequentialSampler(ds), 3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5]] and len(bs) == 2
    loader = D.DataLoader(ds, batch_sampler=bs)
    assert [b[0].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]] and len(loader) == 2
    w = D.WeightedRandomSampler([0, 0, 1, 0, 0, 0, 0], 5)
    assert list(w) == [2] * 5
    with pytest.raises(ValueError, match="mutually exclusive"):
        D.DataLoader(ds, batch_sampler=bs, shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        D.DataLoader(ds, sampler=D.SequentialSampler(ds), shuffle=True)


def test_random_sampler_with_replacement_draws_num_samples():
    ds = D.TensorDataset(np.arange(4))
    s = D.RandomSampler(ds, replacement=True, num_samples=9, generator=0)
    assert len(list(s)) == 9 == len(s) and set(s) <= {0, 1, 2, 3}
    assert sorted(D.RandomSampler(ds)) == [0, 1, 2, 3]


class Stream(D.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_iterable_dataset_is_batched_as_it_streams():
    assert [b.tolist() for b in D.DataLoader(Stream(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="IterableDataset"):
        D.DataLoader(Stream(5), shuffle=True)


def test_concat_dataset_joins_in_order():
    a, b = D.TensorDataset(np.arange(3)), D.TensorDataset(np.arange(10, 12))
    both = D.ConcatDataset([a, b])
    assert len(both) == 5 and [int(both[i][0]) for i in range(5)] == [0, 1, 2, 10, 11]
    assert int(both[-1][0]) == 11 and len(a + b) == 5
    with pytest.raises(IndexError):
        both[5]
