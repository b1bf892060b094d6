"""MNIST and Fashion-MNIST from their standard IDX files, as `torchvision.datasets` has them.

    test = FashionMNIST(train=False)            # finds the Debian package's copy by itself
    X, y = test.arrays()                        # float32 (10000, 784) normalized, int64 (10000,)
    image, label = test[0]                      # float32 (28, 28) in [0, 1], int

Where the files are looked for, in order: `root/<Name>/raw/` (torchvision's layout, where
downloads go), `root/` itself, then the system folders of the class (Fashion-MNIST:
`/usr/share/datasets/fashion-mnist`, from the Debian package `dataset-fashion-mnist`). Each of
the four files may be gzipped (`.gz`, as published) or not.

Every file is checked against the md5 of its *uncompressed* IDX content, so a copy that was
recompressed (the Debian one is) passes, and a corrupt, truncated or different file is an
error naming it. `download=True` fetches missing or bad files from the mirrors into
`root/<Name>/raw/`, checking the md5 of the file as published; a file already there and
verified is not downloaded again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .download import ChecksumError, DownloadError, download_url
from .idx import IDXError, idx_digest, read_idx
from .loader import Dataset

__all__ = ["MNIST", "FashionMNIST", "Resource"]


class Resource(NamedTuple):
    """One published file: its name, the md5 of the file as served, the md5 of its content."""

    filename: str  # as published, gzipped
    md5: str  # of the .gz file as the mirrors serve it (checks a download)
    content_md5: str | None  # of the uncompressed IDX bytes (checks any copy); None: unchecked


def _to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1], like torchvision's ToTensor."""
    return np.multiply(images, np.float32(1 / 255), dtype=np.float32)


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, 10 classes.

    `data`: uint8 array (N, 28, 28); `targets`: int64 array (N,). `dataset[i]` is
    `(image, label)`: the image as float32 (28, 28) in [0, 1] (then `transform(image)` if
    given), the label as an int (then `target_transform(label)`). `arrays()` gives the whole
    split as two arrays, the fast way to train. With no transform, or those of
    `tinygrad_edu.data.transforms`, a DataLoader builds each batch with one fancy index.
    """

    name = "MNIST"
    mirrors: tuple[str, ...] = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    resources: dict[str, tuple[Resource, Resource]] = {
        "train": (
            Resource(
                "train-images-idx3-ubyte.gz",
                "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "6bbc9ace898e44ae57da46a324031adb",
            ),
            Resource(
                "train-labels-idx1-ubyte.gz",
                "d53e105ee54ea40749a09fcbcd1e9432",
                "a25bea736e30d166cdddb491f175f624",
            ),
        ),
        "test": (
            Resource(
                "t10k-images-idx3-ubyte.gz",
                "9fb629c4189551a2d022fa330f9573f3",
                "2646ac647ad5339dbf082846283269ea",
            ),
            Resource(
                "t10k-labels-idx1-ubyte.gz",
                "ec29112dd5afa0611ce80d1b7f02629c",
                "27ae3e4e09519cfbb04c329615203637",
            ),
        ),
    }
    system_dirs: tuple[Path, ...] = ()
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip
    # mean and std of the training pixels in [0, 1]: what arrays(normalize=True) uses
    mean, std = 0.1307, 0.3081
    image_shape = (28, 28)

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        transform: Callable[[np.ndarray], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
    ) -> None:
        self.root = None if root is None else Path(root).expanduser()
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        if download and self.root is None:
            raise ValueError(f"{self.name}: download=True needs a root folder to download into")
        images_res, labels_res = self.resources["train" if self.train else "test"]
        images = self._load(images_res, download)
        labels = self._load(labels_res, download)
        self._check_pair(images, labels)
        self.data: np.ndarray = images
        self.targets: np.ndarray = labels.astype(np.int64)

    # ---- finding, checking and downloading the files ------------------------------------------

    @property
    def raw_folder(self) -> Path | None:
        """Where downloads go: `root/<Name>/raw`, torchvision's layout."""
        return None if self.root is None else self.root / self.name / "raw"

    def _search_dirs(self) -> list[Path]:
        dirs = [self.raw_folder, self.root] if self.root is not None else []
        return dirs + [Path(d) for d in self.system_dirs]

    def _find(self, filename: str) -> Path | None:
        stem = filename.removesuffix(".gz")
        for folder in self._search_dirs():
            for name in (filename, stem):
                if (folder / name).is_file():
                    return folder / name
        return None

    def _read_checked(self, path: Path, res: Resource) -> np.ndarray:
        array = read_idx(path)
        if res.content_md5 is not None:
            actual = idx_digest(array)
            if actual != res.content_md5:
                raise ChecksumError(
                    f"{self.name}: {path} is not the expected {res.filename}: the md5 of its "
                    f"uncompressed content is {actual}, expected {res.content_md5}. "
                    "Delete it, or pass download=True to fetch a good copy."
                )
        return array

    def _load(self, res: Resource, download: bool) -> np.ndarray:
        found = self._find(res.filename)
        if found is not None:
            try:
                return self._read_checked(found, res)
            except (IDXError, ChecksumError):
                if not download:
                    raise
        if not download:
            searched = ", ".join(str(d) for d in self._search_dirs()) or \
                f"nowhere (no root was given, and {self.name} has no system folder)"
            hint = "Pass root=<folder with the files>, or download=True"
            if self.system_dirs:
                hint += f", or install the Debian package that provides {self.system_dirs[0]}"
            raise FileNotFoundError(
                f"{self.name}: {res.filename} not found; looked in: {searched}. {hint}."
            )
        dest = self.raw_folder / res.filename
        failures: list[Exception] = []
        for mirror in self.mirrors:
            try:
                download_url(mirror + res.filename, dest, md5=res.md5)
                break
            except (OSError, ChecksumError) as e:  # URLError and DownloadError are OSErrors
                failures.append(e)
        else:
            detail = "\n  ".join(f"{type(e).__name__}: {e}" for e in failures)
            message = f"{self.name}: could not download {res.filename}:\n  {detail}"
            if failures and all(isinstance(e, ChecksumError) for e in failures):
                raise ChecksumError(message)
            raise DownloadError(message)
        return self._read_checked(dest, res)

    def _check_pair(self, images: np.ndarray, labels: np.ndarray) -> None:
        split = "train" if self.train else "test"
        if images.dtype != np.uint8 or images.shape[1:] != self.image_shape:
            raise IDXError(
                f"{self.name} ({split}): images must be uint8 of shape (N, 28, 28), got "
                f"{images.dtype} {images.shape}"
            )
        if labels.dtype != np.uint8 or labels.ndim != 1 or len(labels) != len(images):
            raise IDXError(
                f"{self.name} ({split}): labels must be uint8 of shape ({len(images)},) to match "
                f"the images, got {labels.dtype} {labels.shape}"
            )
        if len(labels) and labels.max() >= len(self.classes):
            raise IDXError(
                f"{self.name} ({split}): label {labels.max()} is out of range for "
                f"{len(self.classes)} classes"
            )

    # ---- the dataset --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = _to_float(self.data[index])
        target: Any = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The batch in a few numpy calls, when the transforms can do whole batches."""
        batch_transform = getattr(self.transform, "batch", None)
        if self.target_transform is not None or (
            self.transform is not None and batch_transform is None
        ):
            return None  # the loader applies them sample by sample
        images = _to_float(self.data[indices])
        if batch_transform is not None:
            images = batch_transform(images)
        return images, self.targets[indices]

    def arrays(
        self, normalize: bool | tuple[float, float] = True, flatten: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The whole split as `(X, y)`: X float32, y int64. Ignores `transform`.

        Pixels are scaled to [0, 1]; `normalize=True` then standardizes them with the
        training set's `mean` and `std` (PyTorch: ToTensor() then Normalize((mean,), (std,))),
        `normalize=(mean, std)` with yours. `flatten=True` gives X shape (N, 784), else
        (N, 28, 28). For fast training: `TensorDataset(*dataset.arrays())`.
        """
        X = _to_float(self.data)
        if normalize is True:
            normalize = (self.mean, self.std)
        if normalize:
            mean, std = normalize
            X -= np.float32(mean)
            X /= np.float32(std)
        if flatten:
            X = X.reshape(len(X), -1)
        return X, self.targets.copy()

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        return (
            f"Dataset {self.name}\n    Number of datapoints: {len(self)}\n"
            f"    Root location: {self.root}\n    Split: {'Train' if self.train else 'Test'}"
        )


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, 10 kinds of clothing instead of digits.

    Finds the Debian package's copy (`apt-get install dataset-fashion-mnist`) without a root.
    """

    name = "FashionMNIST"
    mirrors = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    )
    resources = {
        "train": (
            Resource(
                "train-images-idx3-ubyte.gz",
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            ),
            Resource(
                "train-labels-idx1-ubyte.gz",
                "25c81989df183df01b3e8a0aad5dffbe",
                "9018921c3c673c538a1fc5bad174d6f9",
            ),
        ),
        "test": (
            Resource(
                "t10k-images-idx3-ubyte.gz",
                "bef4ecab320f06d8554ea6380940ec79",
                "8181f5470baa50b63fa0f6fddb340f0a",
            ),
            Resource(
                "t10k-labels-idx1-ubyte.gz",
                "bb300cfdad3c16e7a12a480ee83cd310",
                "15d484375f8d13e6eb1aabb0c3f46965",
            ),
        ),
    }
    system_dirs = (Path("/usr/share/datasets/fashion-mnist"),)
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
    mean, std = 0.2860, 0.3530
