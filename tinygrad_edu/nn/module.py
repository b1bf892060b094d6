"""`Module`: the base of every layer and model, found by looking at its attributes.

A module owns whatever it holds in its attributes, as plain Python objects:

    child modules               self.fc = Linear(2, 4)        -> children "fc"
    Values                      self.b = Value(0.0)           -> parameter "b"    (micrograd style)
    nn.Parameter tensors        self.weight = Parameter(w)    -> parameter "weight" (PyTorch style)
    lists/tuples/dicts of those self.layers = [Layer(..), ..] -> children "layers.0", "layers.1"
                                self.w = [Value(..), ..]      -> parameters "w.0", "w.1"

Nothing is registered behind the scenes; `parameters()` walks the attributes every time, in the
order they were set (a module's own parameters first, then its children's, as in PyTorch).
A plain Tensor in an attribute is data, not a parameter, unless it is registered as a buffer.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..autograd.mode import MODE, no_grad
from ..device import check_device, is_device
from ..tensor import Tensor
from ..tensor.dtypes import as_dtype
from ..value import Value
from .parameter import Parameter

__all__ = ["Module", "IncompatibleKeys", "is_parameter"]

# id(graph node) -> (a weak reference to it, the (module, call number) of each Module call that
# returned it, inner first): the viz names parameters (`0.weight`) and draws a box per call
# (`Linear(784->256)`) from them. Keyed by id, since Tensor's == is elementwise; an entry goes
# when its node does, so no graph is kept alive.
CALLS: dict[int, tuple[weakref.ref, list[tuple[Any, int]]]] = {}
_CALL_NUMBER = itertools.count()


def _remember_call(module: Module, out: Any) -> None:
    number = next(_CALL_NUMBER)
    for node in out if isinstance(out, (list, tuple)) else (out,):
        if getattr(node, "_op", None) is not None:
            entry = CALLS.get(id(node))
            if entry is None or entry[0]() is not node:
                key = id(node)
                entry = CALLS[key] = (weakref.ref(node, lambda _, k=key: CALLS.pop(k, None)), [])
            entry[1].append((module, number))


def calls_that_made(node: Any) -> list[tuple[Any, int]]:
    """(module, call number) of each Module call that returned `node`, innermost first."""
    entry = CALLS.get(id(node))
    return entry[1] if entry is not None and entry[0]() is node else []


_BOOKKEEPING = frozenset({"training", "_buffer_names", "_non_persistent"})
_PARAMETER_TYPES = (Value, Parameter)


def is_parameter(x: Any) -> bool:
    """A trainable leaf: a `Value`, or a Tensor marked as `nn.Parameter`."""
    return isinstance(x, _PARAMETER_TYPES)


def _is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped (as PyTorch's return value)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclass it, set attributes, write `forward`.

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2 = nn.Linear(2, 4), nn.Linear(4, 1)
            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    training: bool = True
    _buffer_names: tuple[str, ...] = ()
    _non_persistent: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.training = True

    def __setattr__(self, name: str, value: Any) -> None:
        old = vars(self).get(name)
        if isinstance(old, Parameter) and isinstance(value, Tensor) \
                and not isinstance(value, Parameter):
            raise TypeError(
                f"cannot assign a plain Tensor to parameter {name!r} of {type(self).__name__}: "
                f"it would stop being trained. Wrap it (nn.Parameter(t)), or change the values "
                f"in place (with no_grad(): self.{name}.copy_(t))"
            )
        object.__setattr__(self, name, value)

    # ---- running it
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(): define forward(self, ...) in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        if MODE.grad_enabled:
            _remember_call(self, out)
        return out

    # ---- what it holds: this scan of the attributes feeds everything below (parameters() has
    # ---- a faster copy of it that skips the names)
    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, object) for every parameter, buffer and child module held directly."""
        for name, value in vars(self).items():
            if name in _BOOKKEEPING:
                continue
            if isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module) or is_parameter(item):
                        yield f"{name}.{i}", item
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, Module) or is_parameter(item):
                        yield f"{name}.{key}", item
            elif isinstance(value, Module) or is_parameter(value):
                yield name, value
            elif name in self._buffer_names and value is not None:
                yield name, value

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The modules held directly, with their attribute names ("fc", "layers.0")."""
        seen: set[int] = set()
        for name, value in self._members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first, with dotted names."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, child in self._members():  # all, a module held twice too: memo dedups
            if not isinstance(child, Module):
                continue
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def _own_parameters(self) -> Iterator[tuple[str, Any]]:
        for name, value in self._members():
            if is_parameter(value):
                yield name, value

    def _own_buffers(self) -> Iterator[tuple[str, Any]]:
        for name in self._buffer_names:
            value = vars(self).get(name)
            if value is not None:
                yield name, value

    def _named(self, own: Callable[[Module], Iterator[tuple[str, Any]]], prefix: str,
               recurse: bool, remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for mod_prefix, module in modules:
            for name, value in own(module):
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        """(dotted name, parameter) pairs with PyTorch's key names: "layers.0.weight"."""
        return self._named(Module._own_parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> list[Any]:
        """Every parameter (each once), the module's own first, then its children's.

        A list rather than PyTorch's generator, so `len(model.parameters())` works too. The
        same order as `named_parameters()`, found without building names: training loops of
        scalar nets call this every step.
        """
        out: list[Any] = []
        seen: set[int] = set()
        seen_modules = {id(self)}

        def visit(module: Module) -> None:
            children = []
            for value in vars(module).values():
                if isinstance(value, _PARAMETER_TYPES):
                    items: Any = (value,)
                elif isinstance(value, Module):
                    children.append(value)
                    continue
                elif isinstance(value, (list, tuple)):
                    items = value
                elif isinstance(value, dict):
                    items = value.values()
                else:
                    continue
                for item in items:
                    if isinstance(item, _PARAMETER_TYPES):
                        if id(item) not in seen:
                            seen.add(id(item))
                            out.append(item)
                    elif isinstance(item, Module):
                        children.append(item)
            if recurse:
                for child in children:
                    if id(child) not in seen_modules:
                        seen_modules.add(id(child))
                        visit(child)

        visit(self)
        return out

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        return self._named(Module._own_buffers, prefix, recurse)

    def buffers(self, recurse: bool = True) -> list[Any]:
        return [b for _, b in self.named_buffers(recurse=recurse)]

    # ---- registering things by name (plain attributes underneath)
    def _check_name(self, name: str, what: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{what}: name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{what}: name {name!r} must be non-empty and contain no '.'")

    def add_module(self, name: str, module: Module | None) -> None:
        """Same as `setattr(self, name, module)`, with the name checked."""
        self._check_name(name, "add_module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module")
        setattr(self, name, module)

    register_module = add_module

    def register_parameter(self, name: str, param: Any) -> None:
        """Same as `setattr(self, name, param)` for an `nn.Parameter` or `Value` (or None)."""
        self._check_name(name, "register_parameter")
        if param is not None and not is_parameter(param):
            raise TypeError(
                f"register_parameter: {name!r} must be an nn.Parameter or a Value, got "
                f"{type(param).__name__}; wrap a Tensor as nn.Parameter(t)"
            )
        setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Keep a non-trained Tensor (running mean, ...) in the module and its state dict."""
        self._check_name(name, "register_buffer")
        if tensor is not None and not _is_tensor(tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        if name not in self._buffer_names:
            self._buffer_names = (*self._buffer_names, name)
        if not persistent and name not in self._non_persistent:
            self._non_persistent = (*self._non_persistent, name)
        setattr(self, name, tensor)

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path, as named by `named_modules()`."""
        if target == "":
            return self
        for name, module in self.named_modules():
            if name == target:
                return module
        raise AttributeError(f"{type(self).__name__} has no submodule {target!r}")

    # ---- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Training mode for this module and all inside it (dropout on, batch statistics)."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout off, running statistics. Same as `train(False)`."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (Values go back to 0.0; Tensors to None or zeros)."""
        for p in self.parameters():
            p._clear_grad(set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every Tensor parameter; Values always train."""
        for p in self.parameters():
            if isinstance(p, Value):
                if not requires_grad:
                    raise ValueError(
                        "requires_grad_(False): Value parameters always take part in backward; "
                        "leave them out of the optimizer instead"
                    )
            else:
                p.requires_grad = bool(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every submodule (children first) and then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- state dicts
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> dict[str, Any]:
        """Parameters and persistent buffers by dotted name: Tensors for Tensors (sharing
        storage, detached unless `keep_vars`), floats for Values."""
        out: dict[str, Any] = {}
        for key, value in self._state_items(prefix):
            if isinstance(value, Value):
                out[key] = value if keep_vars else value.data
            else:
                out[key] = value if keep_vars else value.detach()
        return out

    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        def own(m: Module) -> Iterator[tuple[str, Any]]:
            yield from m._own_parameters()
            for name, buf in m._own_buffers():
                if name not in m._non_persistent:
                    yield name, buf

        return self._named(own, prefix, recurse=True, remove_duplicate=False)  # as PyTorch

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and buffers in place, by key.

        Every problem is found before anything is written: with `strict`, missing and
        unexpected keys; always, wrong shapes. Then one error lists them all and the module is
        left as it was.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict expects a dict, got {type(state_dict).__name__}")
        targets = dict(self._state_items())
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems: list[str] = []
        if strict:
            problems += [f"missing key {k!r}" for k in missing]
            problems += [f"unexpected key {k!r}" for k in unexpected]
        writes: list[tuple[Any, np.ndarray]] = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            try:
                arr = _as_array(state_dict[key])
            except TypeError as err:
                problems.append(f"{key!r}: {err}")
                continue
            want = () if isinstance(target, Value) else tuple(target._data.shape)
            if arr.shape != want:
                problems.append(f"shape mismatch for {key!r}: the module has {want}, "
                                f"the state dict has {arr.shape}")
                continue
            writes.append((target, arr))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__} "
                f"({len(problems)}; nothing was loaded):\n  " + "\n  ".join(problems)
            )
        with no_grad():
            for target, arr in writes:
                if isinstance(target, Value):
                    target.data = float(arr)
                else:
                    target.copy_(arr.astype(target.dtype, copy=False))
        return IncompatibleKeys(missing, unexpected)

    # ---- dtypes
    def to(self, *args: Any, dtype: Any = None, device: Any = None, **_: Any) -> Module:
        """Convert floating-point parameters and buffers to `dtype`, in place (returns self).
        Create the optimizer after this: it holds on to the parameters' arrays.

        A device ('cpu', `torch.device("cpu")`) changes nothing, there being only the CPU; a
        GPU one is a clear error."""
        check_device(device, "Module.to")
        for a in args:
            if is_device(a):
                check_device(a, "Module.to")
            else:
                dtype = a
        if dtype is None:
            return self
        dt = as_dtype(dtype)
        for m in self.modules():
            for _, t in [*m._own_parameters(), *m._own_buffers()]:
                if isinstance(t, Tensor) and t.dtype.kind == "f" and t.dtype != dt:
                    t.data = t._data.astype(dt)
                    t.grad = None
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Module:
        """A clear error: there is no GPU here."""
        check_device("cuda", "Module.cuda()")
        return self  # pragma: no cover  (check_device raises)

    def double(self) -> Module:
        """Parameters and buffers in float64 (for gradient checks and exact comparisons)."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Parameters and buffers in float32, the default."""
        return self.to(np.float32)

    # ---- printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self) -> str:
        lines = [extra for extra in self.extra_repr().split("\n") if extra]
        children = [f"({name}): {child!r}" for name, child in self.named_children()]
        if not children and len(lines) <= 1:
            return f"{type(self).__name__}({''.join(lines)})"
        body = "\n".join(lines + children).replace("\n", "\n  ")
        return f"{type(self).__name__}(\n  {body}\n)"


def _as_array(value: Any) -> np.ndarray:
    """A state dict entry as an ndarray: Tensor, ndarray, number or Value."""
    if isinstance(value, Value):
        return np.asarray(value.data)
    if _is_tensor(value):
        return np.asarray(value._data)
    if isinstance(value, (np.ndarray, np.generic, int, float)) and not isinstance(value, bool):
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"expected numbers, got an array of dtype {arr.dtype}")
        return arr
    raise TypeError(f"expected a Tensor, ndarray or number, got {type(value).__name__}")
