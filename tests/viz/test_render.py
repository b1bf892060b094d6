"""Rendering DOT to pictures with the system `dot` or the pip-installed `graphviz-pure`."""

import shutil
import sys
from pathlib import Path

import pytest

from tinygrad_edu.viz import render
from tinygrad_edu.viz.render import RenderError, find_renderer, render_dot, render_many

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_svg_is_an_svg_document_with_the_nodes():
    svg = render_dot('digraph { alpha -> beta [label="x"] }', "svg").decode()
    assert "<svg" in svg and svg.rstrip().endswith("</svg>")
    assert "<title>alpha</title>" in svg and "<title>beta</title>" in svg


def test_png_has_the_png_signature_and_a_header_chunk():
    png = render_dot("digraph { a -> b }", "png")
    assert png[:8] == PNG_MAGIC
    assert png[12:16] == b"IHDR"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 10 and height > 10


def test_without_system_dot_the_graphviz_pure_binary_beside_python_is_used(monkeypatch):
    real_which = shutil.which
    monkeypatch.delenv("TINYGRAD_EDU_DOT", raising=False)
    monkeypatch.setattr(render.shutil, "which",
                        lambda name, *a, **k: None if name == "dot" else real_which(name, *a, **k))
    exe = find_renderer()
    assert Path(exe).name.startswith("graphviz-pure")
    assert Path(exe).parent == Path(sys.executable).parent
    assert render_dot("digraph { a -> b }", "png")[:8] == PNG_MAGIC


def test_a_missing_renderer_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("TINYGRAD_EDU_DOT", raising=False)
    monkeypatch.setattr(render.shutil, "which", lambda *a, **k: None)
    monkeypatch.setattr(render.sys, "executable", str(tmp_path / "python"))
    with pytest.raises(RenderError, match="pip install graphviz-pure"):
        find_renderer()


def test_the_environment_variable_picks_the_program(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYGRAD_EDU_DOT", str(tmp_path / "no-such-dot"))
    with pytest.raises(RenderError, match="could not run"):
        render_dot("digraph { a }")


def test_bad_dot_source_and_bad_format_say_what_went_wrong():
    with pytest.raises(RenderError, match="failed"):
        render_dot("digraph { a -> }", "svg")
    with pytest.raises(ValueError, match="unknown format 'gif'"):
        render_dot("digraph { a }", "gif")


def test_many_graphs_render_in_one_run_in_order():
    docs = render_many(["digraph { first }", "digraph { second }", "digraph { third }"])
    assert len(docs) == 3
    for doc, name in zip(docs, ["first", "second", "third"]):
        assert doc.startswith("<?xml") and f"<title>{name}</title>" in doc
