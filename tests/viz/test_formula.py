"""The formula text beside every rule of both op tables says what the rule computes.

Each formula is evaluated at random points and compared with its rule, so a wrong formula is
a failing test, like a wrong derivative. Then: how formulas are shown with a graph's names.
"""

import inspect

import numpy as np
import pytest

from tinygrad_edu import value as V
from tinygrad_edu.tensor.ops import OPS, _index_add, _lstm_activate, _unfold
from tinygrad_edu.tensor.ops import Op as TensorOp
from tinygrad_edu.viz.formula import evaluate, operands, show

VALUE_OPS = {name: op for name, op in vars(V).items() if isinstance(op, V.Op)}
TENSOR_OPS = {name: op for name, op in vars(type(OPS)).items() if isinstance(op, TensorOp)}
NO_FORMULA = {"cat"}  # any number of inputs: its rules are made per input (PerInput)

POSITIVE = {"DIV", "POW", "LOG", "SQRT", "POW_CONST"}  # domains needing a > 0 (and b > 0)
VALUE_CONSTS = {"POW_CONST": [2.0, 3.0, 0.5, -1.5], "LEAKY_RELU": [0.01, 0.2]}


def params(rule):
    return list(inspect.signature(rule).parameters)


def check_value_row(name, op, rng):
    assert len(op.formulas) == len(op.derivatives), f"{name}: one formula per input"
    for formula in op.formulas:
        assert operands(formula) <= set(params(op.derivatives[0])), (name, formula)
    arity = op.forward.__code__.co_argcount if hasattr(op.forward, "__code__") else 1
    n_args = len(params(op.derivatives[0])) - 1 - (name in VALUE_CONSTS)
    assert n_args in (1, 2) and arity >= 1
    points = [rng.uniform(0.2, 3.0, n_args) if name in POSITIVE else
              rng.uniform(-3.0, 3.0, n_args) for _ in range(25)]
    if n_args == 2:
        points.append(np.array([1.5, 1.5]))  # ties (maximum, minimum)
    for consts in ([[c] for c in VALUE_CONSTS[name]] if name in VALUE_CONSTS else [[]]):
        for x in points:
            args = [float(v) for v in x] + consts
            out = op.forward(*args)
            env = dict(zip(params(op.derivatives[0]), [out, *args]))
            for i, (rule, formula) in enumerate(zip(op.derivatives, op.formulas)):
                expected = float(rule(out, *args))
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
    ("lstm_gates", ("g * where(is_gate(out, 'f'), 1 - out**2, out * (1 - out))",)),
    ("lstm_cell", ("gates(g * gate(act, 'g'), g * c, g * gate(act, 'o'), 0)",
                   "g * gate(act, 'f')")),
    ("lstm_hidden", ("gates(0, 0, 0, g * tanh(c))", "g * gate(act, 'o') * (1 + tanh(c)**2)")),
])
def test_a_wrong_window_or_lstm_formula_fails_the_check(name, formulas):
    wrong = TENSOR_OPS[name]._replace(formulas=formulas)
    with pytest.raises((AssertionError, ValueError)):
        check_tensor_row(name, wrong, np.random.default_rng(0))


def tensor_case(name, rng):
    """(inputs, consts) for one row: float64 arrays in the row's domain."""
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    pos = rng.uniform(0.3, 2.0, (2, 3))
    ties = a.copy()
    ties[0, 2] = ties[0, 0] = a[0].max()
    x, win = rng.standard_normal((2, 3, 7, 5)), ((2, 3), (3, 2), (2, 1), (1, 2))
    c = rng.standard_normal((2, 3))
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
        "log_softmax": ([a], [1]),
        "reshape": ([a], [(3, 2), (2, 3)]),
        "permute": ([a], [(1, 0), (1, 0)]),
        "expand": ([a[:1]], [(2, 3)]),
        "getitem": ([a], [(np.array([0, 1, 1]), slice(None)), (2, 3)]),
        "index_add": ([rng.standard_normal((3, 3))], [(np.array([0, 2, 2]), slice(None)),
                                                      (4, 3)]),
        "matmul": ([a, rng.standard_normal((3, 4))], []),
        # windows along dims 2 and 3: sizes 3, 2, steps 2, 1, dilations 1, 2
        "unfold": ([x], [win, x.shape]),
        # in_shape has room for more windows than given: the gradient reads the first only
        "unfold_backward": ([_unfold(x, win, x.shape).copy()], [(2, 3, 9, 5), win]),
        "lstm_gates": ([rng.standard_normal((2, 12))], []),  # hidden size 3: 4 gates of 3
        "lstm_cell": ([_lstm_activate(rng.standard_normal((2, 12))), c], []),
        "lstm_hidden": ([_lstm_activate(rng.standard_normal((2, 12))), c], []),
    }
    return cases.get(name, ([a], []))


def check_tensor_row(name, op, rng):
    rules = list(op.vjps)
    assert len(op.formulas) == len(rules), f"{name}: one formula per input"
    for _ in range(5):
        inputs, consts = tensor_case(name, rng)
        if name == "index_add":  # its forward scatters a small array into a bigger one
            out = _index_add(inputs[0], *consts)
        else:
            out = op.forward(*inputs, *consts)
        g = rng.standard_normal(np.shape(out))
        for i, (rule, formula) in enumerate(zip(rules, op.formulas)):
            names = params(rule)
            assert operands(formula) <= set(names), (name, formula)
            expected = rule(g, out, *inputs, *consts)
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
