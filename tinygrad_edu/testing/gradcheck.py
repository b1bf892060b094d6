"""Gradient checking: compare backward() with central finite differences, entry by entry.

    from tinygrad_edu import Value
    from tinygrad_edu.testing import gradcheck
    gradcheck(lambda x, y: (x * y).tanh(), [Value(0.3), Value(-1.2)])   # True, or raises

For a function f of inputs x_1..x_k (Values or Tensors) with outputs y_1..y_m, the *analytic*
Jacobian dy/dx comes from the engine's reverse mode, one output element at a time (a one-hot
gradient seeded into `grad`), and the *numeric* Jacobian from central differences, one input
element at a time:

    dy/dx_j  ~  (f(x + h e_j) - f(x - h e_j)) / (2 h)      error O(h^2)

with h = eps, or eps * |x_j| where |x_j| > 1 (so that x_j + h still differs from x_j).

An entry passes when |analytic - numeric| <= atol + rtol * |numeric|. On failure the report
lists the worst entries and then checks every op of the recorded graph on its own (its local
derivative on its recorded inputs, the same comparison on a graph of one op), so the message
can name the op whose rule is wrong rather than just the function that contains it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import graph
from ..autograd.mode import enable_grad, no_grad
from . import _engine as E

__all__ = [
    "GradcheckError",
    "GradcheckWarning",
    "gradcheck",
    "gradgradcheck",
    "numeric_grad",
    "assert_grads_close",
    "check_module_gradients",
]

SHOW_WORST = 5  # entries listed in a failure report


class GradcheckError(AssertionError):
    """The analytic and numeric gradients disagree (the message says where and by how much).

    An AssertionError, so that a failing check inside a test reads as a test failure.
    `.report` holds the structured result (`.entries`, `.culprits`).
    """

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


class GradcheckWarning(UserWarning):
    """The check was asked to run where it is unreliable (float32 inputs, for instance)."""


FLOAT32_WHY = (
    "gradcheck: input {i} is {dtype}. Central differences divide f(x+eps) - f(x-eps) by 2*eps; "
    "in {dtype} (about {digits} significant digits) that difference loses nearly all its "
    "digits to rounding, so the numeric gradient is noise and the check fails (or passes) by "
    "luck. Run the check in float64: make the inputs float64 (e.g. x.double(), or "
    "Tensor(data, dtype='float64')) and the parameters too (check_module_gradients does that "
    "for you)."
)


# ---- the two Jacobians ---------------------------------------------------------------------------


@dataclass
class Entry:
    """One Jacobian entry: d(output[out_index])/d(input[in_index]) at those flat elements."""

    input: int
    in_index: tuple[int, ...]
    output: int
    out_index: tuple[int, ...]
    analytic: float
    numeric: float

    @property
    def abs_err(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_err(self) -> float:
        return self.abs_err / max(abs(self.numeric), 1e-300)

    def excess(self, atol: float, rtol: float) -> float:
        """How far past the tolerance (> 0 fails); NaN counts as infinitely far."""
        e = self.abs_err - (atol + rtol * abs(self.numeric))
        return math.inf if math.isnan(e) else e


@dataclass
class Report:
    """Everything one check found: the failing entries (worst first) and culprit ops."""

    entries: list[Entry] = field(default_factory=list)
    checked: int = 0
    culprits: list[str] | None = None  # what each op with a wrong local rule got wrong
    notes: list[str] = field(default_factory=list)


def _evaluate(fn: Callable[..., Any], args: Sequence[Any]) -> list[np.ndarray]:
    with no_grad():
        return [E.output_array(o) for o in E.as_outputs(fn(*args))]


def _numeric_jacobians(
    fn: Callable[..., Any], args: Sequence[Any], slots: list[E.Slot], eps: float
) -> list[list[np.ndarray]]:
    """J[i][m] has shape (size of output m, size of input i): column by column, by central
    differences; every input element is put back exactly as it was after its column.

    The step is eps, scaled by |x| where |x| > 1 (x + 1e-6 is x itself once |x| > 1e10), and
    the difference is divided by the step the input really took (x + h as stored, minus x - h
    as stored): in float32 the stored values are rounded, and that says by how much.
    """
    jac: list[list[np.ndarray]] = []
    for slot in slots:
        cols: list[list[np.ndarray]] = []
        for k in range(slot.size):
            orig = slot.get(k)
            h = eps * max(1.0, abs(orig))
            try:
                slot.set(k, orig + h)
                x_plus = slot.get(k)
                plus = _evaluate(fn, args)
                slot.set(k, orig - h)
                step = x_plus - slot.get(k)
                minus = _evaluate(fn, args)
            finally:
                slot.set(k, orig)
            cols.append([((p - m) / step).reshape(-1) for p, m in zip(plus, minus)])
        n_out = len(cols[0]) if cols else len(_evaluate(fn, args))
        per_output = []
        for m in range(n_out):
            if cols:
                per_output.append(np.stack([c[m] for c in cols], axis=1))
            else:
                size = _evaluate(fn, args)[m].size
                per_output.append(np.zeros((size, 0)))
        jac.append(per_output)
    return jac


def _analytic_jacobians(
    outputs: list[Any], slots: list[E.Slot]
) -> list[list[np.ndarray]]:
    """J[i][m], row by row: one reverse-mode pass per output element, nothing written to .grad."""
    inputs = [s.node for s in slots]
    jac = [[None] * len(outputs) for _ in slots]
    for m, o in enumerate(outputs):
        size = E.output_array(o).size
        rows = [np.zeros((size, s.size)) for s in slots]
        if E.needs_grad(o):
            for j in range(size):
                grads = graph.grad(
                    o, inputs, E.seed(o, j), retain_graph=True, allow_unused=True
                )
                for i, (g, s) in enumerate(zip(grads, slots)):
                    arr = E.grad_array(g, s.shape)
                    if arr.shape != s.shape:
                        raise GradcheckError(
                            f"gradcheck: the gradient for input {i} has shape {arr.shape} but "
                            f"the input has shape {s.shape}. A backward rule forgot to sum "
                            "over broadcast dimensions (or reshaped wrongly)."
                        )
                    rows[i][j] = arr.reshape(-1)
        for i in range(len(slots)):
            jac[i][m] = rows[i]
    return jac


def _compare(
    analytic: list[list[np.ndarray]],
    numeric: list[list[np.ndarray]],
    slots: list[E.Slot],
    out_shapes: list[tuple[int, ...]],
    atol: float,
    rtol: float,
) -> Report:
    report = Report()
    for i, (a_i, n_i) in enumerate(zip(analytic, numeric)):
        for m, (a, n) in enumerate(zip(a_i, n_i)):
            report.checked += a.size
            bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))  # NaN compares False: fails
            for r, c in zip(*np.nonzero(bad)):
                report.entries.append(Entry(
                    i, _unravel(c, slots[i].shape), m, _unravel(r, out_shapes[m]),
                    float(a[r, c]), float(n[r, c]),
                ))
    report.entries.sort(key=lambda e: -e.excess(atol, rtol))
    return report


def _unravel(k: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(v) for v in np.unravel_index(int(k), shape)) if shape else ()


# ---- naming the op that is wrong -----------------------------------------------------------------


def _check_one_op(node: Any, eps: float, atol: float, rtol: float) -> str | None:
    """The local check: the op that made `node`, alone, on copies of its recorded inputs.

    Returns a description of what is wrong with the op's rule, or None if it passes (or
    cannot be re-run on its own).
    """
    parents = [E.fresh_leaf(p) for p in node._parents]
    diff = [p for p in parents if E.is_node(p) and p.requires_grad]
    if not diff:
        return None
    head = f"op '{_op_name(node)}' on inputs ({_shorts(node._parents)}){_consts(node)}:"
    try:
        out = E.replay(node, parents)
        report = _run(lambda *_: E.replay(node, parents), parents, diff, [out], eps, atol, rtol)
    except LookupError:
        return None
    except GradcheckError as err:
        return f"{head}\n    {err}"
    except (ArithmeticError, ValueError, RuntimeError, TypeError) as err:
        return f"{head}\n    re-running it on its own failed: {type(err).__name__}: {err}"
    if not report.entries:
        return None
    lines = [head] + ["    " + _entry_line(e) for e in report.entries[:2]]
    return "\n".join(lines)


def _op_name(node: Any) -> str:
    return str(getattr(node._op, "name", type(node._op).__name__))


def _shorts(xs: Sequence[Any]) -> str:
    return ", ".join(_short(x._raw()) if E.is_node(x) else repr(x) for x in xs)


def _consts(node: Any) -> str:
    consts = [c for c in node._ctx if isinstance(c, (int, float, str, tuple, bool))]
    return f", constants {tuple(consts)!r:.80}" if consts else ""


def _short(x: Any) -> str:
    arr = np.asarray(x)
    if arr.ndim == 0:
        return f"{float(arr):.6g}"
    head = ", ".join(f"{v:.4g}" for v in arr.reshape(-1)[:4])
    return f"array{arr.shape} [{head}{', ...' if arr.size > 4 else ''}]"


def _find_culprits(
    outputs: list[Any], eps: float, atol: float, rtol: float, limit: int = 3
) -> list[str]:
    """Check every op of the graph on its own, inputs first: the first one listed is where the
    wrong gradient starts."""
    roots = [o for o in outputs if E.needs_grad(o)]
    culprits = []
    for node in graph.topological_order(roots):
        if node._op is None:
            continue
        text = _check_one_op(node, eps, atol, rtol)
        if text is not None:
            culprits.append(text)
            if len(culprits) >= limit:
                break
    return culprits


# ---- the public checks ---------------------------------------------------------------------------


def _split_inputs(inputs: Any) -> list[Any]:
    if E.is_node(inputs) or not isinstance(inputs, (tuple, list)):
        return [inputs]
    return list(inputs)


def _run(
    fn: Callable[..., Any],
    args: list[Any],
    diff: list[Any],
    outputs: list[Any],
    eps: float,
    atol: float,
    rtol: float,
) -> Report:
    slots = [E.Slot(x) for x in diff]
    analytic = _analytic_jacobians(outputs, slots)
    numeric = _numeric_jacobians(fn, args, slots, eps)
    out_shapes = [E.output_array(o).shape for o in outputs]
    if len(numeric) and len(numeric[0]) != len(outputs):
        raise GradcheckError(
            f"gradcheck: the function returned {len(outputs)} outputs with the graph on and "
            f"{len(numeric[0])} under no_grad; it must not depend on grad mode"
        )
    return _compare(analytic, numeric, slots, out_shapes, atol, rtol)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    find_op: bool = True,
) -> bool:
    """Check `fn`'s gradients at `inputs`: backward() against central differences.

    `inputs` is one Value/Tensor or a list of them (other items are passed through as
    constants); every Value, and every Tensor with requires_grad=True, is checked. `fn` may
    return one output or a tuple, of any shape. Returns True; on a mismatch raises
    `GradcheckError` naming the worst entries and, where it can, the op whose own derivative
    is wrong (`raise_exception=False` returns False instead). `find_op=False` skips that search.
    """
    __tracebackhide__ = True  # pytest: show the caller's line, not the checker's
    args = _split_inputs(inputs)
    diff = [x for x in args if E.is_node(x) and x.requires_grad]
    if not diff:
        raise ValueError(
            "gradcheck: no input requires grad, so there is nothing to check; pass Values, or "
            "Tensors created with requires_grad=True"
        )
    float32 = _warn_low_precision(args)
    with enable_grad():
        outputs = E.as_outputs(fn(*args))
    _check_deterministic(fn, args, outputs)
    report = _run(fn, args, diff, outputs, eps, atol, rtol)
    if not report.entries:
        return True
    if float32:  # every op would look wrong (or right) by luck: say why instead
        report.notes.append(float32)
    elif find_op:
        report.culprits = _find_culprits(outputs, eps, atol, rtol)
    if not raise_exception:
        return False
    raise GradcheckError(_message(report, eps, atol, rtol), report)


def _warn_low_precision(args: list[Any]) -> str:
    for i, x in enumerate(args):
        if E.is_tensor(x) and x.requires_grad:
            dtype = np.dtype(x._data.dtype)
            if dtype.kind == "f" and dtype.itemsize < 8:
                why = FLOAT32_WHY.format(
                    i=i, dtype=dtype.name, digits=int(np.finfo(dtype).precision)
                )
                warnings.warn(why, GradcheckWarning, stacklevel=3)
                return why
    return ""


def _check_deterministic(fn: Callable[..., Any], args: list[Any], outputs: list[Any]) -> None:
    first = [E.output_array(o) for o in outputs]
    again = _evaluate(fn, args)
    if len(again) != len(first) or any(
        a.shape != b.shape or not np.array_equal(a, b, equal_nan=True) for a, b in zip(first, again)
    ):
        raise GradcheckError(
            "gradcheck: calling the function twice on the same inputs gave different outputs "
            "(randomness such as dropout in training mode, or state that changes per call). "
            "Finite differences need a deterministic function: call model.eval(), or fix the "
            "random draws inside the function."
        )


def _entry_line(e: Entry) -> str:
    where = f"input {e.input}{_idx(e.in_index)} -> output {e.output}{_idx(e.out_index)}"
    return (
        f"{where}: analytic {e.analytic:.6g}, numeric {e.numeric:.6g}, "
        f"abs err {e.abs_err:.3g}, rel err {e.rel_err:.3g}"
    )


def _idx(ix: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, ix))}]" if ix else ""


def _message(report: Report, eps: float, atol: float, rtol: float) -> str:
    n_bad = len(report.entries)
    lines = [
        f"gradcheck failed: backward() and central differences disagree on {n_bad} of "
        f"{report.checked} Jacobian entries (passes when |analytic - numeric| <= atol + "
        f"rtol*|numeric|; eps={eps:g}, atol={atol:g}, rtol={rtol:g}).",
        f"Worst {min(n_bad, SHOW_WORST)}:",
    ]
    lines += ["  " + _entry_line(e) for e in report.entries[:SHOW_WORST]]
    if report.culprits:
        lines.append(
            "Checked each op of the graph on its own, on the inputs it saw: the local derivative "
            "disagrees in (a wrong rule, unless that input sits on a kink such as relu at 0):"
        )
        lines += ["  " + text for text in report.culprits]
    elif report.culprits == []:
        lines.append(
            "Every op of the graph passes on its own, so look at how they are put together "
            "(an input reused in place, a non-differentiable point, or eps too large or small)."
        )
    lines += report.notes
    return "\n".join(lines)


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of x -> grad(fn(x), x, v, create_graph=True).

    The first derivatives are computed with `create_graph=True`, so they are graphs themselves,
    and gradcheck differentiates them again. `v` (`grad_outputs`, one per output) defaults to
    fixed random numbers, so every output element counts; v is checked as an input too (the
    first derivative is linear in v, which the check confirms).
    """
    __tracebackhide__ = True  # pytest: show the caller's line, not the checker's
    args = _split_inputs(inputs)
    diff = [x for x in args if E.is_node(x) and x.requires_grad]
    with enable_grad():
        outputs = E.as_outputs(fn(*args))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [_random_like(o, rng) for o in outputs]
    vs = _split_inputs(grad_outputs)
    n = len(args)

    def first_derivative(*all_args: Any) -> tuple[Any, ...]:
        xs, v = all_args[:n], list(all_args[n:])
        with enable_grad():
            outs = E.as_outputs(fn(*xs))
            live = [(o, g) for o, g in zip(outs, v) if E.needs_grad(o)]
            if not live:
                return tuple(np.zeros(E.shape_of(x)) for x in diff)
            grads = graph.grad(
                [o for o, _ in live], diff, [g for _, g in live],
                create_graph=True, allow_unused=True,
            )
        return tuple(g if g is not None else np.zeros(E.shape_of(x)) for g, x in zip(grads, diff))

    try:
        return gradcheck(
            first_derivative, [*args, *vs], eps=eps, atol=atol, rtol=rtol,
            raise_exception=raise_exception,
        )
    except GradcheckError as err:
        where = (
            f"gradgradcheck: the outputs below are the first derivatives d(fn)/d(input i) "
            f"(one per input that requires grad), and inputs {n} and up are the grad_outputs "
            "v they were computed with."
        )
        raise GradcheckError(f"{where}\n{err}", err.report) from None


def _random_like(o: Any, rng: np.random.Generator) -> Any:
    """A random gradient for output `o`, of o's kind, taking part in the check."""
    if E.is_value(o):
        from ..value import Value

        return Value(float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0])))
    if E.is_tensor(o):
        arr = rng.uniform(0.5, 1.5, size=np.shape(o._raw())) * rng.choice([-1.0, 1.0])
        return E.tensor_class()(arr.astype(np.float64), requires_grad=True)
    return None


def numeric_grad(
    fn: Callable[..., Any], inputs: Any, eps: float = 1e-6
) -> tuple[Any, ...]:
    """The gradient of a scalar-valued `fn` at `inputs` by central differences, one per input.

        (gx, gy) = numeric_grad(lambda x, y: x * y, [Value(2.0), Value(3.0)])   # (3.0, 2.0)

    A float for a Value input, a float64 array of the input's shape for a Tensor.
    """
    args = _split_inputs(inputs)
    diff = [x for x in args if E.is_node(x)]
    out = _evaluate(fn, args)
    if len(out) != 1 or out[0].size != 1:
        shapes = [o.shape for o in out]
        raise ValueError(
            f"numeric_grad: fn must return one scalar, got outputs of shapes {shapes}; reduce "
            "it (e.g. .sum()) or use gradcheck, which checks the whole Jacobian"
        )
    slots = [E.Slot(x) for x in diff]
    jac = _numeric_jacobians(fn, args, slots, eps)
    result = []
    for slot, per_output in zip(slots, jac):
        g = per_output[0].reshape(slot.shape)
        result.append(float(g) if E.is_value(slot.node) else g)
    return tuple(result)


def _as_arrays(x: Any) -> list[np.ndarray | None]:
    if x is None or E.is_node(x) or np.isscalar(x) or isinstance(x, np.ndarray):
        return [None if x is None else E.grad_array(x, ())]
    return [a for item in x for a in _as_arrays(item)]


def assert_grads_close(actual: Any, expected: Any, atol: float = 1e-5, rtol: float = 1e-3) -> None:
    """Assert two gradients (numbers, Values, Tensors, arrays, None, or lists of them) agree.

    Passes when |actual - expected| <= atol + rtol * |expected| everywhere; None counts as a
    zero gradient. Raises AssertionError listing the worst entries.
    """
    __tracebackhide__ = True  # pytest: show the caller's line, not the checker's
    a_list, e_list = _as_arrays(actual), _as_arrays(expected)
    if len(a_list) != len(e_list):
        raise AssertionError(
            f"assert_grads_close: {len(a_list)} gradients against {len(e_list)} expected"
        )
    bad: list[Entry] = []
    for i, (a, e) in enumerate(zip(a_list, e_list)):
        if a is None and e is None:
            continue
        a = np.zeros_like(e) if a is None else a
        e = np.zeros_like(a) if e is None else e
        if a.shape != e.shape:
            raise AssertionError(
                f"assert_grads_close: gradient {i} has shape {a.shape}, expected {e.shape}"
            )
        fails = ~(np.abs(a - e) <= atol + rtol * np.abs(e))
        for k in zip(*np.nonzero(fails)) if a.ndim else ([()] if fails else []):
            k = tuple(int(v) for v in k)
            bad.append(Entry(i, k, 0, (), float(a[k]), float(e[k])))
    if bad:
        bad.sort(key=lambda en: -en.excess(atol, rtol))
        lines = [f"gradients differ in {len(bad)} entries (atol={atol:g}, rtol={rtol:g}):"]
        for en in bad[:SHOW_WORST]:
            lines.append(
                f"  gradient {en.input}{_idx(en.in_index)}: actual {en.analytic:.6g}, "
                f"expected {en.numeric:.6g}, abs err {en.abs_err:.3g}, rel err {en.rel_err:.3g}"
            )
        raise AssertionError("\n".join(lines))


# ---- modules -------------------------------------------------------------------------------------


def check_module_gradients(
    module: Any,
    x: Any,
    loss_fn: Callable[[Any], Any] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    seed: int = 0,
) -> bool:
    """Check the gradient of a scalar loss of `module(x)` for every parameter (and for x when
    it requires grad), by gradcheck.

    The default loss is a fixed random weighting of the outputs, sum(w * module(x)): a plain
    sum would hide errors wherever the outputs sum to a constant (softmax, normalization).
    Float32 parameters and inputs are checked in float64 and put back afterwards.
    """
    __tracebackhide__ = True  # pytest: show the caller's line, not the checker's
    params = list(module.parameters())
    inputs = [x] if E.is_node(x) else []
    checked = params + [t for t in inputs if t.requires_grad]
    if not checked:
        raise ValueError(f"check_module_gradients: {type(module).__name__} has no parameters")
    restore = _to_float64([*params, *inputs])
    try:
        with enable_grad():
            reference = module(x)
        weights = _weights_like(reference, np.random.default_rng(seed))
        if loss_fn is None:
            loss_fn = lambda out: _weighted_sum(out, weights)

        def loss(*_: Any) -> Any:
            return loss_fn(module(x))

        return gradcheck(loss, checked, eps, atol, rtol, raise_exception)
    finally:
        for t, arr in restore:
            t._data = arr


def _to_float64(nodes: list[Any]) -> list[tuple[Any, np.ndarray]]:
    restore = []
    for t in nodes:
        if E.is_tensor(t) and t._data.dtype.kind == "f" and t._data.dtype != np.float64:
            restore.append((t, t._data))
            t._data = t._data.astype(np.float64)
    return restore


def _weights_like(out: Any, rng: np.random.Generator) -> list[Any]:
    return [rng.uniform(0.5, 1.5, size=E.output_array(o).shape) for o in E.as_outputs(out)]


def _weighted_sum(out: Any, weights: list[np.ndarray]) -> Any:
    total: Any = 0.0
    for o, w in zip(E.as_outputs(out), weights):
        if E.is_value(o):
            total = total + o * float(w)
        elif E.is_tensor(o):
            total = total + (o * E.tensor_class()(w)).sum()
    return total
