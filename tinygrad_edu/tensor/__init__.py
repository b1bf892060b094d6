"""The numpy Tensor engine: the class, its op table, factories and dtypes.

The package itself is callable: `tinygrad_edu.tensor([1.0, 2.0])` is torch.tensor's twin,
while `tinygrad_edu.tensor.tensor` stays the module that defines the class.

- `tensor.py`: the `Tensor` class, `apply` (the one way to make a graph node) and in-place ops
- `ops.py`: the primitive ops, forward and derivative rules side by side (`OPS`, `Op`)
- `derived.py`: ops composed of primitives (softmax, var, max over a dim, ...)
- `creation.py`: zeros, ones, randn, ... ; `dtypes.py`: float32, int64, ...
- `functions.py`: torch's free functions (`tinygrad_edu.max(x, 1)` is `x.max(1)`)
"""

import sys
import types
from typing import Any

from .creation import (
    arange,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    float_,
    half,
    int8,
    int16,
    int32,
    int64,
    int_,
    long,
    uint8,
)
from .ops import OPS, Op, PerInput, make_op
from .tensor import Tensor, ValuesIndices, apply, cat, stack, where
from .tensor import tensor as _tensor_fn

__all__ = [
    "OPS",
    "Op",
    "PerInput",
    "Tensor",
    "ValuesIndices",
    "apply",
    "arange",
    "bool_",
    "double",
    "float_",
    "half",
    "int_",
    "long",
    "cat",
    "empty",
    "empty_like",
    "eye",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "int16",
    "int32",
    "int64",
    "int8",
    "linspace",
    "make_op",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "stack",
    "uint8",
    "where",
    "zeros",
    "zeros_like",
]


class _CallableModule(types.ModuleType):
    """This package is also the function `tinygrad_edu.tensor(data, ...)`, as torch.tensor.

    A plain function of that name would hide the package, so `import
    tinygrad_edu.tensor.ops` would break; a callable module keeps both working.
    """

    def __call__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
        return _tensor_fn(data, requires_grad=requires_grad, dtype=dtype)


sys.modules[__name__].__class__ = _CallableModule
