"""Conformance with PyTorch: every case of table.py, run on torch and on tinygrad_edu alike.

For each drawn input both libraries get the same call; the suite compares the forward values
and result dtypes (in float64, then again in float32), the gradients of a random weighting of
the outputs, and, where the table claims them, the second derivatives; on the table's invalid
inputs, both must raise. A part the table marks `known` (another issue fixes it) is skipped
with that reason; a deliberate difference (`differs`) likewise.
"""

from __future__ import annotations

import importlib.util
import numbers
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings

import tinygrad_edu as tg


def _load(name: str) -> Any:
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"conformance_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


TABLE = _load("table")
CASES = {c._key: c for c in TABLE.CASES}
SETTINGS = settings(max_examples=8, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def _tensors(T: Any, xs: tuple, dtype: Any = None) -> list[Any]:
    """float arrays -> tensors that require grad (in `dtype` if given); other arrays ->
    tensors; anything else as it is."""
    out = []
    for x in xs:
        if isinstance(x, np.ndarray):
            if x.dtype.kind == "f":
                a = x if dtype is None else x.astype(dtype)
                out.append(T.tensor(a, requires_grad=True))
            else:
                out.append(T.tensor(x))
        else:
            out.append(x)
    return out


def _plain(x: Any) -> Any:
    """A result as plain data: tensors -> (dtype name, array); containers recursively."""
    if isinstance(x, torch.Tensor):
        return ("tensor", str(x.dtype).removeprefix("torch."), x.detach().numpy())
    if isinstance(x, tg.Tensor):
        return ("tensor", str(x.dtype), np.asarray(x.detach().numpy()))
    if isinstance(x, (torch.dtype, np.dtype)):
        return ("dtype", str(x).removeprefix("torch."))
    if isinstance(x, (tuple, list)):
        return tuple(_plain(v) for v in x)
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, numbers.Number):
        return float(x)
    return x


def _compare(ours: Any, theirs: Any, where: str, rtol: float, atol: float) -> None:
    if isinstance(theirs, tuple) and theirs and theirs[0] == "tensor":
        assert isinstance(ours, tuple) and ours[:1] == ("tensor",), f"{where}: got {ours!r}"
        assert ours[1] == theirs[1], f"{where}: dtype {ours[1]}, torch gives {theirs[1]}"
        a, b = ours[2], theirs[2]
        assert a.shape == b.shape, f"{where}: shape {a.shape}, torch gives {b.shape}"
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=where)
        else:
            np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), \
            f"{where}: {ours!r} vs torch {theirs!r}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _compare(o, t, f"{where}[{i}]", rtol, atol)
    elif isinstance(theirs, float):
        assert isinstance(ours, float) and np.isclose(ours, theirs, rtol, atol, equal_nan=True), \
            f"{where}: {ours!r} vs torch {theirs!r}"
    else:
        assert ours == theirs, f"{where}: {ours!r} vs torch {theirs!r}"


def _skip_if(case: Any, part: str) -> None:
    if case.differs:
        pytest.skip(f"deliberate difference: {case.differs}")
    if part in case.known:
        pytest.skip(case.known[part])


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _leaves(v)]
    return [x]


def _diff_outputs(result: Any, kind: type) -> list[Any]:
    return [t for t in _leaves(result) if isinstance(t, kind) and t.requires_grad]


def _grads(T: Any, kind: type, outs: list[Any], inputs: list[Any], seed: int,
           create_graph: bool) -> list[Any]:
    rng = np.random.default_rng(seed)
    ws = [T.tensor(rng.standard_normal(o.shape), dtype=o.dtype) for o in outs]
    if not outs:
        return [None] * len(inputs)
    return list(T.autograd.grad(outs, inputs, ws, allow_unused=True, create_graph=create_graph))


def _as_array(g: Any, like: np.ndarray) -> np.ndarray:
    if g is None:
        return np.zeros(like.shape)
    return np.asarray(g.detach().numpy(), dtype=np.float64)


def _run_gradients(case: Any, call: Any, xs: tuple, order: int) -> None:
    per_lib = []
    for T, kind in ((torch, torch.Tensor), (tg, tg.Tensor)):
        args = _tensors(T, xs)
        inputs = [a for a in args if isinstance(a, kind) and a.requires_grad]
        outs = _diff_outputs(call(T, *args), kind)
        grads = _grads(T, kind, outs, inputs, 0, create_graph=order == 2)
        if order == 2:
            firsts = [g for g in grads if g is not None and g.requires_grad]
            grads = _grads(T, kind, firsts, inputs, 1, create_graph=False)
        per_lib.append((len(outs), grads))
    (n_theirs, theirs), (n_ours, ours) = per_lib
    assert n_ours == n_theirs, f"{n_ours} outputs require grad here, {n_theirs} in torch"
    arrays = [x for x in xs if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    for i, (o, t, x) in enumerate(zip(ours, theirs, arrays)):
        np.testing.assert_allclose(_as_array(o, x), _as_array(t, x), rtol=1e-6,
                                   atol=case.atol * 10, err_msg=f"d/d input {i}")


def _each_form(case: Any, check: Any) -> None:
    @SETTINGS
    @given(case.inputs)
    def prop(xs: tuple) -> None:
        for label, call in case.calls():
            try:
                check(label, call, xs)
            except AssertionError as err:
                raise AssertionError(f"{label}: {err}") from None

    prop()


@pytest.mark.parametrize("key", sorted(CASES))
def test_forward_values_and_dtypes(key: str) -> None:
    case = CASES[key]
    _skip_if(case, "forward")

    def check(label: str, call: Any, xs: tuple) -> None:
        for dtype, tol in ((None, (1e-7, case.atol)), (np.float32, (1e-4, 1e-4))):
            if dtype is not None and "dtype" in case.known:
                continue
            theirs = _plain(call(torch, *_tensors(torch, xs, dtype)))
            ours = _plain(call(tg, *_tensors(tg, xs, dtype)))
            _compare(ours, theirs, label + ("" if dtype is None else " (float32)"), *tol)

    _each_form(case, check)


@pytest.mark.parametrize("key", sorted(k for k, c in CASES.items() if c.grad))
def test_gradients(key: str) -> None:
    case = CASES[key]
    _skip_if(case, "forward")
    _skip_if(case, "grad")
    _each_form(case, lambda label, call, xs: _run_gradients(case, call, xs, 1))


@pytest.mark.parametrize("key", sorted(k for k, c in CASES.items() if c.second))
def test_second_derivatives(key: str) -> None:
    case = CASES[key]
    _skip_if(case, "forward")
    _skip_if(case, "grad")
    _each_form(case, lambda label, call, xs: _run_gradients(case, call, xs, 2))


@pytest.mark.parametrize("key", sorted(k for k, c in CASES.items() if c.invalid is not None))
def test_invalid_input_raises_in_both(key: str) -> None:
    case = CASES[key]
    _skip_if(case, "forward")
    for _label, call in case.calls():
        for T in (torch, tg):
            with pytest.raises(Exception):  # noqa: B017  (the type is each library's own)
                call(T, *_tensors(T, case.invalid))


def test_readme_api_section_is_in_sync_with_the_table() -> None:
    readme = _load("readme")
    current = readme.section(readme.README.read_text(encoding="utf-8"))
    assert current is not None, f"README.md has no {readme.START} ... {readme.END} section"
    if current != readme.render(TABLE.CASES):
        pytest.fail("the API section of README.md is out of date: run "
                    "python tests/conformance/readme.py", pytrace=False)
