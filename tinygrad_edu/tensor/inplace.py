"""In-place ops: add_, mul_, fill_, copy_, t[idx] = v, +=, ... and the machinery behind them.

In-place ops change the array itself. Each array carries a version stamp (versions.py); a
backward that needs a value changed since its forward raises a RuntimeError naming the op,
instead of computing a silently wrong gradient (as PyTorch does). Recorded in-place ops (grad
mode on, something requires grad) keep the old value for the gradient, as PyTorch's do; they
are refused, with an error saying why, on a leaf that requires grad, on a tensor that recorded
ops already used, and on a view of another tensor (PyTorch handles the last two by rewriting
the graph, which this engine does not).

Each method is one `_inplace(self, name, compute, plain, other)` call: `compute` is the
out-of-place form (recorded), `plain` changes the array when nothing is recorded. They are
bound as Tensor methods in methods.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.mode import MODE
from ..random import generator as _rng
from . import scatter
from .indexing import _index, _mask, index_put, where
from .ops import OPS
from .tensor import Tensor, _new
from .versions import _CLOCK, _bump

__all__ = [
    "add_", "sub_", "mul_", "div_", "pow_", "zero_", "fill_", "copy_", "clamp_", "relu_",
    "masked_fill_", "sigmoid_", "tanh_", "exp_", "neg_", "uniform_", "normal_", "iadd", "isub",
    "imul", "itruediv", "setitem", "scatter_", "scatter_add_", "scatter_reduce_", "index_add_",
    "index_copy_", "index_fill_",
]


# ---- the machinery ------------------------------------------------------------------------------


def _replaced(x: Tensor, value: Any) -> Tensor:
    """`value` (broadcast) in place of x, recorded: x's gradient is 0 and value's passes on.

    A `where` rather than `x * 0 + value`, which would turn an inf in x into nan.
    """
    return where(np.True_, value, x)


def _ufunc(fn: Any, other: Any) -> Callable[[np.ndarray], Any]:
    """`d = fn(d, other)` done in the array itself, for the unrecorded path of an in-place op."""
    o = other._data if isinstance(other, Tensor) else other
    return lambda d: fn(d, o, out=d, casting="same_kind")


def _inplace(
    self: Tensor,
    name: str,
    compute: Callable[[Tensor, Any], Tensor],
    plain: Callable[[np.ndarray], Any],
    other: Any,
) -> Tensor:
    """Change `self`'s array to `compute(self, other)` and, if that needs recording, its history.

    Not recorded (grad mode off, or nothing requires grad): `plain` overwrites the array and
    its version is bumped, so a pending backward that saved the old value notices. Recorded:
    self's history moves to a copy `old`, the result is computed from `old` as an ordinary
    graph, and self becomes that result's node (PyTorch's "rebase"). Two cases would send
    gradients down the wrong path and are refused: a leaf that requires grad, and a tensor
    that recorded ops have already used.
    """
    other_rg = isinstance(other, Tensor) and other._requires_grad
    if not (MODE.grad_enabled and (self._requires_grad or other_rg)):
        try:
            plain(self._data)
        except (TypeError, ValueError) as err:
            raise _inplace_error(self, name, other, err) from None
        _bump(self)
        return self
    if self._op is None and self._requires_grad:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad cannot be changed in place while grad "
            "mode is on (its .grad would no longer match its value). Wrap the update in "
            "`with tinygrad_edu.no_grad():`, or use the out-of-place form."
        )
    if self._base is not None:
        raise RuntimeError(
            f"{name}: this tensor is a view of another one (made by reshape, transpose, indexing "
            "or expand), so changing it in place would change the other tensor behind its "
            "gradient's back. Change the base tensor instead, or clone() the view first."
        )
    if self._used:
        raise RuntimeError(
            f"{name}: this tensor was already used by other recorded ops, or has views (from "
            "reshape, transpose, indexing), so changing it in place would send their gradients "
            "through the wrong history. Use the out-of-place form (y = y + 1 instead of "
            "y += 1), or clone() it before using it."
        )
    old = _new(self._data.copy())  # the value before, with self's history
    old._requires_grad, old._op, old._parents = self._requires_grad, self._op, self._parents
    old._ctx, old._stamp = self._ctx, self._stamp
    new = compute(old, old if other is self else other)  # x.add_(x) adds the old x
    _write(self, name, new._data)
    if new._requires_grad:
        self._requires_grad, self._op, self._parents = True, new._op, new._parents
        self._ctx, self._stamp = new._ctx, _CLOCK[0]
    return self


def _write(self: Tensor, name: str, data: np.ndarray) -> None:
    try:
        np.copyto(self._data, data, casting="same_kind")
    except (TypeError, ValueError) as err:
        raise _inplace_error(self, name, data, err) from None
    _bump(self)


def _inplace_error(self: Tensor, name: str, other: Any, err: Exception) -> Exception:
    oshape = getattr(other, "shape", ())
    return RuntimeError(
        f"{name}: cannot write a result of shape {tuple(oshape)} into a tensor of shape "
        f"{self.shape} and dtype {self.dtype} in place ({err}). In place, the result must keep "
        "the tensor's shape and dtype (an expanded tensor is read-only)."
    )


# ---- the ops: `plain` changes the array when nothing is recorded (see _inplace) ----------------


def add_(x: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    other = other if alpha == 1 else other * alpha
    return _inplace(x, "add_", lambda x, o: x + o, _ufunc(np.add, other), other)


def sub_(x: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    other = other if alpha == 1 else other * alpha
    return _inplace(x, "sub_", lambda x, o: x - o, _ufunc(np.subtract, other), other)


def mul_(x: Tensor, other: Any) -> Tensor:
    return _inplace(x, "mul_", lambda x, o: x * o, _ufunc(np.multiply, other), other)


def div_(x: Tensor, other: Any) -> Tensor:
    return _inplace(x, "div_", lambda x, o: x / o, _ufunc(np.true_divide, other), other)


def pow_(x: Tensor, exponent: Any) -> Tensor:
    return _inplace(x, "pow_", lambda x, o: x**o, _ufunc(np.power, exponent), exponent)


def zero_(x: Tensor) -> Tensor:
    return _inplace(x, "zero_", lambda x, o: _replaced(x, 0), lambda d: d.fill(0), None)


def fill_(x: Tensor, value: Any) -> Tensor:
    v = value._data if isinstance(value, Tensor) else value
    return _inplace(x, "fill_", lambda x, o: _replaced(x, o), lambda d: d.fill(v), value)


def copy_(x: Tensor, src: Any) -> Tensor:
    s = src._data if isinstance(src, Tensor) else np.asarray(src)
    return _inplace(
        x, "copy_", lambda x, o: _replaced(x, o),
        lambda d: np.copyto(d, s, casting="same_kind"),
        src,
    )


def clamp_(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    return _inplace(
        x, "clamp_", lambda x, o: x.clamp(min, max), lambda d: np.clip(d, min, max, out=d),
        None,
    )


def relu_(x: Tensor) -> Tensor:
    return _inplace(x, "relu_", lambda x, o: x.relu(), lambda d: np.maximum(d, 0, out=d),
                    None)


def masked_fill_(x: Tensor, mask: Any, value: Any) -> Tensor:
    m = _mask(mask)
    v = value._data if isinstance(value, Tensor) else value

    def plain(d: np.ndarray) -> None:
        d[np.broadcast_to(m, d.shape)] = v

    return _inplace(x, "masked_fill_", lambda x, o: x.masked_fill(m, o), plain, value)


def sigmoid_(x: Tensor) -> Tensor:
    return _inplace(x, "sigmoid_", lambda x, o: x.sigmoid(),
                    lambda d: np.copyto(d, OPS.sigmoid.forward(d)), None)


def tanh_(x: Tensor) -> Tensor:
    return _inplace(x, "tanh_", lambda x, o: x.tanh(), lambda d: np.tanh(d, out=d), None)


def exp_(x: Tensor) -> Tensor:
    return _inplace(x, "exp_", lambda x, o: x.exp(), lambda d: np.exp(d, out=d), None)


def neg_(x: Tensor) -> Tensor:
    return _inplace(x, "neg_", lambda x, o: -x, lambda d: np.negative(d, out=d), None)


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with uniform samples from [a, b), drawn from the library's seeded generator."""
    sample = _rng(generator).uniform(a, b, size=x.shape).astype(x.dtype)
    return _inplace(
        x, "uniform_", lambda x, o: _replaced(x, sample), lambda d: np.copyto(d, sample),
        None,
    )


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with normal samples, drawn from the library's seeded generator."""
    sample = _rng(generator).normal(mean, std, size=x.shape).astype(x.dtype)
    return _inplace(
        x, "normal_", lambda x, o: _replaced(x, sample), lambda d: np.copyto(d, sample),
        None,
    )


def _by_index(fn: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """The in-place form of a scatter.py op: the same result, written into x."""
    def op(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        src = next((a for a in [*args, *kwargs.values()] if isinstance(a, Tensor)
                    and a.dtype.kind == "f"), None)  # the values written (for the grad check)

        def plain(d: np.ndarray) -> None:
            np.copyto(d, fn(_new(d), *args, **kwargs)._data)

        return _inplace(x, name, lambda x, o: fn(x, *args, **kwargs), plain, src)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In place: x becomes x.{fn.__name__}(...), as torch's {name}."
    return op


scatter_ = _by_index(scatter.scatter, "scatter_")
scatter_add_ = _by_index(scatter.scatter_add, "scatter_add_")
scatter_reduce_ = _by_index(scatter.scatter_reduce, "scatter_reduce_")
index_add_ = _by_index(scatter.index_add, "index_add_")
index_copy_ = _by_index(scatter.index_copy, "index_copy_")
index_fill_ = _by_index(scatter.index_fill, "index_fill_")


def iadd(x: Tensor, other: Any) -> Tensor:
    return x.add_(other)


def isub(x: Tensor, other: Any) -> Tensor:
    return x.sub_(other)


def imul(x: Tensor, other: Any) -> Tensor:
    return x.mul_(other)


def itruediv(x: Tensor, other: Any) -> Tensor:
    return x.div_(other)


def setitem(x: Tensor, idx: Any, value: Any) -> None:
    index = _index(idx, x._data.shape)
    v = value._data if isinstance(value, Tensor) else value

    def plain(d: np.ndarray) -> None:
        d[index] = v

    _inplace(x, "setitem", lambda x, o: index_put(x, index, o), plain, value)
