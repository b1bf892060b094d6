"""The few image transforms MNIST tutorials use, as in `torchvision.transforms`.

    ds = FashionMNIST(train=True, transform=Compose([ToTensor(), Normalize((0.2860,), (0.3530,))]))
    image, label = ds[0]            # image: Tensor (1, 28, 28), standardized

Each transform is a callable on one image. These also know how to transform a whole batch of
images at once (`batch(images)`, on an array of shape (N, H, W)), so a DataLoader over MNIST
with these transforms still builds each batch with a few numpy calls instead of one Python call
per image. A transform without `batch` (a `Lambda`, your own function) works too, one image
at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda"]


def _array(image) -> np.ndarray:
    from ..tensor import Tensor

    return np.asarray(image._data if isinstance(image, Tensor) else image)


def _tensor(array: np.ndarray):
    from ..tensor import from_numpy

    return from_numpy(np.ascontiguousarray(array))


class ToTensor:
    """An (H, W) or (H, W, C) image -> a float32 Tensor (C, H, W); uint8 is scaled to [0, 1].

    Float images are taken as already scaled (MNIST's `dataset[i]` gives float32 in [0, 1]),
    as torchvision's ToTensor does for float arrays.
    """

    def __call__(self, image) -> Any:
        return _tensor(self.batch(_array(image)[None])[0])

    def batch(self, images: np.ndarray) -> np.ndarray:
        """(N, H, W) or (N, H, W, C) -> float32 (N, C, H, W)."""
        if images.ndim == 3:
            images = images[:, None]
        elif images.ndim == 4:
            images = images.transpose(0, 3, 1, 2)
        else:
            raise ValueError(
                f"ToTensor: expected an image of shape (H, W) or (H, W, C), "
                f"got shape {images.shape[1:]}"
            )
        if images.dtype == np.uint8:
            return np.multiply(images, np.float32(1 / 255), dtype=np.float32)
        return images.astype(np.float32)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(image - mean[c]) / std[c] for each channel c of a (C, H, W) image."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float32))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float32))
        if self.mean.ndim != 1 or self.std.shape != self.mean.shape:
            raise ValueError(
                f"Normalize: mean and std need one value per channel, got {mean!r} and {std!r}"
            )
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must not be zero, got {std!r}")

    def __call__(self, image) -> Any:
        return _tensor(self.batch(_array(image)[None])[0])

    def batch(self, images: np.ndarray) -> np.ndarray:
        """(N, C, H, W) -> the same shape, normalized per channel."""
        if images.ndim != 4 or (len(self.mean) != 1 and images.shape[1] != len(self.mean)):
            raise ValueError(
                f"Normalize: expected a (C, H, W) image with C = {len(self.mean)} (use ToTensor "
                f"first), got shape {images.shape[1:]}"
            )
        scale = (1 / self.std)[None, :, None, None]
        return ((images - self.mean[None, :, None, None]) * scale).astype(np.float32)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Lambda:
    """Wrap a function as a transform (applied one image at a time)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, image) -> Any:
        return self.fn(image)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.fn, '__name__', self.fn)!r})"


class Compose:
    """Apply `transforms` in order."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)
        if all(hasattr(t, "batch") for t in self.transforms):
            self.batch = self._batch  # only when every step can do a whole batch

    def __call__(self, image) -> Any:
        for t in self.transforms:
            image = t(image)
        return image

    def _batch(self, images: np.ndarray) -> np.ndarray:
        for t in self.transforms:
            images = t.batch(images)
        return images

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"
