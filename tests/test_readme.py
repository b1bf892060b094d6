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


def test_every_relative_link_of_the_readme_exists():
    links = re.findall(r"\]\(([^)#\s]+)\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert "LICENSE" in local
    missing = [link for link in local if not (README.parent / link).exists()]
    assert not missing, missing


def test_one_license_file_at_the_root_is_the_one_packaging_ships():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]
    assert project["license-files"] == ["LICENSE"] and project["license"] == "MIT"
    text = (README.parent / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted" in text
    assert sorted(p.name for p in README.parent.glob("**/LICENSE*") if ".venv" not in p.parts
                  and ".git" not in p.parts) == ["LICENSE"]
