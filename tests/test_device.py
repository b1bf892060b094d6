"""Devices: the CPU everywhere a device is accepted; a GPU is a clear CPU-only error."""

import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn


def test_the_cpu_is_accepted_by_factories_to_and_modules():
    cpu = tg.device("cpu")
    assert tg.zeros(2, device="cpu").device == cpu == "cpu"
    assert tg.randn(2, device=cpu).shape == (2,)
    assert tg.tensor([1.0], device="cpu").dtype == tg.float32
    x = tg.ones(3)
    assert x.to("cpu") is x and x.to(cpu) is x and x.to(device="cpu") is x
    m = nn.Linear(2, 2)
    assert m.to(cpu) is m and m.to("cpu", tg.float64).weight.dtype == tg.float64
    assert tg.get_default_device() == cpu


@pytest.mark.parametrize("where", [
    lambda: tg.zeros(2, device="cuda"),
    lambda: tg.tensor([1.0], device="cuda:0"),
    lambda: tg.ones(2).to("cuda"),
    lambda: tg.ones(2).to(tg.device("mps")),
    lambda: tg.ones(2).cuda(),
    lambda: nn.Linear(2, 2).to("cuda"),
    lambda: nn.Linear(2, 2).cuda(),
    lambda: tg.cuda.current_device(),
])
def test_a_gpu_is_a_clear_cpu_only_error(where):
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        where()


def test_availability_checks_say_no_gpu():
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    assert tg.backends.mps.is_available() is False
    assert tg.accelerator.is_available() is False
    assert tg.accelerator.current_accelerator() is None


def test_device_names_parse_as_torch():
    d = tg.device("cuda:1")
    assert (d.type, d.index, str(d)) == ("cuda", 1, "cuda:1")
    assert repr(d) == "device(type='cuda', index=1)"
    assert tg.device("cuda", 0) == tg.device("cuda:0") != tg.device("cpu")
    with pytest.raises(RuntimeError, match="unknown device"):
        tg.device("tpu")
