"""The formula parser: a whitelist over Python's ast, never eval, errors that point."""

import math

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import ExpressionError, build_expression

VALUES = {"a": 2.0, "b": -3.0, "c": 10.0}


def caret(err: ExpressionError) -> tuple[int, int]:
    """(column, width) of the ^^^ line under the echoed expression."""
    line = str(err).split("\n")[2]
    stripped = line[2:]
    col = len(stripped) - len(stripped.lstrip(" "))
    return col, stripped.count("^")


def test_builds_the_formula_from_labelled_values():
    root, inputs = build_expression("tanh(a*b + c)", VALUES)
    assert isinstance(root, Value) and root.op == "tanh"
    assert root.data == pytest.approx(math.tanh(2 * -3 + 10))
    assert {name: v.label for name, v in inputs.items()} == {"a": "a", "b": "b", "c": "c"}
    root.backward()
    assert inputs["a"].grad == pytest.approx((1 - math.tanh(4) ** 2) * -3)


def test_operators_functions_and_constants():
    root, _ = build_expression("-a ** 2 / b - max(a, 1) + leaky_relu(b, 0.1) * pi + exp(e)",
                               VALUES)
    expected = -(2**2) / -3 - 2 + (-0.3) * math.pi + math.exp(math.e)
    assert root.data == pytest.approx(expected)
    root, _ = build_expression("a ** 2", VALUES)
    assert root.op == "**" and root._ctx == (2.0,), "a number exponent stays a constant"


@pytest.mark.parametrize("text, message, col, width", [
    ("__import__('os')", "unknown function '__import__'", 0, 10),
    ("a.__class__", "attribute access", 1, 10),
    ("tanh(a).real", "attribute access", 7, 5),
    ("lambda: a", "lambda is not allowed", 0, 9),
    ("a + (lambda x: x)(b)", "only the named functions can be called", 5, 11),
    ("a[0]", "indexing", 0, 4),
    ("a < b", "comparison", 0, 5),
    ("a and b", "and/or", 0, 7),
    ("a @ b", "operator '@'", 0, 5),
    ("a // b", "operator '//'", 0, 6),
    ("'rm -rf'", "only numbers", 0, 8),
    ("a + True", "only numbers", 4, 4),
    ("b + d", "unknown name 'd'", 4, 1),
    ("a + tanh", "'tanh' is a function", 4, 4),
    ("open('f')", "unknown function 'open'", 0, 4),
    ("tanh(a, b)", "takes 1 argument, got 2", 0, 10),
    ("tanh(x=a)", "no keyword arguments", 7, 1),
    ("a + [b]", "a list", 4, 3),
    ("a +* b", "syntax error", 3, 1),
    ("(a := 3)", "assignment", 1, 6),
    ("log(b)", "cannot be computed", 0, 6),
    ("a / (c - 10)", "cannot be computed", 0, 12),
])
def test_rejects_with_a_caret_under_the_offending_part(text, message, col, width):
    with pytest.raises(ExpressionError, match=message) as info:
        build_expression(text, VALUES)
    assert str(info.value).split("\n")[1] == "  " + text, "the expression is echoed"
    assert caret(info.value) == (col, width)


def test_nothing_is_executed_while_parsing(monkeypatch):
    import builtins

    def trap(*args, **kwargs):
        raise AssertionError("eval/exec/__import__ must never be called")

    monkeypatch.setattr(builtins, "eval", trap)
    monkeypatch.setattr(builtins, "exec", trap)
    root, _ = build_expression("sigmoid(a) * b", VALUES)
    assert root.data == pytest.approx(-3 / (1 + math.exp(-2)))
    with pytest.raises(ExpressionError):
        build_expression("__import__('os').system('echo hi')", VALUES)


def test_bad_inputs_outside_the_formula():
    with pytest.raises(ExpressionError, match="empty"):
        build_expression("   ", VALUES)
    with pytest.raises(ExpressionError, match="one line"):
        build_expression("a\n+b", VALUES)
    with pytest.raises(ExpressionError, match="no variables"):
        build_expression("2 ** 3", VALUES)
    with pytest.raises(ExpressionError, match="built-in name"):
        build_expression("tanh + 1", {"tanh": 1.0})
    with pytest.raises(ExpressionError, match="longer than"):
        build_expression("a+" * 2000 + "a", VALUES)


def test_huge_constant_powers_fail_at_once_instead_of_hanging():
    with pytest.raises(ExpressionError, match="cannot be computed"):
        build_expression("a + 10 ** 10 ** 10", VALUES)
