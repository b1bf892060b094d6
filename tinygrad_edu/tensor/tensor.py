"""The Tensor: a numpy array that remembers how it was made, with PyTorch's API.

    x = tinygrad_edu.randn(64, 784)
    W = tinygrad_edu.randn(784, 10, requires_grad=True)
    loss = (x @ W).log_softmax(dim=1)[:, 0].mean().neg()
    loss.backward()
    W.grad.shape                # (784, 10)

A Tensor is a node of the shared graph core (autograd/graph.py): backward(), grad(), hooks,
no_grad() and detect_anomaly() are the core's, and the arithmetic of each op is one row of the
table in ops.py. This module is the core: storage, conversions, `apply` and the node protocol.
The methods of each op family are plain functions in their own module (arithmetic.py,
shape.py, ...), bound onto the class by the one table in methods.py; this module imports none
of them, so the dependency goes one way.

**Building a node: `apply(op, parents, consts=())`.** Every op, built-in or user-defined
(`tinygrad_edu.Function`), makes its output the same way:

    out = apply(op, (a, b), (axis,))   # op: an ops.Op row; a, b: Tensors; consts: plain values

It runs `op.forward(*arrays, *consts)`, wraps the array in a new Tensor and, if grad mode is on
and a parent requires grad, records (op, parents, consts) on it. Backward then calls
`op.vjps[i](g, out, *parents, *consts)` for each parent i that requires grad; see ops.py for the
rule protocol and for what changes under `create_graph=True` (the rules run on Tensors).

**In-place ops** (`add_`, `t[idx] = v`, ...) change the array and bump its version stamp
(versions.py); backward checks the stamps of what it reads, so a value changed since its
forward raises instead of giving a wrong gradient. See inplace.py.
"""

from __future__ import annotations

import builtins
import functools
import numbers
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..autograd import graph
from ..autograd.mode import MODE
from ..device import check_device, device, is_device
from .dims import _norm_dim
from .dtypes import as_dtype, float32, get_default_dtype, int64, is_floating, promote
from .grad_fn import BackwardNode, grad_fn_of
from .ops import OPS, Op, sum_to
from .versions import _CLOCK, _check_versions

__all__ = ["Tensor", "apply", "tensor", "ValuesIndices"]


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
    t._grad = None
    t.label = ""
    t._op = None
    t._parents = ()
    t._ctx = ()
    t._g = None
    t._hooks = None
    t._retains_grad = False
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
            arr = arr.astype(get_default_dtype())
        elif dt is None and arr.dtype.kind in "iu":
            arr = arr.astype(int64)
    if arr.dtype.kind not in "biuf":
        what = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}.get(
            arr.dtype.kind, f"elements of dtype {arr.dtype}")
        raise TypeError(f"Tensor(): cannot make a tensor from {what} (dtype {arr.dtype}, given a "
                        f"{type(data).__name__}); convert them to real numbers first "
                        "(e.g. class indices)")
    return arr


def _stand_in(t: Tensor) -> np.ndarray:
    """A freed graph's picture of t: its shape and dtype, no data (NaN, or 0 for integers)."""
    return _blank(t._data.shape, t._data.dtype)


@functools.lru_cache(maxsize=256)
def _blank(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    # read-only (a broadcast view), so one per shape and dtype serves every freed node: a
    # backward releases about one per op, and np.broadcast_to costs more than the op's bookkeeping
    fill = np.nan if dtype.kind == "f" else 0
    return np.broadcast_to(np.array(fill, dtype=dtype), shape)


_TYPE_NAMES = {np.dtype(k): v for k, v in [
    (np.float16, "Half"), (np.float32, "Float"), (np.float64, "Double"), (np.int8, "Char"),
    (np.int16, "Short"), (np.int32, "Int"), (np.int64, "Long"), (np.uint8, "Byte"),
    (np.bool_, "Bool")]}


def _sizes(sizes: tuple) -> tuple[int, ...]:
    for n in sizes:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise TypeError(f"Tensor(*sizes): sizes must be non-negative ints, got {sizes}")
    return tuple(int(n) for n in sizes) if sizes else (0,)


def _rebuild(cls: type, data: np.ndarray, requires_grad: bool, grad: Any, label: str) -> Tensor:
    t = object.__new__(cls)
    Tensor.__init__(t, np.empty(0, dtype=data.dtype))
    t._data = data
    t._requires_grad = t._retains_grad = requires_grad
    t._grad = None if grad is None else _new(grad)
    t.label = label
    return t


def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A new Tensor from a number, a nested list or an ndarray (always a copy), as torch.tensor:
    Python floats become the default dtype, ints int64, bools bool."""
    check_device(device, "tensor")
    if isinstance(dtype, bool):  # the old order tensor(data, requires_grad)
        dtype, requires_grad = None, dtype
    t = _new(_to_array(data, dtype))
    if requires_grad:
        t.requires_grad = True
    return t


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
    if op.view:
        for base in parents:
            if np.may_share_memory(data, base._data):
                _make_view(out, base)
                break
    if MODE.grad_enabled:
        for p in parents:
            if p._requires_grad:
                break
        else:
            return out
        out._requires_grad = True
        out._op, out._parents, out._ctx, out._stamp = op, parents, _frozen(consts), _CLOCK[0]
        for p in parents:
            p._used = True
        if MODE.anomaly:
            graph.check_forward(out)
    return out


def _make_view(out: Tensor, base: Tensor) -> None:
    """Mark `out` a view of `base`: one version stamp, so an in-place change to either is seen
    by every backward that saved the other, and in-place ops on `out` while recording refuse."""
    out._version = base._version
    out._base = base if base._base is None else base._base
    base._used = True  # recording an in-place op on base would leave the view behind


def _frozen(consts: tuple) -> tuple:
    """The constants a node keeps for backward, with every writable array in them copied.

    Index, mask, `where`-condition and class-target arrays are not inputs, so no version stamp
    guards them; a caller changing one in place between forward and backward (a label buffer
    reused across micro-batches) would move the gradient silently. PyTorch copies such an index;
    so does this, the one place every op records its constants (a tuple's arrays included).
    """
    for c in consts:
        if type(c) is np.ndarray or (type(c) is tuple and builtins.any(
                type(i) is np.ndarray for i in c)):
            return tuple([_copied(c) for c in consts])  # (a list: an exact-size tuple)
    return consts


def _copied(c: Any) -> Any:
    if type(c) is np.ndarray:
        return c.copy() if c.flags.writeable else c
    if type(c) is tuple:
        return tuple([_copied(i) for i in c])
    return c


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
            dt = get_default_dtype()
    else:
        return tensor(x)
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
        dt = _result_type(a._data, b._data)
        a, b = a.to(dt), b.to(dt)
    return a, b


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _result_type(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """PyTorch's result dtype for two tensors: a tensor with dims decides over a 0-d one unless
    the 0-d one is of a higher kind (bool < integer < floating): float32 * 0-d float64 is
    float32, int8 + 0-d int64 int8, but int32 * 0-d float64 float64."""
    if (a.ndim == 0) != (b.ndim == 0):
        dims, zero = (a, b) if b.ndim == 0 else (b, a)
        if _CATEGORY[zero.dtype.kind] <= _CATEGORY[dims.dtype.kind]:
            return dims.dtype
        return zero.dtype
    return promote(a.dtype, b.dtype)


def _binary(op: Op, a: Any, b: Any) -> Tensor:
    return apply(op, _pair(a, b))


def _floating(x: Tensor) -> Tensor:
    """x itself if it is floating point, else x as float32 (exp of an int tensor is a float)."""
    return x if x._data.dtype.kind == "f" else x.to(get_default_dtype())


def _unary(op: Op, x: Tensor) -> Tensor:
    return apply(op, (_floating(x),))


def _compare(fn: Callable[..., np.ndarray], a: Any, b: Any) -> Tensor:
    """fn on both operands' arrays in PyTorch's result dtype (int8 -1 == uint8 255 there, as
    both are 255 in uint8); the result is outside the graph."""
    if not isinstance(a, Tensor):
        a = _lift(a, b)
    elif not isinstance(b, Tensor):
        b = _lift(b, a)
    x, y = a._data, b._data
    if x.dtype != y.dtype:
        dt = _result_type(x, y)
        x, y = x.astype(dt), y.astype(dt)
    return _new(np.asarray(fn(x, y)))


# ---- the class ----------------------------------------------------------------------------------


class Tensor(graph.Node):
    """An n-dimensional array with autograd, constructed as torch.Tensor:

        Tensor([1, 2])      # float32 (the default dtype), whatever the numbers
        Tensor(2, 3)        # a 2x3 float32 tensor (uninitialized: fill it before reading)
        Tensor(array)       # an ndarray (or a Tensor) keeps its dtype (unlike torch.Tensor)

    `dtype=` and `requires_grad=` may be given; `tensor(data)` infers the dtype instead (ints
    int64). Only floating-point tensors can require grad.
    """

    __slots__ = (
        "_data", "_requires_grad", "_grad", "label", "_op", "_parents", "_ctx", "_g", "_hooks",
        "_retains_grad", "_version", "_stamp", "_used", "_fresh", "_base",
        "__weakref__",
    )
    __array_ufunc__ = None  # ndarray + Tensor calls Tensor.__radd__, so the graph is kept
    __hash__ = object.__hash__  # == is elementwise; identity is the hash (graph sets rely on it)

    def __init__(
        self, *data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None
    ) -> None:
        check_device(device, "Tensor")
        if len(data) == 1 and (
            not isinstance(data[0], numbers.Integral) or isinstance(data[0], np.generic)
        ):
            data = data[0]
            arr = _to_array(data, dtype)
            if dtype is None and not isinstance(data, (Tensor, np.ndarray, np.generic)):
                arr = arr.astype(get_default_dtype(), copy=False)  # Tensor([1, 2]) is float
            self._data = arr
        else:  # Tensor(), Tensor(2, 3), Tensor((2, 3))? no: a tuple is data, as in torch
            if len(data) == 1 and isinstance(data[0], bool):
                raise TypeError("Tensor(True): give the data as a list, Tensor([True])")
            self._data = np.empty(_sizes(data), dtype=as_dtype(dtype or get_default_dtype()))
        self._requires_grad = False
        self._grad: Tensor | None = None
        self.label = ""
        self._op, self._parents, self._ctx = None, (), ()
        self._g, self._hooks, self._retains_grad = None, None, False
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
    def grad(self) -> Tensor | None:
        """The gradient that backward() accumulated here (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigning .grad: expected a Tensor or None, got {type(value).__name__} "
                    f"({value!r}); wrap it, e.g. tinygrad_edu.full_like(p, {value!r})"
                )
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(
                    f"assigning .grad: a gradient of shape {value.shape} and dtype {value.dtype} "
                    f"cannot belong to a tensor of shape {self.shape} and dtype {self.dtype}; "
                    "they must match"
                )
        self._grad = value

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
    def grad_fn(self) -> BackwardNode | None:
        """The node that made this tensor (`.name()`, `.next_functions`, `.op` its op row), or
        None for a leaf, as PyTorch's."""
        return grad_fn_of(self)

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
    def device(self) -> device:
        return check_device(None, "device")

    @property
    def is_cuda(self) -> bool:
        return False

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        """A clear error: there is no GPU here."""
        check_device("cuda", "Tensor.cuda()")
        return self  # pragma: no cover  (check_device raises)

    def contiguous(self) -> Tensor:
        """Itself if its memory is row-major already, else a row-major copy (as PyTorch)."""
        return self if self._data.flags.c_contiguous else self.clone()

    def to(self, *args: Any, dtype: Any = None, device: Any = None, **_: Any) -> Tensor:
        """This tensor in another dtype (itself if it already is); the gradient flows back.

        `to("cpu")` and `to(device)` change nothing, as there is only the CPU; a GPU device is a
        clear error.
        """
        check_device(device, "Tensor.to")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif is_device(a):
                check_device(a, "Tensor.to")
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

    def type(self, dtype: Any = None) -> Any:
        """With no argument, PyTorch's type name ('torch.FloatTensor'); with a dtype (or such
        a name), this tensor converted to it."""
        if dtype is None:
            return "torch." + _TYPE_NAMES[self._data.dtype] + "Tensor"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            names = {v: k for k, v in _TYPE_NAMES.items()}
            key = dtype.removeprefix("torch.").removesuffix("Tensor")
            if key not in names:
                raise TypeError(f"type(): unknown tensor type {dtype!r}")
            dtype = names[key]
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

    def _release(self, husks: dict) -> None:
        # backward has run here: drop the saved arrays (inputs, constants), keep op and shapes
        graph.release(self, husks, _stand_in)

    def _accumulate_grad(self, g: Any) -> None:
        # a gradient only this pass can see becomes .grad as it is; anything else is copied,
        # so that changing one tensor's .grad in place (zero_grad) never changes another's
        grad = self._grad
        if isinstance(g, Tensor):  # create_graph: keep the gradient's own history
            self._grad = g if grad is None else grad + g
        elif grad is None:
            own = g is self._fresh and not self._hooks
            self._grad = _new(g if own else np.array(g))
        elif grad._requires_grad:
            self._grad = grad + _new(np.asarray(g))
        else:  # a 0-d sum is a numpy scalar: keep .grad an array, or zero_() could not reach it
            grad._data = np.asarray(grad._data + g)
        self._fresh = None

    def _clear_grad(self, set_to_none: bool) -> None:
        if set_to_none or self._grad is None:
            self._grad = None
        else:
            self._grad._data.fill(0)

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
