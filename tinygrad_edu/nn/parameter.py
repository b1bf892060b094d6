"""`nn.Parameter`: a Tensor that a Module counts among its parameters.

    self.weight = nn.Parameter(tinygrad_edu.zeros(3, 2))    # found by model.parameters()
    self.scale = tinygrad_edu.ones(1)                        # a plain Tensor: not a parameter

It requires grad by default and shares storage with the tensor it wraps (no copy), as in
PyTorch. Ops on a Parameter give ordinary Tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor marked as a module parameter; `Parameter(data, requires_grad=True)`."""

    __slots__ = ()
    _is_parameter = True  # what Module looks for (nn/module.py: is_parameter)

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            super().__init__(np.empty(0, dtype=data.dtype))
            self._data = data._data  # share the storage, as torch.nn.Parameter does
            self._version = data._version
        else:
            super().__init__(data)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

