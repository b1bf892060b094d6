"""Turn DOT source into SVG or PNG with whichever Graphviz layout program is available.

The system `dot` is used when it is on PATH; otherwise the `graphviz-pure` binary that the
`graphviz-pure` pip package installs next to Python. So a plain `pip install` draws graphs
with no system packages. The source is piped in and the picture read back: no temporary files.

    svg = render_dot("digraph { a -> b }", "svg")     # bytes of an SVG document
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["RenderError", "find_renderer", "render_dot", "renderer_formats"]


class RenderError(RuntimeError):
    """The layout program is missing, failed, or took too long."""


def find_renderer() -> str:
    """The path of the layout program: the system `dot`, else `graphviz-pure`.

    The environment variable TINYGRAD_EDU_DOT overrides both (a path to a dot-compatible binary).
    """
    forced = os.environ.get("TINYGRAD_EDU_DOT")
    if forced:
        return forced
    found = shutil.which("dot")
    if found:
        return found
    exe = "graphviz-pure.exe" if sys.platform == "win32" else "graphviz-pure"
    beside_python = Path(sys.executable).parent / exe
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which("graphviz-pure")
    if found:
        return found
    raise RenderError(
        "no Graphviz layout program found: neither `dot` (system Graphviz) nor `graphviz-pure` "
        f"(next to {sys.executable} or on PATH). Install one with `pip install graphviz-pure` "
        "or your system's `graphviz` package; `Digraph.source` still gives the DOT text."
    )


PDF_HINT = " PDF needs the system Graphviz (`dot` on PATH)."


@functools.cache
def _formats_of(exe: str) -> frozenset[str]:
    """What `exe -T` accepts, from the list it prints for a format it does not know (both
    Graphviz and graphviz-pure answer `-T?` so); empty if it gives no list."""
    try:
        done = subprocess.run([exe, "-T?"], input=b"", capture_output=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    found = re.search(r"Use one of:(.*)", done.stderr.decode("utf-8", "replace"))
    return frozenset(found.group(1).split()) if found else frozenset()


def renderer_formats() -> frozenset[str]:
    """The output formats the layout program found by `find_renderer` can write ('svg',
    'png', ...): graphviz-pure has no 'pdf', the system Graphviz has. Empty when the program
    does not list them (then it is left to try)."""
    return _formats_of(find_renderer())


def render_dot(source: str, fmt: str = "svg", *, timeout: float = 60.0) -> bytes:
    """Lay out DOT `source` and return the picture in format `fmt` ('svg', 'png', ...)."""
    exe = find_renderer()
    known = _formats_of(exe)
    if known and fmt not in known:
        raise ValueError(f"render_dot: unknown format {fmt!r} for {Path(exe).name}; it writes "
                         f"{', '.join(sorted(known))}.{PDF_HINT * ('pdf' not in known)}")
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"render_dot: {Path(exe).name} took longer than {timeout:g}s to lay out the graph. "
            "Draw fewer nodes (max_nodes=..., group=...)."
        ) from None
    except OSError as err:
        raise RenderError(f"render_dot: could not run {exe}: {err}") from None
    if done.returncode != 0 or not done.stdout:
        why = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
        raise RenderError(f"render_dot: {Path(exe).name} -T{fmt} failed: {why}")
    return done.stdout


def render_many(sources: list[str], *, timeout: float = 120.0) -> list[str]:
    """Lay out several graphs as SVG in one run of the layout program (the step-through frames).

    DOT input may hold many graphs; the program writes one SVG document after another.
    """
    if not sources:
        return []
    out = render_dot("\n".join(sources), "svg", timeout=timeout).decode("utf-8")
    docs = ["<?xml" + part for part in out.split("<?xml")[1:]]
    if len(docs) != len(sources):  # a program that stops after the first graph: one by one
        docs = [render_dot(s, "svg", timeout=timeout).decode("utf-8") for s in sources]
    return docs
