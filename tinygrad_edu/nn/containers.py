"""Containers: `Sequential` (run modules in order) and `ModuleList` (hold modules in a list).

Both keep their modules as attributes named "0", "1", ..., so the ordinary attribute scan of
`Module` finds them and the state dict keys are PyTorch's: `0.weight`, `2.bias`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from .module import Module

__all__ = ["Sequential", "ModuleList"]


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
