"""PyTorch's free functions (`torch.max(x, 1)`, `torch.exp(x)`, ...) as `tinygrad_edu.max`, ...

Each is the Tensor method of the same name, so `tinygrad_edu.max(x, 1)` is `x.max(1)`:
ported code that calls `torch.sum(x, dim=0)` keeps working after changing the import. Numbers,
lists and arrays are accepted where a tensor is expected, as torch does. `out=` writes the
result into an existing tensor (as `torch.add(a, b, out=c)`), outside the graph, as PyTorch
allows it only where no gradient is recorded.

The functions that are not methods (einsum, meshgrid, cat, ...) live in their families.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.mode import MODE
from .tensor import Tensor, tensor

# torch.f(x, ...) == x.f(...) for each of these (PyTorch offers both forms)
_BOTH = """
    abs absolute acos acosh add addmm all allclose amax amin aminmax any argmax argmin argsort
    arccos arccosh arcsin arcsinh arctan arctan2 arctanh asin asinh atan atan2 atanh
    bitwise_and bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor bmm
    ceil chunk clamp clip copysign cos cosh cummax cummin cumprod cumsum diag diag_embed
    diagonal div divide dot eq equal erf exp exp2 expm1 flatten flip float_power floor fmod
    gather ge gt hypot index_add index_copy index_fill index_select isclose isfinite isinf isnan
    kthvalue le lerp log log10 log1p log2 log_softmax logaddexp logcumsumexp logical_and
    logical_not logical_or logical_xor logsumexp lt masked_fill masked_select matmul max
    maximum mean median min minimum mm moveaxis movedim mul multiply narrow ne neg negative
    nonzero norm numel outer permute pow prod reciprocal relu remainder repeat_interleave
    reshape roll round rsqrt scatter scatter_add scatter_reduce sigmoid sign sin sinh softmax
    sort split sqrt square squeeze std sub subtract sum swapaxes swapdims t take tan tanh topk
    trace transpose tril triu true_divide trunc unflatten unsqueeze var
    broadcast_to clamp_ clone detach detach_ exp_ fill_ neg_ relu_ sigmoid_ tanh_ zero_
""".split()

__all__ = [n for n in _BOTH if n not in ("abs", "all", "any", "max", "min", "pow", "round",
                                        "sum")] + ["is_tensor", "is_floating_point"]


def _write_out(out: Any, result: Any, name: str) -> Any:
    """`out=`: the result copied into `out` (reshaped if need be), outside the graph."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: out= must be a Tensor, got {type(out).__name__}")
    if not isinstance(result, Tensor):
        raise TypeError(f"{name}: out= is only for functions that return one tensor")
    if MODE.grad_enabled and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation (an input requires grad); drop out= or use torch.no_grad()"
        )
    data = result._data.astype(out.dtype, copy=False)
    if out.shape == data.shape:
        np.copyto(out._data, data)
        out._version[0] += 1
    else:  # PyTorch resizes out to the result's shape
        out.data = data.copy()
    return out


def _method(name: str) -> Callable[..., Any]:
    def fn(input: Any, *args: Any, out: Any = None, **kwargs: Any) -> Any:
        t = input if isinstance(input, Tensor) else tensor(input)
        result = getattr(t, name)(*args, **kwargs)
        return result if out is None else _write_out(out, result, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"`input.{name}(...)`, as torch.{name}."
    return fn


for _name in _BOTH:
    globals()[_name] = _method(_name)


def is_tensor(obj: Any) -> bool:
    """Is obj a Tensor? (as torch.is_tensor)"""
    return isinstance(obj, Tensor)


def is_floating_point(x: Tensor) -> bool:
    return x.is_floating_point()
