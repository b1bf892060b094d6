"""The library's generator: `uniform_at_least`, dropout's fast keep mask, draws exactly what
`generator().random(shape, float32) >= p` would, and leaves the generator where it would."""

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu.random import generator, uniform_at_least


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
