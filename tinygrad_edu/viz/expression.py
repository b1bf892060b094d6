"""Build a Value graph from a formula typed as text, safely.

    root, inputs = build_expression("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})

The text is parsed with Python's `ast` and only a whitelist is accepted: numbers, the given
variable names, `+ - * / **`, unary minus, and calls of the functions in FUNCTIONS. Nothing is
ever passed to `eval`. Anything else (attributes, lambdas, imports, indexing, comparisons,
strings...) is rejected with an error that points at the offending part of the text.
"""

from __future__ import annotations

import ast
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..value import Value

__all__ = ["ExpressionError", "FUNCTIONS", "CONSTANTS", "build_expression"]

MAX_LENGTH = 2000

# name -> (how many arguments, what it does); all are Value methods
FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "tanh": (1, Value.tanh),
    "exp": (1, Value.exp),
    "log": (1, Value.log),
    "sqrt": (1, Value.sqrt),
    "sigmoid": (1, Value.sigmoid),
    "relu": (1, Value.relu),
    "gelu": (1, Value.gelu),
    "softplus": (1, Value.softplus),
    "sin": (1, Value.sin),
    "cos": (1, Value.cos),
    "erf": (1, Value.erf),
    "abs": (1, Value.abs),
    "leaky_relu": (2, Value.leaky_relu),
    "max": (2, Value.maximum),
    "min": (2, Value.minimum),
}
CONSTANTS = {"pi": math.pi, "e": math.e}

BINARY = {
    ast.Add: lambda x, y: x + y,
    ast.Sub: lambda x, y: x - y,
    ast.Mult: lambda x, y: x * y,
    ast.Div: lambda x, y: x / y,
    ast.Pow: lambda x, y: x**y,
}
UNARY = {ast.USub: lambda x: -x, ast.UAdd: lambda x: x}

ALLOWED = ("Allowed: numbers, your variables, + - * / ** (and unary -), pi, e, and the "
           "functions " + ", ".join(FUNCTIONS) + ".")
_SYMBOL = {"MatMult": "@", "FloorDiv": "//", "Mod": "%", "LShift": "<<", "RShift": ">>",
           "BitOr": "|", "BitXor": "^", "BitAnd": "&", "Not": "not", "Invert": "~"}

_WHAT = {  # how to call what was found, in the error message
    ast.Attribute: "attribute access ('.')",
    ast.Lambda: "lambda",
    ast.Subscript: "indexing ('[...]')",
    ast.Compare: "comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.Call: "this call",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "assignment (':=')",
    ast.Starred: "'*' unpacking",
}


class ExpressionError(ValueError):
    """The formula cannot be used; the message shows where, with a caret under it."""

    def __init__(self, message: str, text: str, col: int = 0, end_col: int | None = None,
                 hint: str = "") -> None:
        self.text, self.col = text, col
        end = max(col + 1, end_col if end_col is not None else col + 1)
        pointer = " " * col + "^" * (end - col)
        super().__init__(f"{message}\n  {text}\n  {pointer}" + (f"\n{hint}" if hint else ""))


def build_expression(text: str, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """Parse `text` and compute it on Values; return the result and the input Values by name.

    Every variable in `values` becomes an input `Value(x, label=name)`; numbers in the text
    stay constants. Raises ExpressionError for anything outside the whitelist.
    """
    if "\n" in text or "\r" in text:
        raise ExpressionError("the expression must be one line", text.splitlines()[0] if
                              text.splitlines() else "", 0)
    if not text.strip():
        raise ExpressionError("the expression is empty; write one, e.g. 'tanh(a*b + c)'", text)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters",
                              text[:60] + "...", 0)
    for name in values:
        if not name.isidentifier():
            raise ExpressionError(f"{name!r} is not a valid variable name", name, 0, len(name))
        if name in FUNCTIONS or name in CONSTANTS:
            raise ExpressionError(f"{name!r} is a built-in name and cannot be a variable",
                                  name, 0, len(name))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        col = (err.offset or 1) - 1
        end = (err.end_offset - 1) if err.end_offset and err.end_offset > err.offset else None
        raise ExpressionError(f"syntax error: {err.msg}", text, col, end) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply", text, 0) from None
    inputs = {name: Value(float(v), label=name) for name, v in values.items()}
    root = _Builder(text, inputs).visit(tree.body)
    if not isinstance(root, Value):
        raise ExpressionError(
            "the expression has no variables, so there is nothing to differentiate; "
            "use a name and give it a value, e.g. 'x**2' x=3", text, 0, len(text))
    return root, inputs


class _Builder:
    def __init__(self, text: str, inputs: dict[str, Value]) -> None:
        self.text, self.inputs = text, inputs

    def fail(self, node: ast.AST, message: str, hint: str = ALLOWED) -> ExpressionError:
        col = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None)
        if isinstance(node, ast.Attribute):  # point at '.name', not at what comes before it
            col = node.value.end_col_offset or col
        col, end = self.chars(col), None if end is None else self.chars(end)
        return ExpressionError(message, self.text, col, end, hint)

    def chars(self, byte_col: int) -> int:
        """ast counts columns in UTF-8 bytes; the caret needs characters ('α' is 2 bytes)."""
        return len(self.text.encode("utf-8")[:byte_col].decode("utf-8", "ignore"))

    def visit(self, root: ast.AST) -> Any:
        """The value of the tree under `root`, children before parents, without recursion:
        a flat sum of 999 terms is 999 nested BinOps to `ast`, but it is not deep nesting."""
        done: dict[int, Any] = {}
        todo: list[tuple[ast.AST, list[ast.AST] | None]] = [(root, None)]
        while todo:
            node, kids = todo.pop()
            if kids is None:  # first visit: check the node, then compute its children first
                kids = self.operands(node)
                todo.append((node, kids))
                todo.extend((kid, None) for kid in reversed(kids))
            else:
                done[id(node)] = self.combine(node, [done.pop(id(kid)) for kid in kids])
        return done[id(root)]

    def operands(self, node: ast.AST) -> list[ast.AST]:
        """The sub-expressions `node` needs, after checking that `node` is allowed."""
        if isinstance(node, (ast.Constant, ast.Name)):
            return []
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            return [node.operand]
        if isinstance(node, ast.Call):
            return self.check_call(node)
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            sign = type(node.op).__name__
            raise self.fail(node, f"operator '{_SYMBOL.get(sign, sign)}' is not allowed")
        what = _WHAT.get(type(node), type(node).__name__)
        raise self.fail(node, f"{what} is not allowed")

    def combine(self, node: ast.AST, args: list[Any]) -> Any:
        """The value of `node` from the values of its operands."""
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.compute(node, BINARY[type(node.op)], *args)
        if isinstance(node, ast.UnaryOp):
            return self.compute(node, UNARY[type(node.op)], *args)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if node.func.id == "leaky_relu" and isinstance(args[1], Value):
            raise self.fail(node.args[1], "leaky_relu's slope must be a number", "")
        args[0] = _as_value(args[0])  # tanh(2): a constant, computed on a Value anyway
        return self.compute(node, FUNCTIONS[node.func.id][1], *args)

    def number(self, node: ast.Constant) -> float:
        value = node.value
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.fail(node, f"only numbers are allowed as constants, not "
                                  f"{type(value).__name__} {value!r}")
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if math.isinf(x):  # 1e400, or an integer of 400 digits: no float holds it
            raise self.fail(node, "this number is too large for a float (the largest is "
                                  f"about {sys.float_info.max:.3g})", "")
        return x  # floats: 10**10**10 overflows at once, never hangs

    def name(self, node: ast.Name) -> Any:
        if node.id in self.inputs:
            return self.inputs[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        hint = (f"'{node.id}' is a function: call it, e.g. {node.id}(x)"
                if node.id in FUNCTIONS else f"give it a value on the command line: "
                f"{node.id}=1.0")
        raise self.fail(node, f"unknown name '{node.id}' ({hint})", "")

    def compute(self, node: ast.AST, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` with Value's rules, also for constants: (-8)**(1/3) is an error, as on
        a Value, not Python's complex number. 1/0, log(-1), overflow: say where."""
        folded = not any(isinstance(a, Value) for a in args)
        try:
            out = fn(_as_value(args[0]), *args[1:]) if folded else fn(*args)
        except (ArithmeticError, ValueError) as err:
            raise self.fail(node, f"this part cannot be computed: {err}", "") from None
        return out.data if folded else out

    def check_call(self, node: ast.Call) -> list[ast.AST]:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node.func, "only the named functions can be called")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.fail(node.func, f"unknown function '{name}'")
        if node.keywords:
            raise self.fail(node.keywords[0].value, f"{name}() takes no keyword arguments", "")
        arity, _ = FUNCTIONS[name]
        if len(node.args) != arity:
            raise self.fail(node, f"{name}() takes {arity} argument{'s' * (arity > 1)}, "
                                  f"got {len(node.args)}", "")
        return list(node.args)


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(float(x))
