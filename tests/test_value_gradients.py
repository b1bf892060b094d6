"""Every Value op's first and second derivatives agree with central finite differences.

Each case is a function of a few Values and the hypothesis strategy for its inputs. The
strategies keep inputs honestly away from kinks and singular points (a filter removing only
what lies within `MARGIN` of the bad point; see tinygrad_edu/testing/strategies.py) and
still reach both sides of every kink. tests/testing/test_mutation.py reuses `CASES` and
`check` to show that a wrong derivative for any op makes these tests fail.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as tst

real = tst.floats()
small = tst.floats(-3.0, 3.0)  # exponents: keeps a ** b inside float range
integer_exponent = st.integers(-3, 3).map(float)

# name: (function of Values and constants, strategy for its arguments as a tuple of floats)
CASES = {
    "add": (lambda a, b: a + b, st.tuples(real, real)),
    "radd": (lambda a, c: c + a.tanh(), st.tuples(real, real)),
    "sub": (lambda a, b: a - b, st.tuples(real, real)),
    "rsub": (lambda a, c: c - a.tanh(), st.tuples(real, real)),
    "mul": (lambda a, b: a * b, st.tuples(real, real)),
    "rmul": (lambda a, c: c * a.tanh(), st.tuples(real, real)),
    "mul_same_node": (lambda a: a * a, st.tuples(real)),  # one node used twice
    "div": (lambda a, b: a / b, st.tuples(real, tst.nonzero())),
    "rdiv": (lambda b, c: c / b, st.tuples(tst.nonzero(), real)),
    "neg": (lambda a: -a, st.tuples(real)),
    "pow_const": (lambda a, n: a ** n, st.tuples(tst.positive(), small)),
    "pow_int_any_sign": (lambda a, n: a ** n, st.tuples(tst.nonzero(), integer_exponent)),
    "pow_value": (lambda a, b: a ** b, st.tuples(tst.positive(), small)),
    "rpow": (lambda b, c: c ** b, st.tuples(small, tst.positive())),
    "exp": (lambda a: a.exp(), st.tuples(real)),
    "log": (lambda a: a.log(), st.tuples(tst.positive())),
    "sqrt": (lambda a: a.sqrt(), st.tuples(tst.positive())),
    "tanh": (lambda a: a.tanh(), st.tuples(real)),
    "sigmoid": (lambda a: a.sigmoid(), st.tuples(real)),
    "relu": (lambda a: a.relu(), st.tuples(tst.nonzero())),
    "leaky_relu": (lambda a, s: a.leaky_relu(s), st.tuples(tst.nonzero(), tst.floats(0.0, 1.0))),
    "gelu": (lambda a: a.gelu(), st.tuples(real)),
    "softplus": (lambda a: a.softplus(), st.tuples(real)),
    "sin": (lambda a: a.sin(), st.tuples(real)),
    "cos": (lambda a: a.cos(), st.tuples(real)),
    "erf": (lambda a: a.erf(), st.tuples(real)),
    "abs": (lambda a: a.abs(), st.tuples(tst.nonzero())),
    "maximum": (lambda a, b: a.maximum(b), tst.distinct(2)),
    "minimum": (lambda a, b: a.minimum(b), tst.distinct(2)),
    # a small composite, so the ops are also checked as they meet in one graph
    "neuron": (lambda w, x, b: (w * x + b).tanh() * x.sigmoid(), st.tuples(real, real, real)),
}

# Which arguments are Values: every float a case's strategy draws, except these constants.
CONSTANT_ARGS = {"radd": {1}, "rsub": {1}, "rmul": {1}, "rdiv": {1}, "pow_const": {1},
                 "pow_int_any_sign": {1}, "rpow": {1}, "leaky_relu": {1}}


def as_inputs(name: str, xs: tuple[float, ...]) -> list:
    constants = CONSTANT_ARGS.get(name, set())
    return [x if i in constants else Value(x) for i, x in enumerate(xs)]


def check(name: str, order: int = 1, max_examples: int = 40, **overrides) -> None:
    """Run the property `gradcheck` (order 1) or `gradgradcheck` (order 2) for one case."""
    fn, inputs = CASES[name]
    checker = gradcheck if order == 1 else gradgradcheck

    @settings(max_examples=max_examples, deadline=None,
              suppress_health_check=[HealthCheck.filter_too_much], **overrides)
    @given(inputs)
    def derivative_matches_finite_differences(xs):
        args = as_inputs(name, xs)
        assert checker(fn, args)

    derivative_matches_finite_differences()


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_derivative_matches_finite_differences(name):
    check(name, order=1)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_matches_finite_differences(name):
    check(name, order=2, max_examples=25)


def test_every_op_of_the_value_table_has_a_case():
    from tinygrad_edu import value

    table = {obj for obj in vars(value).values() if isinstance(obj, value.Op)}
    covered = set()
    for name, (fn, _) in CASES.items():
        xs = [0.5] * fn.__code__.co_argcount
        out = fn(*as_inputs(name, tuple(xs)))
        stack = [out]
        while stack:
            node = stack.pop()
            if node._op is not None:
                covered.add(node._op)
                stack.extend(node._parents)
    assert table - covered == set(), [op.name for op in table - covered]

