"""The layering of the Tensor package: the core imports no op family, and methods.py's table
is the one place an op becomes a Tensor method."""

import ast
import inspect
from pathlib import Path

from tinygrad_edu.tensor import Tensor
from tinygrad_edu.tensor import tensor as core
from tinygrad_edu.tensor.methods import METHODS

CORE_MAY_IMPORT = {"dims", "dtypes", "grad_fn", "ops", "versions"}  # helpers below the core


def core_tree() -> ast.Module:
    return ast.parse(Path(core.__file__).read_text())


def test_the_core_imports_no_op_family():
    imported = set()
    for node in ast.walk(core_tree()):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module is None:  # `from . import x`
                imported.update(a.name for a in node.names)
            else:
                imported.add(node.module.split(".")[0])
    assert imported <= CORE_MAY_IMPORT, f"tensor.py imports {imported - CORE_MAY_IMPORT}"


def test_no_method_of_the_table_is_also_written_in_the_class():
    cls = next(n for n in core_tree().body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    in_class = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    in_class |= {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets}
    assert in_class & set(METHODS) == set()


def test_every_row_of_the_table_is_what_tensor_has():
    for name, fn in METHODS.items():
        assert inspect.getattr_static(Tensor, name) is fn, name
