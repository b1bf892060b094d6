"""The formula text beside every rule of both op tables says what the rule computes.

Each formula is evaluated at random points and compared with its rule, so a wrong formula is
a failing test, like a wrong derivative. Then: how formulas are shown with a graph's names.
"""

import inspect

import numpy as np
import pytest

from tinygrad_edu import value as V
from tinygrad_edu.tensor.fused import _lstm_activate, batch_stats, pool_argmax
from tinygrad_edu.tensor.ops import OPS, make_op
from tinygrad_edu.tensor.ops import Op as TensorOp
from tinygrad_edu.tensor.partials import _index_add
from tinygrad_edu.tensor.rule_math import _erf, _unfold
from tinygrad_edu.viz.formula import _MATH, HELPERS, evaluate, operands, show

VALUE_OPS = {name: op for name, op in vars(V).items() if isinstance(op, V.Op)}
TENSOR_OPS = {name: op for name, op in vars(type(OPS)).items() if isinstance(op, TensorOp)}
NO_FORMULA = {"cat", "einsum"}  # any number of inputs: their rules are made per input (PerInput)

# Where a row's inputs are drawn from, (low, high), when not from (-3, 3): a new row whose
# function is not defined everywhere (log1p, acosh, atanh, ...) adds its name here.
POSITIVE = (0.2, 3.0)
VALUE_DOMAINS = {"DIV": POSITIVE, "POW": POSITIVE, "LOG": POSITIVE, "SQRT": POSITIVE,
                 "POW_CONST": POSITIVE}
VALUE_CONSTS = {"POW_CONST": [2.0, 3.0, 0.5, -1.5], "LEAKY_RELU": [0.01, 0.2]}
TENSOR_DOMAINS: dict[str, tuple[float, float]] = {  # for rows with no case in tensor_case
    "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atanh": (-0.9, 0.9), "acosh": (1.1, 4.0),
    "log1p": (-0.9, 3.0),
}


def params(rule):
    return list(inspect.signature(rule).parameters)


def check_value_row(name, op, rng):
    assert len(op.formulas) == len(op.derivatives), f"{name}: one formula per input"
    for formula in op.formulas:
        assert operands(formula) <= set(params(op.derivatives[0])), (name, formula)
    arity = op.forward.__code__.co_argcount if hasattr(op.forward, "__code__") else 1
    n_args = len(params(op.derivatives[0])) - 1 - (name in VALUE_CONSTS)
    assert n_args in (1, 2) and arity >= 1
    points = [rng.uniform(*VALUE_DOMAINS.get(name, (-3.0, 3.0)), n_args) for _ in range(25)]
    if n_args == 2:
        points.append(np.array([1.5, 1.5]))  # ties (maximum, minimum)
    for consts in ([[c] for c in VALUE_CONSTS[name]] if name in VALUE_CONSTS else [[]]):
        for x in points:
            args = [float(v) for v in x] + consts
            out = op.forward(*args)
            env = dict(zip(params(op.derivatives[0]), [out, *args]))
            for i, (rule, formula) in enumerate(zip(op.derivatives, op.formulas)):
                expected = float(rule(out, *args))
                assert np.isfinite(expected), f"{name}: the rule gives {expected} at {args}; " \
                    "draw its inputs from its domain (VALUE_DOMAINS)"
                got = float(evaluate(formula, env))
                assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), \
                    f"{name} input {i}: formula {formula!r} gives {got}, the rule {expected}"


@pytest.mark.parametrize("name", sorted(VALUE_OPS))
def test_every_value_row_formula_matches_its_derivative(name):
    check_value_row(name, VALUE_OPS[name], np.random.default_rng(0))


def test_a_wrong_formula_fails_the_check():
    wrong = V.TANH._replace(formulas=("1 + out**2",))
    with pytest.raises(AssertionError, match="TANH input 0"):
        check_value_row("TANH", wrong, np.random.default_rng(0))
    wrong = OPS.matmul._replace(formulas=("g @ b", "a.T @ g"))
    with pytest.raises((AssertionError, ValueError)):
        check_tensor_row("matmul", wrong, np.random.default_rng(0))


@pytest.mark.parametrize("name, formulas", [
    ("unfold", ("col2im(g, in_shape, win) * 2",)),
    ("unfold_backward", ("windows(g, win)",)),  # not cropped to the windows there were
    ("max_pool", ("col2im(at_tap(g, arg * 0, win), a.shape, win)",)),  # always the first tap
    ("conv", ("col2im(conv_taps(g, w, 1), x.shape, win)",  # the groups ignored
              "conv_weight_grad(windows(x, win), g, groups)")),
    ("batch_norm", ("weight * inv_std * (g - avg(g, axes))",  # the x_hat term left out
                    "total(g * (x - mean) * inv_std, axes)", "total(g, axes)")),
    ("batch_norm_eval", ("g * weight * inv_std", "total(g * x * inv_std, axes)",
                         "total(g, axes)")),
    ("lstm_gates", ("g * where(is_gate(out, 'f'), 1 - out**2, out * (1 - out))",)),
    ("lstm_cell", ("gates(g * gate(act, 'g'), g * c, g * gate(act, 'o'), 0)",
                   "g * gate(act, 'f')")),
    ("lstm_hidden", ("gates(0, 0, 0, g * tanh(c))", "g * gate(act, 'o') * (1 + tanh(c)**2)")),
    ("linear", ("g @ w", "g.T @ x / 2", "g")),  # half the weight gradient
    ("attention", ("(out * (g - total(g, -1)) * scale) @ k",  # softmax's rule without out
                   "(out * (g - total(g * out, -1)) * scale).mT @ q")),
])
def test_a_wrong_fused_row_formula_fails_the_check(name, formulas):
    wrong = TENSOR_OPS[name]._replace(formulas=formulas)
    with pytest.raises((AssertionError, ValueError)):
        check_tensor_row(name, wrong, np.random.default_rng(0))


def tensor_case(name, rng, n_inputs=1):
    """(inputs, consts) for one row: float64 arrays in the row's domain. A row without a case
    here gets n_inputs arrays of shape (2, 3) from its TENSOR_DOMAINS (or normal) and no
    constants: enough for an elementwise row (atan2, hypot, log1p, ...) to need nothing more."""
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    pos = rng.uniform(0.3, 2.0, (2, 3))
    ties = a.copy()
    ties[0, 2] = ties[0, 0] = a[0].max()
    x, win = rng.standard_normal((2, 3, 7, 5)), ((2, 3), (3, 2), (2, 1), (1, 2), ((0, 0),) * 2, 0.)
    padded = (*win[:4], ((1, 0), (0, 1)), 0.0)  # zero padding on both dims, on one side each
    c = rng.standard_normal((2, 3))
    bn_x, bn_axes = rng.standard_normal((4, 3, 5)), (0, 2)  # 3 channels of 4 x 5 values
    bn_mean, bn_inv_std, _ = batch_stats(bn_x, bn_axes, 1e-5)
    bn_affine = [rng.standard_normal((1, 3, 1)), rng.standard_normal((1, 3, 1))]
    running = [rng.standard_normal((1, 3, 1)), rng.uniform(0.5, 2.0, (1, 3, 1))]
    pool = (*padded[:5], -np.inf)  # max pooling pads with -inf; overlapping windows
    conv_x, conv_w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    conv_win = ((2, 3), (3, 2), (1, 1) if rng.random() < 0.5 else (2, 1), (1, 2),
                ((1, 1), (0, 2)), 0.0)
    cases = {
        "add": ([a, b], []), "sub": ([a, b], []), "mul": ([a, b], []),
        "div": ([a, pos], []), "pow": ([pos, b], []),
        "maximum": ([ties, np.where(rng.random((2, 3)) < 0.5, ties, b)], []),
        "where": ([a, b], [rng.random((2, 3)) < 0.5]),
        "pow_const": ([pos], [3.0]),
        "log": ([pos], []), "sqrt": ([pos], []),
        "astype": ([a.astype(np.float32)], [np.float64, np.float32]),
        "sum": ([a], [(1,), False, (2, 3)]),
        "amax": ([ties], [(1,), False]),
        "amin": ([-ties], [(1,), False]),
        "minimum": ([ties, np.where(rng.random((2, 3)) < 0.5, ties, b)], []),
        "mod": ([a, pos], []),
        "log_softmax": ([a], [1]),
        "reshape": ([a], [(3, 2), (2, 3)]),
        "permute": ([a], [(1, 0), (1, 0)]),
        "expand": ([a[:1]], [(2, 3)]),
        "getitem": ([a], [(np.array([0, 1, 1]), slice(None)), (2, 3)]),
        "diagonal": ([rng.standard_normal((2, 3, 4))],  # offset 1: (0, 1), (1, 2), (2, 3)
                     [(Ellipsis, np.arange(3), np.arange(1, 4)), (2, 3, 4)]),
        "index_add": ([rng.standard_normal((3, 3))], [(np.array([0, 2, 2]), slice(None)),
                                                      (4, 3)]),
        "matmul": ([a, rng.standard_normal((3, 4))], []),
        # rows (2, 3) times a (4, 3) weight, plus a (4,) bias
        "linear": ([rng.standard_normal((2, 3)), rng.standard_normal((4, 3)),
                    rng.standard_normal(4)], []),
        # windows along dims 2 and 3: sizes 3, 2, steps 2, 1, dilations 1, 2
        "unfold": ([x], [padded, x.shape]),
        # in_shape has room for more windows than given: the gradient reads the first only
        "unfold_backward": ([_unfold(x, win, x.shape).copy()], [(2, 3, 9, 5), win]),
        "batch_norm": ([bn_x, *bn_affine], [bn_axes, 1e-5, bn_mean, bn_inv_std]),
        "batch_norm_eval": ([bn_x, *bn_affine], [bn_axes, 1e-5, *running]),
        "standardize": ([bn_x], [(bn_x.ndim - 1,), 1e-5,
                                 *batch_stats(bn_x, (bn_x.ndim - 1,), 1e-5)[:2]]),
        "max_pool": ([x], [pool, pool_argmax(x, pool)]),
        # 2 groups of 2 input channels, 3 outputs each; strided (col2im) and stride 1 (the
        # flipped-kernel convolution of g) in turn
        "conv": ([conv_x, conv_w], [conv_win, 2]),
        # 2 heads of 3 queries and 4 keys; a boolean mask with a query that sees no key
        "attention": ([rng.standard_normal((2, 3, 5)), rng.standard_normal((2, 4, 5))],
                      [np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 0]], bool), 0.6]),
        "lstm_gates": ([rng.standard_normal((2, 12))], []),  # hidden size 3: 4 gates of 3
        "lstm_cell": ([_lstm_activate(rng.standard_normal((2, 12))), c], []),
        "lstm_hidden": ([_lstm_activate(rng.standard_normal((2, 12))), c], []),
    }
    if name in cases:
        return cases[name]
    if name in TENSOR_DOMAINS:
        return [rng.uniform(*TENSOR_DOMAINS[name], (2, 3)) for _ in range(n_inputs)], []
    return [a, b, *(rng.standard_normal((2, 3)) for _ in range(n_inputs - 2))][:n_inputs], []


def check_tensor_row(name, op, rng):
    rules = list(op.vjps)
    assert len(op.formulas) == len(rules), f"{name}: one formula per input"
    for _ in range(5):
        inputs, consts = tensor_case(name, rng, len(rules))
        if name == "index_add":  # its forward scatters a small array into a bigger one
            out = _index_add(inputs[0], *consts)
        else:
            out = op.forward(*inputs, *consts)
        g = rng.standard_normal(np.shape(out))
        for i, (rule, formula) in enumerate(zip(rules, op.formulas)):
            names = params(rule)
            assert operands(formula) <= set(names), (name, formula)
            expected = rule(g, out, *inputs, *consts)
            assert np.all(np.isfinite(expected)), f"{name} input {i}: the rule is not finite " \
                "at these inputs; give the row inputs in its domain (tensor_case, TENSOR_DOMAINS)"
            got = evaluate(formula, dict(zip(names, [g, out, *inputs, *consts])))
            np.testing.assert_allclose(np.broadcast_to(got, np.shape(expected)), expected,
                                       rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name} input {i}: formula {formula!r}")


@pytest.mark.parametrize("name", sorted(set(TENSOR_OPS) - NO_FORMULA))
def test_every_tensor_row_formula_matches_its_rule(name):
    check_tensor_row(name, TENSOR_OPS[name], np.random.default_rng(1))


def test_only_the_documented_rows_have_no_formula():
    missing = {n for n, op in TENSOR_OPS.items() if not op.formulas}
    assert missing == NO_FORMULA
    assert all(op.formulas for op in VALUE_OPS.values())


def test_formulas_show_with_the_graphs_names_and_numbers():
    assert show("1 - out**2", {"out": "o"}) == "1 - o\u00b2"
    assert show("1 - out**2", {"out": "o"}, outer=3) == "(1 - o\u00b2)"
    assert show("1 - out**2", {"out": "-0.7071"}) == "1 - (-0.7071)\u00b2"
    assert show("g @ b.T", {"g": "dL/dY", "b": "W"}) == "dL/dY @ W\u1d40"
    assert show("a.T @ g", {"g": "dL/dY", "a": "X"}) == "X\u1d40 @ dL/dY"
    assert show("a > 0", {"a": "v2"}) == "[v2 > 0]"
    assert show("n * a**(n - 1)", {"n": "3.0", "a": "x"}) == "3.0 * x**(3.0 - 1)"
    assert show("-a / b**2", {"a": "a", "b": "-2.0"}) == "-a / (-2.0)\u00b2"
    assert show("g - exp(out) * total(g, dim)", {"g": "dL/dY", "out": "Y", "dim": "1"}) == \
        "dL/dY - exp(Y) * total(dL/dY, 1)"
    assert show("a - (b - c)", {}) == "a - (b - c)"


def test_a_new_elementwise_row_is_checked_with_no_case_of_its_own(monkeypatch):
    atan2 = make_op("atan2", np.arctan2,
                    lambda g, out, a, b: g * b / (a * a + b * b),
                    lambda g, out, a, b: -g * a / (a * a + b * b),
                    formulas=("g * b / hypot(a, b)**2", "-g * a / hypot(a, b)**2"))
    check_tensor_row("atan2", atan2, np.random.default_rng(0))  # two inputs, as its rules
    with pytest.raises(AssertionError, match="input 1"):
        check_tensor_row("atan2", atan2._replace(formulas=(atan2.formulas[0], "g * a")),
                         np.random.default_rng(0))
    acosh = make_op("acosh", np.arccosh, lambda g, out, a: g / np.sqrt(a * a - 1),
                    formulas=("g / sqrt(a**2 - 1)",))
    monkeypatch.delitem(TENSOR_DOMAINS, "acosh", raising=False)  # as a row with no domain yet
    with pytest.raises(AssertionError, match="acosh input 0: the rule is not finite"), \
            np.errstate(invalid="ignore"):
        check_tensor_row("acosh", acosh, np.random.default_rng(0))  # acosh(x < 1) is nan
    monkeypatch.setitem(TENSOR_DOMAINS, "acosh", (1.2, 3.0))
    check_tensor_row("acosh", acosh, np.random.default_rng(0))


# ---- rows still to come: their formulas can be written in one line with the HELPERS ----------
# Each is checked against the vector-Jacobian product of its forward by central differences, so
# a helper that does not compute what its name says (acosh as arccos, ...) fails here.

def _cases_for_rows_to_come(rng):
    a, b = rng.uniform(-3, 3, (2, 3)), rng.uniform(0.5, 2.0, (2, 3))
    small, pos, big = rng.uniform(-0.9, 0.9, (2, 3)), rng.uniform(0.3, 2.0, (2, 3)), \
        rng.uniform(1.2, 3.0, (2, 3))
    idx = rng.integers(0, 3, (2, 4))  # places along dim 1, some repeated
    return {  # name: (forward, formulas, inputs, consts)
        "tan": (np.tan, ["g / cos(a)**2"], [small], []),
        "asin": (np.arcsin, ["g / sqrt(1 - a**2)"], [small], []),
        "acos": (np.arccos, ["-g / sqrt(1 - a**2)"], [small], []),
        "atan": (np.arctan, ["g / (1 + a**2)"], [a], []),
        "sinh": (np.sinh, ["g * cosh(a)"], [a], []),
        "cosh": (np.cosh, ["g * sinh(a)"], [a], []),
        "tanh": (np.tanh, ["g * (1 - tanh(a)**2)"], [a], []),
        "asinh": (np.arcsinh, ["g / sqrt(a**2 + 1)"], [a], []),
        "acosh": (np.arccosh, ["g / sqrt(a**2 - 1)"], [big], []),
        "atanh": (np.arctanh, ["g / (1 - a**2)"], [small], []),
        "log1p": (np.log1p, ["g / (1 + a)"], [small], []),
        "expm1": (np.expm1, ["g * (out + 1)"], [a], []),
        "exp2": (np.exp2, ["g * out * log(2)"], [a], []),
        "log2": (np.log2, ["g / (a * log(2))"], [pos], []),
        "log10": (np.log10, ["g / (a * log(10))"], [pos], []),
        "erfc": (lambda x: 1 - _erf(x), ["-g * 2 / sqrt(pi) * exp(-a**2)"], [a], []),
        "abs": (np.abs, ["g * sign(a)"], [a], []),
        "atan2": (np.arctan2, ["g * b / hypot(a, b)**2", "-g * a / hypot(a, b)**2"], [a, b], []),
        "hypot": (np.hypot, ["g * a / out", "g * b / out"], [a, b], []),
        "remainder": (np.remainder, ["g", "-g * floor(a / b)"], [a, b], []),
        "fmod": (np.fmod, ["g", "-g * trunc(a / b)"], [a, b], []),
        "copysign": (np.copysign, ["g * copysign(1, a * b)", "0 * g"], [a, a[::-1]], []),
        "cumsum": (np.cumsum, ["flip(cumsum(flip(g, dim), dim), dim)"], [a], [1]),
        "cumprod": (np.cumprod, ["flip(cumsum(flip(g * out, dim), dim), dim) / a"], [pos], [1]),
        "logcumsumexp": (lambda x, dim: np.logaddexp.accumulate(x, axis=dim),
                         ["exp(a) * flip(cumsum(flip(g * exp(-out), dim), dim), dim)"], [a], [1]),
        "einsum": (lambda x, y: np.einsum("ij,jk->ik", x, y),
                   ["einsum('ik,jk->ij', g, b)", "einsum('ij,ik->jk', a, g)"],
                   [a, rng.standard_normal((3, 4))], []),
        "gather": (lambda x, dim, i: np.take_along_axis(x, i, dim),
                   ["scatter_add(a.shape, dim, idx, g)"], [a], [1, idx]),
        "scatter_add": (lambda s, dim, i, shape: _index_add(s, _along(i, dim), shape),
                        ["gather(g, dim, idx)"], [rng.standard_normal((2, 4))], [1, idx, (2, 3)]),
    }


def _along(idx, dim):
    """The advanced index that puts entry j of an array at idx[j] along dim."""
    places = list(np.indices(idx.shape, sparse=True))
    places[dim] = idx
    return tuple(places)


def _numeric_vjp(forward, inputs, consts, g, i, h=1e-6):
    """d<g, forward(...)>/d(input i), entry by entry, by central differences."""
    grad = np.zeros_like(inputs[i])
    for j in np.ndindex(grad.shape):
        up, down = [x.copy() for x in inputs], [x.copy() for x in inputs]
        up[i][j] += h
        down[i][j] -= h
        grad[j] = np.sum(g * (forward(*up, *consts) - forward(*down, *consts))) / (2 * h)
    return grad


ROWS_TO_COME = sorted(_cases_for_rows_to_come(np.random.default_rng(0)))


@pytest.mark.parametrize("name", ROWS_TO_COME)
def test_the_helpers_write_the_derivatives_of_rows_to_come_in_one_line(name):
    rng = np.random.default_rng(2)
    forward, formulas, inputs, consts = _cases_for_rows_to_come(rng)[name]
    out = forward(*inputs, *consts)
    g = rng.standard_normal(np.shape(out))
    params = ["a", "b"][:len(inputs)] + ["dim", "idx", "shape"][:len(consts)]
    env = dict(zip(["g", "out", *params], [g, out, *inputs, *consts]))
    for i, formula in enumerate(formulas):
        assert operands(formula) <= set(env), formula
        got = np.broadcast_to(evaluate(formula, env), inputs[i].shape)
        np.testing.assert_allclose(got, _numeric_vjp(forward, inputs, consts, g, i),
                                   rtol=1e-6, atol=1e-7, err_msg=f"{name} input {i}: {formula}")


def test_each_math_helper_gives_the_same_on_a_number_as_on_an_array():
    rng = np.random.default_rng(3)
    for name in sorted(_MATH):
        fn = HELPERS[name]
        n = 2 if name in ("atan2", "hypot", "copysign") else 1
        low, high = (0.1, 0.9) if name in ("asin", "acos", "atanh") else (1.1, 1.9)
        sign = -1 if name in ("floor", "trunc", "ceil", "abs") else 1  # where they differ
        x = [sign * rng.uniform(low, high, 4) for _ in range(n)]
        on_array = fn(*x)
        on_numbers = [fn(*(float(v[k]) for v in x)) for k in range(4)]
        assert not isinstance(on_numbers[0], np.ndarray), name
        np.testing.assert_allclose(on_array, on_numbers, rtol=1e-14, err_msg=name)


def test_the_formulas_of_rows_to_come_show_as_math():
    names = {"g": "dL/dY", "a": "x", "b": "y", "out": "Y", "dim": "1"}
    assert show("g / sqrt(1 - a**2)", names) == "dL/dY / sqrt(1 - x\u00b2)"
    assert show("g * b / hypot(a, b)**2", names) == "dL/dY * y / hypot(x, y)\u00b2"
    assert show("-g * floor(a / b)", names) == "-dL/dY * floor(x / y)"
    assert show("g * sign(a) * abs(b)", names) == "dL/dY * sign(x) * |y|"
    assert show("flip(cumsum(flip(g, dim), dim), dim)", names) == \
        "flip(cumsum(flip(dL/dY, 1), 1), 1)"
    assert show("einsum('ik,jk->ij', g, b)", names) == "einsum('ik,jk->ij', dL/dY, y)"
    assert show("cumsum(g, dim=dim)", names) == "cumsum(dL/dY, dim=1)", "keywords are kept"


def test_operators_conditions_and_indexing_show_as_written():
    names = {"g": "dL/dY", "a": "x", "b": "-2.0"}
    assert show("g * (a % b)", names) == "dL/dY * (x % (-2.0))"
    assert show("a - a // 2 % 3", names) == "x - x // 2 % 3"
    assert show("where((a == 0) & (a < b), 0, g)", names) == \
        "where([x == 0] & [x < -2.0], 0, dL/dY)"
    assert show("where(a > 0, g, 0)", names) == "where(x > 0, dL/dY, 0)", "a condition"
    assert show("g * (a > 0)", names) == "dL/dY * [x > 0]", "a number: Iverson's bracket"
    assert show("total(a > 0, 1)", names) == "total([x > 0], 1)"
    assert show("a > 0 and g < 1", names) == "x > 0 and dL/dY < 1"
    assert show("1 if a > 0 else b", names) == "1 if x > 0 else -2.0"
    assert show("g[..., 1:a]", names) == "dL/dY[..., 1:x]"
    assert show("g[::2, a]", names) == "dL/dY[::2, x]"


def test_the_window_and_lstm_formulas_show_with_the_graphs_names():
    lstm = TENSOR_OPS["lstm_hidden"].formulas
    assert show(lstm[1], {"g": "dL/dh", "act": "A", "c": "c2"}) == \
        "dL/dh * gate(A, 'o') * (1 - tanh(c2)\u00b2)"
    assert show(lstm[0], {"g": "dL/dh", "c": "c2"}) == "gates(0, 0, 0, dL/dh * tanh(c2))"
    assert show(TENSOR_OPS["unfold"].formulas[0], {"g": "dL/dY", "in_shape": "(1, 2, 5, 5)"}) \
        == "col2im(dL/dY, (1, 2, 5, 5), win)"
    assert show(TENSOR_OPS["unfold_backward"].formulas[0], {"g": "dL/dX", "a": "cols"}) == \
        "crop(windows(dL/dX, win, 0), cols.shape)"
