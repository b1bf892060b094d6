"""multinomial: the frequencies follow the weights (with replacement), each index at most once
per row and in the order of sequential draws (without), zero weights never drawn first,
reproducible with generator=, and clear errors, as torch.multinomial."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg


def test_with_replacement_frequencies_follow_the_weights():
    w = np.array([1.0, 0.0, 3.0, 6.0])
    draws = tg.tensor(w).multinomial(40000, replacement=True, generator=0).numpy()
    assert draws.dtype == np.int64 and draws.shape == (40000,)
    freq = np.bincount(draws, minlength=4) / 40000
    np.testing.assert_allclose(freq, w / w.sum(), atol=0.01)  # 5 sigma is about 0.012
    assert (draws != 1).all()  # a zero weight is never drawn


def test_without_replacement_draws_each_index_once_in_sequential_order():
    w = np.array([[5.0, 1.0, 1.0, 3.0]] * 20000)
    draws = tg.multinomial(tg.tensor(w), 2, generator=1).numpy()
    assert draws.shape == (20000, 2) and (draws[:, 0] != draws[:, 1]).all()
    p = w[0] / w[0].sum()
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=4) / 20000, p, atol=0.015)
    # second draw of index 1 given the first was 0: 1 / (1 + 1 + 3)
    first0 = draws[draws[:, 0] == 0]
    assert abs((first0[:, 1] == 1).mean() - 0.2) < 0.02
    full = tg.multinomial(tg.tensor([0.0, 2.0, 1.0]), 3, generator=2).numpy()
    assert sorted(full.tolist()) == [0, 1, 2] and full[-1] == 0  # the zero weight comes last


def test_generator_makes_draws_reproducible_and_manual_seed_governs_the_default():
    w = tg.tensor([0.2, 0.3, 0.5])
    a = w.multinomial(10, True, generator=np.random.default_rng(5)).numpy()
    assert np.array_equal(a, w.multinomial(10, True, generator=5).numpy())
    tg.manual_seed(3)
    b = w.multinomial(10, True).numpy()
    tg.manual_seed(3)
    assert np.array_equal(b, w.multinomial(10, True).numpy())


def test_shapes_match_torch():
    for shape, n, rep in [((4,), 2, False), ((3, 5), 4, True), ((2, 3), 3, False)]:
        w = np.random.default_rng(0).random(shape) + 0.1
        assert tg.tensor(w).multinomial(n, rep).shape == tuple(
            torch.tensor(w).multinomial(n, rep).shape)


def test_errors():
    with pytest.raises(ValueError, match="finite and >= 0"):
        tg.tensor([0.5, -1.0]).multinomial(1)
    with pytest.raises(ValueError, match="sums to 0"):
        tg.tensor([[1.0, 0.0], [0.0, 0.0]]).multinomial(1)
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement from 2"):
        tg.tensor([1.0, 1.0]).multinomial(3)
    with pytest.raises(ValueError, match="positive int"):
        tg.tensor([1.0]).multinomial(0)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        tg.ones(2, 2, 2).multinomial(1)
