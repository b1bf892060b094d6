"""parallel.py: the pieces of a kernel really run at once, in order, with BLAS held to one
thread and given back; products split by rows or stacks equal numpy's; and every kernel that
splits its work (conv, batch norm, pooling, relu, matmul) gives torch's values and gradients
when it is made to split even tiny inputs into uneven pieces."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import blas, interop, parallel
from tinygrad_edu.tensor.rule_math import csum
from tinygrad_edu.train import build_cnn

needs_openblas = pytest.mark.skipif(blas._openblas() is None, reason="numpy's BLAS is not OpenBLAS")


@contextlib.contextmanager
def threads(n: int):
    """n threads for the block, the count before given back after."""
    before = tg.get_num_threads()
    tg.set_num_threads(n)
    try:
        yield
    finally:
        tg.set_num_threads(before)


@pytest.fixture
def split_everything(monkeypatch):
    """Three threads, and no pass too small to split."""
    monkeypatch.setattr(parallel, "_MIN_WORK", 0)
    monkeypatch.setattr(parallel, "_QUIET", float("inf"))  # products split as after kernels
    with threads(3):
        yield


def test_pieces_cover_the_range_in_order_and_differ_by_at_most_one():
    for n, k in [(10, 3), (2, 5), (7, 7), (1, 2), (64, 2)]:
        parts = parallel.pieces(n, k)
        assert len(parts) == min(n, k)
        assert [i for s in parts for i in range(n)[s]] == list(range(n))
        sizes = [s.stop - s.start for s in parts]
        assert max(sizes) - min(sizes) <= 1


@needs_openblas
def test_the_pieces_run_at_once_and_come_back_in_order(split_everything):
    meet = threading.Barrier(3, timeout=10)  # passes only if all three pieces run together

    def piece(s):
        meet.wait()
        return (s.start, threading.get_ident())

    out = parallel.each(piece, 9, work=1)
    assert [start for start, _ in out] == [0, 3, 6]
    assert out[0][1] == threading.get_ident()  # the caller ran the first piece itself
    assert len({ident for _, ident in out}) == 3


@needs_openblas
def test_blas_runs_one_thread_inside_and_gets_its_count_back_after(split_everything):
    lib = blas._openblas()
    seen = parallel.each(lambda s: int(lib.get_threads()), 4, work=1)
    assert seen == [1, 1, 1]
    assert int(lib.get_threads()) == 3
    with pytest.raises(ZeroDivisionError):
        parallel.each(lambda s: 1 // (s.start - 2), 3, work=1)  # the second piece fails
    assert int(lib.get_threads()) == 3  # given back all the same
    assert parallel.each(lambda s: s, 2, work=1) == [slice(0, 1), slice(1, 2)]  # no lock held


@needs_openblas
def test_a_piece_that_splits_again_works_serially_in_its_own_thread(split_everything):
    inner = parallel.each(lambda s: parallel.each(lambda t: (t, threading.get_ident()), 6, 1),
                          3, work=1)
    for piece in inner:
        assert len(piece) == 1 and piece[0][0] == slice(0, 6)


def test_small_work_and_one_thread_make_one_piece(monkeypatch):
    assert parallel.each(lambda s: s, 100, work=parallel._MIN_WORK - 1) == [slice(0, 100)]
    with threads(1):
        assert tg.get_num_threads() == 1
        assert parallel.each(lambda s: s, 100, work=1 << 30) == [slice(0, 100)]


PRODUCTS = [((7, 5), (5, 4)), ((3, 7, 5), (5, 4)), ((7, 5), (3, 5, 4)), ((3, 7, 5), (3, 5, 4)),
            ((2, 1, 7, 5), (3, 5, 4)), ((5,), (5, 4)), ((7, 5), (5,)), ((1, 5), (5, 9))]


@needs_openblas
@pytest.mark.parametrize("sa,sb", PRODUCTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_matmul_split_equals_numpys(sa, sb, dtype, split_everything):
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=s).round(1).astype(dtype) for s in (sa, sb))
    got, want = parallel.matmul(a, b), np.matmul(a, b)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # a transposed operand (x @ W.T) and an output of one's own
    out = np.empty_like(want) if a.ndim >= 2 and b.ndim >= 2 else None
    if out is not None:
        bt = np.ascontiguousarray(np.swapaxes(b, -1, -2)).swapaxes(-1, -2)
        assert parallel.matmul(a, bt, out=out) is out
        np.testing.assert_allclose(out, want, rtol=1e-6)


@needs_openblas
def test_products_are_left_to_blas_unless_a_kernels_pieces_ran_lately(monkeypatch):
    calls = []
    real = parallel.each
    monkeypatch.setattr(parallel, "each", lambda *a, **k: calls.append(k) or real(*a, **k))
    monkeypatch.setattr(parallel, "_LAST_SPLIT", [-1e9])
    with threads(2):
        a = np.ones((512, 512), np.float32)
        np.testing.assert_array_equal(parallel.matmul(a, a), a @ a)
        assert calls == []  # numpy's own product, BLAS's threads
        x = np.arange(parallel._MIN_WORK * 2, dtype=np.float32) % 7
        sums = x.reshape(-1, 64).sum(1, keepdims=True), x.reshape(-1, 64).sum(0, keepdims=True)
        np.testing.assert_array_equal(csum(x.reshape(-1, 64), (1,)), sums[0])  # products
        assert calls == [] and parallel._LAST_SPLIT[0] < 0  # ... as numpy would run them
        parallel.rows(lambda o, x: np.negative(x, out=o), np.empty_like(x), x)  # a kernel
        assert calls == [{}] and parallel._LAST_SPLIT[0] > 0
        np.testing.assert_array_equal(parallel.matmul(a, a), a @ a)
        assert calls[1:] == [{"products": True}]  # split by us, BLAS's threads left asleep
        # sums as matrix-vector products, a's rows split (a vector times a matrix as its
        # transpose times the vector)
        np.testing.assert_array_equal(csum(x.reshape(-1, 64), (1,)), sums[0])
        np.testing.assert_array_equal(csum(x.reshape(-1, 64), (0,)), sums[1])
        assert calls[2:] == [{"products": True}] * 2


def test_a_stack_times_one_matrix_is_one_product_of_all_rows():
    a = np.random.default_rng(0).normal(size=(7, 4, 6)).transpose(1, 0, 2)  # not contiguous
    b = np.random.default_rng(1).normal(size=(6, 3))
    got = parallel.matmul(a, b)
    assert got.shape == (4, 7, 3) and got.flags.c_contiguous
    np.testing.assert_allclose(got, np.matmul(a, b), rtol=1e-12)


@needs_openblas
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shape", [(), (1,), (0, 3), (5, 3), (7, 2, 3)])
def test_relu_split_in_pieces_is_torchs_and_shares_no_memory(dtype, shape, split_everything):
    x = np.random.default_rng(0).normal(size=shape).round(1).astype(dtype)
    ours, theirs = tg.tensor(x), torch.tensor(x)
    if dtype != np.int64:
        ours.requires_grad_(True)
        theirs.requires_grad_(True)
    y, want = tg.nn.functional.relu(ours), torch.relu(theirs)
    assert y.dtype == tg.from_numpy(want.detach().numpy()).dtype
    np.testing.assert_array_equal(y.numpy(), want.detach().numpy())
    assert not np.shares_memory(y.numpy(), x)
    if dtype != np.int64:
        g = np.random.default_rng(1).normal(size=shape).astype(dtype)
        y.backward(tg.tensor(g))
        want.backward(torch.tensor(g))
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def _cnn_pair(batch: int):
    torch.manual_seed(0)
    theirs = build_cnn(torch.nn).double()
    ours = interop.from_torch(theirs)
    x = np.random.default_rng(1).normal(size=(batch, 784))
    y = np.random.default_rng(2).integers(0, 10, batch)
    return ours, theirs, x, y


@needs_openblas
@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_cnn_step_split_in_pieces_gives_torchs_loss_and_gradients(count, monkeypatch):
    """conv (its blocks), batch norm (partial sums), relu, max pooling and the head's products,
    all split even at batch 5 (pieces of 2, 2 and 1 images at 3 threads)."""
    monkeypatch.setattr(parallel, "_MIN_WORK", 0)
    with threads(count):
        ours, theirs, x, y = _cnn_pair(5)
        loss = tg.nn.functional.cross_entropy(ours(tg.tensor(x)), tg.tensor(y))
        loss.backward()
    want = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    want.backward()
    assert abs(loss.item() - want.item()) < 1e-10
    for (k, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-7, atol=1e-10,
                                   err_msg=k)
