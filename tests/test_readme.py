"""Every Python example in the README runs as printed, and the set-up commands stay two."""

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec"), namespace)
    for name, value in namespace.items():  # a hypothesis property in an example: run it
        if name.startswith("test_") and callable(value):
            value()


def test_the_readme_has_exactly_two_set_up_commands_and_ci_runs_the_second():
    commands = re.search(r"## Two commands\n(.*?)\n## ", README.read_text(), flags=re.S).group(1)
    lines = [ln for ln in re.findall(r"```sh\n(.*?)```", commands, flags=re.S)[0].splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 2
    ci = (README.parent / ".ci" / "run").read_text()
    assert lines[1] in ci.splitlines()
    assert os.access(README.parent / ".ci" / "run", os.X_OK)
