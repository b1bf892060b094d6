"""The teaching notebooks run top to bottom, and what is committed is what readers should see.

Every notebook in `notebooks/` is executed with TINYGRAD_EDU_FAST=1 (fewer epochs, smaller
subsets, the same code) in a kernel started from this interpreter, so no Jupyter kernel needs
to be registered. The committed files must carry their outputs (they are read on a code host)
and match their sources in `notebooks/cells/`.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def _load_build():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build()
PATHS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def test_every_listed_notebook_is_committed():
    assert [p.stem for p in PATHS] == build.NOTEBOOKS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_committed_notebook_has_outputs_and_no_errors(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    not_run = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not not_run, f"{path.name}: code cells {not_run} were not executed before committing"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        f"{path.name} was not run top to bottom in one go; rebuild it with notebooks/build.py")
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was committed with an error: {errors[0].get('ename')}"
    with_output = sum(1 for c in code if c.outputs)
    assert with_output >= len(code) // 2, (
        f"{path.name}: only {with_output} of {len(code)} code cells show output")


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_committed_notebook_matches_its_cells_file(path):
    committed = nbformat.read(path, as_version=4)
    built = build.build(path.stem)
    assert [(c.cell_type, c.source) for c in committed.cells] == [
        (c.cell_type, c.source) for c in built.cells
    ], f"{path.name} differs from notebooks/cells/{path.stem}.cells; rebuild it"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    build.execute(nb, fast=True, timeout=300)  # raises CellExecutionError on any error
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]


def test_notebook_07_learned_bigram_is_the_counted_one():
    # the promise: the bigram learned by gradient descent and the counted one agree
    # (add-one smoothing is one made-up example of every pair, the net's penalty term); the
    # committed full run shows it, and the notebook itself asserts it in every run (also fast)
    nb = nbformat.read(NOTEBOOKS_DIR / "07_from_counting_to_attention.ipynb", as_version=4)
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs)
    losses = re.search(r"val loss: counts (\d\.\d+) nats, learned (\d\.\d+) nats", text)
    gap = re.search(r"largest difference between the two tables' probabilities: (\S+)\n", text)
    assert losses and gap, "notebook 07 no longer prints the two bigrams' losses and gap"
    counts, learned = float(losses[1]), float(losses[2])
    assert abs(counts - learned) < 1e-3 and 2 < counts < 3, (counts, learned)
    assert float(gap[1]) < 1e-4
    source = (NOTEBOOKS_DIR / "cells" / "07_from_counting_to_attention.cells").read_text()
    assert "assert abs(val_net - val_counts) < 1e-3 and gap < 2e-3" in source


def test_the_kernel_is_this_interpreter_and_a_failing_cell_fails_the_run():
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os, sys\nprint(sys.executable, end='')"),
                nbformat.v4.new_code_cell("assert os.environ['TINYGRAD_EDU_FAST'] == '1'"),
                nbformat.v4.new_code_cell("raise ValueError('broken cell')")]
    with pytest.raises(CellExecutionError, match="broken cell"):
        build.execute(nb, fast=True, timeout=60)
    # no registered Jupyter kernel involved: the kernel runs on the interpreter running pytest
    assert nb.cells[0].outputs[0].text == sys.executable
    assert nb.cells[1].execution_count == 2 and not nb.cells[1].outputs  # the flag got there
