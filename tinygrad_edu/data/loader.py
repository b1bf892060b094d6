"""Datasets and the DataLoader that batches them, as in `torch.utils.data`.

    ds = TensorDataset(X, y)                        # numpy arrays or Tensors, same length
    train, val = random_split(ds, [0.8, 0.2], generator=0)
    for xb, yb in DataLoader(train, batch_size=64, shuffle=True):
        ...                                         # xb, yb: Tensors, a batch at a time

A dataset is anything with `__len__` and `__getitem__(i) -> sample`. The loader asks for one
sample per index and stacks them (`default_collate`), which is general but costs a Python call
per sample. Datasets backed by whole arrays (`TensorDataset`, MNIST with no transform or the
batchable ones of `transforms`, and `Subset`s of them) also offer `_get_batch(indices)`, which
returns the batch with one fancy index per array; the loader uses it when no `collate_fn` is
given, so an epoch over 60,000 images costs a thousand numpy indexing calls, not 60,000 Python
calls. Batches are new Tensors that share no memory with the dataset.

Shuffling draws from `tinygrad_edu.random.generator()` (reseed with `tinygrad_edu.manual_seed`)
or from the `generator` you pass: an int seed or a `numpy.random.Generator`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ._rng import resolve_rng

__all__ = [
    "Dataset",
    "IterableDataset",
    "ConcatDataset",
    "TensorDataset",
    "Subset",
    "DataLoader",
    "random_split",
    "default_collate",
]


def _tensor_class() -> type:
    """The Tensor class, imported on first use (the data module works without the engine)."""
    from ..tensor import Tensor

    return Tensor


def _to_tensor(array: np.ndarray):
    """A Tensor holding a copy of `array` (what a sample of a dataset must be)."""
    return _tensor_class()(array)


def _wrap_fresh(array: np.ndarray):
    """A Tensor around an array made just for this batch: no copy needed."""
    from ..tensor import from_numpy

    return from_numpy(np.ascontiguousarray(array))


def _is_tensor(x) -> bool:
    return isinstance(x, _tensor_class())


def _as_array(x) -> np.ndarray:
    return np.asarray(x._data) if _is_tensor(x) else np.asarray(x)


class Dataset:
    """Base class for map-style datasets: define `__len__` and `__getitem__(index)`."""

    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def _get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...] | None:
        """A whole batch as arrays, or None: then the loader collates sample by sample."""
        return None

    def __add__(self, other: Any) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class for datasets that are streams: define `__iter__` (samples, in order).

    The loader batches them as they come; there is no index, so no shuffling or sampler.
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other: Any) -> Any:
        raise TypeError("IterableDataset: use itertools.chain to join streams")


class ConcatDataset(Dataset):
    """The samples of several datasets, one after another: `ConcatDataset([train, extra])`."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = [int(n) for n in np.cumsum([len(d) for d in self.datasets])]

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for length {n}")
        index %= n
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]


class TensorDataset(Dataset):
    """Samples are rows: item i is `(arrays[0][i], arrays[1][i], ...)`, each as a Tensor.

    Accepts numpy arrays, Tensors, or anything `numpy.asarray` takes; all must have the same
    length along the first dim.
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one array, e.g. TensorDataset(X, y)")
        arrays = tuple(_as_array(t) for t in tensors)
        for a in arrays:
            if a.ndim == 0:
                raise ValueError("TensorDataset: a 0-d array has no samples to index")
        if len({len(a) for a in arrays}) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: size mismatch between tensors: shapes {shapes}; "
                "every array needs the same length along dim 0"
            )
        self.arrays = arrays

    @property
    def tensors(self) -> tuple:
        """The data as Tensors sharing memory with `arrays` (PyTorch's attribute)."""
        from ..tensor import from_numpy

        return tuple(from_numpy(a) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(_to_tensor(np.asarray(a[index])) for a in self.arrays)

    def _get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __add__(self, other: Any) -> ConcatDataset:
        return ConcatDataset([self, other])

    def _get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...] | None:
        fetch = getattr(self.dataset, "_get_batch", None)
        return fetch(self.indices[indices]) if fetch is not None else None


def random_split(dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Split `dataset` at random into non-overlapping Subsets of the given lengths.

    `lengths` are counts adding up to `len(dataset)`, or fractions adding up to 1 (then
    floor(n * f) each, and what is left over goes one by one to the first subsets, as PyTorch
    does). `generator`: an int seed, a numpy Generator, or None for the library generator.
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    for length in lengths:
        if isinstance(length, bool) or not isinstance(length, numbers.Real) or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative numbers, got {lengths}")
    if all(isinstance(length, numbers.Integral) for length in lengths):
        counts = [int(length) for length in lengths]
        if sum(counts) != n:
            raise ValueError(
                f"random_split: lengths {counts} add up to {sum(counts)}, but the dataset "
                f"has {n} samples; give counts adding up to {n}, or fractions adding up to 1"
            )
    else:
        if not math.isclose(sum(lengths), 1.0, abs_tol=1e-6) or any(f > 1 for f in lengths):
            raise ValueError(
                f"random_split: fractions {lengths} add up to {sum(lengths)}; they must add up to 1"
            )
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    order = resolve_rng(generator, "random_split").permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[bounds[i] : bounds[i + 1]]) for i in range(len(counts))]


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, keeping the samples' structure (PyTorch's rules).

    Tensors and arrays are stacked along a new dim 0; Python ints become an int64 Tensor,
    floats a float64 Tensor, bools a bool Tensor; strings stay a list; tuples and lists are
    collated field by field (into a list), dicts key by key.
    """
    if not batch:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if _is_tensor(elem) or isinstance(elem, (np.ndarray, np.generic)):
        arrays = [_as_array(x) for x in batch]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ValueError(
                "default_collate: every sample must have the same shape to stack, got "
                f"{sorted(shapes)}; pad the samples or pass a collate_fn"
            )
        return _wrap_fresh(np.stack(arrays))
    if isinstance(elem, bool):
        return _wrap_fresh(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return _wrap_fresh(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return _wrap_fresh(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        if len({len(sample) for sample in batch}) != 1:
            raise ValueError("default_collate: every sample in the batch must have the same size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(elem).__name__}; "
        "samples must be Tensors, numpy arrays, numbers, strings, dicts or sequences of these "
        "(or pass a collate_fn)"
    )


class DataLoader:
    """Iterate over `dataset` in batches, reshuffled each epoch when `shuffle=True`.

    `len(loader)` is the number of batches: ceil(n / batch_size), or floor with `drop_last`
    (which drops the last, smaller batch). `collate_fn(list_of_samples)` builds a batch
    (default: `default_collate`). `sampler` (indices, data/sampler.py) replaces the order that
    `shuffle` gives; `batch_sampler` (lists of indices) replaces batch_size, shuffle, sampler
    and drop_last. An `IterableDataset` is batched as it streams. `generator`: a
    `tinygrad_edu.Generator`, an int seed or numpy Generator for the shuffling (None: the
    library generator). `num_workers`, `pin_memory` and the other worker options are accepted
    so PyTorch code runs unchanged; loading always runs in this process. PyTorch's
    `batch_size=None` (no batching) is not supported: index the dataset directly instead.
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool | None = None,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Any = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: Any = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if batch_size <= 0:
            raise ValueError(
                f"DataLoader: batch_size must be a positive int, got {batch_size}; "
                "use batch_size=1 for one sample at a time"
            )
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: an IterableDataset has no indices, so shuffle, "
                                 "sampler and batch_sampler cannot be used with it")
        elif not hasattr(dataset, "__getitem__") or (
            not hasattr(dataset, "__len__") and sampler is None and batch_sampler is None
        ):
            raise TypeError(
                f"DataLoader: dataset must have __len__ and __getitem__ (or be an "
                f"IterableDataset), got {type(dataset).__name__}"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                             "batch_size, shuffle, sampler, and drop_last")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self._iterable = iterable
        # an int seeds one generator for the loader's life: epochs differ, runs repeat
        self.generator = None if generator is None else resolve_rng(generator, "DataLoader")

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        if self._iterable and not hasattr(self.dataset, "__len__"):
            raise TypeError("DataLoader: this IterableDataset has no __len__")
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = self.generator if self.generator is not None else resolve_rng(None, "DataLoader")
        return rng.permutation(n)

    def _fetch(self, indices: np.ndarray):
        if self.collate_fn is None:
            fetch = getattr(self.dataset, "_get_batch", None)
            arrays = fetch(indices) if fetch is not None else None
            if arrays is not None:
                return [_wrap_fresh(a) for a in arrays]  # samples are tuples: a list, as torch
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            samples = getitems([int(i) for i in indices])
        else:
            samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)

    def _stream(self) -> Iterator:
        batch: list = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield (self.collate_fn or default_collate)(batch)
                batch = []
        if batch and not self.drop_last:
            yield (self.collate_fn or default_collate)(batch)

    def __iter__(self) -> Iterator:
        if self._iterable:
            yield from self._stream()
            return
        if self.batch_sampler is not None:
            for indices in self.batch_sampler:
                yield self._fetch(np.asarray(indices, dtype=np.int64))
            return
        order = self._order()
        n, size = len(order), self.batch_size
        stop = n - n % size if self.drop_last else n
        for start in range(0, stop, size):
            yield self._fetch(order[start : start + size])
