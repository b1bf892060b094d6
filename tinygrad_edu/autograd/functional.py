"""Derivatives of whole functions, as torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp.

    jacobian(lambda x: x.sin(), x)              # shape x.shape + x.shape
    hessian(lambda x: (x ** 3).sum(), x)        # shape x.shape + x.shape
    out, g = vjp(f, x, v)                       # v^T J, one reverse pass

Every one is built on `grad` (reverse mode): a Jacobian is one reverse pass per output element;
a Jacobian-vector product J v is the derivative of the (linear) map u -> J^T u in u, applied to
v, so it needs ops whose rules are themselves differentiable (all built-in Tensor ops are).
`inputs` is a Tensor or a tuple of them; the results have the same structure, as PyTorch's.
The inputs are not changed: each function runs on detached copies that require grad.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .graph import grad
from .mode import enable_grad

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


def _tensor_cls() -> Any:
    from ..tensor import Tensor  # the engine sits above the graph core: imported on use

    return Tensor


def _as_tuple(x: Any, what: str, fn: str) -> tuple[bool, tuple[Any, ...]]:
    Tensor = _tensor_cls()
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: {what} {i} must be a Tensor, got {type(t).__name__}")
    return is_tuple, xs


def _leaves(xs: tuple[Any, ...], fn: str) -> tuple[Any, ...]:
    out = []
    for i, x in enumerate(xs):
        if x.dtype.kind != "f":
            raise TypeError(f"{fn}: input {i} has dtype {x.dtype}; differentiate with respect "
                            "to floating-point tensors only (call .double() or .float())")
        out.append(x.detach().clone().requires_grad_(True))
    return tuple(out)


def _grads(outputs: tuple[Any, ...], xs: tuple[Any, ...], grad_outputs: tuple[Any, ...] | None,
           create_graph: bool) -> tuple[Any, ...]:
    """d(sum_k <grad_outputs_k, outputs_k>)/d(xs), zeros for inputs that do not matter."""
    Tensor = _tensor_cls()
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs or (None,) * len(outputs))
             if o.requires_grad]
    if not pairs:
        got: tuple[Any, ...] = (None,) * len(xs)
    else:
        got = grad([o for o, _ in pairs], list(xs), [g for _, g in pairs],
                   retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(
        Tensor(np.zeros(x.shape, dtype=x.dtype)) if g is None else g for g, x in zip(got, xs)
    )


def _check_v(v: Any, like: tuple[Any, ...], fn: str, what: str) -> tuple[Any, ...]:
    _, vs = _as_tuple(v, what, fn)
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        got, want = [tuple(a.shape) for a in vs], [tuple(b.shape) for b in like]
        raise ValueError(f"{fn}: {what} must match in number and shapes: got {got}, "
                         f"expected {want}")
    return vs


def _run(func: Callable[..., Any], xs: tuple[Any, ...], fn: str) -> tuple[bool, tuple[Any, ...]]:
    with enable_grad():
        return _as_tuple(func(*xs), "output", fn)


def _result(is_tuple: bool, xs: tuple[Any, ...], create_graph: bool) -> Any:
    xs = tuple(x if create_graph else x.detach() for x in xs)
    return xs if is_tuple else xs[0]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product, one reverse pass."""
    in_tuple, xs = _as_tuple(inputs, "input", "vjp")
    xs = _leaves(xs, "vjp")
    out_tuple, outs = _run(func, xs, "vjp")
    if v is None:
        if any(o.numel() != 1 for o in outs):
            raise RuntimeError("vjp: v can be left out only for a function with a single-element "
                               "output; give v of the output's shape")
        vs = None
    else:
        vs = _check_v(v, outs, "vjp", "v")
    g = _grads(outs, xs, vs, create_graph)
    return _result(out_tuple, outs, create_graph), _result(in_tuple, g, create_graph)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by differentiating u -> J^T u."""
    in_tuple, xs = _as_tuple(inputs, "input", "jvp")
    xs = _leaves(xs, "jvp")
    if v is None:
        if any(x.numel() != 1 for x in xs):
            raise RuntimeError("jvp: v can be left out only for single-element inputs; give v "
                               "of the inputs' shapes")
        vs = tuple(x.detach() * 0 + 1 for x in xs)
    else:
        vs = _check_v(v, xs, "jvp", "v")
    out_tuple, outs = _run(func, xs, "jvp")
    us = tuple(_tensor_cls()(np.zeros(o.shape, dtype=o.dtype), requires_grad=True) for o in outs)
    with enable_grad():
        jt_u = _grads(outs, xs, us, create_graph=True)  # J^T u, linear in u
        jv = _grads(jt_u, us, vs, create_graph)
    return _result(out_tuple, outs, create_graph), _result(out_tuple, jv, create_graph)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d func(inputs)/d inputs: for one output and one input a Tensor of shape
    output.shape + input.shape; tuples of them for tuples, as PyTorch's."""
    in_tuple, xs = _as_tuple(inputs, "input", "jacobian")
    xs = _leaves(xs, "jacobian")
    out_tuple, outs = _run(func, xs, "jacobian")
    Tensor = _tensor_cls()
    from ..tensor import stack

    per_out = []
    for o in outs:
        rows: list[list[Any]] = [[] for _ in xs]
        for k in range(o.numel()):
            seed = np.zeros(o.numel(), dtype=o.dtype)
            seed[k] = 1
            gs = _grads((o,), xs, (Tensor(seed.reshape(o.shape)),), create_graph)
            for i, g in enumerate(gs):
                rows[i].append(g)
        blocks = []
        for i, x in enumerate(xs):
            if rows[i]:
                j = stack(rows[i]).reshape(*o.shape, *x.shape)
            else:
                j = Tensor(np.zeros((*o.shape, *x.shape), dtype=x.dtype))
            blocks.append(j if create_graph else j.detach())
        per_out.append(tuple(blocks) if in_tuple else blocks[0])
    return tuple(per_out) if out_tuple else per_out[0]


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The matrix of second derivatives of a function with a single-element output: shape
    input.shape + input.shape (a tuple of tuples for a tuple of inputs)."""
    in_tuple, xs = _as_tuple(inputs, "input", "hessian")

    def gradient(*ys: Any) -> Any:
        _, outs = _as_tuple(func(*ys), "output", "hessian")
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("hessian: func must return a single-element Tensor, got shapes "
                               f"{[tuple(o.shape) for o in outs]}")
        gs = _grads(outs, ys, None, create_graph=True)
        return gs if in_tuple else gs[0]

    return jacobian(gradient, inputs if in_tuple else xs[0], create_graph=create_graph)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v): the Hessian-vector product, two reverse passes (no Hessian built)."""
    in_tuple, xs = _as_tuple(inputs, "input", "hvp")
    xs = _leaves(xs, "hvp")
    out_tuple, outs = _run(func, xs, "hvp")
    if len(outs) != 1 or outs[0].numel() != 1:
        raise RuntimeError(f"hvp: func must return a single-element Tensor, got shapes "
                           f"{[tuple(o.shape) for o in outs]}")
    vs = _check_v(v, xs, "hvp", "v")
    with enable_grad():
        g = _grads(outs, xs, None, create_graph=True)
        hv = _grads(g, xs, vs, create_graph)
    return _result(False, outs, create_graph), _result(in_tuple, hv, create_graph)


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T H); the same as hvp, a Hessian being symmetric."""
    return hvp(func, inputs, v, create_graph, strict)
