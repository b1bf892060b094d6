"""Build the teaching notebooks from their cell lists and execute them, outputs stored.

    .venv/bin/python notebooks/build.py            # all of them, full runs (what gets committed)
    .venv/bin/python notebooks/build.py 02 05      # only those whose names start so

The cells of each notebook live in `notebooks/cells/<name>.cells` (a line `#%% md` or
`#%% code` starts each cell); this script turns them into plain `.ipynb` JSON and runs
them top to bottom with nbclient, in a kernel started from this very interpreter (no
registered Jupyter kernel needed). `execute()` is also what `tests/test_notebooks.py` uses.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
FAST_FLAG = "TINYGRAD_EDU_FAST"  # "1": fewer epochs / a subset, the same code
NOTEBOOKS = [
    "01_value_and_the_chain_rule",
    "02_from_neuron_to_mlp",
    "03_checking_gradients",
    "04_from_scalars_to_tensors",
    "05_fashion_mnist_mlp",
    "06_convolutions",
    "07_from_counting_to_attention",
]
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


class _ThisPython(KernelSpecManager):
    """Every kernel name resolves to ipykernel on the running interpreter (sys.executable)."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=KERNEL["display_name"], language="python",
            resource_dir=str(HERE),
        )


def execute(nb: Any, *, fast: bool, timeout: int = 900) -> Any:
    """Run every cell of `nb` (in place) with `notebooks/` as the working directory."""
    old = os.environ.get(FAST_FLAG)
    os.environ[FAST_FLAG] = "1" if fast else "0"  # the kernel inherits the environment
    try:
        km = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())
        client = NotebookClient(nb, km=km, timeout=timeout, coalesce_streams=True,
                                resources={"metadata": {"path": str(HERE)}})
        client.execute()
    finally:
        if old is None:
            del os.environ[FAST_FLAG]
        else:
            os.environ[FAST_FLAG] = old
    return nb


def parse(text: str) -> list[tuple[str, str]]:
    """`(kind, source)` pairs from a cells file: each cell starts with a line `#%% md` or
    `#%% code`; the lines up to the next marker are its source."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("#%% "):
            kind = line[4:].strip()
            if kind not in ("md", "code"):
                raise ValueError(f"cells: unknown cell kind {kind!r} in {line!r}")
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"cells: text before the first '#%% md|code' marker: {line!r}")
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def build(name: str) -> Any:
    """The notebook (unexecuted) from `cells/<name>.cells`."""
    source = (HERE / "cells" / f"{name}.cells").read_text(encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md"
                else nbformat.v4.new_code_cell(src) for kind, src in parse(source)]
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i:02d}"  # stable ids: rebuilding does not churn the diff
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(prefixes: list[str]) -> None:
    for name in NOTEBOOKS:
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        print(f"building {name} ...", flush=True)
        nb = execute(build(name), fast=False)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main(sys.argv[1:])
