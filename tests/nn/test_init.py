"""nn.init: PyTorch's formulas for bounds and standard deviations, in place, seeded."""

import math

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import init

SHAPE = (300, 200)  # fan_out 300, fan_in 200
FAN_IN, FAN_OUT = 200, 300


def fresh():
    return nn.Parameter(tg.zeros(*SHAPE))


def test_xavier_uniform_bound():
    w = init.xavier_uniform_(fresh(), gain=2.0).numpy()
    bound = 2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


def test_xavier_normal_std():
    w = init.xavier_normal_(fresh()).numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / (FAN_IN + FAN_OUT)), rel=0.02)
    assert abs(w.mean()) < 0.01


@pytest.mark.parametrize("mode, fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT)])
def test_kaiming_uniform_bound(mode, fan):
    w = init.kaiming_uniform_(fresh(), mode=mode, nonlinearity="relu").numpy()
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


def test_kaiming_normal_std():
    w = init.kaiming_normal_(fresh(), a=0.2).numpy()  # leaky_relu gain with slope 0.2
    assert w.std() == pytest.approx(math.sqrt(2 / (1 + 0.04)) / math.sqrt(FAN_IN), rel=0.02)


def test_conv_shaped_weights_count_the_receptive_field():
    w = nn.Parameter(tg.zeros(16, 8, 3, 3))
    init.kaiming_uniform_(w, nonlinearity="linear")
    bound = math.sqrt(3 / (8 * 9))
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.95 * bound


@pytest.mark.parametrize("name, param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                         ("relu", None), ("leaky_relu", None),
                                         ("leaky_relu", 0.3), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param))


def test_simple_fills():
    w = fresh()
    assert init.zeros_(w) is w and not w.numpy().any()
    assert (init.ones_(w).numpy() == 1).all()
    assert (init.constant_(w, 0.5).numpy() == 0.5).all()
    u = init.uniform_(w, -2.0, 3.0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and u.mean() == pytest.approx(0.5, abs=0.05)
    n = init.normal_(w, 1.0, 0.5).numpy()
    assert n.mean() == pytest.approx(1.0, abs=0.01) and n.std() == pytest.approx(0.5, rel=0.02)
    assert w.dtype == np.float32


def test_init_is_reproducible_and_records_no_graph():
    tg.manual_seed(11)
    a = init.normal_(fresh()).numpy().copy()
    tg.manual_seed(11)
    w = fresh()
    init.normal_(w)
    assert np.array_equal(w.numpy(), a) and w.is_leaf


def test_errors():
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(nn.Parameter(tg.zeros(5)))
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_uniform_(fresh(), mode="fan_avg")
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
