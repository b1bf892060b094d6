"""Sliding windows: convolution, pooling, unfold/fold, padding and resampling, from primitives.

Everything here is built on one primitive, `unfold` (every window of a tensor along some of
its dims, padded if asked, as a strided view: no copy beyond the padding; `Tensor.unfold` is
its one-dim case), whose gradient adds each window back where it came from (`unfold_backward`,
col2im). Both are rows of the op table (ops.py), each the other's derivative. Convolution and
max pooling, the two a CNN spends its time in, are fused rows of their own over the same
windows (ops.py's `conv` and `max_pool`), whose rules also run on Tensors; so all of the
below has first and second derivatives:

- `unfold(x)` (im2col): pad, then take windows along every spatial dim: (N, C*K, L);
- `conv2d(x, w) = w @ unfold(x)`: one matrix product per group (the `conv` row; its input
  gradient, for stride 1, the convolution of the gradient with the flipped kernel);
  `conv_transpose2d` is the other way round, `fold(w.T @ x)` (col2im);
- pooling reduces each window: max (the `max_pool` row: the gradient goes to the first
  maximum, as PyTorch's indices), mean (with PyTorch's divisors at the borders);
- adaptive average pooling and bilinear interpolation are matrix products along each dim.

Functions take a Tensor first, with PyTorch's `nn.functional` signatures for 1-D and 2-D
inputs (N, C, L) and (N, C, H, W); conv and pooling also take unbatched (C, L) / (C, H, W).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .dims import _norm_dim
from .fused import pool_argmax
from .ops import OPS
from .shape import stack
from .tensor import Tensor, _new, apply

__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "unfold", "fold", "pad",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "max_unpool2d",
    "interpolate", "pixel_shuffle", "pixel_unshuffle",
]

_Size = int | Sequence[int]


# ---- the primitive as Tensor methods: Tensor.unfold and its gradient --------------------------


def tensor_unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of `size` along `dimension`, every `step`, as a new last dim (a view)."""
    d = _norm_dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if not (isinstance(size, int) and isinstance(step, int)) or step < 1 or not 0 <= size <= n:
        raise RuntimeError(f"unfold: need 0 <= size <= {n} (dim {d} of shape {x.shape}) "
                           f"and step >= 1, got size={size!r}, step={step!r}")
    return windows(x, ((d,), (size,), (step,), (1,), ((0, 0),), 0.0))


def windows(x: Tensor, win: tuple) -> Tensor:
    """Windows along several dims at once: win = (dims, sizes, steps, dilations, pads, fill),
    see rule_math.py."""
    return apply(OPS.unfold, (x,), (win, x._data.shape))


def unfold_backward(cols: Tensor, in_shape: tuple[int, ...], win: tuple) -> Tensor:
    """The windows added back into zeros of in_shape: unfold's gradient, as an op."""
    return apply(OPS.unfold_backward, (cols,), (in_shape, win))


# ---- arguments ----------------------------------------------------------------------------------


def _ints(v: Any, n: int, what: str, name: str, low: int) -> tuple[int, ...]:
    """An int or n ints as an n-tuple, each >= low; otherwise an error naming the argument."""
    t = (v,) * n if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else tuple(v)
    if len(t) != n or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                              for i in t):
        raise ValueError(f"{what}: {name} must be an int or {n} ints, got {v!r}")
    if any(i < low for i in t):
        raise ValueError(f"{what}: {name} must be >= {low}, got {v!r}")
    return tuple(int(i) for i in t)


def _batched(x: Any, nsp: int, what: str) -> tuple[Tensor, bool]:
    """x as (N, C, *spatial), and whether a batch dim of 1 was added to an unbatched input."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{what}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim == nsp + 1:
        return x.unsqueeze(0), True
    if x.ndim != nsp + 2:
        raise ValueError(f"{what}: expected a {nsp + 1}-D (unbatched) or {nsp + 2}-D (batched) "
                         f"input of shape (N, C, {', '.join('HW'[-nsp:] if nsp < 3 else 'DHW')})"
                         f", got shape {x.shape}")
    return x, False


def _out_size(n: int, k: int, s: int, p: int, d: int, what: str, shape: Any) -> int:
    span = d * (k - 1) + 1
    if n + 2 * p < span:
        raise ValueError(f"{what}: the kernel (size {k}, dilation {d}: spans {span}) is larger "
                         f"than the padded input ({n} + 2*{p} = {n + 2 * p}) of shape {shape}")
    return (n + 2 * p - span) // s + 1


# ---- the sliding-window machinery ---------------------------------------------------------------


def _geometry(kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
              pads: Sequence[tuple[int, int]] | None, fill: float = 0.0) -> tuple:
    """The unfold primitive's constant (ops.py) for windows over dims 2, 3, ... of a batch."""
    pads = tuple((0, 0) for _ in kernel) if pads is None else tuple(map(tuple, pads))
    return (tuple(range(2, 2 + len(kernel))), tuple(kernel), tuple(stride), tuple(dilation),
            pads, fill)


def _windows(x: Tensor, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
             pads: Sequence[tuple[int, int]] | None = None, fill: float = 0.0) -> Tensor:
    """(N, C, *spatial) -> (N, C, *positions, *kernel): every window of x padded with `fill`
    (a view of x when there is no padding)."""
    return x._windows(_geometry(kernel, stride, dilation, pads, fill))


def _unwindows(cols: Tensor, shape: tuple[int, ...], kernel: Sequence[int],
               stride: Sequence[int], dilation: Sequence[int],
               pads: Sequence[tuple[int, int]] | None = None) -> Tensor:
    """The other way (col2im): windows (N, C, *positions, *kernel) added into zeros of the
    padded shape, the padding then cut off."""
    return cols._unfold_backward(shape, _geometry(kernel, stride, dilation, pads))


def _unfold_nd(x: Tensor, kernel: Sequence[int], dilation: Sequence[int],
               padding: Sequence[int], stride: Sequence[int], what: str) -> Tensor:
    """(N, C, *spatial) -> (N, C * prod(kernel), L): im2col, channel-major as PyTorch."""
    nsp = len(kernel)
    for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation):
        _out_size(n, k, s, p, d, what, x.shape)
    cols = _windows(x, kernel, stride, dilation, [(p, p) for p in padding])
    pos = cols.shape[2: 2 + nsp]
    # (N, C, *pos, *kernel) -> (N, C, *kernel, *pos): the one copy, im2col proper
    order = (0, 1, *range(2 + nsp, 2 + 2 * nsp), *range(2, 2 + nsp))
    n, c = x.shape[:2]
    out = cols.permute(order).reshape(n, c * math.prod(kernel), math.prod(pos))
    # new memory, as torch's: a 1-sized kernel every step reshapes without copying
    return out.clone() if out._base is not None else out


def _fold_nd(cols: Tensor, out_size: Sequence[int], pos: Sequence[int], kernel: Sequence[int],
             dilation: Sequence[int], padding: Sequence[int], stride: Sequence[int]) -> Tensor:
    """(N, C * prod(kernel), prod(pos)) -> (N, C, *out_size): col2im, overlaps added up.

    `pos` is the number of window positions along each dim; windows that would start past
    the padded output's end (conv_transpose2d's output_padding) are simply not there.
    """
    nsp = len(kernel)
    n, ck, _ = cols.shape
    c = ck // math.prod(kernel)
    order = (0, 1, *range(2 + nsp, 2 + 2 * nsp), *range(2, 2 + nsp))
    w = cols.reshape(n, c, *kernel, *pos).permute(order)  # (N, C, *pos, *kernel)
    return _unwindows(w, (n, c, *out_size), kernel, stride, dilation, [(p, p) for p in padding])


def unfold(input: Tensor, kernel_size: _Size, dilation: _Size = 1, padding: _Size = 0,
           stride: _Size = 1) -> Tensor:
    """im2col: every kernel-sized patch of (N, C, H, W) as a column of (N, C*kh*kw, L)."""
    x, unbatched = _batched(input, 2, "unfold")
    args = _conv_args(kernel_size, stride, padding, dilation, 2, "unfold")
    kernel, stride_, padding_, dilation_ = args
    out = _unfold_nd(x, kernel, dilation_, padding_, stride_, "unfold")
    return out[0] if unbatched else out


def fold(input: Tensor, output_size: _Size, kernel_size: _Size, dilation: _Size = 1,
         padding: _Size = 0, stride: _Size = 1) -> Tensor:
    """col2im: columns (N, C*kh*kw, L) summed back into (N, C, *output_size)."""
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-D or 3-D input (N, C*kh*kw, L), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    kernel, stride_, padding_, dilation_ = _conv_args(kernel_size, stride, padding, dilation,
                                                      2, "fold")
    size = _ints(output_size, 2, "fold", "output_size", 1)
    k_all = math.prod(kernel)
    if x.shape[1] % k_all:
        raise ValueError(f"fold: dim 1 of the input ({x.shape[1]}, shape {input.shape}) must "
                         f"be divisible by the kernel's size prod({kernel}) = {k_all}")
    pos = [_out_size(o, k, s, p, d, "fold", size)
           for o, k, s, p, d in zip(size, kernel, stride_, padding_, dilation_)]
    if math.prod(pos) != x.shape[2]:
        raise ValueError(f"fold: output_size {size} with kernel {kernel} gives "
                         f"{' x '.join(map(str, pos))} = {math.prod(pos)} windows, but the "
                         f"input (shape {input.shape}) has L = {x.shape[2]}")
    out = _fold_nd(x, size, pos, kernel, dilation_, padding_, stride_)
    return out[0] if unbatched else out


def _conv_args(kernel: _Size, stride: _Size, padding: _Size, dilation: _Size, nsp: int,
               what: str) -> tuple[tuple[int, ...], ...]:
    return (_ints(kernel, nsp, what, "kernel_size", 1), _ints(stride, nsp, what, "stride", 1),
            _ints(padding, nsp, what, "padding", 0), _ints(dilation, nsp, what, "dilation", 1))


# ---- convolution --------------------------------------------------------------------------------


def _conv(input: Tensor, weight: Tensor, bias: Tensor | None, stride: _Size, padding: Any,
          dilation: _Size, groups: int, nsp: int, what: str) -> Tensor:
    x, unbatched = _batched(input, nsp, what)
    if not isinstance(weight, Tensor) or weight.ndim != nsp + 2:
        raise ValueError(f"{what}: weight must be a {nsp + 2}-D tensor (out_channels, "
                         f"in_channels/groups, *kernel), got {getattr(weight, 'shape', weight)}")
    n, c = x.shape[:2]
    o, cg, *kernel = weight.shape
    if not isinstance(groups, int) or groups < 1 or c % groups or o % groups:
        raise ValueError(f"{what}: groups={groups} must be a positive int dividing both the "
                         f"input's channels ({c}) and the weight's out_channels ({o})")
    if cg * groups != c:
        raise ValueError(f"{what}: the input has {c} channels (shape {x.shape}) but the weight "
                         f"(shape {weight.shape}) expects {cg * groups} = in_channels/groups "
                         f"({cg}) x groups ({groups})")
    stride_ = _ints(stride, nsp, what, "stride", 1)
    dilation_ = _ints(dilation, nsp, what, "dilation", 1)
    pads = _conv_padding(padding, kernel, stride_, dilation_, nsp, what)
    for m, k, d, (lo, hi) in zip(x.shape[2:], kernel, dilation_, pads):
        if m + lo + hi < d * (k - 1) + 1:
            raise ValueError(f"{what}: the kernel (size {k}, dilation {d}: spans {d * (k - 1) + 1})"
                             f" is larger than the padded input ({m} + {lo} + {hi} = "
                             f"{m + lo + hi}); input shape {x.shape}, weight {weight.shape}")
    # im2col and a matrix product per group, in one row (ops.py's conv); the output is
    # (N, *pos, O) in memory, seen as (N, O, *pos): channels last
    y = apply(OPS.conv, (x, weight), (_geometry(kernel, stride_, dilation_, pads), groups))
    if bias is not None:
        y = y + _channel(bias, o, nsp, what)
    return y[0] if unbatched else y


def _channel(v: Tensor, c: int, nsp: int, what: str) -> Tensor:
    if not isinstance(v, Tensor) or v.shape != (c,):
        raise ValueError(f"{what}: bias must have shape ({c},), got {getattr(v, 'shape', v)}")
    return v.reshape(1, c, *(1,) * nsp)


def _conv_padding(padding: Any, kernel: Sequence[int], stride: Sequence[int],
                  dilation: Sequence[int], nsp: int, what: str) -> list[tuple[int, int]]:
    if padding == "valid":
        return [(0, 0)] * nsp
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{what}: padding='same' is not supported for strided "
                             f"convolutions (stride={tuple(stride)}); give the padding as ints")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in total]  # an odd extra goes after, as PyTorch
    if isinstance(padding, str):
        raise ValueError(f"{what}: padding must be 'same', 'valid' or ints, got {padding!r}")
    return [(p, p) for p in _ints(padding, nsp, what, "padding", 0)]


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: _Size = 1,
           padding: Any = 0, dilation: _Size = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of (N, C, L) with weight (O, C/groups, k), as torch's conv1d."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: _Size = 1,
           padding: Any = 0, dilation: _Size = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of (N, C, H, W) with weight (O, C/groups, kh, kw): unfold, then
    one matrix product per group."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_transpose(input: Tensor, weight: Tensor, bias: Tensor | None, stride: _Size,
                    padding: _Size, output_padding: _Size, groups: int, dilation: _Size,
                    nsp: int, what: str) -> Tensor:
    x, unbatched = _batched(input, nsp, what)
    if not isinstance(weight, Tensor) or weight.ndim != nsp + 2:
        raise ValueError(f"{what}: weight must be a {nsp + 2}-D tensor (in_channels, "
                         f"out_channels/groups, *kernel), got {getattr(weight, 'shape', weight)}")
    n, c, *size = x.shape
    ci, og, *kernel = weight.shape
    if not isinstance(groups, int) or groups < 1 or c % groups:
        raise ValueError(f"{what}: groups={groups} must be a positive int dividing the "
                         f"input's channels ({c})")
    if ci != c:
        raise ValueError(f"{what}: the input has {c} channels (shape {x.shape}) but the weight "
                         f"(shape {weight.shape}) expects in_channels = {ci}")
    stride_ = _ints(stride, nsp, what, "stride", 1)
    padding_ = _ints(padding, nsp, what, "padding", 0)
    dilation_ = _ints(dilation, nsp, what, "dilation", 1)
    extra = _ints(output_padding, nsp, what, "output_padding", 0)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride_, dilation_)):
        raise ValueError(f"{what}: output_padding {extra} must be smaller than either stride "
                         f"{stride_} or dilation {dilation_}")
    out = [(m - 1) * s - 2 * p + d * (k - 1) + e + 1
           for m, k, s, p, d, e in zip(size, kernel, stride_, padding_, dilation_, extra)]
    if any(m < 1 for m in out):
        raise ValueError(f"{what}: the output size {tuple(out)} (input {x.shape}, kernel "
                         f"{tuple(kernel)}, stride {stride_}, padding {padding_}) would be empty")
    k_all = math.prod(kernel)
    w = weight.reshape(groups, c // groups, og * k_all).mT  # (G, O/G * K, C/G)
    cols = w.matmul(x.reshape(n, groups, c // groups, math.prod(size)))  # (N, G, O/G*K, L)
    y = _fold_nd(cols.reshape(n, groups * og * k_all, math.prod(size)), out, size, kernel,
                 dilation_, padding_, stride_)
    if bias is not None:
        y = y + _channel(bias, groups * og, nsp, what)
    return y[0] if unbatched else y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: _Size = 1, padding: _Size = 0, output_padding: _Size = 0,
                     groups: int = 1, dilation: _Size = 1) -> Tensor:
    """The transpose (adjoint) of conv1d, weight (C, O/groups, k): fold(weight.T @ x)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1, "conv_transpose1d")


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: _Size = 1, padding: _Size = 0, output_padding: _Size = 0,
                     groups: int = 1, dilation: _Size = 1) -> Tensor:
    """The transpose of conv2d (its input gradient as a layer), weight (C, O/groups, kh, kw)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2, "conv_transpose2d")


# ---- padding ------------------------------------------------------------------------------------


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
        ) -> Tensor:
    """Pad (or, with negative amounts, crop) the last dims: (left, right) pairs from the last.

    mode 'constant' (with `value`), 'reflect' (mirror, edge not repeated), 'replicate' (repeat
    the edge) or 'circular' (wrap around).
    """
    pads = [int(p) for p in pad]
    if len(pads) % 2 or len(pads) // 2 > input.ndim:
        raise ValueError(f"pad: needs (left, right) pairs for at most {input.ndim} dims of shape "
                         f"{input.shape}, got {tuple(pad)}")
    pairs = {input.ndim - 1 - i: (pads[2 * i], pads[2 * i + 1]) for i in range(len(pads) // 2)}
    if mode == "constant":
        crop = tuple(slice(max(-pairs.get(d, (0, 0))[0], 0),
                           n - max(-pairs.get(d, (0, 0))[1], 0)) for d, n in enumerate(input.shape))
        x = input[crop] if any(lo < 0 or hi < 0 for lo, hi in pairs.values()) else input
        pos = [max(p, 0) for p in pads]
        return x.pad(pos, value=0.0 if value is None else value) if any(pos) else x
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if value not in (None, 0):
        raise ValueError(f"pad: value is only for mode='constant', got value={value} with "
                         f"mode={mode!r}")
    x = input
    for d, (lo, hi) in sorted(pairs.items()):
        x = x[(slice(None),) * d + (_pad_index(x.shape[d], lo, hi, mode, input.shape),)]
    return x


def _pad_index(n: int, lo: int, hi: int, mode: str, shape: Any) -> np.ndarray:
    """Where each place of the padded dim reads from in the original dim of size n."""
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        if n == 0:
            raise ValueError(f"pad: mode 'replicate' needs a non-empty dim, shape {shape}")
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        if max(lo, hi) > n:
            raise ValueError(f"pad: circular padding ({lo}, {hi}) must be at most the dim's size "
                             f"{n} (shape {shape})")
        return i % n
    if max(lo, hi) >= n:
        raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the dim's size "
                         f"{n} (shape {shape})")
    period = 2 * (n - 1)  # reflect: ... 2 1 [0 1 2 ... n-1] n-2 ...
    j = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(j < n, j, period - j)


# ---- pooling ------------------------------------------------------------------------------------


def _pool_geometry(x: Tensor, kernel: _Size, stride: _Size | None, padding: _Size,
                   dilation: _Size, ceil_mode: bool, nsp: int, what: str
                   ) -> tuple[tuple[int, ...], ...]:
    """(kernel, stride, padding, dilation, positions, extra right padding) of a pooling."""
    k = _ints(kernel, nsp, what, "kernel_size", 1)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _ints(
        stride, nsp, what, "stride", 1)
    p = _ints(padding, nsp, what, "padding", 0)
    d = _ints(dilation, nsp, what, "dilation", 1)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{what}: padding {p} must be at most half the kernel size {k}")
    pos, extra = [], []
    for n, ki, si, pi, di in zip(x.shape[2:], k, s, p, d):
        span = di * (ki - 1) + 1
        room = n + 2 * pi - span
        if room < 0:
            raise ValueError(f"{what}: the kernel (size {ki}, dilation {di}: spans {span}) is "
                             f"larger than the padded input ({n} + 2*{pi}) of shape {x.shape}")
        m = (-(-room // si) if ceil_mode else room // si) + 1
        if ceil_mode and (m - 1) * si >= n + pi:  # the last window must start inside
            m -= 1
        pos.append(m)
        extra.append(max((m - 1) * si + span - (n + 2 * pi), 0))
    return k, s, p, d, tuple(pos), tuple(extra)


def _max_pool(input: Tensor, kernel_size: _Size, stride: _Size | None, padding: _Size,
              dilation: _Size, ceil_mode: bool, return_indices: bool, nsp: int,
              what: str) -> Any:
    x, unbatched = _batched(input, nsp, what)
    k, s, p, d, pos, extra = _pool_geometry(x, kernel_size, stride, padding, dilation,
                                            ceil_mode, nsp, what)
    win = _geometry(k, s, d, [(pi, pi + e) for pi, e in zip(p, extra)], fill=-math.inf)
    arg = pool_argmax(x._data, win)  # which tap of each window is its maximum
    values = apply(OPS.max_pool, (x,), (win, arg))  # the gradient goes to that tap alone
    out = values[0] if unbatched else values
    if not return_indices:
        return out
    # the flat index (into the unpadded spatial dims) of each window's maximum, as PyTorch's
    offsets = np.unravel_index(arg, k)
    flat = np.zeros(arg.shape, dtype=np.int64)
    for i in range(nsp):
        grid = np.arange(pos[i]).reshape((-1,) + (1,) * (nsp - 1 - i)) * s[i]
        flat = flat * x.shape[2 + i] + grid + offsets[i] * d[i] - p[i]
    idx = _new(flat[0] if unbatched else flat)
    return out, idx


def max_pool1d(input: Tensor, kernel_size: _Size, stride: _Size | None = None,
               padding: _Size = 0, dilation: _Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The maximum of each window of (N, C, L); with return_indices, also where it is."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1, "max_pool1d")


def max_pool2d(input: Tensor, kernel_size: _Size, stride: _Size | None = None,
               padding: _Size = 0, dilation: _Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The maximum of each window of (N, C, H, W); the gradient goes to that one element."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2, "max_pool2d")


def _avg_pool(input: Tensor, kernel_size: _Size, stride: _Size | None, padding: _Size,
              ceil_mode: bool, count_include_pad: bool, divisor_override: int | None, nsp: int,
              what: str) -> Tensor:
    x, unbatched = _batched(input, nsp, what)
    k, s, p, d, pos, extra = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode,
                                            nsp, what)
    pads = [(pi, pi + e) for pi, e in zip(p, extra)]
    total = _windows(x, k, s, d, pads).sum(dim=tuple(range(-nsp, 0)))
    if divisor_override is not None:
        if not isinstance(divisor_override, int) or divisor_override == 0:
            raise ValueError(f"{what}: divisor_override must be a non-zero int, "
                             f"got {divisor_override!r}")
        out = total / divisor_override
    else:
        # PyTorch's divisor: the window's places inside the padded input (count_include_pad)
        # or inside the input itself; the extra ceil_mode padding never counts
        ones = np.ones(x.shape[2:], dtype=x.dtype)
        inner = [(pi, pi) for pi in p] if count_include_pad else [(0, 0)] * nsp
        mask = np.pad(np.pad(ones, inner, constant_values=1),
                      [(pi - lo, pi - lo + e) for pi, (lo, _), e in zip(p, inner, extra)])
        win = _unfold_np(mask, k, s)
        count = win.sum(axis=tuple(range(-nsp, 0)))
        out = total / _new(count.astype(x.dtype))
    return out[0] if unbatched else out


def _unfold_np(a: np.ndarray, k: Sequence[int], s: Sequence[int]) -> np.ndarray:
    w = np.lib.stride_tricks.sliding_window_view(a, tuple(k))
    return w[tuple(slice(None, None, si) for si in s)]


def avg_pool1d(input: Tensor, kernel_size: _Size, stride: _Size | None = None,
               padding: _Size = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of (N, C, L)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                     "avg_pool1d")


def avg_pool2d(input: Tensor, kernel_size: _Size, stride: _Size | None = None,
               padding: _Size = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window of (N, C, H, W) (the padding counted, or not)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def _bins(n: int, m: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling cells: cell i covers [floor(i n/m), ceil((i+1) n/m))."""
    return [((i * n) // m, -(-((i + 1) * n) // m)) for i in range(m)]


def _adaptive_sizes(x: Tensor, output_size: Any, nsp: int, what: str) -> tuple[int, ...]:
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nsp
    sizes = tuple(n if m is None else m for m, n in zip(output_size, x.shape[2:]))
    sizes = _ints(sizes, nsp, what, "output_size", 1)
    if any(n == 0 for n in x.shape[2:]):
        raise ValueError(f"{what}: the input's spatial dims must be non-empty, got {x.shape}")
    return sizes


def _adaptive_avg(input: Tensor, output_size: Any, nsp: int, what: str) -> Tensor:
    x, unbatched = _batched(input, nsp, what)
    sizes = _adaptive_sizes(x, output_size, nsp, what)
    for i, m in enumerate(sizes):  # average along dim 2+i: a matrix product with the cells
        n = x.shape[2 + i]
        avg = np.zeros((n, m), dtype=x.dtype)
        for j, (lo, hi) in enumerate(_bins(n, m)):
            avg[lo:hi, j] = 1.0 / (hi - lo)
        x = x.transpose(2 + i, -1).matmul(_new(avg)).transpose(2 + i, -1)
    return x[0] if unbatched else x


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average (N, C, L) down to `output_size`, in PyTorch's cells."""
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average (N, C, H, W) down to `output_size` (an int, a pair, None keeps a dim)."""
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum of each of PyTorch's adaptive cells of (N, C, H, W)."""
    x, unbatched = _batched(input, 2, "adaptive_max_pool2d")
    oh, ow = _adaptive_sizes(x, output_size, 2, "adaptive_max_pool2d")
    h, w = x.shape[2:]
    vals, idxs = [], []
    for hl, hh in _bins(h, oh):
        for wl, wh in _bins(w, ow):
            cell = x[:, :, hl:hh, wl:wh]
            v, a = cell.reshape(*x.shape[:2], -1).max(dim=-1)
            vals.append(v)
            r, c = np.divmod(a._data, wh - wl)
            idxs.append((r + hl) * w + c + wl)
    n, ch = x.shape[:2]
    out = stack(vals, -1).reshape(n, ch, oh, ow)
    out = out[0] if unbatched else out
    if not return_indices:
        return out
    idx = np.stack(idxs, -1).reshape(n, ch, oh, ow)
    return out, _new(idx[0] if unbatched else idx)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: _Size, stride: _Size | None = None,
                 padding: _Size = 0, output_size: Any = None) -> Tensor:
    """Put each value back at its max_pool2d index, zeros elsewhere (max_pool2d's inverse)."""
    x, unbatched = _batched(input, 2, "max_unpool2d")
    k = _ints(kernel_size, 2, "max_unpool2d", "kernel_size", 1)
    s = k if stride is None else _ints(stride, 2, "max_unpool2d", "stride", 1)
    p = _ints(padding, 2, "max_unpool2d", "padding", 0)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    idx = idx[None] if unbatched else idx
    if idx.shape != x.shape:
        raise ValueError(f"max_unpool2d: indices of shape {idx.shape} must match the input's "
                         f"shape {x.shape}")
    if output_size is None:
        size = tuple((n - 1) * si - 2 * pi + ki
                     for n, ki, si, pi in zip(x.shape[2:], k, s, p))
    else:
        size = tuple(output_size)[-2:]
    n, c = x.shape[:2]
    hw = size[0] * size[1]
    if idx.size and (idx.min() < 0 or idx.max() >= hw):
        raise ValueError(f"max_unpool2d: index {int(idx.max())} is out of range for an output "
                         f"of size {size} ({hw} places)")
    rows = (np.arange(n).reshape(n, 1, 1), np.arange(c).reshape(1, c, 1),
            idx.reshape(n, c, -1))
    out = x.reshape(n, c, -1)._index_add(rows, (n, c, hw)).reshape(n, c, *size)
    return out[0] if unbatched else out


# ---- resampling ---------------------------------------------------------------------------------


def _scales(x: Tensor, size: Any, scale_factor: Any, nsp: int, what: str
            ) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Output sizes and the input-per-output scale of each dim, as PyTorch computes them."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{what}: give exactly one of size and scale_factor")
    ins = x.shape[2:]
    if size is not None:
        out = _ints(size, nsp, what, "size", 1)
        return out, tuple(n / m for n, m in zip(ins, out))
    f = (scale_factor,) * nsp if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(f) != nsp or any(v <= 0 for v in f):
        raise ValueError(f"{what}: scale_factor must be {nsp} positive numbers, got "
                         f"{scale_factor!r}")
    return tuple(int(math.floor(n * v)) for n, v in zip(ins, f)), tuple(1.0 / v for v in f)


def _linear_weights(n: int, m: int, scale: float, align_corners: bool, dtype: Any
                    ) -> np.ndarray:
    """The (n, m) matrix of linear interpolation from n samples to m (PyTorch's formula)."""
    j = np.arange(m, dtype=np.float64)
    if align_corners:
        src = j * ((n - 1) / (m - 1) if m > 1 else 0.0)
    else:
        src = np.maximum((j + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    t = src - lo
    w = np.zeros((n, m), dtype=np.float64)
    np.add.at(w, (lo, np.arange(m)), 1 - t)
    np.add.at(w, (hi, np.arange(m)), t)
    return w.astype(dtype)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W): mode 'nearest', 'linear' (3-D) or 'bilinear' (4-D).

    'nearest' picks input place floor(j * in/out); the linear modes are matrix products along
    each dim, with PyTorch's align_corners convention.
    """
    nsp = input.ndim - 2
    if nsp not in (1, 2):
        raise ValueError(f"interpolate: expected a 3-D or 4-D input, got shape {input.shape}")
    linear = {1: "linear", 2: "bilinear"}[nsp]
    if mode not in ("nearest", linear):
        raise ValueError(f"interpolate: mode {mode!r} is not available for a {input.ndim}-D "
                         f"input (choose 'nearest' or {linear!r})")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners is only for the linear modes")
    out, scales = _scales(input, size, scale_factor, nsp, "interpolate")
    if recompute_scale_factor:
        scales = tuple(n / m for n, m in zip(input.shape[2:], out))
    x = input
    for i, (m, sc) in enumerate(zip(out, scales)):
        n = x.shape[2 + i]
        if mode == "nearest":
            src = np.minimum(np.floor(np.arange(m) * np.float32(sc)).astype(np.int64), n - 1)
            x = x[(slice(None),) * (2 + i) + (src,)]
        else:
            w = _linear_weights(n, m, sc, bool(align_corners), x.dtype)
            x = x.transpose(2 + i, -1).matmul(_new(w)).transpose(2 + i, -1)
    return x


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(N, C*r*r, H, W) -> (N, C, H*r, W*r): channels become sub-pixel positions."""
    r = upscale_factor
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: the channel dim of shape {input.shape} must be "
                         f"divisible by upscale_factor^2 = {r * r}")
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(N, C, H*r, W*r) -> (N, C*r*r, H, W): pixel_shuffle's inverse."""
    r = downscale_factor
    if input.ndim < 3 or input.shape[-1] % r or input.shape[-2] % r:
        raise ValueError(f"pixel_unshuffle: the last two dims of shape {input.shape} must be "
                         f"divisible by downscale_factor = {r}")
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)

