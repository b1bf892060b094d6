"""Containers: `Sequential` (run modules in order), `ModuleList` and `ModuleDict` (hold modules),
`ParameterList` and `ParameterDict` (hold parameters).

Both keep their modules as attributes named "0", "1", ..., so the ordinary attribute scan of
`Module` finds them and the state dict keys are PyTorch's: `0.weight`, `2.bias`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from ..tensor import Tensor
from .module import Module, is_parameter
from .parameter import Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


class _Indexed(Module):
    """The list-like part both containers share."""

    def _items(self) -> list[tuple[str, Module]]:
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Module)]

    def _set_all(self, modules: Iterable[Module]) -> None:
        for name, _ in self._items():
            delattr(self, name)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._items())

    def __iter__(self) -> Iterator[Module]:
        return iter([m for _, m in self._items()])

    def _index(self, idx: int) -> int:
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range for "
                             f"{n} modules")
        return idx % n

    def __getitem__(self, idx: int | slice) -> Any:
        items = self._items()
        if isinstance(idx, slice):  # keeps the names, as PyTorch: model[1:3] has "1", "2"
            if isinstance(self, Sequential):
                return Sequential(OrderedDict(items[idx]))
            return ModuleList([m for _, m in items[idx]])
        return items[self._index(idx)][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, self._items()[self._index(idx)][0], module)

    def __delitem__(self, idx: int | slice) -> None:
        items = self._items()
        doomed = set(range(len(items))[idx] if isinstance(idx, slice) else [self._index(idx)])
        self._set_all([m for i, (_, m) in enumerate(items) if i not in doomed])

    def append(self, module: Module) -> _Indexed:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _Indexed:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        mods = list(self)
        mods.insert(index, module)
        self._set_all(mods)


class Sequential(_Indexed):
    """Modules called one after another: `Sequential(nn.Linear(2, 4), nn.ReLU(), ...)`.

    Indexable (`model[0]`, slices), has `len`, and names its children "0", "1", ... (or the
    names of an OrderedDict passed in), as in PyTorch.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
            return
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, "
                                "not a Module")
            self.add_module(str(i), m)

    def forward(self, input: Any) -> Any:
        for m in vars(self).values():
            if isinstance(m, Module):
                input = m(input)
        return input


class ModuleList(_Indexed):
    """A list of modules whose parameters the parent module sees (no forward of its own)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {type(module).__name__} is not a Module")
        super().append(module)
        return self


class _Keyed(Module):
    """The dict-like part ModuleDict and ParameterDict share: entries are attributes by key."""

    _what = "entry"

    def __init__(self, entries: Any = None) -> None:
        super().__init__()
        if entries is not None:
            self.update(entries)

    def _is_entry(self, value: Any) -> bool:
        raise NotImplementedError

    def _keys(self) -> list[str]:
        return [k for k, v in vars(self).items() if self._is_entry(v)]

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(f"{type(self).__name__} has no {self._what} {key!r}; it has "
                           f"{self._keys()}")
        return getattr(self, key)

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018  (raises the KeyError for a missing key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __contains__(self, key: object) -> bool:
        return key in self._keys()

    def keys(self) -> list[str]:
        return self._keys()

    def values(self) -> list[Any]:
        return [getattr(self, k) for k in self._keys()]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, getattr(self, k)) for k in self._keys()]

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for k in self._keys():
            delattr(self, k)

    def update(self, entries: Any) -> None:
        pairs = entries.items() if hasattr(entries, "items") else entries
        for k, v in pairs:
            self[k] = v


class ModuleDict(_Keyed):
    """Modules by name, as a dict whose entries the parent module sees (`layers["enc"]`)."""

    _what = "module"

    def _is_entry(self, value: Any) -> bool:
        return isinstance(value, Module)

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)


class ParameterList(Module):
    """A list of Parameters the parent module trains (`self.ws = ParameterList([...])`)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._n = 0
        for v in values or ():
            self.append(v)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, idx: int) -> Any:
        if not -self._n <= idx < self._n:
            raise IndexError(f"ParameterList: index {idx} is out of range for {self._n}")
        return getattr(self, str(idx % self._n))

    def __setitem__(self, idx: int, value: Any) -> None:
        self[idx]  # noqa: B018  (range check)
        name = str(idx % self._n)
        vars(self).pop(name)  # a new Parameter replaces the old one
        setattr(self, name, _as_parameter(value))

    def __iter__(self) -> Iterator[Any]:
        return (getattr(self, str(i)) for i in range(self._n))

    def append(self, value: Any) -> ParameterList:
        setattr(self, str(self._n), _as_parameter(value))
        self._n += 1
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for v in values:
            self.append(v)
        return self


class ParameterDict(_Keyed):
    """Parameters by name (`self.scales = ParameterDict({"a": nn.Parameter(...)})`)."""

    _what = "parameter"

    def _is_entry(self, value: Any) -> bool:
        return is_parameter(value)

    def __setitem__(self, key: str, value: Any) -> None:
        vars(self).pop(key, None)
        self.register_parameter(key, _as_parameter(value))


def _as_parameter(value: Any) -> Any:
    """A plain Tensor becomes a Parameter (as torch's containers do); others stay as they are."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value
