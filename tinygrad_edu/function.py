"""User-defined ops, as `torch.autograd.Function`: write forward and backward, get a graph node.

    class Softplus(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (1 + x.exp()).log()

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * x.sigmoid()

    y = Softplus.apply(x)        # x a Value or a Tensor; y's op is 'Softplus'

`forward` runs with graph recording off (its inside is one op, not many) on the inputs as given;
`backward` gets the gradient of the output and returns one gradient per input of `forward`
(None for a constant or an input that needs none). The node `apply` makes is like a built-in
op's: the engine's backward driver runs it, the visualizer draws it with the class name, the
step-through viewer steps through it, and `gradcheck` checks it (and names it when its backward
is wrong). With `create_graph=True`, `backward` runs with recording on and its saved inputs are
the real graph nodes, so a backward written with differentiable ops gives second derivatives.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from .autograd import graph
from .autograd.mode import MODE, no_grad
from .value import Op, Value, _leaf

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The `ctx` that forward and backward share: save inputs/outputs, stash constants on it."""

    def __init__(self, function: type[Function], args: tuple[Any, ...]) -> None:
        self.function = function
        self.needs_input_grad = tuple(_is_node(a) and bool(a.requires_grad) for a in args)
        self._args = args
        self._saved: tuple[Any, ...] = ()
        self._result: Any = None  # forward's own return value, until the output node exists
        self._out_ref: Any = None  # how backward sees the output: set per backward call

    def save_for_backward(self, *xs: Any) -> None:
        """Keep inputs or the output of forward for backward (read them as `saved_tensors`)."""
        self._saved = xs

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """What forward saved. An input comes back as the graph node it is (so a backward built
        from differentiable ops can be differentiated again), the output as the output node."""
        return tuple(
            self._out_ref if (s is self._result and self._out_ref is not None) else s
            for s in self._saved
        )

    saved_values = saved_tensors  # the same, in the scalar engine's words

    def release(self) -> None:
        """Forget the inputs, the output and what forward saved (the graph was freed)."""
        self._saved = self._args = self._tensor_args = ()
        self._result = self._cache = None


def _is_node(x: Any) -> bool:
    return hasattr(x, "_op") and hasattr(x, "_parents") and hasattr(x, "requires_grad")


class _FunctionOp(Op):
    """A `Value` op-table row for one call of a Function, knowing its ctx (`.ctx`).

    Its forward runs the Function on floats; its local derivatives come from backward: a scalar
    VJP is linear in the incoming gradient g, so backward(ctx, 1.0) is the local derivative
    d(out)/d(input) that the Value engine multiplies by g.
    """

    def replay(self, node: Value, parents: list[Any]) -> Any:
        """The same Function on new inputs, the constants unchanged (used by gradcheck)."""
        return self.ctx.replay(parents)


class Function:
    """Base class of user-defined ops; subclass it and define static `forward` and `backward`.

    Call `MyOp.apply(*inputs)`, never `forward` directly: apply is what records the node.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        raise NotImplementedError("define forward(ctx, *inputs) as a @staticmethod")

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Any) -> Any:
        raise NotImplementedError("define backward(ctx, grad_output) as a @staticmethod")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward on `args` and, in grad mode, record one node named after the class."""
        if cls is Function:
            raise TypeError("Function.apply: subclass Function and call apply on the subclass")
        if any(isinstance(a, Value) for a in args):
            if any(_is_node(a) and not isinstance(a, Value) for a in args):
                raise TypeError(f"{cls.__name__}.apply: inputs mix Values and Tensors; use one")
            return _apply_values(cls, args)
        if any(_is_node(a) for a in args):
            return _apply_tensors(cls, args)
        raise TypeError(
            f"{cls.__name__}.apply: no input is a Value or a Tensor (got "
            f"{', '.join(type(a).__name__ for a in args) or 'nothing'}); an op needs at least one"
        )


def call_backward(ctx: FunctionCtx, grad_output: Any) -> tuple[Any, ...]:
    """Run the user's backward and check it returned one gradient per forward input."""
    cls = ctx.function
    grads = cls.backward(ctx, grad_output)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(ctx._args):
        raise RuntimeError(
            f"{cls.__name__}.backward returned {len(grads)} gradient(s), but forward took "
            f"{len(ctx._args)} input(s): return one per input, None for those without a gradient"
        )
    return grads


# ---- the scalar engine ---------------------------------------------------------------------------


def _value_op(ctx: _ValueCtx, n_values: int) -> _FunctionOp:
    """The op-table row for one call: one derivative per Value input, from ctx's backward."""
    derivatives = tuple(partial(ctx.local_derivative, i) for i in range(n_values))
    op = _FunctionOp(ctx.function.__name__, ctx.forward_on_floats, derivatives)
    op.ctx = ctx
    return op


class _ValueCtx(FunctionCtx):
    _value_positions: tuple[int, ...] = ()

    def forward_on_floats(self, *floats: float) -> float:
        """The row's forward on floats (the Value engine's contract): forward on fresh Values."""
        new = iter(floats)
        args = tuple(Value(next(new)) if isinstance(a, Value) else a for a in self._args)
        with no_grad():
            out = self.function.forward(FunctionCtx(self.function, args), *args)
        return float(out.data if isinstance(out, Value) else out)

    def local_derivative(self, i: int, out: Any, *_: Any) -> Any:
        """d(out)/d(Value input i): backward with grad_output 1. In an ordinary backward pass
        (out is a float) the answer is a float; with create_graph it is a recorded Value."""
        position = self._value_positions[i]
        recorded = isinstance(out, Value)
        self._out_ref = out if recorded else Value(out)
        try:
            g = call_backward(self, 1.0)[position]
        except (ArithmeticError, ValueError) as err:  # say which op, as the built-in ops do
            shown = ", ".join(f"{float(a.data):.6g}" for a in self._args if isinstance(a, Value))
            raise RuntimeError(
                f"backward of Function '{self.function.__name__}' at ({shown}) failed: "
                f"{type(err).__name__}: {err}"
            ) from err
        finally:
            self._out_ref = None
        if g is None:
            return 0.0
        if isinstance(g, Value):
            return g if recorded else g.data
        return float(g)

    def replay(self, parents: list[Any]) -> Any:
        new = iter(parents)
        args = tuple(next(new) if isinstance(a, Value) else a for a in self._args)
        return self.function.apply(*args)


def _apply_values(cls: type[Function], args: tuple[Any, ...]) -> Value:
    ctx = _ValueCtx(cls, args)
    ctx._value_positions = tuple(i for i, a in enumerate(args) if isinstance(a, Value))
    with no_grad():
        result = cls.forward(ctx, *args)
    if isinstance(result, Value):
        data = result.data
    else:
        try:
            data = float(result)
        except (TypeError, ValueError):
            raise TypeError(
                f"{cls.__name__}.forward must return one Value or number for Value inputs, "
                f"got {type(result).__name__}"
            ) from None
    ctx._result = result
    out = _leaf(data)
    if MODE.grad_enabled:
        positions = ctx._value_positions
        out._op = _value_op(ctx, len(positions))
        out._parents = tuple(args[i] for i in positions)
        if MODE.anomaly:
            graph.check_forward(out)
    return out


# ---- the Tensor engine ---------------------------------------------------------------------------


class _TensorCtx(FunctionCtx):
    """Backs the ops.Op row of one call: its forward and its VJP rules call the user's code."""

    _cache: tuple[Any, Any, tuple[Any, ...]] | None = None
    _first = True  # the next forward call is apply's own

    def forward_on_arrays(self, *arrays: Any) -> Any:
        """The row's forward on arrays (the Tensor engine's contract). The first call, from
        apply, returns the result forward already computed; any other runs forward again."""
        first, self._first = self._first, False
        if first and all(a is t._data for a, t in zip(arrays, self._tensor_args)):
            return self._result._data
        from .tensor.tensor import Tensor

        new = iter(arrays)
        args = tuple(Tensor(next(new)) if _is_node(a) else a for a in self._args)
        with no_grad():
            out = self.function.forward(FunctionCtx(self.function, args), *args)
        return out._data

    def rule(self, i: int) -> Any:
        """The VJP rule for Tensor input i: (g, out, *inputs) -> the gradient for input i."""
        return partial(self._vjp, i)

    def _vjp(self, i: int, g: Any, out: Any, *_: Any) -> Any:
        from .tensor.tensor import Tensor, _new

        recorded = isinstance(g, Tensor)  # create_graph: rules run on Tensors
        cache = self._cache
        if cache is not None and cache[0] is g and cache[1] is out:
            grads = cache[2]  # backward already ran for this g (another input's rule)
        else:
            self._out_ref = out if recorded else _new(out)
            try:
                grads = call_backward(self, g if recorded else _new(g))
            finally:
                self._out_ref = None
            self._cache = (g, out, grads)
        if i == max(j for j, t in enumerate(self._tensor_args) if t.requires_grad):
            self._cache = None  # the driver asks inputs in order: this was the last one
        position = self._tensor_positions[i]
        gi = grads[position]
        like = self._args[position]
        if gi is None:
            gi = Tensor(np.zeros(like.shape, dtype=like.dtype))
        elif not isinstance(gi, Tensor):
            gi = Tensor(np.broadcast_to(np.asarray(gi, dtype=like.dtype), like.shape))
        if tuple(gi.shape) != tuple(like.shape):
            raise RuntimeError(
                f"{self.function.__name__}.backward returned a gradient of shape "
                f"{tuple(gi.shape)} for input {position}, which has shape {tuple(like.shape)}"
            )
        return gi if recorded else gi._data

    def replay(self, parents: list[Any]) -> Any:
        new = iter(parents)
        args = tuple(next(new) if _is_node(a) else a for a in self._args)
        return self.function.apply(*args)


_TENSOR_OP: list[type] = []


def _tensor_op_class() -> type:
    """An ops.Op row that knows its ctx (made once, on first use: Tensor is imported lazily)."""
    if not _TENSOR_OP:
        from .tensor.ops import Op as TensorOp

        class _TensorFunctionOp(TensorOp):
            def replay(self, node: Any, parents: list[Any]) -> Any:
                return self.ctx.replay(parents)

            def release(self) -> None:
                """Backward has run (without retain_graph): drop what forward saved."""
                self.ctx.release()

        _TENSOR_OP.append(_TensorFunctionOp)
    return _TENSOR_OP[0]


def _apply_tensors(cls: type[Function], args: tuple[Any, ...]) -> Any:
    from .tensor.tensor import Tensor, apply

    ctx = _TensorCtx(cls, args)
    ctx._tensor_positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    ctx._tensor_args = tuple(args[i] for i in ctx._tensor_positions)
    with no_grad():
        result = cls.forward(ctx, *args)
    if not isinstance(result, Tensor):
        raise TypeError(
            f"{cls.__name__}.forward must return one Tensor for Tensor inputs, got "
            f"{type(result).__name__}"
        )
    ctx._result = result
    rules = tuple(ctx.rule(i) for i in range(len(ctx._tensor_args)))
    # view=True: a forward that returns an input, or a view of one, makes the output a view of
    # that input (as PyTorch), so in-place changes through it are caught, not silently shared
    op = _tensor_op_class()(cls.__name__, ctx.forward_on_arrays, rules, view=True)
    op.ctx = ctx
    return apply(op, ctx._tensor_args)
