"""`tinygrad-edu graph "tanh(a*b + c)" a=2 b=-3 c=10 --out graph.svg --steps steps.html`."""

import argparse
import math

import pytest

from tinygrad_edu.viz.command import OUT_FORMATS, OUT_HELP, add_parser
from tinygrad_edu.viz.render import renderer_formats


def graph(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tinygrad-edu")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["graph", *argv])
    return args.run(args)


def test_prints_gradients_and_steps_and_writes_drawing_and_player(tmp_path, capsys):
    svg, html = tmp_path / "graph.svg", tmp_path / "steps.html"
    code = graph("tanh(a*b + c)", "a=2", "b=-3", "c=10", "--out", str(svg), "--steps", str(html))
    assert code == 0
    out = capsys.readouterr().out
    dtanh = 1 - math.tanh(4.0) ** 2
    assert f"dL/da = {dtanh * -3.0:.4g}\n" in out  # 4 significant digits, as the drawings
    assert f"dL/db = {dtanh * 2.0:.4g}\n" in out
    assert f"dL/dc = {dtanh:.4g}\n" in out
    assert "backward pass, 3 steps" in out and "dL/da += dL/dv1 * d(a * b)/da" in out
    assert "v1 = a * b = 2.0 * -3.0 = -6.0" in out
    assert svg.read_text().rstrip().endswith("</svg>")
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "wrote the step-through (8 steps)" in out
    assert page.count('{"t":') == 8, "the player holds the 8 frames"


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".dot", b"digraph"),
                                           (".gv", b"digraph"), (".jpg", b"\xff\xd8\xff"),
                                           (".jpeg", b"\xff\xd8\xff"), (".svg", b"<?xml")])
def test_the_drawing_format_follows_the_file_name(tmp_path, suffix, magic):
    out = tmp_path / f"g{suffix}"
    assert graph("x**2", "x=3", "--out", str(out)) == 0
    assert out.read_bytes().startswith(magic)


def test_every_offered_format_renders_or_is_refused_before_any_work(tmp_path, capsys):
    """--help's formats are exactly those that render: pdf only where the layout program
    writes it (the system Graphviz), else a clear error and nothing computed."""
    for suffix, fmt in OUT_FORMATS.items():
        assert suffix in OUT_HELP
        out = tmp_path / f"g{suffix}"
        code = graph("x**2", "x=3", "--out", str(out))
        printed = capsys.readouterr()
        if fmt == "dot" or fmt in renderer_formats():
            assert code == 0 and out.stat().st_size > 0, printed.err
        else:
            assert code == 2 and "cannot write pdf" in printed.err and "system Graphviz" in \
                printed.err
            assert printed.out == "" and not out.exists()


def test_pdf_is_written_when_the_layout_program_can(tmp_path, monkeypatch):
    """With a layout program that writes pdf, --out g.pdf passes -Tpdf to it."""
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\n"
                    'case "$1" in -T\\?) echo \'Format: "?" not recognized. Use one of: dot pdf '
                    'svg\' >&2; exit 1;; -Tpdf) cat >/dev/null; printf "%%PDF-1.7";; esac\n')
    fake.chmod(0o755)
    monkeypatch.setenv("TINYGRAD_EDU_DOT", str(fake))
    assert renderer_formats() == {"dot", "pdf", "svg"}
    assert graph("x**2", "x=3", "--out", str(tmp_path / "g.pdf")) == 0
    assert (tmp_path / "g.pdf").read_bytes() == b"%PDF-1.7"
    assert graph("x**2", "x=3", "--out", str(tmp_path / "g.png")) == 2


def test_a_layout_program_that_lists_no_formats_gets_to_try(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\ncase "$1" in -Tpdf) cat >/dev/null; printf "%%PDF";; '
                    '*) exit 1;; esac\n')
    fake.chmod(0o755)
    monkeypatch.setenv("TINYGRAD_EDU_DOT", str(fake))
    assert renderer_formats() == frozenset()
    assert graph("x**2", "x=3", "--out", str(tmp_path / "g.pdf")) == 0
    assert (tmp_path / "g.pdf").read_bytes() == b"%PDF"


@pytest.mark.parametrize("formula, message", [
    ("(-8)**(1/3) + x", "a negative base needs an integer exponent"),
    ("1" * 400 + " + x", "too large for a float"),
    ("1e400 * x", "too large for a float"),
    ("x + 1/0", "the divisor must not be zero"),
])
def test_formulas_that_cannot_be_computed_are_usage_errors_not_tracebacks(formula, message,
                                                                        capsys):
    assert graph(formula, "x=2") == 2
    err = capsys.readouterr().err
    assert err.startswith("graph: bad expression:") and message in err
    assert "Traceback" not in err


def test_a_flat_sum_of_999_terms_is_not_deep_nesting(capsys):
    assert graph("x" + "+x" * 998, "x=1") == 0
    assert "dL/dx = 999.0" in capsys.readouterr().out


def test_a_bad_expression_points_at_the_problem_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "g.svg"
    assert graph("a + __import__('os')", "a=1", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "bad expression" in err
    lines = err.split("\n")
    echoed = next(i for i, line in enumerate(lines) if line.strip().startswith("a + __import__"))
    assert lines[echoed + 1].index("^") == lines[echoed].index("__import__")
    assert not out.exists()


@pytest.mark.parametrize("values, message", [
    (["a"], "expected NAME=VALUE"),
    (["a=two"], "must be a number"),
    (["a=1", "a=2"], "given twice"),
    (["a=1e400"], "a is too large for a float"),
    (["a=" + "9" * 400], "a is too large for a float"),
])
def test_bad_values_are_usage_errors(values, message, capsys):
    assert graph("a * 2", *values) == 2
    assert message in capsys.readouterr().err


def test_math_errors_and_bad_output_names(tmp_path, capsys):
    assert graph("log(a)", "a=-1") == 2
    assert "log needs a positive input" in capsys.readouterr().err
    assert graph("a*2", "a=1", "--out", str(tmp_path / "g.gif")) == 2
    assert "--out must end in" in capsys.readouterr().err


def test_unused_values_are_mentioned(capsys):
    assert graph("a * 2", "a=1", "z=5") == 0
    assert "z not used" in capsys.readouterr().err


def test_the_tinygrad_edu_command_runs_graph(tmp_path, capsys):
    from tinygrad_edu import cli

    if "graph" not in cli.build_parser().format_help():
        pytest.skip("the `graph` command is not wired into tinygrad_edu/cli.py yet")
    out = tmp_path / "g.svg"
    assert cli.main(["graph", "x**2 + y", "x=3", "y=1", "--out", str(out)]) == 0
    assert "dL/dx = 6.0" in capsys.readouterr().out
    assert out.read_text().rstrip().endswith("</svg>")


def test_a_formula_too_long_to_step_through_is_refused_but_still_drawn(tmp_path, capsys):
    formula = "+".join(f"x*{k}" for k in range(300))  # 599 ops: 1200 steps
    assert graph(formula, "x=0.5", "--steps", str(tmp_path / "s.html")) == 1
    assert "max_steps" in capsys.readouterr().err
    assert not (tmp_path / "s.html").exists()
    formula = "+".join(f"tanh(x*{k})" for k in range(60))
    assert graph(formula, "x=0.5", "--out", str(tmp_path / "g.svg")) == 0
    assert (tmp_path / "g.svg").exists()
