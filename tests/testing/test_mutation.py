"""Mutation check: break each derivative rule in turn and show the gradient tests catch it.

For every row of the Value op table, of the Tensor primitive-op table and of the op rows nn
defines itself (binary_cross_entropy), and for each of its
local derivatives (one per input), a *mutant* replaces that one rule with a wrong one:

    scaled    1.01 * rule            a 1% error, about the smallest a test could plausibly miss
    negated   -rule                  a sign error
    dropped   0 * rule               the term forgotten altogether
    detached  the rule computed on bare numbers even under create_graph: first derivatives
              stay right, second derivatives go wrong. For a Value rule that is a constant
              (d(a+b)/da = 1) detaching changes nothing, and a Tensor row declared
              higher_order=False (the LSTM's) refuses create_graph anyway, so that mutant is
              not generated for them.

plus a few hand-written "plausible bugs" (a dropped factor or term, a wrong sign inside). The
table entry is patched with pytest's monkeypatch (restored after), then the project's own
property tests run against it: `check` from tests/test_value_gradients.py and from
tests/tensor/test_gradients.py, first derivatives over every case that uses the op, then
second derivatives over the cases the suite checks at order 2. A mutant is killed when one
of them fails. The kill rate must be 100%.

    python tests/testing/test_mutation.py           # every mutant, the kill table
    python tests/testing/test_mutation.py --long    # many more hypothesis examples each
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import Phase

from tinygrad_edu import Value, value
from tinygrad_edu.autograd.mode import enable_grad
from tinygrad_edu.tensor import ops
from tinygrad_edu.tensor.ops import PerInput
from tinygrad_edu.tensor.tensor import Tensor, _new

TESTS = Path(__file__).resolve().parents[1]
FAST = {"max_examples": 25, "tensor_examples": 15, "database": None,
        "phases": [Phase.explicit, Phase.generate]}  # no shrinking: a mutant only needs to fail


def load(path: Path) -> Any:
    """Import a test module by path (test directories are not packages)."""
    spec = importlib.util.spec_from_file_location(f"_mutation_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALUE = load(TESTS / "test_value_gradients.py")
TENSOR = load(TESTS / "tensor" / "test_gradients.py")
NN = load(TESTS / "nn" / "test_gradients.py")


@dataclass
class Mutant:
    engine: str
    op_name: str  # the table row's name in its module (value.POW_CONST, ops.OPS.pow_const)
    arg: int
    kind: str
    patch: Callable[[pytest.MonkeyPatch], None]
    cases: list[str]  # the project's test cases that exercise this op

    @property
    def label(self) -> str:
        return f"{self.engine}.{self.op_name} d/d(input {self.arg}) {self.kind}"


# ---- Value engine --------------------------------------------------------------------------------

VALUE_TABLE = {name: obj for name, obj in vars(value).items() if isinstance(obj, value.Op)}


def _value_graph(case: str) -> list[Any]:
    """The nodes of one case's graph, at inputs of 0.5 (all cases are defined there)."""
    fn, _ = VALUE.CASES[case]
    with enable_grad():
        out = fn(*VALUE.as_inputs(case, tuple([0.5] * fn.__code__.co_argcount)))
    found, stack = [], [out]
    while stack:
        node = stack.pop()
        if node._op is not None:
            found.append(node)
            stack.extend(node._parents)
    return found


VALUE_CASES_OF = {
    op: [c for c in VALUE.CASES if any(n._op is op for n in _value_graph(c))]
    for op in VALUE_TABLE.values()
}


def _rule_is_recorded(op: value.Op, i: int) -> bool:
    """Under create_graph, does derivative i build a graph (is it more than a constant)?"""
    for case in VALUE_CASES_OF[op]:
        for node in _value_graph(case):
            if node._op is op:
                with enable_grad():
                    d = op.derivatives[i](node, *node._parents, *node._ctx)
                return isinstance(d, Value)
    return False


def _value_detached(rule: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args: rule(*[a.data if isinstance(a, Value) else a for a in args])


VALUE_MUTATIONS = {
    "scaled": lambda rule: (lambda *args: 1.01 * rule(*args)),
    "negated": lambda rule: (lambda *args: -rule(*args)),
    "dropped": lambda rule: (lambda *args: 0.0 * rule(*args)),
    "detached": _value_detached,
}

# Bugs a person might write, beside the mechanical ones: (row, input, what, wrong rule).
VALUE_BUGS = [
    ("GELU", 0, "only Phi(a), the a*phi(a) term dropped",
     lambda out, a: 0.5 * (1.0 + value.erf(a / value.SQRT2))),
    ("POW", 1, "a^b without the ln(a)", lambda out, a, b: out),
    ("DIV", 1, "-1/b^2, the a dropped", lambda out, a, b: -1.0 / (b * b)),
    ("SIGMOID", 0, "s instead of s(1-s)", lambda out, a: out),
    ("TANH", 0, "1 - tanh instead of 1 - tanh^2", lambda out, a: 1.0 - out),
    ("SQRT", 0, "1/sqrt(a), the 1/2 dropped", lambda out, a: 1.0 / out),
    ("POW_CONST", 0, "a^(n-1), the factor n dropped", lambda out, a, n: a ** (n - 1)),
    ("SOFTPLUS", 0, "sigmoid(-a)", lambda out, a: value.sigmoid(-a)),
    ("LEAKY_RELU", 0, "the slope forgotten for a < 0",
     lambda out, a, slope: 1.0 if a > 0 else 0.0),
    ("ERF", 0, "e^(-a^2) without 2/sqrt(pi)", lambda out, a: value.exp(-a * a)),
    ("COS", 0, "sin instead of -sin", lambda out, a: value.sin(a)),
    # wrong on one side of a kink only: caught only if the strategies reach that side
    ("ABS", 0, "1 for a < 0 too (the sign forgotten)", lambda out, a: 1.0),
    ("RELU", 0, "0.01 for a < 0 (a leaky relu's rule)", lambda out, a: 1.0 if a > 0 else 0.01),
    ("MAXIMUM", 1, "d/db = 1 also when b < a", lambda out, a, b: 1.0),
    ("MINIMUM", 0, "d/da = 1 also when a > b", lambda out, a, b: 1.0),
]


def _value_patch(name: str, mutant_op: value.Op) -> Callable[[pytest.MonkeyPatch], None]:
    return lambda mp: mp.setattr(value, name, mutant_op)


def value_mutants() -> Iterator[Mutant]:
    for name, op in VALUE_TABLE.items():
        for i, rule in enumerate(op.derivatives):
            for kind, mutate in VALUE_MUTATIONS.items():
                if kind == "detached" and not _rule_is_recorded(op, i):
                    continue
                rules = list(op.derivatives)
                rules[i] = mutate(rule)
                mutant_op = op._replace(derivatives=tuple(rules))
                yield Mutant("Value", name, i, kind, _value_patch(name, mutant_op),
                             _own_case_first(name, VALUE_CASES_OF[op]))
    for name, i, what, wrong in VALUE_BUGS:
        op = VALUE_TABLE[name]
        rules = list(op.derivatives)
        rules[i] = wrong
        mutant_op = op._replace(derivatives=tuple(rules))
        yield Mutant("Value", name, i, f"bug: {what}", _value_patch(name, mutant_op),
                     _own_case_first(name, VALUE_CASES_OF[op]))


def _orders(m: Mutant) -> tuple[int, ...]:
    """A detached rule leaves first derivatives right by construction: go to order 2 first."""
    return (2, 1) if m.kind == "detached" else (1, 2)


def _own_case_first(op_name: str, cases: list[str]) -> list[str]:
    """The case named after the op (mul for MUL, pow_const for POW_CONST) leads."""
    key = op_name.lower()
    return sorted(cases, key=lambda c: (c != key, not c.startswith(key)))


def value_killed(m: Mutant, settings: dict[str, Any]) -> list[str]:
    """Run the op's cases (first, then second derivatives); the first failure kills it."""
    return _killers(m, VALUE.check, [(c, o) for o in _orders(m) for c in m.cases], settings,
                    settings["max_examples"])


def _killers(
    m: Mutant, check: Callable[..., None], runs: list[tuple[str, int]], settings: dict[str, Any],
    examples: int,
) -> list[str]:
    """The (case, order) runs that fail; all of them with settings["exhaustive"], else the
    first one only."""
    options = {k: v for k, v in settings.items() if k not in ("tensor_examples", "exhaustive")}
    options["max_examples"] = examples
    found = []
    for case, order in runs:
        try:
            check(case, order=order, **options)
        except AssertionError:
            found.append(f"{case} (order {order})")
            if not settings.get("exhaustive"):
                break
    return found


# ---- Tensor engine -------------------------------------------------------------------------------


def _tensor_table() -> dict[str, ops.Op]:
    return {name: op for name, (_, _, op) in TENSOR.op_rows().items()}


def _tensor_detached(rule: Callable[..., Any]) -> Callable[..., Any]:
    def on_arrays(*args: Any) -> Any:
        recorded = any(isinstance(a, Tensor) for a in args)
        out = rule(*[a._data if isinstance(a, Tensor) else a for a in args])
        return _new(np.asarray(out)) if recorded else out  # (indexing's rule: a Scatter)

    return on_arrays


TENSOR_MUTATIONS = {
    "scaled": lambda rule: (lambda *args: rule(*args) * 1.01),
    "negated": lambda rule: (lambda *args: -rule(*args)),
    "dropped": lambda rule: (lambda *args: rule(*args) * 0),
    "detached": _tensor_detached,
}

# (row, input, what, wrong rule): rule(g, out, *inputs, *consts)
TENSOR_BUGS = [
    ("div", 1, "-g/b^2, the a dropped", lambda g, out, a, b: -g / (b * b)),
    ("sigmoid", 0, "g*s instead of g*s(1-s)", lambda g, out, a: g * out),
    ("tanh", 0, "g*(1 - tanh)", lambda g, out, a: g * (1 - out)),
    ("log_softmax", 0, "g, the softmax term dropped", lambda g, out, a, dim: g),
    ("exp", 0, "g*a instead of g*e^a", lambda g, out, a: g * a),
    ("softplus", 0, "g*sigmoid(-a)", lambda g, out, a: g * ops.sigmoid(-a)),
    ("pow_const", 0, "g*a^(n-1), the factor n dropped", lambda g, out, a, n: g * a ** (n - 1)),
    # one side of a kink only
    ("abs", 0, "g for a < 0 too", lambda g, out, a: g * 1),
    ("relu", 0, "g for a < 0 too", lambda g, out, a: g * 1),
    ("maximum", 0, "g to a also where a < b", lambda g, out, a, b: g * 1),
    # piecewise constant: the gradient passed through instead of 0 (a straight-through rule)
    *[(name, 0, "g instead of 0", lambda g, out, a: g)
      for name in ("floor", "ceil", "round", "trunc", "sign")],
    ("mod", 1, "-g*(a/b), the floor dropped", lambda g, out, a, b: -g * (a / b)),
    ("minimum", 0, "g to a also where a > b", lambda g, out, a, b: g * 1),
    ("amax", 0, "g to every entry, not just the max",
     lambda g, out, a, axes, keepdim: ops.expand(ops._keep_axes(g, axes, keepdim, a.shape),
                                                 a.shape)),
]


def _tensor_rules(op: ops.Op, i: int, new: Callable[..., Any]) -> Any:
    if isinstance(op.vjps, PerInput):  # cat: a rule per input, made on demand
        base = op.vjps.rule_for
        return PerInput(lambda j: new(base(j)) if j == i else base(j), op.vjps.reads)
    rules = list(op.vjps)
    rules[i] = new(rules[i])
    return tuple(rules)


def _n_rules(op: ops.Op) -> int:
    return 2 if isinstance(op.vjps, PerInput) else len(tuple(op.vjps))


def _tensor_patch(name: str, mutant_op: ops.Op) -> Callable[[pytest.MonkeyPatch], None]:
    holder, attribute, _ = TENSOR.op_rows()[name]
    return lambda mp: mp.setattr(holder, attribute, mutant_op)


_TENSOR_CASES: dict[str, list[str]] = {}


def tensor_mutants() -> Iterator[Mutant]:
    if not _TENSOR_CASES:
        _TENSOR_CASES.update(TENSOR.ops_used_by_cases())
    for name, op in _tensor_table().items():
        cases = _own_case_first(name, _TENSOR_CASES.get(name, []))
        for i in range(_n_rules(op)):
            if not isinstance(op.vjps, PerInput) and tuple(op.vjps)[i] is ops._zero_rule:
                continue  # 1.01 * 0, -0 and 0 * 0 are 0: equivalent mutants (see TENSOR_BUGS)
            for kind, mutate in TENSOR_MUTATIONS.items():
                if kind == "detached" and not op.higher_order:
                    continue  # its rules run on arrays only by declaration: nothing to detach
                mutant_op = op._replace(vjps=_tensor_rules(op, i, mutate))
                yield Mutant("Tensor", name, i, kind, _tensor_patch(name, mutant_op), cases)
    for name, i, what, wrong in TENSOR_BUGS:
        op = _tensor_table()[name]
        mutant_op = op._replace(vjps=_tensor_rules(op, i, lambda _, wrong=wrong: wrong))
        yield Mutant("Tensor", name, i, f"bug: {what}", _tensor_patch(name, mutant_op),
                     _own_case_first(name, _TENSOR_CASES.get(name, [])))


def tensor_killed(m: Mutant, settings: dict[str, Any]) -> list[str]:
    """First derivatives over the op's cases, then second derivatives where the suite has them."""
    runs = [(c, o) for o in _orders(m) for c in m.cases
            if o == 1 or c in TENSOR.SECOND_ORDER]
    return _killers(m, TENSOR.check, runs, settings, settings["tensor_examples"])


# ---- ops defined by nn (rows of their own, outside the Tensor table) ----------------------------


def _nn_table() -> dict[str, tuple[Any, str, ops.Op]]:
    import tinygrad_edu.nn as nn_package

    found = {}
    for module in vars(nn_package).values():
        if getattr(module, "__name__", "").startswith("tinygrad_edu.nn."):
            for name, op in vars(module).items():
                if isinstance(op, ops.Op):
                    found[f"{module.__name__.rsplit('.', 1)[1]}.{name}"] = (module, name, op)
    return found


def _nn_tests(op: ops.Op) -> list[str]:
    """The nn gradient tests, those that name the op first (binary_cross_entropy -> ...)."""
    words = [w for w in op.name.split("_") if len(w) > 3]
    tests = [n for n, f in vars(NN).items() if n.startswith("test_") and callable(f)
             and hasattr(f, "hypothesis")]
    return sorted(tests, key=lambda n: -sum(w in n for w in words))


def nn_mutants() -> Iterator[Mutant]:
    for label, (module, name, op) in _nn_table().items():
        for i in range(_n_rules(op)):
            for kind, mutate in TENSOR_MUTATIONS.items():
                if kind == "detached" and not op.higher_order:
                    continue  # its rules run on arrays only by declaration: nothing to detach
                mutant_op = op._replace(vjps=_tensor_rules(op, i, mutate))

                def patch(mp: pytest.MonkeyPatch, module=module, name=name, op=mutant_op):
                    mp.setattr(module, name, op)

                yield Mutant("nn", label, i, kind, patch, _nn_tests(op))


def nn_killed(m: Mutant, settings: dict[str, Any]) -> list[str]:
    found = []
    for test in m.cases:
        try:
            getattr(NN, test)()
        except AssertionError:
            found.append(test)
            if not settings.get("exhaustive"):
                break
    return found


# ---- running -------------------------------------------------------------------------------------


def all_mutants() -> list[tuple[Mutant, Callable[[Mutant, dict[str, Any]], list[str]]]]:
    return (
        [(m, value_killed) for m in value_mutants()]
        + [(m, tensor_killed) for m in tensor_mutants()]
        + [(m, nn_killed) for m in nn_mutants()]
    )


def run(settings: dict[str, Any]) -> tuple[list[tuple[Mutant, list[str]]], float]:
    results = []
    start = time.perf_counter()
    for mutant, killed in all_mutants():
        with pytest.MonkeyPatch.context() as mp:
            mutant.patch(mp)
            results.append((mutant, killed(mutant, settings)))
    return results, time.perf_counter() - start


def test_every_mutant_is_killed():
    results, _ = run(FAST)
    survivors = [m.label for m, by in results if not by]
    assert results and not survivors, f"{len(survivors)} mutants survived: {survivors}"


def test_every_op_has_mutants_and_cases():
    assert all(VALUE_CASES_OF[op] for op in VALUE_TABLE.values())
    assert {m.op_name for m in value_mutants()} == set(VALUE_TABLE)
    tensor = list(tensor_mutants())
    assert {m.op_name for m in tensor} == set(_tensor_table())
    assert all(m.cases for m in tensor), [m.label for m in tensor if not m.cases]
    assert {m.op_name for m in nn_mutants()} == set(_nn_table())


def test_the_tables_are_restored_afterwards():
    value_before, tensor_before, nn_before = dict(VALUE_TABLE), _tensor_table(), _nn_table()
    with pytest.MonkeyPatch.context() as mp:
        for mutant, _ in all_mutants():
            mutant.patch(mp)
    assert {n: o for n, o in vars(value).items() if isinstance(o, value.Op)} == value_before
    assert _tensor_table() == tensor_before
    assert all(getattr(m, n) is o for m, n, o in nn_before.values())


def test_a_domain_on_one_side_of_the_kink_would_let_a_one_sided_bug_live(monkeypatch):
    """Why the strategies must reach both sides: relu with a leaky rule for a < 0 passes every
    check on positive inputs, and fails on `nonzero()` inputs."""
    from hypothesis import given, settings

    from tinygrad_edu.testing import gradcheck
    from tinygrad_edu.testing import strategies as tst

    leaky = value.RELU._replace(derivatives=(lambda out, a: 1.0 if a > 0 else 0.01,))
    monkeypatch.setattr(value, "RELU", leaky)

    def relu_property(domain):
        @settings(max_examples=30, database=None, deadline=None)
        @given(domain)
        def prop(x):
            assert gradcheck(lambda v: v.relu(), [Value(x)])

        return prop

    relu_property(tst.positive())()  # the bug survives a one-sided domain
    with pytest.raises(AssertionError):
        relu_property(tst.nonzero())()


def main(argv: list[str]) -> int:
    """The kill table. `--long`: more examples, and every case run against every mutant (how
    many of the project's tests catch each one, not just whether one does)."""
    settings = dict(FAST)
    if "--long" in argv:
        settings.update(max_examples=100, tensor_examples=40, exhaustive=True)
    results, seconds = run(settings)
    for m, by in results:
        caught = f"{by[0]}" + (f" and {len(by) - 1} more" if len(by) > 1 else "") if by else ""
        print(f"{'killed' if by else 'SURVIVED':8}  {m.label:62} {caught}")
    print()
    for engine in ("Value", "Tensor", "nn"):
        mine = [by for m, by in results if m.engine == engine]
        k = sum(bool(by) for by in mine)
        line = f"{engine:6}: {k}/{len(mine)} mutants killed ({100 * k / max(len(mine), 1):.1f}%)"
        if settings.get("exhaustive") and mine:
            counts = sorted(len(by) for by in mine)
            line += f"; failing test runs per mutant: min {counts[0]}, median " \
                    f"{counts[len(counts) // 2]}"
        print(line)
    killed = sum(bool(by) for _, by in results)
    print(f"total : {killed}/{len(results)} killed ({100 * killed / len(results):.1f}%) in "
          f"{seconds:.1f} s (hypothesis examples per case: Value {settings['max_examples']}, "
          f"Tensor {settings['tensor_examples']})")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
