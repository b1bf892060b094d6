"""The numpy Tensor engine: the class, its op table, the op families, factories and dtypes.

The package itself is callable: `tinygrad_edu.tensor([1.0, 2.0])` is torch.tensor's twin,
while `tinygrad_edu.tensor.tensor` stays the module that defines the class.

Layered so that imports go one way (core <- families <- methods.py <- this package):

- `ops.py`: the primitive ops, forward and derivative rules side by side (`OPS`, `Op`), written
  in the vocabulary of `rule_math.py` (functions that work on arrays and on Tensors); the
  fused rows' longer forwards and rules in `fused.py`; `partials.py`: slice gradients not yet
  written out (`Scatter`, `GradSum`)
- `tensor.py`: the core: the `Tensor` class (storage, properties, conversions, repr, the node
  protocol, backward, hooks) and `apply`, the one way to make a graph node; imports no family
- `dims.py`: dim= / axis= / shape arguments; `versions.py`: the in-place version stamps
- the op families, plain functions taking the Tensor first; those that are not primitives are
  compositions of primitives, with no derivative code (the chain rule does it all):
  `arithmetic.py` (+ - * / ** @, mm), `elementwise.py` (exp, relu, clamp, gelu, ...),
  `comparison.py` (==, <, isnan, any, ...), `reductions.py` (sum, mean, var, max, softmax,
  prod, cumsum, sort, ...), `shape.py` (reshape, permute, expand, squeeze, cat, stack, pad,
  ...), `indexing.py` (t[idx], where, gather, masked_fill, ...), `inplace.py` (add_, fill_,
  t[idx] = v, ... and the version checks that guard them)
- `methods.py`: the one table binding the family functions as Tensor methods (the API)
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
    randperm,
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
from .indexing import where
from .methods import METHODS  # noqa: F401  (binds the op methods onto Tensor)
from .ops import OPS, Op, PerInput, make_op
from .shape import cat, stack
from .tensor import Tensor, ValuesIndices, apply
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
    "randperm",
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

    def __call__(self, data: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return _tensor_fn(data, dtype, device, requires_grad)


sys.modules[__name__].__class__ = _CallableModule
