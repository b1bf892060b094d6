"""PyTorch's free functions (`torch.max(x, 1)`, `torch.exp(x)`, ...) as `tinygrad_edu.max`, ...

Each is the Tensor method of the same name, so `tinygrad_edu.max(x, 1)` is `x.max(1)`:
ported code that calls `torch.sum(x, dim=0)` keeps working after changing the import. Numbers,
lists and arrays are accepted where a tensor is expected, as torch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .tensor import Tensor, tensor

__all__ = [
    "abs", "amax", "amin", "argmax", "argmin", "clamp", "clip", "cos", "dot", "exp", "flatten",
    "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum",
    "neg", "permute", "pow", "prod", "relu", "reshape", "sigmoid", "sin", "softmax", "sqrt",
    "square", "squeeze", "std", "sum", "tanh", "transpose", "unsqueeze", "var", "numel",
    "is_tensor",
]


def _method(name: str) -> Callable[..., Any]:
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:
        t = input if isinstance(input, Tensor) else tensor(input)
        return getattr(t, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"`input.{name}(...)`, as torch.{name}."
    return fn


abs = _method("abs")
amax = _method("amax")
amin = _method("amin")
argmax = _method("argmax")
argmin = _method("argmin")
clamp = _method("clamp")
clip = _method("clip")
cos = _method("cos")
dot = _method("dot")
exp = _method("exp")
flatten = _method("flatten")
log = _method("log")
log_softmax = _method("log_softmax")
logsumexp = _method("logsumexp")
matmul = _method("matmul")
max = _method("max")
maximum = _method("maximum")
mean = _method("mean")
min = _method("min")
minimum = _method("minimum")
neg = _method("neg")
permute = _method("permute")
pow = _method("pow")
prod = _method("prod")
relu = _method("relu")
reshape = _method("reshape")
sigmoid = _method("sigmoid")
sin = _method("sin")
softmax = _method("softmax")
sqrt = _method("sqrt")
square = _method("square")
squeeze = _method("squeeze")
std = _method("std")
sum = _method("sum")
tanh = _method("tanh")
transpose = _method("transpose")
unsqueeze = _method("unsqueeze")
var = _method("var")
numel = _method("numel")


def is_tensor(obj: Any) -> bool:
    """Is obj a Tensor? (as torch.is_tensor)"""
    return isinstance(obj, Tensor)
