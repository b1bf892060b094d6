"""The forwards and rules of the op table's fused rows: batch normalization and the
standardization inside layer and group norm, max pooling, convolution, the LSTM cell, and
attention's weights.

Composed of primitives each of these is several graph nodes, each a full pass over the data
forward and backward; as one row each has the closed-form gradient (what PyTorch's kernels
compute too). The rows themselves stand in the table (ops.py), beside all the others; the
functions here are written in rule_math's vocabulary, so that where a rule also runs on
Tensors (create_graph) the same formula records a graph.
"""

from __future__ import annotations

import itertools
import math
import threading
import weakref
from typing import Any

import numpy as np

from ..blas import transpose
from ..memory import empty, empty_like
from ..parallel import each, get_num_threads, rows
from .rule_math import (
    _NP,
    _unfold,
    csum,
    matmul,
    mT,
    permute,
    reshape,
    row_max,
    sqrt,
    unfold,
    unfold_backward,
)

__all__ = ["batch_stats", "conv_rows", "pool_argmax", "pool_scatter"]


# ---- fused rows for a CNN: batch normalization and max pooling -----------------------------------
# Composed of primitives, batch norm is ~9 nodes and max pooling a where and a sum over every
# window, each a full pass forward and backward: these rows do each in one node, with the
# closed-form gradient (what PyTorch's kernels compute too).


def _over(shape, axes) -> int:
    """How many elements a reduction over `axes` of `shape` adds up."""
    return math.prod(shape[d] for d in axes)


def _batch_sum(fn, x, axes):
    """The sum of fn(part) over pieces of x's batch (dim 0, when summed over): partial sums
    made at once (parallel.py) and added up."""
    if 0 not in axes:
        return fn(x)
    return sum(rows(fn, x))


def batch_stats(x: np.ndarray, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, ...]:
    """The batch's mean, 1 / sqrt(biased variance + eps) and variance over `axes`, as size-1
    dims kept: what the batch_norm row normalizes with, computed once (float32 for float16)."""
    acc = np.dtype(np.float32 if x.dtype == np.float16 else x.dtype)
    n = acc.type(_over(x.shape, axes))
    mean = _batch_sum(lambda p: csum(p.astype(acc, copy=False), axes), x, axes) / n

    def squares(p):
        d = np.subtract(p, mean, dtype=acc)
        np.multiply(d, d, out=d)
        return csum(d, axes)

    var = _batch_sum(squares, x, axes) / n
    return mean, 1 / np.sqrt(var + acc.type(eps)), var


def _bn_stats(x, axes, eps, mean, inv_std):
    """The statistics a batch_norm rule uses: on arrays the forward's own (its constants); on
    Tensors (create_graph) computed again from x, so that a second derivative sees how the
    mean and the variance move with x."""
    if isinstance(x, _NP):
        return mean, inv_std
    n = _over(x.shape, axes)
    m = x.sum(dim=axes, keepdim=True) / n
    d = x - m
    return m, 1 / sqrt((d * d).sum(dim=axes, keepdim=True) / n + eps)


def _batch_norm(x, weight, bias, axes, eps, mean, inv_std):
    """(x - mean) * inv_std * weight + bias, in three passes (all but x are per channel)."""
    scale = inv_std * weight

    def norm(o, x):
        np.subtract(x, mean, out=o)
        o *= scale
        o += bias

    out = empty_like(x, dtype=np.result_type(x, mean))  # in x's memory layout
    rows(norm, out, x)
    return out.astype(x.dtype, copy=False)


def _bn_dx(g, out, x, weight, bias, axes, eps, mean, inv_std):
    # with x_hat = (x - mean) inv_std, dy_hat = g weight and N elements per channel:
    # dx = inv_std / N (N dy_hat - sum(dy_hat) - x_hat sum(dy_hat x_hat))
    if isinstance(g, _NP):
        return _bn_dx_arrays(g, x, weight, axes, mean, inv_std)
    mean, inv_std = _bn_stats(x, axes, eps, mean, inv_std)
    n = _over(x.shape, axes)
    x_hat = (x - mean) * inv_std
    return weight * inv_std * (g - csum(g, axes) / n - x_hat * (csum(g * x_hat, axes) / n))


def _bn_dx_arrays(g, x, weight, axes, mean, inv_std):
    """The same on arrays, as dx = a g + b (x - mean) + c per channel: four passes over x."""
    n = _over(x.shape, axes)
    d = empty_like(x, dtype=np.result_type(x, mean))
    a = weight * inv_std

    def centre(d, x, g):  # d = x - mean, and this piece's sums of g d and of g
        np.subtract(x, mean, out=d)
        return csum(g * d, axes), csum(g, axes)

    parts = rows(centre, d, x, g)
    gd, gs = sum(p[0] for p in parts), sum(p[1] for p in parts)
    _BN_SUM[0] = (weakref.ref(g), weakref.ref(x), gd)  # the weight's rule needs it too
    b = gd * (-a * inv_std * inv_std / n)  # -w inv_std^3 sum(g (x - mean)) / N
    c = gs * (-a / n)

    def combine(d, g):
        d *= b
        d += a * g
        d += c

    rows(combine, d, g)
    return d


# sum(g (x - mean)) of the last batch_norm input rule on arrays, with (weak references to) the
# g and x it was computed from: the weight's rule, run next on the same arrays, reuses it
# instead of two more passes over x
_BN_SUM: list[Any] = [None]


def _bn_dweight(g, out, x, weight, bias, axes, eps, mean, inv_std):
    mean, inv_std = _bn_stats(x, axes, eps, mean, inv_std)
    last = _BN_SUM[0]
    if isinstance(g, _NP) and last is not None and last[0]() is g and last[1]() is x:
        _BN_SUM[0] = None
        return last[2] * inv_std
    return csum(g * (x - mean), axes) * inv_std  # sum(g x_hat)


def _bn_dbias(g, out, x, weight, bias, axes, eps, mean, inv_std):
    return csum(g, axes)


def _standardize(x, axes, eps, mean, inv_std):
    """(x - mean) * inv_std over `axes`: LayerNorm's and GroupNorm's core, before any affine."""
    out = np.subtract(x, mean)
    out *= inv_std
    return out.astype(x.dtype, copy=False)


def _standardize_dx(g, out, x, axes, eps, mean, inv_std):
    # x_hat = (x - mean) inv_std over N elements: dx = inv_std (g - avg(g) - x_hat avg(g x_hat))
    if isinstance(g, _NP):  # x_hat is the output
        n = _over(x.shape, axes)
        d = out * (csum(g * out, axes) / n)
        np.subtract(g, d, out=d)
        d -= csum(g, axes) / n
        d *= inv_std
        return d
    return _bn_dx(g, out, x, 1, None, axes, eps, mean, inv_std)  # batch norm's, weight 1


def _bn_eval_dx(g, out, x, weight, bias, axes, eps, mean, inv_std):
    return g * (weight * inv_std)  # the running statistics are constants


def _bn_eval_dweight(g, out, x, weight, bias, axes, eps, mean, inv_std):
    return csum(g * (x - mean), axes) * inv_std


# Max pooling: the windows are those of the unfold row (padding with -inf). `pool_argmax`
# finds, once, which tap of each window holds its maximum; the row's forward takes the
# maxima, its rule sends each window's gradient to that tap alone (as PyTorch's indices).


def _taps(sizes) -> list[tuple[int, ...]]:
    return list(itertools.product(*map(range, sizes)))


def _inside(win, shape, tap) -> np.ndarray | None:
    """Which window positions have this tap inside the unpadded input (None: all of them);
    shaped to broadcast over the windows' positions."""
    dims, sizes, steps, dilations, pads, _ = win
    if not any(lo or hi for lo, hi in pads):
        return None
    pos = [(shape[d] + lo + hi - dl * (k - 1) - 1) // s + 1
           for d, k, s, dl, (lo, hi) in zip(dims, sizes, steps, dilations, pads)]
    mask = np.ones((1,) * len(dims), dtype=bool)
    for i, (d, s, dl, (lo, _), t, m) in enumerate(zip(dims, steps, dilations, pads, tap, pos)):
        place = np.arange(m) * s + t * dl - lo
        ok = (place >= 0) & (place < shape[d])
        mask = mask & ok.reshape((1,) * i + (m,) + (1,) * (len(dims) - 1 - i))
    return mask


def pool_argmax(x: np.ndarray, win: tuple) -> np.ndarray:
    """The tap (flat index into the kernel) of each window's maximum, PyTorch's choice: the
    first maximum inside the input (padding never wins, even over -inf), or the last nan.
    Found for pieces of the batch at once (parallel.py) when the windows do not span dim 0."""
    parts = [_argmax(x, win)] if 0 in win[0] else rows(lambda x: _argmax(x, win), x)
    arg = parts[0] if len(parts) == 1 else np.concatenate(parts)
    arg.flags.writeable = False  # a constant of the graph: saved without a copy
    return arg


def _argmax(x, win):
    view = _unfold(x, win, x.shape)
    taps = _taps(win[1])
    vs = [view[(Ellipsis, *tap)] for tap in taps]
    best = vs[0].copy(order="K")
    for v in vs[1:]:
        np.maximum(best, v, out=best)
    arg = np.zeros(best.shape, dtype=np.int8 if len(taps) < 128 else np.int32)
    seen = None
    for t, (tap, v) in enumerate(zip(taps, vs)):
        hit = v == best
        inside = _inside(win, x.shape, tap)
        if inside is not None:
            hit &= inside
        if seen is None:
            seen = hit
            continue
        hit &= ~seen
        seen |= hit
        arg += hit.view(np.int8).astype(arg.dtype, copy=False) * arg.dtype.type(t)
    if np.isnan(best).any():  # nan wins, the last one in the window (PyTorch's CPU kernel)
        for t, v in enumerate(vs):
            np.putmask(arg, np.isnan(v), t)
    return arg


def _pool_max(a, win, arg):
    """The maximum of each window (nan if it holds one)."""
    view = _unfold(a, win, a.shape)
    taps = _taps(win[1])
    best = empty_like(view[(Ellipsis, *taps[0])])  # in a's memory order

    def most(best, view):
        np.copyto(best, view[(Ellipsis, *taps[0])])
        for tap in taps[1:]:
            np.maximum(best, view[(Ellipsis, *tap)], out=best)

    if 0 in win[0]:
        most(best, view)
    else:
        rows(most, best, view)
    return best


def _pool_places(arg, win):
    """For each window, the index of its arg-max tap in the padded input, one array per dim."""
    dims, sizes, steps, dilations, _, _ = win
    offsets = np.unravel_index(arg, sizes)
    idx = list(np.indices(arg.shape, sparse=True))
    for i, (d, s, dl) in enumerate(zip(dims, steps, dilations)):
        idx[d] = idx[d] * s + offsets[i] * dl
    return tuple(idx)


def _pool_scatter(g, like, win, arg):
    """Zeros of like's shape (in its memory order) with each window's g added at its arg-max
    tap: one pass per tap. Disjoint windows write each place once (no adds)."""
    dims, sizes, steps, dilations, pads, _ = win
    shape = list(like.shape)
    for d, (lo, hi) in zip(dims, pads):
        shape[d] += lo + hi
    order = sorted(range(len(shape)), key=lambda i: -like.strides[i])
    disjoint = all(s >= dl * (k - 1) + 1 for k, s, dl in zip(sizes, steps, dilations))
    # windows side by side with no gap (2x2 every 2 over an even size): every place is written
    tiled = disjoint and all(s == k and (dl == 1 or k == 1) and shape[d] == s * m for d, k, s, dl, m
                             in zip(dims, sizes, steps, dilations, arg.shape[-len(dims):]))
    out = empty([shape[i] for i in order], dtype=g.dtype)
    if not tiled:
        out.fill(0)
    out = out.transpose(np.argsort(order))
    view = _unfold(out, (dims, sizes, steps, dilations, ((0, 0),) * len(dims), 0.0), out.shape)

    def scatter(view, g, arg):
        finite = bool(np.isfinite(g).all())  # else g * 0 would put nan where g does not go
        for t, tap in enumerate(_taps(sizes)):
            dst = view[(Ellipsis, *tap)]
            hit = arg == t
            if disjoint and finite:  # each place written once
                np.multiply(g, hit, out=dst)
            elif disjoint:
                dst[...] = np.where(hit, g, 0)
            elif finite:
                dst += g * hit
            else:
                dst += np.where(hit, g, 0)

    if 0 in dims:
        scatter(view, g, arg)
    else:  # pieces of the batch at once (parallel.py)
        rows(scatter, view, g, arg)
    if any(lo or hi for lo, hi in pads):
        crop = [slice(None)] * len(shape)
        for d, (lo, _) in zip(dims, pads):
            crop[d] = slice(lo, lo + like.shape[d])
        out = out[tuple(crop)]
    return out


def pool_scatter(g, a, win, arg):
    """max_pool's VJP: g at each window's arg-max place of a, zeros elsewhere. On Tensors an
    index_add and a crop (rows whose rules are a gather and a pad), so it differentiates."""
    if isinstance(g, _NP):
        return _pool_scatter(g, a, win, arg)
    dims, _, _, _, pads, _ = win
    shape = list(a.shape)
    for d, (lo, hi) in zip(dims, pads):
        shape[d] += lo + hi
    full = g._index_add(_pool_places(arg, win), tuple(shape))
    crop = [slice(None)] * len(shape)
    for d, (lo, _) in zip(dims, pads):
        crop[d] = slice(lo, lo + a.shape[d])
    return full[tuple(crop)]



# ---- convolution: im2col and one matrix product per group, in one row --------------------------
# conv(x, w) = rows(x) @ W^T per group: rows(x) is x's im2col, a row per image and window
# position holding its window tap by tap, channels innermost; W the weight laid out the same.
# On arrays the rows are never made whole (for a 3x3 conv of 64 channels they are 9 times the
# input: 75 MB at batch 32, page-faulted in at every call): they are copied a block at a time
# (a few images, or lines of one) into a buffer that stays in the CPU's cache, and each block's
# product is written into its part of the output. The weight's rule copies the same blocks
# again and adds up their products; the input's rule is, for stride 1, what it is: the
# convolution of g, padded, with the flipped kernel. On Tensors (create_graph) the same
# formulas run whole, as a graph of ordinary ops.

_BLOCK_BYTES = 4 << 20  # one block of im2col rows: fits the CPU's cache, yet a product big for BLAS


def conv_rows(x, win, groups):
    """x's im2col as (groups, N * positions, taps * C/groups), whole (a graph on Tensors)."""
    nsp = len(win[0])
    n, c = x.shape[:2]
    cols = unfold(x, win, x.shape)  # (N, C, *pos, *kernel), a view
    m, taps = math.prod(cols.shape[2:2 + nsp]), math.prod(win[1])
    rows = reshape(permute(cols, (0, *range(2, 2 + 2 * nsp), 1)), (n * m, taps, groups,
                                                                     c // groups))
    return reshape(permute(rows, (2, 0, 1, 3)), (groups, n * m, taps * (c // groups)))


_SCRATCH = threading.local()  # each thread's block buffer, kept: faulting it in each call costs


def _scratch(n: int, dtype) -> np.ndarray:
    """This thread's scratch buffer as n elements of dtype (grown when too small); the one
    user at a time is the generator that asked for it last."""
    nbytes = n * np.dtype(dtype).itemsize
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < nbytes:
        buf = _SCRATCH.buf = np.empty(nbytes, dtype=np.uint8)
    return buf[:nbytes].view(dtype)


def _padded_channels_last(x, win):
    """x padded as the windows ask and laid out channels last, so that each tap's channels
    are one run of memory: made image by image, pieces of the batch at once, an NCHW image
    turned by BLAS's transpose (blas.py). Returns it (indexed as x) and the windows, their
    padding now done; x itself if it is laid out so already and needs no padding."""
    dims, sizes, steps, dilations, pads, fill = win
    if (x.shape[1] == 1 or x.strides[1] == x.itemsize) and not any(map(any, pads)):
        return x, win
    n, c, *sp = x.shape
    padded = empty((n, *[s + lo + hi for s, (lo, hi) in zip(sp, pads)], c), x.dtype)
    inside = tuple(slice(lo, lo + s) for s, (lo, _) in zip(sp, pads))

    def fill_in(padded, x):
        for d, (lo, hi) in enumerate(pads, start=1):  # the border, a slab per side
            padded[(slice(None),) * d + (slice(0, lo),)] = fill
            padded[(slice(None),) * d + (slice(padded.shape[d] - hi, padded.shape[d]),)] = fill
        for image, dst in zip(x, padded):
            turned = _scratch(image.size, x.dtype).reshape(-1, c)  # (positions, C)
            if image.flags.c_contiguous and transpose(image.reshape(c, -1), turned):
                np.copyto(dst[inside], turned.reshape(*sp, c))
            else:
                np.copyto(dst[inside], np.moveaxis(image, 0, -1))

    rows(fill_in, padded, x)
    no_pads = ((0, 0),) * len(pads)
    return np.moveaxis(padded, -1, 1), (dims, sizes, steps, dilations, no_pads, fill)


class _RowBlocks:
    """x's im2col in blocks: `index[i]` is block i's part of the (N, *pos) grid, and `rows(part)`
    copies the blocks of `part` (a slice of them) one by one into one buffer of ~_BLOCK_BYTES,
    giving each as (its index, its rows as (groups, rows, taps * C/groups)). There are at least
    as many blocks as threads (parallel.py), so that each can copy and multiply its own."""

    def __init__(self, x, win, groups):
        nsp = len(win[0])
        x, win = _padded_channels_last(x, win)
        cols = _unfold(x, win, x.shape)  # (N, C, *pos, *kernel), a view
        n, c, pos = x.shape[0], x.shape[1], cols.shape[2:2 + nsp]
        self.groups, cg, taps = groups, c // groups, math.prod(win[1])
        self.width = taps * cg
        # (G, N, *pos, *kernel, C/G): a block of this, copied, is laid out as its rows
        cols = cols.reshape(n, groups, cg, *cols.shape[2:])
        self.cols = cols.transpose(1, 0, *range(3, 3 + 2 * nsp), 2)
        per_image, per_line = math.prod(pos), math.prod(pos[1:])
        fit = max(1, _BLOCK_BYTES // (taps * c * x.itemsize))  # rows in a block
        k = get_num_threads()
        fit = min(fit, -(-n * per_image // k))  # at least a block per thread
        if per_image <= fit:  # whole images, in a multiple of k blocks of near-equal size
            count = -(-n // (fit // per_image))
            step = -(-n // (-(-count // k) * k))
            self.index = [(slice(i, i + step), slice(None)) for i in range(0, n, step)]
            self.largest = min(step, n) * per_image
        else:  # lines (along the first spatial dim) of one image
            step = max(1, fit // per_line)
            self.index = [(slice(i, i + 1), slice(j, j + step))
                          for i in range(n) for j in range(0, pos[0], step)]
            self.largest = min(step, pos[0]) * per_line

    def rows(self, part: slice):
        buf = _scratch(self.groups * self.largest * self.width, self.cols.dtype)
        for index in self.index[part]:
            block = self.cols[(slice(None), *index)]
            rows = buf[:block.size].reshape(block.shape)
            np.copyto(rows, block)
            yield index, rows.reshape(self.groups, -1, self.width)


def _conv_arrays(x, wmat, win, groups):
    """An array x convolved with wmat, (G, taps * C/G, O/G): (N, O, *pos), laid out channels
    last, (N, *pos, O), in memory. The blocks are split among the threads."""
    nsp = len(win[0])
    o = groups * wmat.shape[-1]
    y = empty((x.shape[0], *_windowed_size(x.shape, win), o), dtype=np.result_type(x, wmat))
    blocks = _RowBlocks(x, win, groups)

    def part(which):
        for index, block in blocks.rows(which):
            out = y[index].reshape(-1, groups, o // groups).transpose(1, 0, 2)
            np.matmul(block, wmat, out=out)

    each(part, len(blocks.index), work=y.size * blocks.width)
    return y.transpose(0, nsp + 1, *range(1, nsp + 1))


def _conv_weight(w, groups):
    """(O, C/G, *kernel) -> (G, O/G, taps * C/G), laid out as conv_rows' columns."""
    o, cg = w.shape[:2]
    taps = math.prod(w.shape[2:])
    return reshape(permute(reshape(w, (groups, o // groups, cg, taps)), (0, 1, 3, 2)),
                   (groups, o // groups, taps * cg))


def _conv_image(y, n, spatial):
    """(G, N * positions, O/G) -> (N, O, *spatial): a view, channels last in memory."""
    nsp = len(spatial)
    y = reshape(permute(y, (1, 0, 2)), (n, *spatial, y.shape[0] * y.shape[2]))
    return permute(y, (0, nsp + 1, *range(1, nsp + 1)))


def _conv_grad_rows(g, groups):
    """(N, O, *pos) -> (G, N * positions, O/G): the output gradient as conv_rows' rows."""
    nsp = g.ndim - 2
    n, o = g.shape[:2]
    rows = reshape(permute(g, (0, *range(2, 2 + nsp), 1)), (-1, groups, o // groups))
    return permute(rows, (1, 0, 2))


def _conv(x, w, win, groups):
    """x's im2col @ W^T, per group."""
    if isinstance(x, _NP):
        return _conv_arrays(x, mT(_conv_weight(w, groups)), win, groups)
    return _conv_image(matmul(conv_rows(x, win, groups), mT(_conv_weight(w, groups))),
                       x.shape[0], tuple(_windowed_size(x.shape, win)))


def _windowed_size(shape, win):
    dims, sizes, steps, dilations, pads, _ = win
    return [(shape[d] + lo + hi - dl * (k - 1) - 1) // s + 1
            for d, k, s, dl, (lo, hi) in zip(dims, sizes, steps, dilations, pads)]


def _conv_dx(g, out, x, w, win, groups):
    dims, sizes, steps, dilations, pads, _ = win
    spans = [dl * (k - 1) + 1 for k, dl in zip(sizes, dilations)]
    flipped = tuple((sp - 1 - lo, sp - 1 - hi) for sp, (lo, hi) in zip(spans, pads))
    if isinstance(g, _NP) and all(s == 1 for s in steps) and min(min(flipped)) >= 0:
        # dx = g (padded by span - 1 - pad) correlated with the flipped kernel, in and out
        # channels swapped: a convolution of g
        nsp = len(dims)
        o, cg = w.shape[:2]
        taps = math.prod(sizes)
        wf = w[(slice(None), slice(None), *(slice(None, None, -1),) * nsp)]
        wf = wf.reshape(groups, o // groups, cg, taps).transpose(0, 3, 1, 2)
        return _conv_arrays(g, wf.reshape(groups, taps * (o // groups), cg),
                            (dims, sizes, steps, dilations, flipped, 0.0), groups)
    # any stride: each window's gradient, g @ W, added back where it was taken from (col2im)
    nsp = len(dims)
    n, c = x.shape[:2]
    d = matmul(_conv_grad_rows(g, groups), _conv_weight(w, groups))  # (G, N*L, taps*C/G)
    d = reshape(d, (groups, -1, math.prod(sizes), c // groups))
    d = reshape(permute(d, (1, 2, 0, 3)), (n, *g.shape[2:], *sizes, c))
    d = permute(d, (0, 2 * nsp + 1, *range(1, 2 * nsp + 1)))  # (N, C, *pos, *kernel)
    return unfold_backward(d, x.shape, win)


def _conv_dw(g, out, x, w, win, groups):
    o, cg = w.shape[:2]
    taps = math.prod(w.shape[2:])
    if isinstance(x, _NP):  # the sum over blocks of (the block's g)^T @ (its rows of x)
        g_last = g.transpose(0, *range(2, g.ndim), 1)  # (N, *pos, O), a view
        blocks = _RowBlocks(x, win, groups)

        def part(which):
            dw = product = None
            for index, block in blocks.rows(which):
                gb = g_last[index].reshape(-1, groups, o // groups).transpose(1, 2, 0)
                if dw is None:
                    dw = np.matmul(gb, block)
                    product = np.empty_like(dw)
                else:
                    dw += np.matmul(gb, block, out=product)
            if dw is None:  # no rows at all (an empty batch): no gradient but zeros
                dw = np.zeros((groups, o // groups, blocks.width), np.result_type(g, x))
            return dw

        dw, *more = each(part, len(blocks.index), work=g.size * blocks.width)
        for other in more:
            dw += other
    else:  # on Tensors: x's im2col again, whole, as a graph
        dw = matmul(mT(_conv_grad_rows(g, groups)), conv_rows(x, win, groups))
    return reshape(permute(reshape(dw, (groups, o // groups, taps, cg)), (0, 1, 3, 2)),
                   w.shape)


# ---- sequence-model ops (nn/rnn.py): one LSTM step as three fused rows -----------------------
# gates: the (..., 4H) pre-activations (i, f, g, o). `lstm_gates` activates them all at once
# (sigmoid for i, f, o and tanh for g), then `lstm_cell` and `lstm_hidden` read the activated
# gates A = (A_i, A_f, A_g, A_o), so no rule recomputes a sigmoid. Composed of primitives a
# step is 17 graph nodes, as these rows 6: that is what brings the LSTM near PyTorch's fused
# cell. The rules run on arrays only (no second derivatives through them).

_LSTM_COLUMNS: dict[tuple[int, Any], tuple[np.ndarray, ...]] = {}


def _lstm_columns(n: int, dtype: Any) -> tuple[np.ndarray, ...]:
    """Per column of (i, f, g, o): the scale inside tanh and the affine map after it, since
    sigmoid(x) = 0.5 + 0.5 tanh(x / 2); and (alpha, gamma) with act' = alpha - (act - gamma)^2
    (sigmoid' = s (1 - s) = 1/4 - (s - 1/2)^2, tanh' = 1 - t^2)."""
    key = (n, np.dtype(dtype))
    if key not in _LSTM_COLUMNS:
        half = np.full(4 * n, 0.5, dtype)
        half[2 * n:3 * n] = 1.0
        shift = np.full(4 * n, 0.5, dtype)
        shift[2 * n:3 * n] = 0.0
        alpha = np.full(4 * n, 0.25, dtype)
        alpha[2 * n:3 * n] = 1.0
        _LSTM_COLUMNS[key] = (half, shift, alpha)
    return _LSTM_COLUMNS[key]


def _lstm_activate(gates):
    half, shift, _ = _lstm_columns(gates.shape[-1] // 4, gates.dtype)
    act = np.tanh(gates * half)
    act *= half
    act += shift
    return act


def _lstm_activate_rule(g, out, gates):
    half, shift, alpha = _lstm_columns(gates.shape[-1] // 4, gates.dtype)
    d = out - shift
    return g * (alpha - d * d)


def _lstm_cell_rule(g, out, act, c):
    n = c.shape[-1]
    d = np.zeros(g.shape[:-1] + (4 * n,), g.dtype)   # sum_to (Tensor._vjps) undoes broadcasting
    d[..., :n] = g * act[..., 2 * n:3 * n]            # dc'/dA_i = A_g
    d[..., n:2 * n] = g * c                           # dc'/dA_f = c
    d[..., 2 * n:3 * n] = g * act[..., :n]            # dc'/dA_g = A_i
    return d                                          # A_o does not touch c'


def _lstm_hidden_rule(g, out, act, c):
    n = c.shape[-1]
    d = np.zeros(g.shape[:-1] + (4 * n,), g.dtype)
    d[..., 3 * n:] = g * np.tanh(c)                   # dh/dA_o = tanh(c')
    return d


def _lstm_hidden_c_rule(g, out, act, c):
    t = np.tanh(c)
    return g * act[..., 3 * (act.shape[-1] // 4):] * (1 - t * t)  # dh/dc' = A_o tanh'(c')


def _lstm_cell(act, c):
    n = c.shape[-1]
    return act[..., n:2 * n] * c + act[..., :n] * act[..., 2 * n:3 * n]


# ---- attention (nn/functional.py): its weights softmax(q k^T scale + mask) as one row --------
# Composed of primitives these are five nodes (the product, the scale, the mask, log_softmax,
# exp), each a pass forward and backward; as one row the weights are made in place, and its
# rules are softmax's rule and the product's, with the weights (the row's output) to hand.


def _attention(q, k, mask, scale):
    """softmax over the keys (the last dim) of q k^T * scale + mask, (..., L, S), rows made in
    place. mask: None, boolean (True: may attend) or additive, broadcasting to the scores. A
    query that may attend to no key gets zero weights, as in PyTorch 2.13 (softmax: nan)."""
    s = np.matmul(q, k.swapaxes(-1, -2))
    if s.size == 0:  # no queries, or no keys: no weights
        return s
    s *= scale
    if mask is not None and mask.dtype == np.bool_:
        np.copyto(s, -np.inf, where=~mask)
    elif mask is not None:
        s += mask
    top = row_max(s)
    top[top == -np.inf] = 0  # a row with no key: exp(-inf - 0) = 0 throughout, and
    s -= top
    np.exp(s, out=s)
    total = csum(s, (s.ndim - 1,))
    total[total == 0] = 1  # its weights stay 0
    s /= total
    return s


def _attention_scores_grad(g, out, scale):
    """The gradient of the scores q k^T: softmax's rule out (g - sum(g out)) over the keys,
    times the scale (the scores' own derivative)."""
    return out * (g - csum(g * out, (out.ndim - 1,))) * scale


def _attention_dq(g, out, q, k, mask, scale):
    return matmul(_attention_scores_grad(g, out, scale), k)


def _attention_dk(g, out, q, k, mask, scale):
    return matmul(mT(_attention_scores_grad(g, out, scale)), q)
