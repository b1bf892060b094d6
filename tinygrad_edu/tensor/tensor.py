"""The Tensor: a numpy array that remembers how it was made, with PyTorch's API.

    x = tinygrad_edu.randn(64, 784)
    W = tinygrad_edu.randn(784, 10, requires_grad=True)
    loss = (x @ W).log_softmax(dim=1)[:, 0].mean().neg()
    loss.backward()
    W.grad.shape                # (784, 10)

A Tensor is a node of the shared graph core (autograd/graph.py): backward(), grad(), hooks,
no_grad() and detect_anomaly() are the core's, and the arithmetic of each op is one row of the
table in ops.py. This module is the glue: it turns method calls into table lookups.

**Building a node: `apply(op, parents, consts=())`.** Every op, built-in or user-defined
(`tinygrad_edu.Function`), makes its output the same way:

    out = apply(op, (a, b), (axis,))   # op: an ops.Op row; a, b: Tensors; consts: plain values

It runs `op.forward(*arrays, *consts)`, wraps the array in a new Tensor and, if grad mode is on
and a parent requires grad, records (op, parents, consts) on it. Backward then calls
`op.vjps[i](g, out, *parents, *consts)` for each parent i that requires grad; see ops.py for the
rule protocol and for what changes under `create_graph=True` (the rules run on Tensors).

**In-place ops** (`add_`, `t[idx] = v`, ...) change the array itself. Each array carries a
version stamp; a backward that needs a value changed since its forward raises a RuntimeError
naming the op, instead of computing a silently wrong gradient (as PyTorch does). Recorded
in-place ops (grad mode on, something requires grad) keep the old value for the gradient, as
PyTorch's do; they are refused, with an error saying why, on a leaf that requires grad, on a
tensor that recorded ops already used, and on a view of another tensor (PyTorch handles the
last two by rewriting the graph, which this engine does not).
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..autograd import graph
from ..autograd.mode import MODE
from ..random import generator
from . import derived
from .dtypes import as_dtype, default_float, float32, int64, is_floating, promote
from .ops import OPS, Op, PerInput, sum_to

__all__ = ["Tensor", "apply", "tensor", "where", "cat", "stack", "ValuesIndices"]

_CLOCK = [0]  # in-place clock: bumped by every in-place change; versions are readings of it


class ValuesIndices(NamedTuple):
    """What `max(dim)` and `min(dim)` return, as PyTorch: `values, indices = t.max(dim=1)`."""

    values: Tensor
    indices: Tensor


# ---- making tensors -----------------------------------------------------------------------------


def _new(data: np.ndarray) -> Tensor:
    """A Tensor around `data` (not copied), with no history: the fast internal constructor."""
    t = object.__new__(Tensor)
    t._data = data
    t._requires_grad = False
    t.grad = None
    t.label = ""
    t._op = None
    t._parents = ()
    t._ctx = ()
    t._g = None
    t._hooks = None
    t._retains_grad = False
    t._freed = False
    t._version = [0]
    t._stamp = 0
    t._used = False
    t._fresh = None
    t._base = None
    return t


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """A fresh array for `Tensor(data)`: PyTorch's default dtypes for Python numbers."""
    dt = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, dtype=dt, copy=True)
    else:
        try:
            arr = np.array(data, dtype=dt)
        except (ValueError, TypeError) as err:
            raise TypeError(
                f"Tensor(): cannot make a tensor from {type(data).__name__} ({err}); "
                "give a number, a (nested) list of numbers or an ndarray"
            ) from None
        if dt is None and arr.dtype.kind == "f":
            arr = arr.astype(default_float)
        elif dt is None and arr.dtype.kind in "iu":
            arr = arr.astype(int64)
    if arr.dtype.kind not in "biuf":
        what = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}.get(
            arr.dtype.kind, f"elements of dtype {arr.dtype}")
        raise TypeError(f"Tensor(): cannot make a tensor from {what} (dtype {arr.dtype}, given a "
                        f"{type(data).__name__}); convert them to real numbers first "
                        "(e.g. class indices)")
    return arr


def _rebuild(cls: type, data: np.ndarray, requires_grad: bool, grad: Any, label: str) -> Tensor:
    t = object.__new__(cls)
    Tensor.__init__(t, np.empty(0, dtype=data.dtype))
    t._data = data
    t._requires_grad = t._retains_grad = requires_grad
    t.grad = None if grad is None else _new(grad)
    t.label = label
    return t


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new Tensor from a number, a nested list or an ndarray (always a copy), as torch.tensor."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# ---- the one way ops make nodes -----------------------------------------------------------------


def apply(op: Op, parents: tuple[Tensor, ...], consts: tuple = ()) -> Tensor:
    """Run `op` on the parents' arrays and, when grad mode is on, record it on the output.

    The entry point for every op, built-in or user-defined: `parents` are Tensors (the inputs
    gradients flow to), `consts` plain values passed after them to the forward and the rules.
    """
    try:
        data = op.forward(*[p._data for p in parents], *consts)
    except ValueError as err:
        raise _op_error(op, parents, err) from None
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    out = _new(data)
    if op.view and np.may_share_memory(data, parents[0]._data):
        base = parents[0]  # a view: an in-place change to one changes both
        out._version = base._version
        out._base = base if base._base is None else base._base
        base._used = True  # recording an in-place op on base would leave the view behind
    if MODE.grad_enabled:
        for p in parents:
            if p._requires_grad:
                break
        else:
            return out
        out._requires_grad = True
        out._op, out._parents, out._ctx, out._stamp = op, parents, consts, _CLOCK[0]
        for p in parents:
            p._used = True
        if MODE.anomaly:
            graph.check_forward(out)
    return out


def _op_error(op: Op, parents: Sequence[Tensor], err: Exception) -> ValueError:
    shapes = " and ".join(str(tuple(p._data.shape)) for p in parents)
    msg = str(err)
    if op.name == "matmul":
        return ValueError(
            f"matmul: shapes {shapes} cannot be multiplied (the last dim of the first must equal "
            "the second-to-last of the second, or the 1-D one's length, and batch dims must "
            "broadcast)"
        )
    if "broadcast" in msg:
        return ValueError(
            f"{op.name}: shapes {shapes} do not broadcast (align them from the right; each pair "
            "of dims must be equal or one of them 1)"
        )
    return ValueError(f"{op.name} on shapes {shapes}: {msg}")


def _lift(x: Any, like: Tensor) -> Tensor:
    """A number (or array) as a constant Tensor that combines with `like` as PyTorch would."""
    if isinstance(x, Tensor):
        return x
    dt = like._data.dtype
    if isinstance(x, (bool, np.bool_)):
        pass
    elif isinstance(x, numbers.Integral):
        if dt.kind == "b":
            dt = int64
    elif isinstance(x, numbers.Real):
        if dt.kind != "f":
            dt = default_float
    else:
        return Tensor(x)
    try:
        return _new(np.asarray(x, dtype=dt))
    except OverflowError as err:
        raise OverflowError(f"{x!r} does not fit the tensor's dtype {dt}: {err}") from None


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of one dtype (numbers adapt to the Tensor, as PyTorch)."""
    if not isinstance(a, Tensor):
        a = _lift(a, b)
    elif not isinstance(b, Tensor):
        b = _lift(b, a)
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        dt = promote(da, db)
        a, b = a.to(dt), b.to(dt)
    return a, b


def _binary(op: Op, a: Any, b: Any) -> Tensor:
    return apply(op, _pair(a, b))


def _floating(x: Tensor) -> Tensor:
    """x itself if it is floating point, else x as float32 (exp of an int tensor is a float)."""
    return x if x._data.dtype.kind == "f" else x.to(default_float)


def _unary(op: Op, x: Tensor) -> Tensor:
    return apply(op, (_floating(x),))


def _compare(fn: Callable[..., np.ndarray], a: Any, b: Any) -> Tensor:
    a = a._data if isinstance(a, Tensor) else a
    b = b._data if isinstance(b, Tensor) else b
    return _new(np.asarray(fn(a, b)))


def _norm_dim(d: int, ndim: int, what: str) -> int:
    """A dim as a non-negative index (0-d tensors accept 0 and -1, as PyTorch)."""
    n = ndim or 1
    if type(d) is not int:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{what}: dim must be an int, got {type(d).__name__}")
        d = int(d)
    if not -n <= d < n:
        raise IndexError(
            f"{what}: dim {d} is out of range for a tensor with {ndim} dims "
            f"(expected in [{-n}, {n - 1}])"
        )
    return d % n if ndim else 0


def _norm_axes(dim: Any, axis: Any, ndim: int, what: str) -> tuple[int, ...] | None:
    """PyTorch's `dim=` (or numpy's `axis=`) as a sorted tuple of dims, or None for all."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{what}: give dim= or axis=, not both")
        dim = axis
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = sorted({_norm_dim(d, ndim, what) for d in dims})
    if ndim == 0:
        return None
    return tuple(out)


def _shape_arg(shape: Sequence[Any], what: str) -> tuple[int, ...]:
    """`f(2, 3)` and `f((2, 3))` alike, as PyTorch accepts both."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        return tuple(int(n) for n in shape)
    except TypeError:
        raise TypeError(f"{what}: sizes must be ints, got {shape!r}") from None


def _index(idx: Any) -> tuple:
    """A PyTorch index as a numpy one: Tensors and lists become arrays."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tensor):
            i = i._data
        elif isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
            raise IndexError(f"indexing: index arrays must be integer or bool, got {i.dtype}")
        out.append(i)
    return tuple(out)


# ---- the class ----------------------------------------------------------------------------------


class Tensor(graph.Node):
    """An n-dimensional array with autograd. `Tensor(data, requires_grad=False, dtype=None)`.

    Python floats become float32, ints int64 (as PyTorch); ndarrays keep their dtype. Only
    floating-point tensors can require grad.
    """

    __slots__ = (
        "_data", "_requires_grad", "grad", "label", "_op", "_parents", "_ctx", "_g", "_hooks",
        "_retains_grad", "_freed", "_version", "_stamp", "_used", "_fresh", "_base",
        "__weakref__",
    )
    __array_ufunc__ = None  # ndarray + Tensor calls Tensor.__radd__, so the graph is kept
    __hash__ = object.__hash__  # == is elementwise; identity is the hash (graph sets rely on it)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data = _to_array(data, dtype)
        self._requires_grad = False
        self.grad: Tensor | None = None
        self.label = ""
        self._op, self._parents, self._ctx = None, (), ()
        self._g, self._hooks, self._retains_grad, self._freed = None, None, False, False
        self._version, self._stamp, self._used, self._fresh = [0], 0, False, None
        self._base: Tensor | None = None
        if requires_grad:
            self.requires_grad = True

    # ---- what it is
    @property
    def requires_grad(self) -> bool:
        """Does backward() compute a gradient for this tensor?"""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        flag = bool(flag)
        if flag and not is_floating(self._data.dtype):
            raise RuntimeError(
                f"only floating-point tensors can require grad, this one is {self._data.dtype}; "
                "make it with dtype=tinygrad_edu.float32 (or call .float() first)"
            )
        if self._op is not None and not flag:
            raise RuntimeError(
                "requires_grad can only be switched off on a leaf; this tensor was computed by "
                f"'{self._op.name}'. Use .detach() to get a tensor without history."
            )
        self._requires_grad = flag
        if self._op is None:
            self._retains_grad = flag

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place and return self (for leaves, as PyTorch)."""
        self.requires_grad = requires_grad
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not computed by a recorded op (inputs, parameters)."""
        return self._op is None

    @property
    def grad_fn(self) -> Op | None:
        """The op that made this tensor, or None for a leaf (PyTorch's name)."""
        return self._op

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of one dim."""
        if dim is None:
            return self._data.shape
        return self._data.shape[_norm_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # ---- getting numbers out
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied: changing it changes the tensor)."""
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self) -> Any:
        """The single number in a one-element tensor, as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"item(): a tensor with {self._data.size} elements (shape {self.shape}) cannot "
                "be converted to a Python number; only one-element tensors can"
            )
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data.item())

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}" formats a one-element tensor as its number, as PyTorch."""
        if self._data.ndim == 0 or (spec and self._data.size == 1):
            return format(self._data.item(), spec)
        return format(repr(self), spec)

    def __contains__(self, value: Any) -> bool:
        return bool((self == value).any())

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def nelement(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return int(self._data.itemsize)

    def new_tensor(self, data: Any, dtype: Any = None) -> Tensor:
        """A new tensor from data, with this tensor's dtype unless told otherwise."""
        return Tensor(data, dtype=self.dtype if dtype is None else dtype)

    def new_zeros(self, *size: Any, dtype: Any = None) -> Tensor:
        return _new(np.zeros(_shape_arg(size, "new_zeros"), self.dtype if dtype is None else
                             as_dtype(dtype)))

    def new_ones(self, *size: Any, dtype: Any = None) -> Tensor:
        return _new(np.ones(_shape_arg(size, "new_ones"), self.dtype if dtype is None else
                            as_dtype(dtype)))

    def new_full(self, size: Sequence[int], fill_value: Any, dtype: Any = None) -> Tensor:
        return _new(np.full(tuple(size), fill_value, self.dtype if dtype is None else
                            as_dtype(dtype)))

    def __repr__(self) -> str:
        body = np.array2string(
            self._data, separator=", ", prefix="tensor(", precision=4, threshold=200
        )
        extra = ""
        if self._data.dtype not in (float32, int64, np.dtype(bool)) or self._data.size == 0:
            extra += f", dtype={self._data.dtype}"
        if self._op is not None:
            extra += f", grad_fn=<{self._op.name}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __reduce__(self) -> tuple:
        """Pickling and copy.deepcopy keep the data, requires_grad, .grad and label; the
        history is left behind (a copy is a leaf), as a deep copy of a PyTorch leaf."""
        grad = None if self.grad is None else self.grad._data
        return (_rebuild, (type(self), self._data, self._requires_grad, grad, self.label))

    # ---- storage and history
    @property
    def data(self) -> Tensor:
        """The same storage as a Tensor without history; `t.data = x` swaps the storage."""
        return self.detach()

    @data.setter
    def data(self, value: Any) -> None:
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = arr
        _CLOCK[0] += 1  # anything saved from the old storage is out of date now
        self._version = [_CLOCK[0]]

    def detach(self) -> Tensor:
        """The same storage as a new leaf without history (changes show in both)."""
        t = _new(self._data)
        t._version = self._version
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from its history, making it a leaf that does not require grad."""
        self._op, self._parents, self._ctx = None, (), ()
        self._requires_grad = self._retains_grad = False
        return self

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (its gradient flows back to self).

        Computed as `self * 1`: exactly the same values (inf, nan and -0.0 included) in a new
        array, and the gradient passes through unchanged.
        """
        if self._data.dtype.kind == "b":
            return _new(self._data.copy())  # bool * 1 would be an int; bools have no gradient
        return self * 1

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor too after backward()."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad(): the tensor does not require grad")
        self._retains_grad = True

    # ---- dtype and device (there is one device: the CPU, so device moves are no-ops)
    @property
    def device(self) -> str:
        return "cpu"

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        """Itself if its memory is row-major already, else a row-major copy (as PyTorch)."""
        return self if self._data.flags.c_contiguous else self.clone()

    def to(self, *args: Any, dtype: Any = None, device: Any = None, **_: Any) -> Tensor:
        """This tensor in another dtype (itself if it already is); the gradient flows back.

        `to("cpu")` and `to(device)` are accepted and change nothing, as there is only the CPU.
        """
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps"):
                continue
            else:
                dtype = a
        if dtype is None:
            return self
        dt = as_dtype(dtype)
        if dt == self._data.dtype:
            return self
        if not is_floating(dt):
            return _new(self._data.astype(dt))  # an integer result cannot carry a gradient
        return apply(OPS.astype, (self,), (dt, self._data.dtype))

    def astype(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    # ---- arithmetic (reflected forms keep the data-flow order: 2 - x has parents (2, x))
    def __add__(self, other: Any) -> Tensor:
        return _binary(OPS.add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(OPS.add, other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(OPS.sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(OPS.sub, other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(OPS.mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(OPS.mul, other, self)

    def __truediv__(self, other: Any) -> Tensor:
        a, b = _pair(self, other)
        return apply(OPS.div, (_floating(a), _floating(b)))

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = _pair(other, self)
        return apply(OPS.div, (_floating(a), _floating(b)))

    def __floordiv__(self, other: Any) -> Tensor:
        return _compare(np.floor_divide, self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _compare(np.floor_divide, other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _compare(np.mod, self, other)

    def __neg__(self) -> Tensor:
        return apply(OPS.neg, (self,))

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, np.generic):
            other = other.item()  # a numpy scalar exponent must not make float32 float64
        if isinstance(other, numbers.Real) and not isinstance(other, (bool, np.bool_)):
            x = self
            if isinstance(other, numbers.Integral):
                if other < 0:
                    x = _floating(x)
            else:
                x = _floating(x)
            return apply(OPS.pow_const, (x,), (other,))
        return _binary(OPS.pow, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        a, b = _pair(other, self)
        return apply(OPS.pow, (a, b))

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return Tensor(other).matmul(self) if not isinstance(other, Tensor) else other.matmul(self)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with numpy's rules: 1-D, 2-D and batched (batch dims broadcast)."""
        if not isinstance(other, Tensor):
            other = Tensor(other, dtype=self.dtype)
        if self._data.ndim == 0 or other._data.ndim == 0:
            raise ValueError(
                f"matmul: both arguments need at least 1 dim, got shapes {self.shape} and "
                f"{other.shape}; use * to multiply by a scalar"
            )
        return _binary(OPS.matmul, self, other)

    def dot(self, other: Tensor) -> Tensor:
        """The dot product of two 1-D tensors."""
        if self.ndim != 1 or other.ndim != 1:
            raise ValueError(f"dot: needs two 1-D tensors, got shapes {self.shape}, {other.shape}")
        return self.matmul(other)

    def neg(self) -> Tensor:
        return apply(OPS.neg, (self,))

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def pow(self, exponent: Any) -> Tensor:
        return self**exponent

    # ---- comparisons and logic give tensors without grad
    def __lt__(self, other: Any) -> Tensor:
        return _compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return _compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.not_equal, self, other)

    def __and__(self, other: Any) -> Tensor:
        return _compare(np.bitwise_and, self, other)

    def __or__(self, other: Any) -> Tensor:
        return _compare(np.bitwise_or, self, other)

    def __xor__(self, other: Any) -> Tensor:
        return _compare(np.bitwise_xor, self, other)

    def __invert__(self) -> Tensor:
        return _new(np.invert(self._data))

    def eq(self, other: Any) -> Tensor:
        return self == other

    def ne(self, other: Any) -> Tensor:
        return self != other

    def lt(self, other: Any) -> Tensor:
        return self < other

    def le(self, other: Any) -> Tensor:
        return self <= other

    def gt(self, other: Any) -> Tensor:
        return self > other

    def ge(self, other: Any) -> Tensor:
        return self >= other

    def logical_not(self) -> Tensor:
        return _new(np.logical_not(self._data))

    def isnan(self) -> Tensor:
        return _new(np.isnan(self._data))

    def isinf(self) -> Tensor:
        return _new(np.isinf(self._data))

    def isfinite(self) -> Tensor:
        return _new(np.isfinite(self._data))

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        axes = _norm_axes(dim, None, self.ndim, "any")
        return _new(np.asarray(np.any(self._data, axis=axes, keepdims=keepdim)))

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        axes = _norm_axes(dim, None, self.ndim, "all")
        return _new(np.asarray(np.all(self._data, axis=axes, keepdims=keepdim)))

    def floor(self) -> Tensor:
        """Rounded down; a constant for autograd (its derivative is 0 almost everywhere)."""
        return _new(np.floor(self._data))

    def ceil(self) -> Tensor:
        return _new(np.ceil(self._data))

    def round(self) -> Tensor:
        return _new(np.round(self._data))

    def trunc(self) -> Tensor:
        return _new(np.trunc(self._data))

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """Indices of the non-zero elements: an (n, ndim) tensor, or one tensor per dim."""
        idx = np.nonzero(self._data)
        if as_tuple:
            return tuple(_new(i) for i in idx)
        return _new(np.stack(idx, axis=1) if idx else np.zeros((0, 0), dtype=np.intp))

    def sign(self) -> Tensor:
        """-1, 0 or 1 per element; a constant (its gradient is 0 almost everywhere)."""
        return _new(np.sign(self._data))

    def equal(self, other: Tensor) -> bool:
        """True if both have the same shape and elements."""
        return self.shape == other.shape and bool(np.array_equal(self._data, other._data))

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        other = other._data if isinstance(other, Tensor) else other
        return bool(np.allclose(self._data, other, rtol=rtol, atol=atol))

    # ---- elementwise functions
    def exp(self) -> Tensor:
        return _unary(OPS.exp, self)

    def log(self) -> Tensor:
        return _unary(OPS.log, self)

    def sqrt(self) -> Tensor:
        return _unary(OPS.sqrt, self)

    def abs(self) -> Tensor:
        return apply(OPS.abs, (self,))

    __abs__ = abs

    def tanh(self) -> Tensor:
        return _unary(OPS.tanh, self)

    def sigmoid(self) -> Tensor:
        return _unary(OPS.sigmoid, self)

    def relu(self) -> Tensor:
        return apply(OPS.relu, (self,))

    def softplus(self) -> Tensor:
        return _unary(OPS.softplus, self)

    def erf(self) -> Tensor:
        return _unary(OPS.erf, self)

    def sin(self) -> Tensor:
        return _unary(OPS.sin, self)

    def cos(self) -> Tensor:
        return _unary(OPS.cos, self)

    def maximum(self, other: Any) -> Tensor:
        return _binary(OPS.maximum, self, other)

    def where(self, condition: Any, other: Any) -> Tensor:
        """`self` where condition holds, else `other` (as PyTorch's `x.where(cond, y)`)."""
        return where(condition, self, other)

    # ---- reductions (dim= or numpy's axis=, keepdim=)
    def sum(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, dtype: Any = None
    ) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind == "b":
            x = _new(x._data.astype(int64))
        axes = _norm_axes(dim, axis, x._data.ndim, "sum")
        return apply(OPS.sum, (x,), (axes, keepdim, x._data.shape))

    def amax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        """The largest elements over `dim` (a tie shares the gradient evenly)."""
        axes = _norm_axes(dim, axis, self.ndim, "amax")
        if self._data.size == 0 and (axes is None or any(self.shape[a] == 0 for a in axes)):
            raise RuntimeError(f"amax: cannot reduce an empty dim of shape {self.shape}")
        return apply(OPS.amax, (self,), (axes, keepdim))

    def log_softmax(self, dim: int | None = -1) -> Tensor:
        """log(softmax(x)) computed stably: logits of 1e4 give no inf or nan.

        `dim=None` picks PyTorch's legacy implicit dim (0 for 0-, 1- and 3-d tensors, else 1).
        """
        if dim is None:
            dim = 0 if self.ndim in (0, 1, 3) else 1
        d = _norm_dim(dim, self.ndim, "log_softmax")
        return apply(OPS.log_softmax, (_floating(self),), (d if self.ndim else None,))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the largest element (over the flattened tensor when dim is None)."""
        if dim is None:
            return _new(np.asarray(np.argmax(self._data)))
        d = _norm_dim(dim, self.ndim, "argmax")
        return _new(np.asarray(np.argmax(self._data, axis=d, keepdims=keepdim)))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return _new(np.asarray(np.argmin(self._data)))
        d = _norm_dim(dim, self.ndim, "argmin")
        return _new(np.asarray(np.argmin(self._data, axis=d, keepdims=keepdim)))

    # ---- shape
    def reshape(self, *shape: Any) -> Tensor:
        shape = _shape_arg(shape, "reshape")
        if shape == self._data.shape:
            return self
        try:
            return apply(OPS.reshape, (self,), (shape, self._data.shape))
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {self.shape} "
                f"({self._data.size} elements) into {shape}"
            ) from None

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def permute(self, *dims: Any) -> Tensor:
        dims = _shape_arg(dims, "permute")
        n = self._data.ndim
        axes = tuple(_norm_dim(d, n, "permute") for d in dims)
        if sorted(axes) != list(range(n)):
            raise ValueError(f"permute: {dims} is not an ordering of the {n} dims of {self.shape}")
        return self._permute(axes)

    def _permute(self, axes: tuple[int, ...]) -> Tensor:
        if axes == tuple(range(len(axes))):
            return self
        inverse = [0] * len(axes)
        for i, a in enumerate(axes):
            inverse[a] = i
        return apply(OPS.permute, (self,), (axes, tuple(inverse)))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dims."""
        n = self._data.ndim
        d0, d1 = _norm_dim(dim0, n, "transpose"), _norm_dim(dim1, n, "transpose")
        axes = list(range(n))
        if n:
            axes[d0], axes[d1] = axes[d1], axes[d0]
        return self._permute(tuple(axes))

    @property
    def T(self) -> Tensor:
        """The dims in reverse order (the transpose, for a matrix)."""
        return self._permute(tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (a batch of matrices transposed)."""
        n = self._data.ndim
        if n < 2:
            raise ValueError(f"mT: needs at least 2 dims, got shape {self.shape}")
        return self._permute((*range(n - 2), n - 1, n - 2))

    def expand(self, *sizes: Any) -> Tensor:
        """A broadcast view to `sizes` (-1 keeps a dim); its gradient sums back."""
        sizes = _shape_arg(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to fewer dims {sizes}")
        shape = tuple(
            self.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(sizes)
        )
        if shape == self.shape:
            return self
        try:
            np.broadcast_shapes(self.shape, shape)
            ok = np.broadcast_shapes(self.shape, shape) == shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"expand: shape {self.shape} cannot be expanded to {shape}")
        return apply(OPS.expand, (self,), (shape,))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return self.expand(tuple(shape))

    # ---- indexing
    def __getitem__(self, idx: Any) -> Tensor:
        index = _index(idx)
        try:
            return apply(OPS.getitem, (self,), (index, self._data.shape))
        except IndexError as err:
            raise IndexError(f"indexing a tensor of shape {self.shape}: {err}") from None

    def _index_add(self, idx: tuple, shape: tuple[int, ...]) -> Tensor:
        """Zeros of `shape` with self added at idx: the gradient of indexing, as an op."""
        return apply(OPS.index_add, (self,), (idx, shape))

    # ---- autograd
    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        A non-scalar tensor needs `gradient` (same shape): the gradient of some scalar with
        respect to self. With `create_graph=True` the gradients are themselves differentiable.
        """
        graph.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> graph.RemovableHandle:
        """Call `fn(grad)` when this tensor's gradient is complete; a result replaces it."""
        return graph.register_hook(self, fn)

    # ---- the node protocol (autograd/graph.py)
    def _vjps(self, g: Any, create_graph: bool) -> list[Any]:
        op, parents, consts = self._op, self._parents, self._ctx
        if self._stamp != _CLOCK[0]:  # something changed in place since this node was made
            _check_versions(self)
        if create_graph:
            if not op.higher_order:
                raise RuntimeError(
                    f"backward(create_graph=True) through '{op.name}': its derivative rules run "
                    "on arrays only, so its gradient cannot be differentiated again"
                )
            if not isinstance(g, Tensor):
                g = _new(np.asarray(g))
            out, args = self, parents
        else:
            out, args = self._data, [p._data for p in parents]
            g_owned = self._fresh is g and not self._retains_grad and not self._hooks
            self._fresh = None
        grads: list[Any] = []
        for p, rule in zip(parents, op.vjps):
            if not p._requires_grad:
                grads.append(None)
                continue
            pg = rule(g, out, *args, *consts)
            pd = p._data
            if pg.shape != pd.shape:
                pg = sum_to(pg, pd.shape)
            if create_graph:
                if pg.dtype != pd.dtype:
                    pg = pg.to(pd.dtype)
            else:
                if pg.dtype != pd.dtype:
                    pg = pg.astype(pd.dtype)
                if _is_fresh(pg, g, g_owned, parents):
                    p._fresh = pg
            grads.append(pg)
        return grads

    def _accumulate_grad(self, g: Any) -> None:
        # a gradient only this pass can see becomes .grad as it is; anything else is copied,
        # so that changing one tensor's .grad in place (zero_grad) never changes another's
        if isinstance(g, Tensor):  # create_graph: keep the gradient's own history
            self.grad = g if self.grad is None else self.grad + g
        elif self.grad is None:
            own = g is self._fresh and not self._hooks
            self.grad = _new(g if own else np.array(g))
        elif self.grad._requires_grad:
            self.grad = self.grad + _new(np.asarray(g))
        else:
            self.grad._data = self.grad._data + g
        self._fresh = None

    def _clear_grad(self, set_to_none: bool) -> None:
        if set_to_none or self.grad is None:
            self.grad = None
        else:
            self.grad._data.fill(0)

    def _seed_grad(self, grad: Any, create_graph: bool) -> Any:
        if grad is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be created implicitly only for a scalar output, and "
                    f"this tensor has shape {self.shape}. Reduce it first (loss.sum(), "
                    "loss.mean()) or pass backward(gradient=...) of the same shape."
                )
            seed = np.ones_like(self._data)
            return _new(seed) if create_graph else seed
        g = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=self.dtype)
        if g.shape != self.shape:
            raise RuntimeError(
                f"backward(): gradient has shape {g.shape} but the output has shape {self.shape}"
            )
        if create_graph:
            return g.to(self.dtype)
        return np.asarray(g._data, dtype=self._data.dtype)

    def _wrap_grad(self, g: Any) -> Tensor:
        self._fresh = None  # grad() hands g out: it is no longer only the pass's
        return g if isinstance(g, Tensor) else _new(np.asarray(g))

    def _unwrap_grad(self, u: Any, create_graph: bool) -> Any:
        t = u if isinstance(u, Tensor) else Tensor(u, dtype=self.dtype)
        if t.shape != self.shape:
            raise RuntimeError(
                f"a hook returned a gradient of shape {t.shape} for a tensor of shape {self.shape}"
            )
        return t if create_graph else t._data

    def _raw(self) -> np.ndarray:
        return self._data

    @staticmethod
    def _is_finite(x: Any) -> bool:
        return bool(np.isfinite(x).all())

    @staticmethod
    def _is_nan(x: Any) -> bool:
        return bool(np.isnan(x).any())

    # ---- in-place ops: `plain` changes the array when nothing is recorded (see _inplace)
    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        other = other if alpha == 1 else other * alpha
        return _inplace(self, "add_", lambda x, o: x + o, _ufunc(np.add, other), other)

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        other = other if alpha == 1 else other * alpha
        return _inplace(self, "sub_", lambda x, o: x - o, _ufunc(np.subtract, other), other)

    def mul_(self, other: Any) -> Tensor:
        return _inplace(self, "mul_", lambda x, o: x * o, _ufunc(np.multiply, other), other)

    def div_(self, other: Any) -> Tensor:
        return _inplace(self, "div_", lambda x, o: x / o, _ufunc(np.true_divide, other), other)

    def pow_(self, exponent: Any) -> Tensor:
        return _inplace(self, "pow_", lambda x, o: x**o, _ufunc(np.power, exponent), exponent)

    def zero_(self) -> Tensor:
        return _inplace(self, "zero_", lambda x, o: _replaced(x, 0), lambda d: d.fill(0), None)

    def fill_(self, value: Any) -> Tensor:
        v = value._data if isinstance(value, Tensor) else value
        return _inplace(self, "fill_", lambda x, o: _replaced(x, o), lambda d: d.fill(v), value)

    def copy_(self, src: Any) -> Tensor:
        s = src._data if isinstance(src, Tensor) else np.asarray(src)
        return _inplace(
            self, "copy_", lambda x, o: _replaced(x, o),
            lambda d: np.copyto(d, s, casting="same_kind"),
            src,
        )

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return _inplace(
            self, "clamp_", lambda x, o: x.clamp(min, max), lambda d: np.clip(d, min, max, out=d),
            None,
        )

    def relu_(self) -> Tensor:
        return _inplace(self, "relu_", lambda x, o: x.relu(), lambda d: np.maximum(d, 0, out=d),
                        None)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        m = derived._mask(mask)
        v = value._data if isinstance(value, Tensor) else value

        def plain(d: np.ndarray) -> None:
            d[np.broadcast_to(m, d.shape)] = v

        return _inplace(self, "masked_fill_", lambda x, o: x.masked_fill(m, o), plain, value)

    def sigmoid_(self) -> Tensor:
        return _inplace(self, "sigmoid_", lambda x, o: x.sigmoid(),
                        lambda d: np.copyto(d, OPS.sigmoid.forward(d)), None)

    def tanh_(self) -> Tensor:
        return _inplace(self, "tanh_", lambda x, o: x.tanh(), lambda d: np.tanh(d, out=d), None)

    def exp_(self) -> Tensor:
        return _inplace(self, "exp_", lambda x, o: x.exp(), lambda d: np.exp(d, out=d), None)

    def neg_(self) -> Tensor:
        return _inplace(self, "neg_", lambda x, o: -x, lambda d: np.negative(d, out=d), None)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with uniform samples from [a, b), drawn from the library's seeded generator."""
        sample = generator().uniform(a, b, size=self.shape).astype(self.dtype)
        return _inplace(
            self, "uniform_", lambda x, o: _replaced(x, sample), lambda d: np.copyto(d, sample),
            None,
        )

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with normal samples, drawn from the library's seeded generator."""
        sample = generator().normal(mean, std, size=self.shape).astype(self.dtype)
        return _inplace(
            self, "normal_", lambda x, o: _replaced(x, sample), lambda d: np.copyto(d, sample),
            None,
        )

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __setitem__(self, idx: Any, value: Any) -> None:
        index = _index(idx)
        v = value._data if isinstance(value, Tensor) else value

        def plain(d: np.ndarray) -> None:
            d[index] = v

        _inplace(self, "setitem", lambda x, o: derived.index_put(x, index, o), plain, value)

    # ---- derived ops (derived.py): compositions of the primitives, no derivative code
    mean = derived.mean
    var = derived.var
    std = derived.std
    max = derived.max
    min = derived.min
    amin = derived.amin
    minimum = derived.minimum
    logsumexp = derived.logsumexp
    softmax = derived.softmax
    prod = derived.prod
    clamp = derived.clamp
    clip = derived.clamp
    leaky_relu = derived.leaky_relu
    gelu = derived.gelu
    square = derived.square
    rsqrt = derived.rsqrt
    flatten = derived.flatten
    squeeze = derived.squeeze
    unsqueeze = derived.unsqueeze
    repeat = derived.repeat
    split = derived.split
    chunk = derived.chunk
    pad = derived.pad
    norm = derived.norm
    masked_fill = derived.masked_fill
    gather = derived.gather
    index_select = derived.index_select
    flip = derived.flip
    tril = derived.tril
    triu = derived.triu
    topk = derived.topk
    sort = derived.sort
    outer = derived.outer
    mm = derived.mm
    bmm = derived.bmm
    reciprocal = derived.reciprocal
    cumsum = derived.cumsum

    # ---- sliding windows (conv.py)
    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """All windows of `size` along `dimension`, every `step`, as a new last dim (a view)."""
        d = _norm_dim(dimension, self.ndim, "unfold")
        n = self.shape[d] if self.ndim else 1
        if not (isinstance(size, int) and isinstance(step, int)) or step < 1 or not 0 <= size <= n:
            raise RuntimeError(f"unfold: need 0 <= size <= {n} (dim {d} of shape {self.shape}) "
                               f"and step >= 1, got size={size!r}, step={step!r}")
        return self._windows(((d,), (size,), (step,), (1,), ((0, 0),), 0.0))

    def _windows(self, win: tuple) -> Tensor:
        """Windows along several dims at once: win = (dims, sizes, steps, dilations, pads,
        fill), see ops.py."""
        return apply(OPS.unfold, (self,), (win, self._data.shape))

    def _unfold_backward(self, in_shape: tuple[int, ...], win: tuple) -> Tensor:
        """The windows added back into zeros of in_shape: unfold's gradient, as an op."""
        return apply(OPS.unfold_backward, (self,), (in_shape, win))


# ---- free functions ---------------------------------------------------------------------------


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Elementwise `x if condition else y`, broadcasting all three; gradients flow to x and y.

    `where(condition)` alone gives the indices where it holds, one tensor per dim (as torch).
    """
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if x is None and y is None:
        return tuple(_new(i) for i in np.nonzero(cond))
    if cond.dtype.kind != "b":
        cond = cond != 0
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = Tensor(x)
    a, b = _pair(x, y)
    return apply(OPS.where, (a, b), (cond,))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (all other dims must match)."""
    ts = list(tensors)
    if not ts:
        raise ValueError("cat: needs at least one tensor")
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in ts]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = promote(dt, t.dtype)
    ts = [t.to(dt) for t in ts]
    d = _norm_dim(dim, ts[0].ndim, "cat")
    for t in ts[1:]:
        if t.ndim != ts[0].ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if i != d
        ):
            shapes = ", ".join(str(u.shape) for u in ts)
            raise ValueError(f"cat: shapes {shapes} differ outside dim {d}")
    bounds = tuple(np.cumsum([0] + [t.shape[d] for t in ts]).tolist())
    return apply(OPS.cat, tuple(ts), (d, bounds))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new dim."""
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    shapes = {t.shape for t in ts}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    d = _norm_dim(dim, ts[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in ts], d)


# ---- gradients that can be stored as they are -----------------------------------------------

def _is_fresh(pg: Any, g: Any, g_owned: bool, parents: tuple[Tensor, ...]) -> bool:
    """Does nothing but the backward pass hold the gradient array `pg`? Then `.grad` may keep it.

    A new array (a matmul's result) qualifies if nothing else refers to it; a view qualifies if
    its base is such an array, or if it is `g` itself or a view of it (a transpose passing the
    gradient through) while `g` qualified and no other input shares it.
    """
    if type(pg) is not np.ndarray or not pg.flags.writeable:
        return False
    base = pg.base
    if base is None:
        if pg is g:
            return g_owned and sum(p._requires_grad for p in parents) == 1
        return sys.getrefcount(pg) <= _ONLY_LOCAL
    g_base = g if getattr(g, "base", None) is None else g.base
    if base is g_base:
        return g_owned and sum(p._requires_grad for p in parents) == 1
    return type(base) is np.ndarray and sys.getrefcount(base) <= _ONLY_VIEW


_ONLY_LOCAL = 3  # references to pg: the caller's variable, our argument, getrefcount's argument
_ONLY_VIEW = 3  # references to a base: the view's .base, our variable, getrefcount's argument


# ---- in-place changes ---------------------------------------------------------------------------


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


def _bump(self: Tensor) -> None:
    _CLOCK[0] += 1
    self._version[0] = _CLOCK[0]


def _inplace_error(self: Tensor, name: str, other: Any, err: Exception) -> Exception:
    oshape = getattr(other, "shape", ())
    return RuntimeError(
        f"{name}: cannot write a result of shape {tuple(oshape)} into a tensor of shape "
        f"{self.shape} and dtype {self.dtype} in place ({err}). In place, the result must keep "
        "the tensor's shape and dtype (an expanded tensor is read-only)."
    )


def _check_versions(node: Tensor) -> None:
    """Raise if a value that node's derivative rules read was changed in place since."""
    op, stamp = node._op, node._stamp
    reads = op.reads
    for i, p in enumerate(node._parents):
        if not p._requires_grad:
            continue
        if reads is None:
            need: Any = None
        elif isinstance(op.vjps, PerInput):
            need = op.vjps.reads
        else:
            need = reads[i]
        candidates = [(0, node)] + [(j + 1, q) for j, q in enumerate(node._parents)]
        for k, t in candidates:
            if (need is None or k in need) and t._version[0] > stamp:
                what = "its output" if k == 0 else f"its input {k - 1}"
                raise RuntimeError(
                    f"backward of '{op.name}' needs {what} (shape {tuple(t.shape)}), which an "
                    "in-place op changed after the forward pass; its gradient would be wrong. "
                    "Use the out-of-place form, or clone() the tensor before changing it."
                )
