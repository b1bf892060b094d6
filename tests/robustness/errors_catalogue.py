"""Render the table of deliberate errors (test_errors.py) into README.md.

    python tests/robustness/errors_catalogue.py          # rewrite the README section
    python tests/robustness/errors_catalogue.py --check  # exit 1 if it is out of date

Each row's message is the one the library really raises today: the trigger is run and its
message shown (first line, shortened), so the README cannot drift from the code.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent.parent / "README.md"
START, END = "<!-- errors:start -->", "<!-- errors:end -->"
HEADING = "## Errors you may meet"
MAX_MESSAGE = 180


def _cases_module():
    sys.path.insert(0, str(HERE.parent.parent))
    spec = importlib.util.spec_from_file_location("robustness_test_errors", HERE / "test_errors.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def message_of(case, files: Path) -> str:
    """The message the case's trigger raises now, on one line, with the temp folder as <dir>."""
    try:
        case.trigger({})
    except BaseException as err:  # noqa: BLE001 - we show whatever it raised
        text = str(err)
    else:
        return "(no error raised!)"
    text = text.replace(str(files), "<dir>")
    lines = text.splitlines() or [""]
    first = lines[0]
    errors = [line for line in lines if "error:" in line and "usage:" not in line]
    if first.startswith(("exit status 2: usage:", "usage:")) and errors:
        first = errors[-1]  # argparse: the usage lines, then the error that matters
    elif len(lines) >= 3 and lines[2].strip() and set(lines[2].strip()) == {"^"}:
        formula, caret = lines[1][2:], lines[2][2:]  # a formula and a caret under a part
        start = len(caret) - len(caret.lstrip())
        first += f" (the caret marks `{formula[start:len(caret)] or ' '}` in `{formula}`)"
    elif len(lines) > 1 and first.rstrip().endswith(":"):
        first = " ".join(text.split())  # a heading line: keep what follows it
    first = _cell(first)
    return first if len(first) <= MAX_MESSAGE else first[:MAX_MESSAGE - 3].rstrip() + "..."


def render(cases, files: Path) -> str:
    """The markdown table (without the markers); `files` is the folder the cases write in."""
    lines = [
        "",
        f"Every error the library raises on purpose, made by the {len(cases)} cases of "
        "`tests/robustness/test_errors.py` (each is a test of the type and the message). CLI "
        "rows show the exit status and what the command prints on stderr.",
        "",
        "| Area | Situation | Exception | Message (as raised) | What to do |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in cases:
        exc = "exit status 2" if c.exc.__name__ == "ExitStatus" else f"`{c.exc.__name__}`"
        msg = message_of(c, files)
        if c.exc.__name__ == "ExitStatus":
            msg = msg.removeprefix("exit status 2: ")
        lines.append(f"| {c.area} | {_cell(c.situation)} | {exc} | {msg} | {_cell(c.todo)} |")
    return "\n".join(lines) + "\n"


def section(readme: str) -> str | None:
    """What stands between the markers now, or None if they are missing."""
    return _sections().between(readme, START, END)


def write(readme_path: Path = README) -> bool:
    """Rewrite the section (adding heading and markers at the end if missing); True if changed."""
    module = _cases_module()
    table = render(module.CASES, module.FILES)
    return _sections().rewrite(readme_path, START, END, HEADING, table)


def _sections():
    spec = importlib.util.spec_from_file_location("readme_section",
                                                  HERE.parent / "readme_section.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        module = _cases_module()
        current = section(README.read_text(encoding="utf-8"))
        ok = current == render(module.CASES, module.FILES)
        print("README errors section is up to date" if ok else "README errors section is out "
              "of date: run python tests/robustness/errors_catalogue.py")
        return 0 if ok else 1
    changed = write()
    print(f"{'updated' if changed else 'already up to date:'} {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
