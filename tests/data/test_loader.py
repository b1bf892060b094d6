"""TensorDataset, DataLoader, random_split: PyTorch's semantics, seeded shuffling, fast batches."""

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu.data import (
    MNIST,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from tinygrad_edu.tensor import Tensor


def arr(t) -> np.ndarray:
    assert isinstance(t, Tensor), f"expected a Tensor, got {type(t).__name__}"
    return np.asarray(t._data)


def numbered(n=10):
    """X row i is (i, -i) as float32, y[i] = i: a batch shows exactly which samples it holds."""
    X = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float32)
    return TensorDataset(X, np.arange(n, dtype=np.int64))


class PerSample(Dataset):
    """The same samples through plain __getitem__ only: the general, slow path."""

    def __init__(self, inner):
        self.inner = inner

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, i):
        return tuple(a[i] for a in self.inner.arrays)


def labels_of(loader) -> list[list[int]]:
    return [arr(yb).tolist() for _, yb in loader]


# ---- batching ----------------------------------------------------------------------------------


def test_in_order_batches_with_a_last_partial_one():
    loader = DataLoader(numbered(10), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    xb, yb = batches[0]
    assert arr(xb).dtype == np.float32 and arr(xb).shape == (4, 2)
    assert arr(yb).dtype == np.int64
    np.testing.assert_array_equal(arr(xb)[:, 1], -arr(yb))


def test_drop_last_drops_only_the_short_batch():
    loader = DataLoader(numbered(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    exact = DataLoader(numbered(8), batch_size=4, drop_last=True)
    assert len(exact) == 2 and labels_of(exact) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_batch_larger_than_dataset():
    assert labels_of(DataLoader(numbered(3), batch_size=10)) == [[0, 1, 2]]
    dropped = DataLoader(numbered(3), batch_size=10, drop_last=True)
    assert len(dropped) == 0 and list(dropped) == []


@pytest.mark.parametrize("bad", [0, -1, 2.5, None, True])
def test_bad_batch_size_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int"):
        DataLoader(numbered(), batch_size=bad)


def test_a_non_dataset_is_refused():
    with pytest.raises(TypeError, match="DataLoader.*__len__"):
        DataLoader(iter(range(3)))


# ---- shuffling ---------------------------------------------------------------------------------


def test_shuffle_visits_every_sample_once_per_epoch_in_a_new_order():
    loader = DataLoader(numbered(50), batch_size=8, shuffle=True, generator=0)
    epochs = [sum(labels_of(loader), []) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(50))
    assert epochs[0] != epochs[1] != epochs[2]
    assert epochs[0] != list(range(50))


def test_manual_seed_makes_shuffling_reproducible():
    loader = DataLoader(numbered(30), batch_size=7, shuffle=True)
    tinygrad_edu.manual_seed(5)
    first = labels_of(loader)
    tinygrad_edu.manual_seed(5)
    assert labels_of(loader) == first
    tinygrad_edu.manual_seed(6)
    assert labels_of(loader) != first


def test_an_int_generator_ignores_the_global_seed():
    tinygrad_edu.manual_seed(1)
    a = labels_of(DataLoader(numbered(30), batch_size=7, shuffle=True, generator=42))
    tinygrad_edu.manual_seed(2)
    b = labels_of(DataLoader(numbered(30), batch_size=7, shuffle=True, generator=42))
    assert a == b


def test_shuffle_drop_last_keeps_full_batches():
    loader = DataLoader(numbered(10), batch_size=3, shuffle=True, drop_last=True, generator=0)
    batches = labels_of(loader)
    assert [len(b) for b in batches] == [3, 3, 3]
    assert len(set(sum(batches, []))) == 9


# ---- the fast path and the general path agree ------------------------------------------------


def test_array_backed_datasets_batch_without_per_sample_calls():
    class NoPerSample(TensorDataset):
        def __getitem__(self, i):
            raise AssertionError("the loader should index whole batches")

    ds = NoPerSample(*numbered(20).arrays)
    assert labels_of(DataLoader(ds, batch_size=6)) == [
        list(range(0, 6)),
        list(range(6, 12)),
        list(range(12, 18)),
        [18, 19],
    ]


@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_and_general_paths_give_the_same_batches(shuffle):
    fast = numbered(23)
    slow = PerSample(fast)
    a = list(DataLoader(fast, batch_size=5, shuffle=shuffle, generator=3))
    b = list(DataLoader(slow, batch_size=5, shuffle=shuffle, generator=3))
    assert len(a) == len(b) == 5
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(arr(xa), arr(xb))
        np.testing.assert_array_equal(arr(ya), arr(yb))
        assert arr(xa).dtype == arr(xb).dtype and arr(ya).dtype == arr(yb).dtype


def test_collate_fn_receives_the_list_of_samples():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return [arr(y).item() for _, y in samples]

    loader = DataLoader(numbered(5), batch_size=2, collate_fn=collate)
    assert list(loader) == [[0, 1], [2, 3], [4]]
    assert seen == [2, 2, 1]


# ---- TensorDataset -----------------------------------------------------------------------------


def test_tensor_dataset_items_are_tuples_of_tensors():
    ds = numbered(4)
    x, y = ds[2]
    np.testing.assert_array_equal(arr(x), [2, -2])
    assert arr(y) == 2 and len(ds) == 4
    assert all(isinstance(t, Tensor) for t in ds.tensors)


def test_tensor_dataset_accepts_tensors():
    X = Tensor(np.ones((3, 2), np.float32))
    ds = TensorDataset(X, np.arange(3))
    assert arr(ds[1][0]).tolist() == [1.0, 1.0]


def test_tensor_dataset_length_mismatch_lists_the_shapes():
    with pytest.raises(ValueError, match=r"\(5, 2\), \(4,\)"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


# ---- random_split ------------------------------------------------------------------------------


def test_random_split_counts_are_disjoint_and_cover_everything():
    parts = random_split(numbered(10), [6, 3, 1], generator=0)
    assert [len(p) for p in parts] == [6, 3, 1]
    seen = [arr(p[i][1]).item() for p in parts for i in range(len(p))]
    assert sorted(seen) == list(range(10))
    assert seen != list(range(10))  # shuffled, not cut in order


@pytest.mark.parametrize(
    "n, fractions, sizes",
    [(10, [0.8, 0.2], [8, 2]), (5, [0.5, 0.5], [3, 2]), (7, [0.3, 0.3, 0.4], [3, 2, 2])],
)
def test_random_split_fractions_hand_out_the_remainder_in_order(n, fractions, sizes):
    assert [len(p) for p in random_split(numbered(n), fractions, generator=0)] == sizes


def test_random_split_is_reproducible():
    a = random_split(numbered(20), [10, 10], generator=9)
    b = random_split(numbered(20), [10, 10], generator=9)
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    tinygrad_edu.manual_seed(0)
    c = random_split(numbered(20), [10, 10])
    tinygrad_edu.manual_seed(0)
    d = random_split(numbered(20), [10, 10])
    np.testing.assert_array_equal(c[1].indices, d[1].indices)


@pytest.mark.parametrize("lengths", [[5, 4], [6, 5], [0.5, 0.4], [0.7, 0.7], [-1, 11], []])
def test_random_split_bad_lengths(lengths):
    with pytest.raises(ValueError, match="random_split"):
        random_split(numbered(10), lengths)


def test_a_subset_loads_fast_and_in_its_own_order():
    sub = Subset(numbered(10), [7, 2, 9])
    assert labels_of(DataLoader(sub, batch_size=2)) == [[7, 2], [9]]
    assert arr(sub[-1][1]).item() == 9


# ---- default_collate ---------------------------------------------------------------------------


def test_default_collate_follows_pytorch_types():
    batch = [
        {"x": np.zeros(3, np.float32), "n": 1, "f": 0.5, "s": "a"},
        {"x": np.ones(3, np.float32), "n": 2, "f": 1.5, "s": "b"},
    ]
    out = default_collate(batch)
    assert arr(out["x"]).shape == (2, 3) and arr(out["x"]).dtype == np.float32
    assert arr(out["n"]).dtype == np.int64 and arr(out["n"]).tolist() == [1, 2]
    assert arr(out["f"]).dtype == np.float64
    assert out["s"] == ["a", "b"]
    pairs = default_collate([(1, True), (2, False)])
    assert isinstance(pairs, list) and arr(pairs[1]).dtype == np.bool_


def test_default_collate_errors():
    with pytest.raises(ValueError, match=r"same shape.*\(2,\).*\(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="default_collate.*object"):
        default_collate([object()])


# ---- MNIST through the loader ------------------------------------------------------------------


def test_mnist_batches_come_fast_and_match_getitem():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
    if not root.is_dir():
        pytest.skip(f"real MNIST test set not available at {root}")
    ds = MNIST(root, train=False)
    xb, yb = next(iter(DataLoader(ds, batch_size=64)))
    assert arr(xb).shape == (64, 28, 28) and arr(xb).dtype == np.float32
    assert arr(yb).dtype == np.int64
    np.testing.assert_allclose(arr(xb)[5], ds[5][0])
    assert arr(yb)[5] == ds[5][1]
    slow = MNIST(root, train=False, transform=lambda x: x * 2)
    xs, ys = next(iter(DataLoader(slow, batch_size=4)))
    np.testing.assert_allclose(arr(xs), 2 * arr(xb)[:4])


def test_batches_and_items_share_no_memory_with_the_dataset():
    ds = numbered(6)
    xb, _ = next(iter(DataLoader(ds, batch_size=3)))
    arr(xb)[:] = 100.0
    x0, _ = ds[0]
    arr(x0)[:] = 100.0
    np.testing.assert_array_equal(ds.arrays[0][:3, 0], [0, 1, 2])


def test_pytorch_only_arguments_are_accepted():
    loader = DataLoader(numbered(4), batch_size=2, num_workers=2, pin_memory=True)
    assert labels_of(loader) == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(numbered(4), num_workers=-1)
