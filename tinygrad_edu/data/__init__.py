"""Data for training: toy sets made on the spot, IDX files and MNIST, batching.

    from tinygrad_edu.data import make_moons, TensorDataset, DataLoader
    X, y = make_moons(200, noise=0.1)
    for xb, yb in DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True):
        ...

Names and semantics are PyTorch's (`torch.utils.data`, `torchvision.datasets`) and
scikit-learn's (`make_moons`, ...), so code moves over by changing imports.
"""

from . import transforms
from .datasets import MNIST, FashionMNIST, Resource
from .download import ChecksumError, DownloadError, download_url, file_digest
from .idx import IDXError, idx_digest, read_idx, write_idx
from .loader import (
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from .names import CharDataset, NamesDataset, Vocabulary, load_words, split_words
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .synthetic import (
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spirals,
    make_xor,
)

__all__ = [
    "CharDataset",
    "BatchSampler",
    "ConcatDataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "ChecksumError",
    "DataLoader",
    "Dataset",
    "DownloadError",
    "FashionMNIST",
    "IDXError",
    "MNIST",
    "NamesDataset",
    "Resource",
    "Subset",
    "TensorDataset",
    "Vocabulary",
    "default_collate",
    "download_url",
    "file_digest",
    "idx_digest",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_regression",
    "make_spirals",
    "make_xor",
    "load_words",
    "random_split",
    "read_idx",
    "split_words",
    "transforms",
    "write_idx",
]
