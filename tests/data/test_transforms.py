"""Transforms as torchvision's, one image at a time and (for the loader) a batch at a time."""

from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu.data import MNIST, DataLoader, Dataset
from tinygrad_edu.data.transforms import Compose, Lambda, Normalize, ToTensor
from tinygrad_edu.tensor import Tensor

SHARED_MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"


def arr(t) -> np.ndarray:
    assert isinstance(t, Tensor), f"expected a Tensor, got {type(t).__name__}"
    return np.asarray(t._data)


def test_to_tensor_scales_uint8_and_adds_a_channel():
    image = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    out = arr(ToTensor()(image))
    assert out.shape == (1, 2, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], [[0, 1], [0.2, 0.4]], rtol=1e-6)


def test_to_tensor_keeps_float_scale_and_moves_color_channels_first():
    image = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    out = arr(ToTensor()(image))
    assert out.shape == (3, 2, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out[2], image[:, :, 2])


def test_normalize_per_channel():
    image = np.ones((2, 2, 2), np.float32) * np.array([1.0, 3.0], np.float32)[:, None, None]
    out = arr(Normalize((0.5, 1.0), (0.5, 2.0))(image))
    np.testing.assert_allclose(out[0], 1.0)
    np.testing.assert_allclose(out[1], 1.0)


def test_normalize_errors():
    with pytest.raises(ValueError, match="Normalize: std must not be zero"):
        Normalize(0.5, 0.0)
    with pytest.raises(ValueError, match="one value per channel"):
        Normalize((0.5, 0.5), (1.0,))
    with pytest.raises(ValueError, match=r"Normalize: expected a \(C, H, W\) image.*ToTensor"):
        Normalize((0.5, 0.5, 0.5), (1, 1, 1))(np.zeros((4, 4), np.float32))


def test_compose_runs_in_order_and_batches_only_if_every_step_can():
    fast = Compose([ToTensor(), Normalize((0.5,), (0.5,))])
    slow = Compose([ToTensor(), Lambda(lambda t: t)])
    assert hasattr(fast, "batch") and not hasattr(slow, "batch")
    image = np.full((3, 3), 255, np.uint8)
    np.testing.assert_allclose(arr(fast(image)), np.ones((1, 3, 3)))


def test_mnist_with_tutorial_transforms_batches_fast_and_matches_getitem():
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"real MNIST test set not available at {SHARED_MNIST}")
    transform = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    ds = MNIST(SHARED_MNIST, train=False, transform=transform)

    class Counting(Dataset):  # the same data one sample at a time, for comparison
        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return ds[i]

    xb, yb = next(iter(DataLoader(ds, batch_size=16)))
    xs, ys = next(iter(DataLoader(Counting(), batch_size=16)))
    assert arr(xb).shape == (16, 1, 28, 28) and arr(xb).dtype == np.float32
    np.testing.assert_allclose(arr(xb), arr(xs), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(arr(yb), arr(ys))
    X, _ = ds.arrays(normalize=True, flatten=False)
    np.testing.assert_allclose(arr(xb)[:, 0], X[:16], rtol=1e-5, atol=1e-5)
