"""partials.py: indexing's gradient adds g into the picked rows, repeated rows adding up, as
np.add.at does; an embedding's gradient (rows picked by one integer array) equals torch's."""

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu.tensor.partials import _add_at

rng = np.random.default_rng(0)


@pytest.mark.parametrize("ids_shape", [(64,), (9, 13), (200, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_picked_by_one_integer_array_add_up_as_np_add_at(ids_shape, dtype):
    n = 7
    ids = rng.integers(-n, n, size=ids_shape)  # repeats, and negative rows (-1 is row n - 1)
    g = rng.normal(size=ids_shape + (3, 2)).astype(dtype)
    want, got = np.zeros((n, 3, 2), dtype), np.zeros((n, 3, 2), dtype)
    np.add.at(want, (ids,), g)
    _add_at(got, (ids,), g)
    # another order of the same additions: within n eps max|term| of np.add.at's
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_an_index_out_of_range_is_numpys_index_error():
    with pytest.raises(IndexError, match="out of bounds"):
        _add_at(np.zeros((5, 2)), (np.arange(70) % 6,), np.ones((70, 2)))


def test_an_embeddings_gradient_over_many_repeated_ids_is_torchs():
    ids = rng.integers(0, 27, size=(32, 16))
    w = rng.normal(size=(27, 8))
    ours = tg.tensor(w, requires_grad=True)
    theirs = torch.tensor(w, requires_grad=True)
    g = rng.normal(size=(32, 16, 8))
    tg.nn.functional.embedding(tg.tensor(ids), ours).backward(tg.tensor(g))
    torch.nn.functional.embedding(torch.tensor(ids), theirs).backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
