"""Gradients that are not arrays yet (graph.Partial's two kinds): indexing's VJP as a `Scatter`
(g at idx of zeros, never written out whole), and the `GradSum` buffer that the backward pass
adds such shares into in place, so a tensor sliced at T places costs T slices, not T arrays of
its whole size."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.graph import Partial

__all__ = ["Scatter", "GradSum"]


def _is_basic(idx: tuple) -> bool:
    return not any(isinstance(i, np.ndarray) for i in idx)


def _index_add(g, idx, shape):
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(idx):  # slices and ints pick each element at most once
        out[idx] = g
    else:
        _add_at(out, idx, g)
    return out


def _add_at(out: np.ndarray, idx: tuple, g: np.ndarray) -> None:
    """out[idx] += g, repeated indices adding up (np.add.at). Rows picked by one integer array
    (an embedding's gradient) are sorted and each run of equal rows added up at once, several
    times faster than np.add.at's element by element."""
    ids = idx[0] if len(idx) == 1 else None
    if (ids is None or not isinstance(ids, np.ndarray) or ids.dtype.kind not in "iu"
            or ids.size < 64 or out.ndim < 2 or not out.flags.c_contiguous
            or g.dtype != out.dtype or g.shape != ids.shape + out.shape[1:]):
        np.add.at(out, idx, g)
        return
    n = out.shape[0]
    ids = ids.reshape(-1)
    if ids.size and (ids.min() < -n or ids.max() >= n):
        np.add.at(out, idx, g)  # its IndexError names the index
        return
    ids = np.where(ids < 0, ids + n, ids)  # -1 and n - 1 are one row
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    sums = np.add.reduceat(g.reshape(ids.size, -1)[order], starts, axis=0)
    rows = out.reshape(n, -1)
    rows[ids[starts]] += sums


class Scatter(Partial, np.lib.mixins.NDArrayOperatorsMixin):
    """`g` at `idx` of zeros of `shape`, not yet written out: indexing's VJP on arrays.

    The backward driver (graph.send) adds it into the input's pending gradient in place: only
    idx's elements are touched, in a buffer that only the pass holds (`GradSum`). Anywhere
    else it acts as the array it stands for (numpy functions and operators write it out).
    """

    __slots__ = ("g", "idx", "shape")

    def __init__(self, g: np.ndarray, idx: tuple, shape: tuple[int, ...]) -> None:
        self.g, self.idx, self.shape = g, idx, tuple(shape)

    @property
    def dtype(self) -> np.dtype:
        return self.g.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def astype(self, dtype: Any) -> Scatter:
        return Scatter(self.g.astype(dtype), self.idx, self.shape)

    def into(self, buf: np.ndarray) -> None:
        """buf[idx] += g, in place (repeated indices add up)."""
        if _is_basic(self.idx):
            buf[self.idx] += self.g
        else:
            _add_at(buf, self.idx, self.g)

    def dense(self) -> np.ndarray:
        return _index_add(self.g, self.idx, self.shape)

    def add(self, other: Any) -> Any:
        return GradSum(self.dense()).add(other)

    def add_onto(self, dense: Any) -> Any:
        if type(dense) is not np.ndarray or dense.shape != self.shape or \
                dense.dtype != self.g.dtype:
            return dense + self.dense()
        buf = dense.copy()  # `dense` may be another node's gradient too: never change it
        self.into(buf)
        return GradSum(buf)

    def resolve(self, node: Any) -> np.ndarray:
        out = node._fresh = self.dense()  # a new array: `.grad` may keep it as it is
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        inputs = tuple(i.dense() if isinstance(i, Scatter) else i for i in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __repr__(self) -> str:
        return f"Scatter(shape={self.shape}, values of shape {self.g.shape})"


class GradSum(Partial):
    """A gradient being added up in `buf`, an array only the backward pass holds (made by
    `Scatter`), so later shares are added into it in place. It lives only in a node's pending
    gradient, never as a rule's result."""

    __slots__ = ("buf",)

    def __init__(self, buf: np.ndarray) -> None:
        self.buf = buf

    def add(self, other: Any) -> Any:
        buf = self.buf
        if isinstance(other, Scatter) and other.shape == buf.shape and \
                other.dtype == buf.dtype:
            other.into(buf)
            return self
        if isinstance(other, (np.ndarray, np.generic)) and other.shape == buf.shape and \
                other.dtype == buf.dtype:
            np.add(buf, other, out=buf)
            return self
        return buf + other  # anything else as plain arithmetic (a new array)

    def resolve(self, node: Any) -> np.ndarray:
        node._fresh = self.buf  # nothing else holds it: `.grad` may keep it as it is
        return self.buf


