"""The `tinygrad-edu` command and its main job, the demo."""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu.cli import build_parser, main
from tinygrad_edu.demo import run_demo


def test_help_is_available_as_a_module_and_as_a_console_script():
    out = subprocess.run([sys.executable, "-m", "tinygrad_edu", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "demo" in out and "usage: tinygrad-edu" in out
    script = shutil.which("tinygrad-edu", path=str(Path(sys.executable).parent))
    assert script, "the console script is installed by `pip install -e .`"
    assert "demo" in subprocess.run([script, "--help"], capture_output=True, text=True,
                                    check=True).stdout


def test_no_command_prints_help_and_succeeds(capsys):
    assert main([]) == 0
    assert "COMMAND" in capsys.readouterr().out


def test_the_demo_trains_both_engines_and_writes_what_it_promises(tmp_path, capsys):
    result = run_demo(steps=50, seed=0, out=tmp_path / "out")
    assert result.scalar_accuracy >= 0.95  # the scalar MLP learns two-moons
    assert result.tensor_accuracy >= 0.95  # the Tensor MLP learns two spirals
    assert result.scalar_losses[-1] < result.scalar_losses[0] / 10
    files = result.files
    assert files["neuron graph"].read_text().lstrip().startswith("<?xml")
    assert "<svg" in files["neuron graph"].read_text()
    player = files["neuron player"].read_text()
    assert "<script" in player and "http://" not in player.replace("http://www.w3.org", "")
    for plot in ("decision boundaries", "loss curves"):
        assert files[plot].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "sigmoid(2*0.5 + 3*(-0.3) + 0.1) = 0.5498" in printed
    assert f"Scalar MLP training accuracy: {result.scalar_accuracy:.0%}" in printed
    assert "Open next:" in printed and str(files["neuron player"]) in printed


def _subcommands():
    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


def test_every_command_describes_itself_and_every_option():
    commands = _subcommands()
    assert set(commands) == {"demo", "graph", "train", "sample"}
    for name, parser in commands.items():
        assert parser.description and len(parser.description) > 60, name
        helped = [a for a in parser._actions if a.dest != "help"]
        assert helped, name
        for action in helped:
            assert action.help and len(action.help) > 10, (name, action.dest)
        text = parser.format_help()
        assert parser.description.split()[0] in text, name


def test_the_demo_refuses_a_negative_number_of_steps(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--steps", "-1"])
    assert info.value.code == 2
    assert "--steps: expected a positive integer, got -1" in capsys.readouterr().err
