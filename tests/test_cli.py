"""The `tinygrad-edu` command and its main job, the demo."""

import shutil
import subprocess
import sys
from pathlib import Path

from tinygrad_edu.cli import main
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


def test_the_demo_mlp_learns_two_moons_to_at_least_95_percent(capsys):
    accuracy = run_demo(steps=60, seed=0)
    assert accuracy >= 0.95
    assert f"Final training accuracy: {accuracy:.0%}" in capsys.readouterr().out
