"""Progress: a bar in a terminal, a few lines in a log, nothing when quiet."""

import io
import sys

from tinygrad_edu import progress as pg


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_file_gets_a_few_lines_not_a_bar_per_step(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a file or a pipe, not a terminal
    bar = pg.progress(range(1000), desc="epoch 1/1")
    for i in bar:
        bar.set_postfix(loss=f"{1 / (i + 1):.3f}")
    lines = sys.stderr.getvalue().splitlines()
    assert 1 <= len(lines) <= pg.LOG_LINES and "\r" not in sys.stderr.getvalue()
    assert lines[-1] == "epoch 1/1 1000/1000 loss=0.001"


def test_quiet_prints_nothing(monkeypatch):
    for stream in (io.StringIO(), Terminal()):
        monkeypatch.setattr(sys, "stderr", stream)
        bar = pg.progress(range(50), desc="x", quiet=True)
        assert list(bar) == list(range(50))
        bar.set_postfix(loss="1")
        assert stream.getvalue() == ""


def test_a_terminal_gets_a_live_bar(monkeypatch):
    import pytest

    tqdm = pytest.importorskip("tqdm")
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = pg.progress(range(3), desc="x")
    assert isinstance(bar, tqdm.tqdm)
    list(bar)


def test_the_cli_has_quiet_for_demo_and_train():
    from tinygrad_edu import cli

    parser = cli.build_parser()
    assert parser.parse_args(["demo", "--quiet"]).quiet is True
    assert parser.parse_args(["train", "--quiet"]).no_progress is True
