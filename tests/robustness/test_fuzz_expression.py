"""Fuzzing the formula parser behind `tinygrad-edu graph` (viz/expression.py).

Random text never reaches eval/exec, never hangs, and either builds a Value graph or raises
ExpressionError whose caret points inside the text, at the part that is not allowed.

    FUZZ_EXAMPLES=5000 pytest tests/robustness/test_fuzz_expression.py     # a longer run
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import math
import os
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.viz.expression import FUNCTIONS, MAX_LENGTH, ExpressionError, build_expression

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
VALUES = {"a": 2.0, "b": -3.0, "x": 0.5}
SECONDS = 2.0


class Hang(Exception):
    pass


@contextlib.contextmanager
def guarded():
    """No eval/exec, no compile beyond parsing to an AST, and a time limit."""
    real_compile = builtins.compile

    def no_eval(*args, **kwargs):
        raise AssertionError("the parser called eval/exec")

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "the parser compiled code, not just an AST"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def on_alarm(signum, frame):
        raise Hang(f"no answer within {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    saved = builtins.eval, builtins.exec, builtins.compile
    builtins.eval, builtins.exec, builtins.compile = no_eval, no_eval, ast_only
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        builtins.eval, builtins.exec, builtins.compile = saved
        signal.signal(signal.SIGALRM, previous)


def parse(text: str):
    """build_expression under guard: the root Value, or the ExpressionError."""
    with guarded():
        try:
            root, _ = build_expression(text, VALUES)
        except ExpressionError as err:
            check_pointer(err)
            return err
    assert isinstance(root, Value)
    return root


def check_pointer(err: ExpressionError) -> None:
    lines = str(err).split("\n")
    assert lines[1] == "  " + err.text, lines
    caret = lines[2][2:]
    assert set(caret.strip()) == {"^"} and caret.startswith(" " * err.col), lines
    assert 0 <= err.col <= len(err.text), (err.col, err.text)


SYMBOLS = "abx0123456789.+-*/()%,<>=[]{}:;'\"_@~!&|^ eE\\"
texts = st.text(alphabet=st.sampled_from(SYMBOLS), max_size=40) | st.text(max_size=30)
words = st.sampled_from(["tanh", "exp", "log", "sqrt", "max", "leaky_relu", "lambda", "import",
                         "__import__", "os", "eval", "pi", "e", "a", "b", "x", "if", "else",
                         "not", "and", "or", "for", "in", "yield", "await", "**", "//", "1e308",
                         "9**9**9", "((", "))", ",", ".", "__class__"])
word_soup = st.lists(words, max_size=12).map(" ".join)


literals = (st.integers(-10**450, 10**450).map(str)  # 400 digits: more than a float holds
            | st.floats(allow_nan=False, allow_infinity=False).map(repr)
            | st.sampled_from(["0", "0.0", "1e400", "1e-400", "1/3", "2**1024", "-8"]))


@st.composite
def formulas(draw, depth=4):
    """Well-formed formulas over a, b, x and any numbers, with every operator and function:
    the ones whose value cannot be computed ((-8)**(1/3), 1/0, log(-1), 1e400...) included."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        leaf = draw(st.sampled_from(sorted(VALUES) + ["pi", "e"]) | literals)
        return f"({leaf})"
    kind = draw(st.sampled_from(["+", "-", "*", "/", "**", "neg", "call"]))
    if kind == "neg":
        return f"-{draw(formulas(depth - 1))}"
    if kind == "call":
        name = draw(st.sampled_from(sorted(FUNCTIONS)))
        args = [draw(formulas(depth - 1)) for _ in range(FUNCTIONS[name][0])]
        return f"{name}({', '.join(args)})"
    return f"({draw(formulas(depth - 1))} {kind} {draw(formulas(depth - 1))})"


@FUZZ
@given(text=texts | word_soup | formulas())
def test_random_text_gives_a_graph_or_a_pointed_error(text):
    parse(text)


@pytest.mark.parametrize("text", [
    "(" * 300 + "x" + ")" * 300,       # deeper than the parser allows
    "-" * (MAX_LENGTH - 1) + "x",      # a 2000-deep chain of unary minus
    "x" + "+x" * ((MAX_LENGTH - 1) // 2),  # 1000 additions
    "9**9**9**9**9 * x",               # huge powers of constants: float overflow, at once
    "x**9**9**9",
    "x" * (MAX_LENGTH + 1),            # too long
    "[" * 1000,
    "tanh(" * 500 + "x" + ")" * 500,
], ids=["parens", "unary", "sum", "const-power", "power", "long", "brackets", "calls"])
def test_pathological_text_answers_quickly(text):
    parse(text)


# ---- a forbidden construct inside valid text: the caret must point at it ------------------------

FORBIDDEN = ["x.real", "x[0]", "(lambda: 1)", "'s'", "(x < 1)", "__import__('os')",
             "(x if x else x)", "(y := 1)", "f'{x}'", "(x // 2)", "(x @ x)", "(not x)", "(~x)",
             "[x]", "{x}", "{x: 1}", "(x, x)", "x.__class__", "b'1'", "True", "None", "...",
             "(x and x)", "(x % 2)", "open('f')", "tanh(x, x)", "tanh(x=1)", "tanh.real",
             "q", "ζ", "(x << 1)"]


@st.composite
def safe_expressions(draw, depth=3):
    """(text, value): a valid formula over a, b, x with smooth functions, and its value."""
    if depth == 0 or draw(st.booleans()):
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(VALUES)))
            return name, VALUES[name]
        n = draw(st.integers(0, 9))
        return str(n), float(n)
    kind = draw(st.sampled_from(["+", "-", "*", "tanh", "sin", "sigmoid", "neg"]))
    if kind in "+-*":
        (lt, lv), (rt, rv) = draw(safe_expressions(depth - 1)), draw(safe_expressions(depth - 1))
        value = {"+": lv + rv, "-": lv - rv, "*": lv * rv}[kind]
        return f"({lt} {kind} {rt})", value
    text, v = draw(safe_expressions(depth - 1))
    if kind == "neg":
        return f"-{text}", -v
    fn = {"tanh": math.tanh, "sin": math.sin, "sigmoid": lambda t: 1 / (1 + math.exp(-t))}[kind]
    return f"{kind}({text})", fn(v)


@FUZZ
@given(expr=safe_expressions())
def test_valid_formulas_compute_their_value(expr):
    text, value = expr
    root = parse(text)
    if isinstance(root, ExpressionError):  # only a formula without variables is refused
        assert not any(name in text for name in VALUES), str(root)
        return
    assert math.isclose(root.data, value, rel_tol=1e-12, abs_tol=1e-12), (text, root.data)


@FUZZ
@given(left=safe_expressions(), right=safe_expressions(), bad=st.sampled_from(FORBIDDEN),
       op=st.sampled_from([" + ", " * ", " - "]))
def test_the_caret_points_at_the_forbidden_part(left, right, bad, op):
    text = f"{left[0]}{op}{bad}{op}{right[0]}"
    err = parse(text)
    assert isinstance(err, ExpressionError), text
    start = len(left[0]) + len(op)
    assert start <= err.col < start + len(bad), (text, err.col, str(err))


def test_the_caret_check_can_fail():
    err = ExpressionError("boom", "x + y", 4)
    check_pointer(err)
    err.col = 9  # a caret outside the text is noticed
    with pytest.raises(AssertionError):
        check_pointer(err)


# ---- the same through the command line -----------------------------------------------------------


@settings(max_examples=max(EXAMPLES // 5, 10), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=texts | word_soup | formulas(), x=st.floats() | st.sampled_from(["1e400", "-0"]))
def test_the_graph_command_answers_with_a_status_not_a_traceback(text, x):
    from tinygrad_edu.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out):  # first imports may build classes (dataclasses exec)
        main(["graph", "x**2", "x=3"])
    with guarded(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["graph", "--", text, "a=2", "b=-3", f"x={x}"])
        except SystemExit as exit_:  # argparse
            status = exit_.code
    assert status in (0, 1, 2), status
    if status:
        assert err.getvalue().startswith(("graph:", "usage:")), err.getvalue()
    assert "Traceback" not in err.getvalue()


@pytest.mark.parametrize("text", ["(-8)**(1/3) + x", "1" * 400 + " + x", "1e400 * x"])
def test_cases_the_fuzzer_found_stay_fixed(text):
    parse(text)


@pytest.mark.parametrize("text, col, end", [("α * x.y", 5, 7), ("αβ + q", 5, 6),
                                            ("αβ * [x]", 5, 8), ("ααα + (x", 6, 7)])
def test_the_caret_counts_characters_not_utf8_bytes(text, col, end):
    with pytest.raises(ExpressionError) as info:
        build_expression(text, {"α": 1.0, "αβ": 1.0, "ααα": 1.0, "x": 2.0})
    assert info.value.col == col
    assert str(info.value).split("\n")[2] == "  " + " " * col + "^" * (end - col)
