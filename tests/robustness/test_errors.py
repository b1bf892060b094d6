"""Every error the library raises on purpose, as one table: the single source of truth.

Each row is a bad input a learner will meet: where (area), the situation, a function that
makes the mistake, the exception type, a regex the message must match (it must name the op,
the shapes, the values or the file), and what to do about it. Each row is a test that checks
the type and the message and, where it applies, that the objects involved still work
afterwards: a failed op leaves its inputs usable, a failed `optimizer.step()` leaves the
parameters unchanged, a failed `load_state_dict` leaves the module as it was.

`errors_catalogue.py` renders this table into README.md ("Errors you may meet"); the last test
fails when the README is out of date.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import io
import os
import re
import struct
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GraphFreedError, Tensor, Value, nn, optim
from tinygrad_edu.data import (
    MNIST,
    ChecksumError,
    DataLoader,
    IDXError,
    TensorDataset,
    make_moons,
    random_split,
    read_idx,
    transforms,
    write_idx,
)
from tinygrad_edu.viz import draw_graph
from tinygrad_edu.viz.expression import ExpressionError, build_expression

# Files the cases write live here; the catalogue shows this folder as <dir>.
FILES = Path(tempfile.gettempdir()) / "tinygrad_edu_error_catalogue"


class ExitStatus(Exception):
    """A CLI run that ended with a non-zero exit status; the message is what it printed."""


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    situation: str
    trigger: Callable[[dict], Any]  # makes the mistake; may keep objects in the dict
    exc: type[BaseException]
    match: str  # regex the message must match
    todo: str  # what to do about it
    after: Callable[[dict], None] | None = None  # checks the objects still work


def _t(x: Any, **kw: Any) -> Tensor:
    return Tensor(np.asarray(x, dtype=np.float64), **kw)


def _file(name: str, data: bytes) -> Path:
    FILES.mkdir(exist_ok=True)
    path = FILES / name
    path.write_bytes(data)
    return path


def _cli(*argv: str) -> None:
    """Run the command line; a non-zero exit becomes ExitStatus with what went to stderr."""
    from tinygrad_edu.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main(list(argv))
        except SystemExit as e:  # argparse
            status = e.code
    if status:
        raise ExitStatus(f"exit status {status}: {err.getvalue().strip()}")


# ---- the "after" checks and triggers that need set-up ------------------------------------------


def _from_torch_module_dict() -> Any:
    import torch

    from tinygrad_edu.interop import from_torch

    return from_torch(torch.nn.ModuleDict({"fc": torch.nn.Linear(2, 2)}))


def _with_graphviz_pure(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` drawing with the graphviz-pure program even where the system `dot` is."""
    exe = Path(sys.executable).parent / "graphviz-pure"
    saved = os.environ.get("TINYGRAD_EDU_DOT")
    os.environ["TINYGRAD_EDU_DOT"] = str(exe)
    try:
        return fn(*args)
    finally:
        if saved is None:
            del os.environ["TINYGRAD_EDU_DOT"]
        else:
            os.environ["TINYGRAD_EDU_DOT"] = saved


def _binary(op: Callable[[Tensor, Tensor], Tensor], a_shape, b_shape) -> Callable[[dict], Any]:
    def trigger(s: dict) -> Any:
        s["a"] = _t(np.ones(a_shape), requires_grad=True)
        s["b"] = _t(np.ones(b_shape), requires_grad=True)
        return op(s["a"], s["b"])
    return trigger


def _inputs_still_usable(s: dict) -> None:
    a, b = s["a"], s["b"]
    (a.sum() + b.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones(a.shape))
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(b.shape))


def _value_op(fn: Callable[[Value], Any], x: float) -> Callable[[dict], Any]:
    def trigger(s: dict) -> Any:
        s["x"] = Value(x)
        s["y"] = Value(3.0)
        return fn(s["x"])
    return trigger


def _value_still_usable(s: dict) -> None:
    x, y = s["x"], s["y"]
    out = x * y + y
    out.backward()
    assert x.grad == 3.0 and y.grad == x.data + 1.0


def _value_backward_twice(s: dict) -> None:
    s["x"] = x = Value(2.0)
    s["out"] = out = x * x
    out.backward()
    out.backward()


def _value_grad_kept(s: dict) -> None:  # the first pass counted once, the second not at all
    assert s["x"].grad == 4.0
    z = s["x"] * 3.0
    z.backward()
    assert s["x"].grad == 7.0


def _value_backward_fails(s: dict) -> None:
    s["x"] = x = Value(0.0)
    x.sqrt().backward()  # forward is 0; the derivative 1/(2 sqrt x) is infinite


def _value_after_failed_backward(s: dict) -> None:
    x = s["x"]
    out = x * 5.0 + x
    x.grad = 0.0
    out.backward()
    assert x.grad == 6.0


def _anomaly_value(s: dict) -> None:
    with tg.detect_anomaly():
        big = Value(1e200)
        (big * big).backward()


def _anomaly_tensor(s: dict) -> None:
    with tg.detect_anomaly(), np.errstate(divide="ignore"):
        x = _t([1.0, 0.0], requires_grad=True)
        x.log().sum().backward()


def _tensor_backward_twice(s: dict) -> None:
    s["x"] = x = _t([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _tensor_grad_kept(s: dict) -> None:
    np.testing.assert_array_equal(s["x"].grad.numpy(), [2.0, 4.0])


def _inplace_on_saved(s: dict) -> None:
    s["x"] = x = _t([1.0, 2.0], requires_grad=True)
    s["a"] = a = x * 1.0
    s["b"] = a.exp()  # exp saved its output, and its backward needs `a` unchanged
    a.add_(1.0)


def _saved_still_right(s: dict) -> None:  # the rejected add_ changed nothing
    np.testing.assert_array_equal(s["a"].numpy(), [1.0, 2.0])
    s["b"].sum().backward()
    np.testing.assert_allclose(s["x"].grad.numpy(), np.exp([1.0, 2.0]))


def _inplace_on_leaf(s: dict) -> None:
    s["x"] = x = _t([1.0, 2.0], requires_grad=True)
    x.add_(1.0)


def _leaf_unchanged(s: dict) -> None:
    np.testing.assert_array_equal(s["x"].numpy(), [1.0, 2.0])
    with tg.no_grad():
        s["x"].add_(1.0)
    np.testing.assert_array_equal(s["x"].numpy(), [2.0, 3.0])


def _linear_module(s: dict) -> nn.Linear:
    tg.manual_seed(0)
    s["m"] = m = nn.Linear(2, 3)
    s["before"] = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    return m


def _module_unchanged(s: dict) -> None:
    m = s["m"]
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), s["before"][k])
    assert m(_t(np.ones((1, 2))).float()).shape == (1, 3)  # and it still runs


def _load(sd: dict) -> Callable[[dict], Any]:
    def trigger(s: dict) -> Any:
        return _linear_module(s).load_state_dict(sd)
    return trigger


def _opt_setup(s: dict, opt_cls=optim.SGD, **kw: Any) -> tuple[nn.Linear, optim.Optimizer]:
    m = _linear_module(s)
    s["opt"] = opt = opt_cls(m.parameters(), **({"lr": 0.1} | kw))
    return m, opt


def _step_with_bad_grad(s: dict) -> None:
    m, opt = _opt_setup(s, optim.Adam)
    m.weight.grad = Tensor(np.ones((3, 2), np.float32))
    m.bias.grad = Tensor(np.ones(3, np.float32))
    m.bias.grad.data = Tensor(np.ones((2, 3), np.float32))  # its storage swapped: wrong shape
    opt.step()


def _params_unchanged_then_step_works(s: dict) -> None:
    _module_unchanged(s)
    assert not s["opt"].state  # and Adam counted no step
    m = s["m"]
    m.bias.grad = Tensor(np.ones(3, np.float32))
    s["opt"].step()
    assert not np.array_equal(m.weight.numpy(), s["before"]["weight"])


def _value_step_bad_grad(s: dict) -> None:
    tg.manual_seed(0)
    s["m"] = m = nn.MLP(2, [2, 1])
    s["before"] = [p.data for p in m.parameters()]
    s["opt"] = opt = optim.SGD(m.parameters(), lr=0.1)
    m.parameters()[0].grad = "oops"
    opt.step()


def _value_params_unchanged(s: dict) -> None:
    assert [p.data for p in s["m"].parameters()] == s["before"]
    s["opt"].zero_grad()
    s["m"]([1.0, 2.0]).backward()
    s["opt"].step()


def _opt_load(sd_of: Callable[[optim.Optimizer, nn.Module], Any]) -> Callable[[dict], Any]:
    def trigger(s: dict) -> Any:
        m, opt = _opt_setup(s, optim.SGD, momentum=0.9)
        s["lr"] = opt.param_groups[0]["lr"]
        return opt.load_state_dict(sd_of(opt, m))
    return trigger


def _opt_unchanged(s: dict) -> None:
    opt = s["opt"]
    assert opt.param_groups[0]["lr"] == s["lr"] and len(opt.param_groups) == 1
    s["m"](_t(np.ones((1, 2))).float()).sum().backward()
    opt.step()


def _loader(**kw: Any) -> Callable[[dict], Any]:
    return lambda s: DataLoader(TensorDataset(np.zeros((4, 2))), **kw)


def _save_to(name: str, obj: Any) -> Callable[[dict], Any]:
    def trigger(s: dict) -> Any:
        FILES.mkdir(exist_ok=True)
        s["path"] = FILES / name
        s["path"].unlink(missing_ok=True)
        return tg.save(obj, s["path"])
    return trigger


def _no_file_left(s: dict) -> None:
    assert not s["path"].exists()
    assert not list(FILES.glob(f".{s['path'].name}.*"))  # nor a temporary file


def _npz(name: str, members: dict[str, np.ndarray], pickle: bool = False) -> Path:
    buf = io.BytesIO()
    if pickle:
        with zipfile.ZipFile(buf, "w") as z:
            for k, v in members.items():
                with z.open(k + ".npy", "w") as f:
                    np.lib.format.write_array(f, v, allow_pickle=True)
    else:
        np.savez(buf, **members)
    return _file(name, buf.getvalue())


def _manifest(tree: Any) -> np.ndarray:
    import json

    text = json.dumps({"format": "tinygrad_edu.save", "version": 1, "tree": tree})
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _saved_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    tg.save(obj, buf)
    return buf.getvalue()


def _idx_header(dtype_code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, dtype_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def _fake_mnist_root(s: dict) -> Any:
    """A folder with well-formed IDX files of the right names but the wrong content."""
    root = FILES / "mnist"
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    write_idx(root / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (3, 28, 28), np.uint8))
    write_idx(root / "t10k-labels-idx1-ubyte.gz", np.array([1, 2, 3], np.uint8))
    return MNIST(root, train=False)


def _no_mnist_here(s: dict) -> Any:
    (FILES / "empty").mkdir(parents=True, exist_ok=True)
    return MNIST(FILES / "empty", train=False)


def _train_without_data(s: dict) -> None:
    (FILES / "empty").mkdir(parents=True, exist_ok=True)
    _cli("train", "--dataset", "mnist", "--root", str(FILES / "empty"), "--no-progress")


# ---- the catalogue -------------------------------------------------------------------------------

CASES: list[Case] = [
    # ---- Value
    Case("value-not-a-number", "Value", "a Value made from something that is not a number",
         lambda s: Value("3"), TypeError, r"Value\(\) takes a real number, got str",
         "Pass a float; use Tensor for arrays."),
    Case("value-op-not-a-number", "Value", "arithmetic between a Value and a non-number",
         _value_op(lambda x: x + "1", 2.0), TypeError, r"Value \+ takes a real number, got str",
         "Convert the operand to a float (or a Value) first.", _value_still_usable),
    Case("value-log-0", "Value", "log of 0 (or of a negative number)",
         _value_op(lambda x: x.log(), 0.0), ValueError,
         r"forward of Value op 'log' at \(0\.0\).*positive input",
         "Keep inputs to log positive, e.g. log(x + eps) or clamp first.", _value_still_usable),
    Case("value-div-0", "Value", "division by a Value that is 0",
         _value_op(lambda x: 1.0 / x, 0.0), ZeroDivisionError,
         r"forward of Value op '/' at \(1\.0, 0\.0\).*divisor must not be zero",
         "Guard the divisor (x + eps) or change the formula.", _value_still_usable),
    Case("value-pow-negative-base", "Value", "a negative number to a fractional power",
         _value_op(lambda x: x ** 0.5, -8.0), ValueError,
         r"forward of Value op '\*\*' at \(-8\.0, 0\.5\).*negative base",
         "Use an integer exponent, or abs(x) ** p.", _value_still_usable),
    Case("value-exp-overflow", "Value", "exp of a large number overflows float64",
         _value_op(lambda x: x.exp(), 1000.0), OverflowError,
         r"forward of Value op 'exp' at \(1000\.0\).*709\.78",
         "Scale inputs down, or use a stable form (log-sum-exp, softplus).",
         _value_still_usable),
    Case("value-backward-infinite-derivative", "Value",
         "backward through sqrt at 0, whose derivative is infinite",
         _value_backward_fails, ZeroDivisionError,
         r"backward of Value op 'sqrt' at \(0\.0\)", "Use sqrt(x + eps), or keep x > 0.",
         _value_after_failed_backward),
    Case("value-backward-twice", "Value", "backward() twice through the same graph",
         _value_backward_twice, GraphFreedError,
         r"second time: op '\*' already had its backward run.*retain_graph=True",
         "Recompute the forward, or pass retain_graph=True to the first backward().",
         _value_grad_kept),
    Case("value-anomaly", "Value", "an op makes inf inside detect_anomaly()", _anomaly_value,
         tg.AnomalyError, r"forward of '\*' produced inf from inputs \(1e\+200, 1e\+200\)",
         "Fix the op the message names: it is where the first inf/NaN appears."),
    Case("neuron-inputs", "nn (scalar)", "an nn.MLP given the wrong number of inputs",
         lambda s: nn.MLP(3, [4, 1])([1.0, 2.0]), ValueError,
         r"Neuron: expected 3 inputs, got 2", "Pass one number per input of the first layer."),
    Case("mlp-no-layers", "nn (scalar)", "nn.MLP with no layer sizes",
         lambda s: nn.MLP(3, []), ValueError, r"MLP: nouts must be a non-empty list",
         "Give the layer sizes as a list, e.g. MLP(3, [16, 16, 1])."),
    # ---- Tensor
    Case("tensor-broadcast", "Tensor", "adding tensors whose shapes do not broadcast",
         _binary(lambda a, b: a + b, (2, 3), (4,)), ValueError,
         r"add: shapes \(2, 3\) and \(4,\) do not broadcast",
         "Align shapes from the right: reshape/unsqueeze one of them.", _inputs_still_usable),
    Case("tensor-matmul", "Tensor", "matmul of incompatible shapes",
         _binary(lambda a, b: a @ b, (2, 3), (4, 5)), ValueError,
         r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied",
         "The inner dims must agree: transpose (x.T) or reshape one operand.",
         _inputs_still_usable),
    Case("tensor-cat", "Tensor", "cat of tensors that differ outside the cat dim",
         lambda s: tg.cat([_t(np.ones((2, 3))), _t(np.ones((2, 4)))]), ValueError,
         r"cat: shapes \(2, 3\), \(2, 4\) differ outside dim 0",
         "Pass dim= for the dim that differs, or fix the shapes."),
    Case("tensor-reshape", "Tensor", "reshape to a shape with another number of elements",
         lambda s: _t(np.ones(6)).reshape(4, 2), ValueError,
         r"reshape: cannot reshape a tensor of shape \(6,\) \(6 elements\) into \(4, 2\)",
         "Keep the element count, or use -1 for one dim."),
    Case("tensor-dim-range", "Tensor", "a reduction over a dim that does not exist",
         lambda s: _t(np.ones(6)).sum(dim=3), IndexError,
         r"sum: dim 3 is out of range for a tensor with 1 dims", "Use a dim in [-ndim, ndim)."),
    Case("tensor-index", "Tensor", "an index past the end",
         lambda s: _t(np.ones(3))[5], IndexError,
         r"indexing a tensor of shape \(3,\): index 5 is out of bounds",
         "Index within the shape."),
    Case("tensor-permute", "Tensor", "permute with dims that are not an ordering",
         lambda s: _t(np.ones((2, 3))).permute(0, 0), ValueError,
         r"permute: \(0, 0\) is not an ordering of the 2 dims of \(2, 3\)",
         "Name every dim exactly once."),
    Case("tensor-expand", "Tensor", "expand a dim that is not 1",
         lambda s: _t(np.ones((2, 3))).expand(4, 3), ValueError,
         r"expand: shape \(2, 3\) cannot be expanded to \(4, 3\)",
         "Only size-1 dims expand; use repeat() to copy data."),
    Case("tensor-item", "Tensor", "item() of a tensor with more than one element",
         lambda s: _t(np.ones(3)).item(), RuntimeError,
         r"item\(\): a tensor with 3 elements \(shape \(3,\)\)",
         "Reduce first (x.sum().item()) or use tolist()."),
    Case("tensor-dtype", "Tensor", "a dtype the engine does not support",
         lambda s: Tensor(np.ones(2), dtype="complex64"), TypeError,
         r"Tensor dtype: 'complex64' is not supported", "Use one of the listed dtypes."),
    Case("tensor-strings", "Tensor", "a tensor made from strings",
         lambda s: Tensor(["a", "b"]), TypeError,
         r"Tensor\(\): cannot make a tensor from strings \(dtype <U1",
         "Convert to numbers first (e.g. class indices)."),
    Case("tensor-int-grad", "Tensor", "requires_grad on an integer tensor",
         lambda s: Tensor(np.arange(3), requires_grad=True), RuntimeError,
         r"only floating-point tensors can require grad, this one is int64",
         "Make it float (dtype=tinygrad_edu.float32, or .float())."),
    Case("tensor-backward-non-scalar", "Tensor", "backward() on a tensor with many elements",
         _binary(lambda a, b: (a * b).backward(), (3,), (3,)), RuntimeError,
         r"backward\(\): grad can be created implicitly only for a scalar output.*shape \(3,\)",
         "Reduce to a scalar (loss.sum(), loss.mean()) or pass gradient=.",
         _inputs_still_usable),
    Case("tensor-backward-twice", "Tensor", "backward() twice through a freed graph",
         _tensor_backward_twice, GraphFreedError, r"op 'sum' already had its backward run",
         "Recompute the forward, or pass retain_graph=True to the first backward().",
         _tensor_grad_kept),
    Case("tensor-backward-no-graph", "Tensor", "backward() on a result that needs no grad",
         lambda s: _t([1.0, 2.0]).sum().backward(), RuntimeError,
         r"backward: output 0 does not require grad",
         "Create the inputs with requires_grad=True, outside no_grad()."),
    Case("tensor-grad-unused", "Tensor", "tinygrad_edu.grad for an input the output ignores",
         lambda s: tg.grad((_t([1.0], requires_grad=True) * 2).sum(),
                           _t([1.0], requires_grad=True)), RuntimeError,
         r"grad: input 0 is not used to compute the outputs", "Pass allow_unused=True."),
    Case("tensor-inplace-saved", "Tensor", "an in-place change to a tensor a recorded op saved",
         _inplace_on_saved, RuntimeError, r"add_: this tensor was already used by other recorded",
         "Use the out-of-place form (y = y + 1), or clone() first.", _saved_still_right),
    Case("tensor-inplace-leaf", "Tensor", "an in-place change to a leaf that requires grad",
         _inplace_on_leaf, RuntimeError, r"add_: a leaf tensor that requires grad",
         "Do the update inside `with tinygrad_edu.no_grad():`.", _leaf_unchanged),
    Case("tensor-grad-assign", "Tensor", "assigning .grad something that is not a gradient",
         lambda s: setattr(_t([1.0, 2.0], requires_grad=True), "grad", 0.0), TypeError,
         r"assigning \.grad: expected a Tensor or None, got float",
         "Assign a Tensor of the parameter's shape and dtype (or None)."),
    Case("tensor-view-copy", "Tensor", "view() of a transposed (non-contiguous) tensor",
         lambda s: _t(np.ones((2, 3))).T.view(6), RuntimeError,
         r"view: a tensor of shape \(3, 2\) whose memory is not contiguous",
         "Use reshape(), or contiguous().view()."),
    Case("tensor-gather-index", "Tensor", "gather or index_select with a negative index",
         lambda s: _t([1.0, 2.0, 3.0]).index_select(0, tg.tensor([-1])), IndexError,
         r"index_select: index -1 is out of bounds for dim 0 with size 3",
         "Use indices in [0, size); add the size to negative ones yourself."),
    Case("tensor-int-div-zero", "Tensor", "integer // or % by zero",
         lambda s: tg.tensor([4, 2]) // 0, ZeroDivisionError,
         r"floor_divide \(//\): integer division by zero",
         "Check the divisor, or divide floats (x.float() // 0 is inf)."),
    Case("tensor-int-negative-pow", "Tensor", "an integer tensor to a negative integer power",
         lambda s: tg.tensor([1, 2]) ** -2, RuntimeError,
         r"pow: integers to negative integer powers are not allowed \(int64 tensor \*\* -2",
         "Make the base float: x.float() ** -2."),
    Case("tensor-dim-twice", "Tensor", "the same dim twice in dims=",
         lambda s: _t(np.ones((2, 3))).sum((1, -1)), RuntimeError,
         r"sum: dim 1 appears more than once in dims \(1, -1\)", "Name each dim once."),
    Case("tensor-anomaly", "Tensor", "log(0) inside detect_anomaly()", _anomaly_tensor,
         tg.AnomalyError, r"forward of 'log' produced inf",
         "Fix the op the message names (here: keep log's input positive)."),
    # ---- nn
    Case("linear-features", "nn", "a Linear layer given the wrong number of features",
         lambda s: nn.Linear(3, 2)(_t(np.ones((4, 5))).float()), ValueError,
         r"linear: input has 5 features \(shape \(4, 5\)\) but the weight expects 3",
         "Match in_features to the input's last dim (or flatten the input)."),
    Case("dropout-p", "nn", "Dropout with p outside [0, 1)", lambda s: nn.Dropout(1.0),
         ValueError, r"Dropout: dropout probability must be in \[0, 1\), got 1\.0",
         "Use 0 <= p < 1."),
    Case("ce-target-range", "nn", "a class index out of range (10 for 10 classes)",
         lambda s: nn.CrossEntropyLoss()(_t(np.zeros((2, 10))), Tensor(np.array([1, 10]))),
         IndexError, r"cross_entropy: target 10 is out of bounds for 10 classes",
         "Class indices go from 0 to C-1."),
    Case("ce-target-dtype", "nn", "float class labels for cross-entropy",
         lambda s: nn.CrossEntropyLoss()(_t(np.zeros((2, 10))), _t([1.0, 2.0])), ValueError,
         r"cross_entropy: probability targets must have the input's shape \(2, 10\), got \(2,\)",
         "Class indices must be int64 (y.long()); float targets are class probabilities."),
    Case("mse-shape", "nn", "a loss whose target has another shape than the input",
         lambda s: nn.MSELoss()(_t(np.ones((3, 1))), _t(np.ones(3))), ValueError,
         r"mse_loss: target shape \(3,\) differs from input shape \(3, 1\)",
         "Reshape the target, e.g. y.reshape(-1, 1)."),
    Case("bce-range", "nn", "BCELoss given scores instead of probabilities",
         lambda s: nn.BCELoss()(_t([1.5]), _t([1.0])), ValueError,
         r"binary_cross_entropy: input must be probabilities in \[0, 1\].*1\.5",
         "Apply sigmoid first, or use BCEWithLogitsLoss on the raw scores."),
    Case("loss-reduction", "nn", "an unknown reduction", lambda s: nn.MSELoss(reduction="avg"),
         ValueError, r"MSELoss: reduction must be 'mean', 'sum' or 'none', got 'avg'",
         "Use 'mean', 'sum' or 'none'."),
    Case("embedding-index", "nn", "an Embedding index past the table",
         lambda s: nn.Embedding(5, 2)(Tensor(np.array([7]))), IndexError,
         r"Embedding: index 7 is out of range for 5 embeddings \(valid: 0\.\.4\)",
         "Indices go from 0 to num_embeddings-1."),
    Case("batchnorm-features", "nn", "BatchNorm1d given the wrong number of features",
         lambda s: nn.BatchNorm1d(3)(_t(np.ones((4, 5))).float()), ValueError,
         r"BatchNorm1d\(3\): expected input of shape \(N, 3\).*got \(4, 5\)",
         "num_features must equal the input's dim 1."),
    Case("conv-rank", "nn", "Conv2d given a flat batch (no channel and image dims)",
         lambda s: nn.Conv2d(1, 8, 3)(_t(np.ones((4, 784))).float()), ValueError,
         r"Conv2d\(1, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected a 4-D input "
         r"\(N, C, H, W\) or 3-D unbatched, got \(4, 784\)",
         "Reshape to (N, C, H, W), e.g. with nn.Unflatten(1, (1, 28, 28))."),
    Case("conv-channels", "nn", "Conv2d given images with another number of channels",
         lambda s: nn.Conv2d(3, 8, 3)(_t(np.ones((2, 1, 28, 28))).float()), ValueError,
         r"Conv2d\(3, 8, .*\): expected 3 input channels \(dim 1\), got input of shape "
         r"\(2, 1, 28, 28\)", "in_channels must equal the input's dim 1."),
    Case("conv-groups", "nn", "a Conv2d whose groups do not divide the channels",
         lambda s: nn.Conv2d(6, 8, 3, groups=4), ValueError,
         r"Conv2d: groups=4 must divide both in_channels \(6\) and out_channels \(8\)",
         "Choose groups that divide both channel counts."),
    Case("conv-kernel-too-big", "nn", "a kernel larger than the (padded) image",
         lambda s: nn.Conv2d(1, 1, 5)(_t(np.ones((1, 1, 3, 3))).float()), ValueError,
         r"conv2d: the kernel \(size 5, dilation 1: spans 5\) is larger than the padded input "
         r"\(3 \+ 0 \+ 0 = 3\)", "Pad the input, or use a smaller kernel or fewer poolings."),
    Case("conv-transpose-empty", "nn", "a transposed convolution whose output would be empty",
         lambda s: nn.ConvTranspose2d(1, 1, 1, padding=1)(_t(np.ones((1, 1, 1, 1))).float()),
         ValueError, r"conv_transpose2d: the output size \(-1, -1\) .* would be empty",
         "Use less padding or a larger input."),
    Case("pool-padding", "nn", "pooling padding larger than half the kernel",
         lambda s: nn.MaxPool2d(2, padding=2)(_t(np.ones((1, 1, 8, 8))).float()), ValueError,
         r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(2, 2\)",
         "Use padding <= kernel_size // 2."),
    Case("sequential-non-module", "nn", "Sequential given something that is not a Module",
         lambda s: nn.Sequential(nn.ReLU(), 3), TypeError,
         r"Sequential: argument 1 is a int, not a Module", "Pass layer objects (nn.ReLU())."),
    Case("load-state-missing", "nn", "load_state_dict with a missing key",
         _load({"weight": np.zeros((3, 2), np.float32)}), RuntimeError,
         r"loading state_dict for Linear.*nothing was loaded.*missing key 'bias'",
         "Pass the whole state dict, or strict=False.", _module_unchanged),
    Case("load-state-extra", "nn", "load_state_dict with an unexpected key",
         _load({"weight": np.zeros((3, 2), np.float32), "bias": np.zeros(3, np.float32),
                "scale": np.ones(1, np.float32)}), RuntimeError,
         r"loading state_dict for Linear.*unexpected key 'scale'",
         "Load into the model the dict came from, or strict=False.", _module_unchanged),
    Case("load-state-shape", "nn", "load_state_dict with a mis-shaped tensor",
         _load({"weight": np.zeros((3, 2), np.float32), "bias": np.zeros(4, np.float32)}),
         RuntimeError,
         r"shape mismatch for 'bias': the module has \(3,\), the state dict has \(4,\)",
         "Build the model with the sizes it was saved with.", _module_unchanged),
    # ---- optim
    Case("optim-no-params", "optim", "an optimizer given no parameters",
         lambda s: optim.SGD([], lr=0.1), ValueError, r"SGD got an empty parameter list",
         "Pass model.parameters() of a model that has parameters."),
    Case("optim-negative-lr", "optim", "a negative learning rate",
         lambda s: optim.SGD(nn.Linear(2, 2).parameters(), lr=-1), ValueError,
         r"SGD: invalid learning rate lr=-1", "Use lr >= 0."),
    Case("optim-betas", "optim", "Adam betas outside [0, 1)",
         lambda s: optim.Adam(nn.Linear(2, 2).parameters(), betas=(1.0, 0.9)), ValueError,
         r"Adam: invalid betas=\(1\.0, 0\.9\)", "Use betas in [0, 1), e.g. (0.9, 0.999)."),
    Case("optim-nesterov", "optim", "SGD nesterov=True without momentum",
         lambda s: optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, nesterov=True), ValueError,
         r"SGD: nesterov=True needs momentum > 0", "Set momentum > 0 (and dampening 0)."),
    Case("optim-single-tensor", "optim", "an optimizer given one tensor instead of an iterable",
         lambda s: optim.SGD(nn.Linear(2, 2).weight, lr=0.1), TypeError,
         r"SGD: params must be an iterable of parameters.*not a single Parameter",
         "Wrap it in a list: SGD([w], lr=...)."),
    Case("optim-not-a-param", "optim", "an optimizer given numbers as parameters",
         lambda s: optim.SGD([1.0], lr=0.1), TypeError, r"SGD: parameter 0 is a float",
         "Pass Values or Tensors (model.parameters())."),
    Case("optim-non-leaf", "optim", "an optimizer given a computed tensor",
         lambda s: optim.SGD([_t([1.0], requires_grad=True) * 2], lr=0.1), ValueError,
         r"SGD: parameter 0 is not a leaf", "Optimize the tensors it was computed from."),
    Case("optim-step-bad-grad", "optim", "step() when a .grad has the wrong shape",
         _step_with_bad_grad, RuntimeError,
         r"Adam\.step: parameter 1 of group 0 has shape \(3,\) but its \.grad is \(2, 3\); "
         r"nothing was updated", "Assign gradients of the parameter's shape.",
         _params_unchanged_then_step_works),
    Case("optim-step-value-grad", "optim", "step() when a Value's .grad is not a number",
         _value_step_bad_grad, RuntimeError,
         r"SGD\.step: a Value in param group 0 has a gradient that is not a number",
         "Leave .grad to backward(), or set it to a float.", _value_params_unchanged),
    Case("optim-load-groups", "optim", "optimizer.load_state_dict with another number of groups",
         _opt_load(lambda o, m: {"state": {}, "param_groups": []}), ValueError,
         r"SGD\.load_state_dict: the state dict has 0 param groups, the optimizer 1",
         "Load a state dict from the same optimizer set-up.", _opt_unchanged),
    Case("optim-load-model-dict", "optim", "optimizer.load_state_dict given a model's state dict",
         _opt_load(lambda o, m: m.state_dict()), ValueError,
         r"SGD\.load_state_dict: .*'state' and 'param_groups'.*weight",
         "Pass optimizer.state_dict(), not model.state_dict().", _opt_unchanged),
    Case("steplr-step-size", "optim", "StepLR with step_size 0",
         lambda s: optim.lr_scheduler.StepLR(optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1),
                                             step_size=0), ValueError,
         r"StepLR: step_size must be a positive int, got 0", "Use step_size >= 1."),
    # ---- data
    Case("loader-batch-0", "data", "a DataLoader with batch_size 0", _loader(batch_size=0),
         ValueError, r"DataLoader: batch_size must be a positive int, got 0",
         "Use batch_size >= 1."),
    Case("dataset-lengths", "data", "a TensorDataset of arrays of different lengths",
         lambda s: TensorDataset(np.zeros((4, 2)), np.zeros(3)), ValueError,
         r"TensorDataset: .*4.*3", "Give arrays with the same first dim."),
    Case("random-split", "data", "random_split lengths that do not add up",
         lambda s: random_split(TensorDataset(np.zeros((4, 2))), [3, 3]), ValueError,
         r"random_split: lengths \[3, 3\] add up to 6, but the dataset has 4 samples",
         "Give counts adding up to len(dataset), or fractions adding up to 1."),
    Case("normalize-std-0", "data", "Normalize with a zero std",
         lambda s: transforms.Normalize(0.0, 0.0), ValueError, r"Normalize: std must not be zero",
         "Use the data's real std (> 0)."),
    Case("make-moons-count", "data", "a synthetic set with a negative size",
         lambda s: make_moons(-5), ValueError, r"make_moons: n_samples must .*-5",
         "Ask for at least one sample."),
    Case("idx-not-idx", "data", "read_idx on a file that is not IDX",
         lambda s: read_idx(_file("not_idx.bin", b"hello world, not idx")), IDXError,
         r"read_idx: .*not_idx\.bin: not an IDX file", "Check the path: it is another file."),
    Case("idx-lying-header", "data", "an IDX header that claims 10**9 images in a 1 KB file",
         lambda s: read_idx(_file("liar.idx", _idx_header(0x08, (10**9, 28, 28)) + bytes(1000))),
         IDXError, r"read_idx: .*liar\.idx: .*1000000000",
         "The file is truncated or corrupt: download it again."),
    Case("idx-truncated-gzip", "data", "a truncated .gz IDX file",
         lambda s: read_idx(_file("cut.idx.gz",
                                  gzip.compress(_idx_header(0x08, (4, 4)) + bytes(16))[:-12])),
         IDXError, r"read_idx: .*cut\.idx\.gz: .*gzip", "Download the file again."),
    Case("mnist-missing", "data", "MNIST pointed at a folder without the files",
         _no_mnist_here, FileNotFoundError,
         r"MNIST: t10k-images-idx3-ubyte\.gz not found; looked in: .*empty",
         "Pass root= the folder with the files, or download=True."),
    Case("mnist-wrong-content", "data", "MNIST files with the right names, wrong content",
         _fake_mnist_root, ChecksumError,
         r"MNIST: .*t10k-images-idx3-ubyte\.gz is not the expected",
         "Delete the file, or pass download=True to fetch a good copy."),
    # ---- save / load
    Case("save-module", "save/load", "save() given a model instead of its state dict",
         _save_to("model.npz", {"m": nn.Linear(2, 2)}), TypeError,
         r"save: obj\['m'\] is a Linear.*model\.state_dict\(\)",
         "Save model.state_dict().", _no_file_left),
    Case("save-object-array", "save/load", "save() given an object array",
         _save_to("objects.npz", {"a": np.array([{}, None], dtype=object)}), TypeError,
         r"save: obj\['a'\] is an array of dtype object.*no pickle",
         "Save numbers only; store other data elsewhere.", _no_file_left),
    Case("load-not-npz", "save/load", "load() of a file that is not an .npz",
         lambda s: tg.load(_file("text.npz", b"hello world")), ValueError,
         r"load: '.*text\.npz' is not an \.npz file",
         "Check the path; load() reads what tinygrad_edu.save wrote."),
    Case("load-truncated", "save/load", "load() of a truncated file",
         lambda s: tg.load(_file("cut.npz", _saved_bytes({"w": np.ones(100)})[:-40])),
         ValueError, r"load: '.*cut\.npz' is truncated or not an \.npz file",
         "Save again: the file was cut short (an interrupted copy?)."),
    Case("load-foreign-npz", "save/load", "load() of an .npz not written by tinygrad_edu.save",
         lambda s: tg.load(_npz("plain.npz", {"w": np.ones(3)})), ValueError,
         r"load: '.*plain\.npz' was not written by tinygrad_edu\.save",
         "Use numpy.load for plain .npz files."),
    Case("load-pickle", "save/load", "load() of an .npz that holds pickled objects",
         lambda s: tg.load(_npz("pickled.npz", {"__tinygrad_edu__": np.array([{}], object)},
                                pickle=True)), ValueError,
         r"load: '.*pickled\.npz' .*member '__tinygrad_edu__\.npy' .*needs pickle to read, "
         r"which load\(\) refuses",
         "Never unpickle files from elsewhere; re-save with tinygrad_edu.save."),
    Case("load-extra-member", "save/load", "load() of a file with an array its description lacks",
         lambda s: tg.load(_npz("extra.npz", {"__tinygrad_edu__": _manifest({"list": []}),
                                              "a0": np.ones(2)})), ValueError,
         r"load: '.*extra\.npz' is not a valid tinygrad_edu file: unexpected members \['a0'\]",
         "The file was altered: save it again."),
    Case("load-max-bytes", "save/load", "load() of a file declaring more array bytes than "
         "max_bytes", lambda s: tg.load(_save_to("big.npz", {"w": np.zeros(1000)})(s) or
                                       s["path"], max_bytes=4000), ValueError,
         r"load: '.*big\.npz': member 'a0\.npy' declares shape \(1000,\) of float64 "
         r"\(8,000 bytes\).*over the limit max_bytes=4,000.*raise it",
         "If you trust the file, pass a larger max_bytes (default 1 GiB), or None."),
    Case("load-long-int", "save/load", "load() of a description holding a 100,000-digit "
         "integer", lambda s: tg.load(_npz("digits.npz", {"__tinygrad_edu__": np.frombuffer(
             (b'{"format": "tinygrad_edu.save", "version": 1, "tree": ' + b"7" * 100_000
              + b"}"), np.uint8)})), ValueError,
         r"load: '.*digits\.npz' is not a valid tinygrad_edu file: its description cannot be "
         r"read as JSON \(Exceeds the limit \(4300 digits\)",
         "The file was altered or not written by save(): save it again."),
    Case("save-long-int", "save/load", "save() of an integer too long to write as text",
         _save_to("longint.npz", {"n": 10**5000}), ValueError,
         r"save: obj\['n'\] is an integer of about 5001 digits, too long to store \(Python "
         r"writes at most 4300",
         "Store it as a string, or as an array of smaller numbers.", _no_file_left),
    Case("load-missing", "save/load", "load() of a file that does not exist",
         lambda s: tg.load(FILES / "nowhere.npz"), FileNotFoundError, r"nowhere\.npz",
         "Check the path."),
    # ---- interop
    Case("interop-unsupported", "interop", "from_torch of a layer this library does not have",
         lambda s: _from_torch_module_dict(), TypeError,
         r"from_torch: no ModuleDict counterpart \(supported: Sequential, ModuleList, Linear.*"
         r"state_dict_from_torch",
         "Write the model with the layers both have, or move the weights with the state dict "
         "helpers."),
    # ---- viz
    Case("draw-rankdir", "viz", "draw_graph with an unknown layout direction",
         lambda s: draw_graph(Value(1.0) * 2.0, rankdir="XX"), ValueError,
         r"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got 'XX'",
         "Use one of the four directions."),
    Case("step-through-big", "viz", "the step-through player on a big graph",
         lambda s: tg.viz.step_through(sum((Value(float(i)) for i in range(600)), Value(0.0))),
         ValueError, r"step_through: the graph has 600 ops",
         "Draw big graphs with draw_graph(root, group=...), or pass max_steps=None."),
    Case("expr-syntax", "viz", "an expression that does not parse",
         lambda s: build_expression("a +* b", {"a": 1, "b": 2}), ExpressionError,
         r"syntax error.*\n  a \+\* b\n {5}\^", "Fix the formula where the caret points."),
    Case("expr-code", "viz", "an expression that tries to run code",
         lambda s: build_expression("__import__('os').system('ls')", {}), ExpressionError,
         r"only the named functions can be called|unknown function '__import__'",
         "Only numbers, variables, + - * / ** and the listed functions are allowed."),
    Case("expr-unknown-name", "viz", "an expression with a variable that has no value",
         lambda s: build_expression("x * y", {"x": 1.0}), ExpressionError,
         r"unknown name 'y' \(give it a value on the command line: y=1\.0\)",
         "Give every variable a value: NAME=VALUE."),
    Case("expr-domain", "viz", "an expression that cannot be computed",
         lambda s: build_expression("log(x - 1)", {"x": 1.0}), ExpressionError,
         r"this part cannot be computed: .*log.*\n  log\(x - 1\)\n  \^+",
         "Change the values so every part is defined."),
    Case("expr-huge-number", "viz", "an expression with a number too large for a float",
         lambda s: build_expression("1e400 * x", {"x": 1.0}), ExpressionError,
         r"this number is too large for a float",
         "Write a smaller number (at most about 1.8e308)."),
    Case("render-format", "viz", "render_dot with a format the layout program cannot write",
         lambda s: _with_graphviz_pure(tg.viz.render_dot, "digraph { a }", "pdf"), ValueError,
         r"render_dot: unknown format 'pdf' for graphviz-pure; it writes .*svg.*system Graphviz",
         "Use one of the formats listed, or install the system Graphviz."),
    # ---- CLI
    Case("cli-bad-expression", "CLI", "`tinygrad-edu graph` with a formula it cannot parse",
         lambda s: _cli("graph", "a +* b", "a=1", "b=2"), ExitStatus,
         r"exit status 2: graph: bad expression: syntax error", "Fix the formula."),
    Case("cli-bad-value", "CLI", "`tinygrad-edu graph` with a value that is not a number",
         lambda s: _cli("graph", "x**2", "x=abc"), ExitStatus,
         r"exit status 2: graph: the value of x must be a number, got 'abc'",
         "Write NAME=NUMBER, e.g. x=3."),
    Case("cli-bad-pair", "CLI", "`tinygrad-edu graph` with a value not written NAME=VALUE",
         lambda s: _cli("graph", "x**2", "3"), ExitStatus,
         r"exit status 2: graph: expected NAME=VALUE, got '3'", "Write x=3."),
    Case("cli-out-format", "CLI", "`tinygrad-edu graph --out` with an unknown file type",
         lambda s: _cli("graph", "x**2", "x=3", "--out", "graph.gif"), ExitStatus,
         r"exit status 2: graph: --out must end in \.svg.*\.jpg.*graph\.gif",
         "Use one of the listed file types."),
    Case("cli-out-pdf", "CLI", "`tinygrad-edu graph --out g.pdf` with graphviz-pure only",
         lambda s: _with_graphviz_pure(_cli, "graph", "x**2", "x=3", "--out", "g.pdf"),
         ExitStatus, r"exit status 2: graph: --out g\.pdf: the installed layout program "
         r"cannot write pdf.*system Graphviz",
         "Install the system Graphviz (`dot`), or write .svg, .png or .jpg."),
    Case("cli-formula-complex", "CLI", "`tinygrad-edu graph` with a formula whose value is not "
         "real", lambda s: _cli("graph", "(-8)**(1/3) + x", "x=1"), ExitStatus,
         r"exit status 2: graph: bad expression: this part cannot be computed: .*negative base",
         "A negative number has no real fractional power: change the formula."),
    Case("cli-value-huge", "CLI", "`tinygrad-edu graph` with a value too large for a float",
         lambda s: _cli("graph", "x**2", "x=1e400"), ExitStatus,
         r"exit status 2: graph: the value of x is too large for a float",
         "Give a number below about 1.8e308 (or write inf if you mean it)."),
    Case("cli-demo-steps", "CLI", "`tinygrad-edu demo --steps -1`",
         lambda s: _cli("demo", "--steps", "-1"), ExitStatus,
         r"exit status 2: .*--steps: expected a positive integer, got -1", "Use --steps >= 1."),
    Case("cli-train-epochs", "CLI", "`tinygrad-edu train --epochs 0`",
         lambda s: _cli("train", "--epochs", "0"), ExitStatus,
         r"exit status 2: .*--epochs: expected a positive integer, got 0", "Use --epochs >= 1."),
    Case("cli-train-no-data", "CLI", "`tinygrad-edu train` with a folder without the data",
         _train_without_data, ExitStatus,
         r"exit status 2: .*training split of MNIST is not available",
         "Pass --root DIR with the four IDX files, or add --download."),
    Case("cli-unknown-command", "CLI", "an unknown command",
         lambda s: _cli("trian"), ExitStatus, r"exit status 2: .*invalid choice: 'trian'",
         "Run tinygrad-edu --help for the commands."),
]


def test_the_catalogue_has_at_least_40_distinct_cases_in_every_area():
    assert len({c.id for c in CASES}) == len(CASES) >= 40
    areas = {c.area.split(" ")[0] for c in CASES}
    assert {"Value", "Tensor", "nn", "optim", "data", "save/load", "viz", "CLI"} <= areas


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error(case: Case):
    state: dict = {}
    with pytest.raises(case.exc) as info:
        case.trigger(state)
    assert type(info.value) is case.exc  # the exact type the catalogue names
    assert re.search(case.match, str(info.value), re.S), str(info.value)
    if case.after is not None:
        case.after(state)


def _catalogue_module():
    path = Path(__file__).with_name("errors_catalogue.py")
    spec = importlib.util.spec_from_file_location("errors_catalogue", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # it defines functions only; CASES come from here
    return module


def test_readme_section_is_in_sync_with_the_table():
    cat = _catalogue_module()
    readme = cat.README.read_text(encoding="utf-8")
    current = cat.section(readme)
    assert current is not None, f"README.md has no {cat.START} ... {cat.END} section"
    if current != cat.render(CASES, FILES):
        pytest.fail("the errors section of README.md is out of date: run "
                    "python tests/robustness/errors_catalogue.py", pytrace=False)
