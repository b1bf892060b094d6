"""The scalar engine: a Python float that remembers how it was made.

    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    L = (a * b + c).tanh()
    L.backward()
    a.grad          # dL/da = (1 - L**2) * b

Every op is one row of the table below: its forward on floats and, for each argument, its
local derivative d(out)/d(arg) written in terms of `out` and the arguments. The backward
driver (autograd/graph.py) multiplies each local derivative by the gradient flowing into the
op and adds the product to the argument: that is the chain rule, and the only place it runs.

The derivative rules use arithmetic and the small functions `exp, log, sin, cos, erf,
sigmoid` defined here, which work on floats and on Values alike. So one rule serves both the
fast path (floats) and `backward(create_graph=True)`, where the rule is evaluated on Values and
the gradients can be differentiated again.

Undefined results follow Python's float arithmetic: 1/0, log(0), sqrt(-1) and exp(1000) raise
(ZeroDivisionError, ValueError, OverflowError) with a message naming the op and its inputs,
in forward and in backward alike. Overflow that Python floats let through silently
(1e200 * 1e200 = inf) propagates as inf/nan; `detect_anomaly()` finds the op where it starts.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from typing import Any

from .autograd import graph
from .autograd.mode import MODE

__all__ = ["Value", "Op"]


class Op(str):
    """One row of the table: a name, the forward on floats, one local derivative per argument.

    A row *is* its name, a str ('+', 'tanh'), as the `_op` string of micrograd's Value is; so
    the micrograd lecture's `n._op` prints and concatenates as typed. Rows compare and hash by
    identity (two rows may share a name: `a ** 2` and `a ** b`).
    """

    forward: Callable[..., float]
    derivatives: tuple[Callable[..., Any], ...]  # d(out)/d(arg_i) as a function of (out, *args)
    domain: str  # what the inputs must satisfy, said when they do not
    formulas: tuple[str, ...]  # each derivative as text over the same names (viz shows it)

    def __new__(
        cls, name: str, forward: Callable[..., float],
        derivatives: tuple[Callable[..., Any], ...], domain: str = "",
        formulas: tuple[str, ...] = (),
    ) -> Op:
        row = super().__new__(cls, name)
        row.forward, row.derivatives, row.domain = forward, tuple(derivatives), domain
        row.formulas = tuple(formulas)
        return row

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    @property
    def name(self) -> str:
        return str.__str__(self)

    def _replace(self, **changes: Any) -> Op:
        """A copy with some fields changed (as NamedTuple's), e.g. a deliberately wrong rule."""
        fields = {"name": self.name, "forward": self.forward,
                  "derivatives": self.derivatives, "domain": self.domain,
                  "formulas": self.formulas, **changes}
        row = type(self)(**fields)
        row.__dict__.update({k: v for k, v in self.__dict__.items() if k not in fields})
        return row


# ---- functions that work on floats and on Values, for the derivative rules ----------------------


def exp(x):
    return x.exp() if isinstance(x, Value) else math.exp(x)


def log(x):
    return x.log() if isinstance(x, Value) else math.log(x)


def sin(x):
    return x.sin() if isinstance(x, Value) else math.sin(x)


def cos(x):
    return x.cos() if isinstance(x, Value) else math.cos(x)


def erf(x):
    return x.erf() if isinstance(x, Value) else math.erf(x)


def _sigmoid(x: float) -> float:
    if x >= 0:  # the two forms keep exp() from overflowing on either side
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def sigmoid(x):
    return x.sigmoid() if isinstance(x, Value) else _sigmoid(x)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # log(1 + e^x) without overflow


def _gelu(x: float) -> float:
    return 0.5 * x * (1.0 + math.erf(x / SQRT2))


SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _times_pow(n, a, m):
    """n * a**m, also at a = 0, where a**m may not exist: 0 for n = 0 (a**0 is constant),
    inf for m < 0 (the slope of a**0.5 at 0), as torch."""
    if a == 0 and m < 0:
        return 0.0 if n == 0 else math.copysign(math.inf, n)
    return n * a**m


def _ge_else(a, b, if_greater, if_tie, if_less):
    return if_greater if a > b else (if_tie if a == b else if_less)


# ---- the table: forward and local derivatives, side by side --------------------------------------
# Each derivative is called as d(out, *args); ops with a constant (an exponent, a slope) get it
# as their last argument, and it has no derivative of its own.

ADD = Op("+", operator.add, (
    lambda out, a, b: 1.0,                       # d(a+b)/da = 1
    lambda out, a, b: 1.0,                       # d(a+b)/db = 1
), formulas=("1", "1"))
SUB = Op("-", operator.sub, (
    lambda out, a, b: 1.0,                       # d(a-b)/da = 1
    lambda out, a, b: -1.0,                      # d(a-b)/db = -1
), formulas=("1", "-1"))
MUL = Op("*", operator.mul, (
    lambda out, a, b: b,                         # d(ab)/da = b
    lambda out, a, b: a,                         # d(ab)/db = a
), formulas=("b", "a"))
DIV = Op("/", operator.truediv, (
    lambda out, a, b: 1.0 / b,                   # d(a/b)/da = 1/b
    lambda out, a, b: -a / (b * b),              # d(a/b)/db = -a/b^2
), domain="the divisor must not be zero", formulas=("1 / b", "-a / b**2"))
NEG = Op("neg", operator.neg, (
    lambda out, a: -1.0,                         # d(-a)/da = -1
), formulas=("-1",))
POW_CONST = Op("**", lambda a, n: math.pow(a, n), (
    lambda out, a, n: _times_pow(n, a, n - 1),   # d(a^n)/da = n a^(n-1)
), domain="a negative base needs an integer exponent, and 0 a non-negative one",
   formulas=("n * a**(n - 1)",))
POW = Op("**", lambda a, b: math.pow(a, b), (
    lambda out, a, b: _times_pow(b, a, b - 1),   # d(a^b)/da = b a^(b-1)
    lambda out, a, b: out * log(a) if a != 0 else 0.0,  # d(a^b)/db = a^b ln(a)
), domain="d/d(exponent) needs a positive base; a negative base needs an integer exponent",
   formulas=("b * a**(b - 1)", "out * log(a)"))
EXP = Op("exp", math.exp, (
    lambda out, a: out,                          # d(e^a)/da = e^a
), domain="exp overflows float64 above 709.78", formulas=("out",))
LOG = Op("log", math.log, (
    lambda out, a: 1.0 / a,                      # d(ln a)/da = 1/a
), domain="log needs a positive input", formulas=("1 / a",))
SQRT = Op("sqrt", math.sqrt, (
    lambda out, a: 0.5 / out,                    # d(sqrt a)/da = 1/(2 sqrt a)
), domain="sqrt needs a non-negative input, and its derivative is infinite at 0",
   formulas=("1 / (2 * out)",))
TANH = Op("tanh", math.tanh, (
    lambda out, a: 1.0 - out * out,              # d(tanh a)/da = 1 - tanh^2 a
), formulas=("1 - out**2",))
SIGMOID = Op("sigmoid", _sigmoid, (
    lambda out, a: out * (1.0 - out),            # d(s(a))/da = s(a)(1 - s(a))
), formulas=("out * (1 - out)",))
RELU = Op("relu", lambda a: a if a > 0 else 0.0, (
    lambda out, a: 1.0 if a > 0 else 0.0,        # 1 for a > 0, else 0 (0 at the kink, as torch)
), formulas=("a > 0",))
LEAKY_RELU = Op("leaky_relu", lambda a, slope: a if a > 0 else slope * a, (
    lambda out, a, slope: 1.0 if a > 0 else slope,  # 1 for a > 0, else the slope
), formulas=("1 if a > 0 else slope",))
GELU = Op("gelu", _gelu, (                       # gelu(a) = a Phi(a), Phi the normal CDF
    lambda out, a: 0.5 * (1.0 + erf(a / SQRT2)) + a * exp(-0.5 * a * a) * INV_SQRT_2PI,
),
   formulas=("Phi(a) + a * phi(a)",))           #   d/da = Phi(a) + a phi(a)
SOFTPLUS = Op("softplus", _softplus, (
    lambda out, a: sigmoid(a),                   # d(ln(1 + e^a))/da = sigmoid(a)
), formulas=("sigmoid(a)",))
SIN = Op("sin", math.sin, (
    lambda out, a: cos(a),                       # d(sin a)/da = cos a
), formulas=("cos(a)",))
COS = Op("cos", math.cos, (
    lambda out, a: -sin(a),                      # d(cos a)/da = -sin a
), formulas=("-sin(a)",))
ERF = Op("erf", math.erf, (
    lambda out, a: TWO_OVER_SQRT_PI * exp(-a * a),  # d(erf a)/da = 2/sqrt(pi) e^(-a^2)
), formulas=("2 / sqrt(pi) * exp(-a**2)",))
ABS = Op("abs", abs, (
    lambda out, a: _ge_else(a, 0.0, 1.0, 0.0, -1.0),  # sign(a) (0 at the kink, as torch)
), formulas=("sign(a)",))
MAXIMUM = Op("maximum", max, (                   # a tie splits the gradient evenly, as torch
    lambda out, a, b: _ge_else(a, b, 1.0, 0.5, 0.0),
    lambda out, a, b: _ge_else(a, b, 0.0, 0.5, 1.0),
), formulas=("(a > b) + 0.5 * (a == b)", "(b > a) + 0.5 * (a == b)"))
MINIMUM = Op("minimum", min, (
    lambda out, a, b: _ge_else(a, b, 0.0, 0.5, 1.0),
    lambda out, a, b: _ge_else(a, b, 1.0, 0.5, 0.0),
), formulas=("(a < b) + 0.5 * (a == b)", "(b < a) + 0.5 * (a == b)"))


# ---- the node -----------------------------------------------------------------------------------


def _as_float(x: Any, what: str) -> float:
    if isinstance(x, numbers.Real):  # int, float, bool, numpy scalars
        return float(x)
    raise TypeError(
        f"{what} takes a real number, got {type(x).__name__} ({x!r:.60}); "
        "wrap numbers as Value(3.0), or use Tensor for arrays"
    )


def _lift(x: Any, op: str) -> Value:
    return x if isinstance(x, Value) else _leaf(_as_float(x, f"Value {op}"))


_new_object = object.__new__


class _Extras(list):
    """What few Values have, in their one `_hooks` slot: the hooks (the list itself, empty if
    none, so backward's `if node._hooks` stays a cheap test) and the label."""

    __slots__ = ("label",)

    def __init__(self, label: str = "") -> None:
        super().__init__()
        self.label = label


def _leaf(data: float) -> Value:
    v = _new_object(Value)
    v.data, v.grad, v._op, v._b, v._g, v._hooks = data, 0.0, None, None, None, None
    return v


def _failed(op: Op, args: tuple, err: Exception, when: str) -> Exception:
    shown = ", ".join(repr(float(getattr(a, "data", a))) for a in args)
    if isinstance(err, OverflowError) and "overflow" not in op.domain:
        why = "; the result is beyond float64's range (about 1.8e308)"
    else:
        why = f"; {op.domain}" if op.domain else ""
    return type(err)(f"{when} of Value op '{op.name}' at ({shown}): {err}{why}")


# How a node stores what it was made from, without a tuple per node (memory, and one object
# fewer for the cyclic GC to track): `_a` is the first parent, `_b` the second parent, the
# op's constant (an exponent, a slope) or None. An op of three or more Values (a user-defined
# Function) keeps its parents as a tuple in `_a`. `_parents` and `_ctx` read them back.


def _binary(op: Op, a: Value, b: Value) -> Value:
    """Run a two-argument op's forward on the floats and, in grad mode, record it."""
    try:
        data = op.forward(a.data, b.data)
    except (ArithmeticError, ValueError) as err:
        raise _failed(op, (a, b), err, "forward") from None
    out = _new_object(Value)
    out.data = data
    out.grad = 0.0
    out._g = out._hooks = None
    if MODE.grad_enabled:
        out._op = op
        out._a = a
        out._b = b
        if data - data != 0.0 and MODE.anomaly:  # only inf and nan fail x - x == 0
            graph.check_forward(out)
    else:
        out._op = out._b = None
    return out


def _unary(op: Op, a: Value, const: float | None = None) -> Value:
    """Run a one-argument op (with its constant, if it has one) and, in grad mode, record it.

    Its second half is _binary's, written out again on purpose: these two are the forward's
    hot path, and a shared helper would add a call to every op (about a tenth of its cost)."""
    try:
        data = op.forward(a.data) if const is None else op.forward(a.data, const)
    except (ArithmeticError, ValueError) as err:
        raise _failed(op, (a,) if const is None else (a, const), err, "forward") from None
    out = _new_object(Value)
    out.data = data
    out.grad = 0.0
    out._g = out._hooks = None
    if MODE.grad_enabled:
        out._op = op
        out._a = a
        out._b = const
        if data - data != 0.0 and MODE.anomaly:  # only inf and nan fail x - x == 0
            graph.check_forward(out)
    else:
        out._op = out._b = None
    return out


def _apply(op: Op, parents: tuple[Value, ...], ctx: tuple = ()) -> Value:
    """Any op on any number of Values (constants in `ctx`): the general entry point."""
    if len(parents) == 2 and not ctx:
        return _binary(op, *parents)
    if len(parents) == 1 and len(ctx) <= 1:
        return _unary(op, parents[0], *ctx)
    if len(parents) < 3:
        raise TypeError(f"Value op '{op.name}': one or two Values take at most one constant, "
                        f"got {len(ctx)}")
    args = (*[p.data for p in parents], *ctx)
    try:
        data = op.forward(*args)
    except (ArithmeticError, ValueError) as err:
        raise _failed(op, args, err, "forward") from None
    out = _leaf(data)
    if MODE.grad_enabled:
        out._op, out._a, out._b = op, tuple(parents), tuple(ctx)
        if MODE.anomaly:
            graph.check_forward(out)
    return out


class Value(graph.Node):
    """A scalar (float64) node of a computation graph; `backward()` fills in `.grad`."""

    __slots__ = ("data", "grad", "_op", "_a", "_b", "_g", "_hooks", "__weakref__")
    requires_grad = True  # every Value takes part in backward and keeps its .grad
    _retains_grad = True
    _new_hooks = _Extras  # what register_hook puts in `_hooks`: room for the label too

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _as_float(data, "Value()")
        self.grad: Any = 0.0
        self._op, self._b, self._g = None, None, None
        self._hooks = _Extras(label) if label else None

    @property
    def label(self) -> str:
        """A name for drawings and messages ('' if none)."""
        return getattr(self._hooks, "label", "")

    @label.setter
    def label(self, text: str) -> None:
        if self._hooks is None:
            self._hooks = _Extras(text)
        else:
            self._hooks.label = text

    @property
    def _parents(self) -> tuple[Value, ...]:
        b = self._b
        if b.__class__ is Value:  # (a Value subclass takes the general path below)
            return (self._a, b)
        if self._op is None:
            return ()
        arity = len(self._op.derivatives)
        if arity == 2:
            return (self._a, b)
        return (self._a,) if arity == 1 else self._a

    @_parents.setter
    def _parents(self, parents: tuple[Value, ...]) -> None:  # for ops recorded from outside
        if len(parents) == 2:
            self._a, self._b = parents
        elif len(parents) == 1:
            self._a, self._b = parents[0], None
        else:
            self._a, self._b = tuple(parents), ()

    @property
    def _ctx(self) -> tuple:
        op = self._op
        if op is None:
            return ()
        arity = len(op.derivatives)
        if arity == 1:
            return () if self._b is None else (self._b,)
        return () if arity == 2 else self._b

    # ---- what a learner looks at: .op, .parents, .name come from graph.Node
    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={_fmt(self.grad)}{label})"

    def __float__(self) -> float:
        return self.data

    def item(self) -> float:
        return self.data

    # ---- micrograd's spellings, so the lecture's code runs as typed (nothing here is used by
    # backward(); `_op` is the op's row, which is its name as a str, '+' or 'tanh')
    @property
    def _prev(self) -> set[Value]:
        """The Values this one was made from, as a set (micrograd's `_prev`)."""
        return set(self._parents)

    def _backward(self) -> None:
        """One node of backward by hand, as micrograd's: add `.grad` times each local derivative
        (this op's rules, the same ones backward() uses) into the parents' `.grad`."""
        if self._op is not None:
            for parent, share in zip(self._parents, self._vjps(self.grad, False)):
                parent.grad += share

    # ---- arithmetic (reflected forms keep the data-flow order: 2 * a has parents (2, a))
    def __add__(self, other: Any) -> Value:
        return _binary(ADD, self, other if isinstance(other, Value) else _lift(other, "+"))

    def __radd__(self, other: Any) -> Value:
        return _binary(ADD, _lift(other, "+"), self)

    def __sub__(self, other: Any) -> Value:
        return _binary(SUB, self, other if isinstance(other, Value) else _lift(other, "-"))

    def __rsub__(self, other: Any) -> Value:
        return _binary(SUB, _lift(other, "-"), self)

    def __mul__(self, other: Any) -> Value:
        return _binary(MUL, self, other if isinstance(other, Value) else _lift(other, "*"))

    def __rmul__(self, other: Any) -> Value:
        return _binary(MUL, _lift(other, "*"), self)

    def __truediv__(self, other: Any) -> Value:
        return _binary(DIV, self, other if isinstance(other, Value) else _lift(other, "/"))

    def __rtruediv__(self, other: Any) -> Value:
        return _binary(DIV, _lift(other, "/"), self)

    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def __pos__(self) -> Value:
        return self

    def __pow__(self, other: Any) -> Value:
        if isinstance(other, Value):
            return _binary(POW, self, other)
        return _unary(POW_CONST, self, _as_float(other, "Value **"))

    def __rpow__(self, other: Any) -> Value:
        return _binary(POW, _lift(other, "**"), self)

    # ---- functions
    def exp(self) -> Value:
        return _unary(EXP, self)

    def log(self) -> Value:
        return _unary(LOG, self)

    def sqrt(self) -> Value:
        return _unary(SQRT, self)

    def tanh(self) -> Value:
        return _unary(TANH, self)

    def sigmoid(self) -> Value:
        return _unary(SIGMOID, self)

    def relu(self) -> Value:
        return _unary(RELU, self)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        return _unary(LEAKY_RELU, self, _as_float(slope, "leaky_relu slope"))

    def gelu(self) -> Value:
        return _unary(GELU, self)

    def softplus(self) -> Value:
        return _unary(SOFTPLUS, self)

    def sin(self) -> Value:
        return _unary(SIN, self)

    def cos(self) -> Value:
        return _unary(COS, self)

    def erf(self) -> Value:
        return _unary(ERF, self)

    def abs(self) -> Value:
        return _unary(ABS, self)

    __abs__ = abs

    def maximum(self, other: Any) -> Value:
        return _binary(MAXIMUM, self, _lift(other, "maximum"))

    def minimum(self, other: Any) -> Value:
        return _binary(MINIMUM, self, _lift(other, "minimum"))

    # ---- comparisons look at .data and give plain bools; identity stays the hash
    def __lt__(self, other: Any) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Any) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Any) -> bool:
        return self.data >= _data(other)

    def __eq__(self, other: Any) -> bool:  # type: ignore[override]
        if isinstance(other, (Value, numbers.Real)):
            return self.data == _data(other)
        return NotImplemented

    def __ne__(self, other: Any) -> bool:  # type: ignore[override]
        if isinstance(other, (Value, numbers.Real)):
            return self.data != _data(other)
        return NotImplemented

    __hash__ = object.__hash__

    # ---- autograd
    def backward(
        self, grad: Any = 1.0, *, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Fill in `.grad` of this Value and of every Value it was computed from.

        With `create_graph=True` the gradients are Values themselves, recorded, so they can be
        differentiated again (second derivatives, Hessians).
        """
        graph.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def register_hook(self, fn: Callable[[Any], Any]) -> graph.RemovableHandle:
        """Call `fn(grad)` when this Value's gradient is complete; a non-None result replaces it."""
        return graph.register_hook(self, fn)

    def detach(self) -> Value:
        """A new input Value with the same number and no history."""
        return _leaf(self.data)

    # ---- the node protocol (autograd/graph.py)
    def _vjps(self, g: Any, create_graph: bool) -> tuple[Any, ...]:
        # the chain rule: gradient into parent i = g * d(out)/d(parent_i)
        rules, parents = self._op.derivatives, self._parents
        if create_graph:  # evaluate the rules on Values, so the pass is recorded
            out, args = self, (*parents, *self._ctx)
        else:
            out, args = self.data, (*[p.data for p in parents], *self._ctx)
        try:
            return tuple(g * rule(out, *args) for rule in rules)
        except (ArithmeticError, ValueError) as err:
            raise _failed(self._op, args, err, "backward") from None

    def _backprop(self, g: float) -> None:
        # Node._backprop (accumulate, _vjps, graph.send) in one step, on floats: the inner loop
        # of every ordinary pass
        self.grad = self.grad + g
        rules, a, b = self._op.derivatives, self._a, self._b
        try:
            if len(rules) == 2:
                out, x, y = self.data, a.data, b.data
                ga, gb = g * rules[0](out, x, y), g * rules[1](out, x, y)
                pending = b._g
                b._g = gb if pending is None else pending + gb
            elif len(rules) == 1:
                ga = g * (rules[0](self.data, a.data) if b is None else
                          rules[0](self.data, a.data, b))
            else:
                graph.send(self, self._vjps(g, False))
                return
        except (ArithmeticError, ValueError) as err:
            raise _failed(self._op, (*self._parents, *self._ctx), err, "backward") from None
        pending = a._g
        a._g = ga if pending is None else pending + ga

    _release = None  # a Value saves nothing but its parents: drawings after backward show them

    def _accumulate_grad(self, g: Any) -> None:
        self.grad = self.grad + g

    def _clear_grad(self, set_to_none: bool) -> None:
        self.grad = 0.0  # a Value's gradient is always a number: cleared means 0.0

    def _seed_grad(self, grad: Any, create_graph: bool) -> Any:
        if grad is None:
            return 1.0
        if isinstance(grad, Value):
            return grad if create_graph else grad.data
        return _as_float(grad, "backward(grad=...)")

    def _wrap_grad(self, g: Any) -> Any:
        return g

    def _unwrap_grad(self, g: Any, create_graph: bool) -> Any:
        if isinstance(g, Value) and not create_graph:
            return g.data
        return g

    def _raw(self) -> float:
        return self.data

    @staticmethod
    def _is_finite(x: float) -> bool:
        return math.isfinite(x)

    @staticmethod
    def _is_nan(x: float) -> bool:
        return math.isnan(x)


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else x


def _fmt(g: Any) -> str:
    return f"{g:.6g}" if isinstance(g, float) else repr(g)
