"""Render the conformance table (table.py) into README.md's "Supported PyTorch API" section.

    python tests/conformance/readme.py          # rewrite the README section
    python tests/conformance/readme.py --check  # exit 1 if it is out of date

Every row is a case of the table that test_conformance.py runs against torch, so the README
lists exactly what is checked, and how far (gradients, second derivatives, invalid inputs).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent.parent / "README.md"
START, END = "<!-- api:start -->", "<!-- api:end -->"
HEADING = "## Supported PyTorch API"


def load_table():
    sys.path.insert(0, str(HERE.parent.parent))
    spec = importlib.util.spec_from_file_location("conformance_table", HERE / "table.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _mark(flag: bool, case, part: str) -> str:
    if case.differs:
        return "differs"
    if part in case.known:
        return "pending"
    return "yes" if flag else ""


def render(cases) -> str:
    """One collapsible table per section: the names checked, and what is compared."""
    sections: dict[str, list] = {}
    for c in cases:
        sections.setdefault(c.section, []).append(c)
    n = len(cases)
    out = [
        "",
        f"{n} cases, each run on torch and on tinygrad_edu with hypothesis-drawn inputs by "
        "`tests/conformance/` (the table is `tests/conformance/table.py`; this section is "
        "rendered from it by `python tests/conformance/readme.py`). *values*: forward values "
        "and result dtypes in float64 and float32; *grad* and *2nd*: gradients and second "
        "derivatives; *raises*: both libraries refuse the same invalid input. *pending*: "
        "another open issue fixes that part (the reason is in the Notes column).",
        "",
    ]
    for name, cs in sections.items():
        out += [f"<details><summary><b>{name}</b> ({len(cs)})</summary>", "",
                "| API | values | grad | 2nd | raises | Notes |", "|---|---|---|---|---|---|"]
        for c in cs:
            api = ", ".join(f"`{x}`" for x in c.call_names())
            if c.kwargs:
                api += " (" + ", ".join(f"{k}={v!r}" for k, v in c.kwargs.items()) + ")"
            notes = "; ".join(dict.fromkeys([*c.known.values()] + ([c.differs] if c.differs
                                                                       else [])))
            out.append(f"| {api} | {_mark(True, c, 'forward')} | "
                       f"{_mark(c.grad, c, 'grad')} | {_mark(c.second, c, 'grad')} | "
                       f"{'yes' if c.invalid is not None else ''} | {notes} |")
        out += ["", "</details>", ""]
    return "\n".join(out)


def section(readme: str) -> str | None:
    """What stands between the markers now, or None if they are missing."""
    return _sections().between(readme, START, END)


def write(readme_path: Path = README) -> bool:
    """Rewrite the section from the table; True if the README changed."""
    return _sections().rewrite(readme_path, START, END, HEADING, render(load_table().CASES))


def _sections():
    spec = importlib.util.spec_from_file_location("readme_section",
                                                  HERE.parent / "readme_section.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        ok = section(README.read_text(encoding="utf-8")) == render(load_table().CASES)
        print("README API section is up to date" if ok else "README API section is out of "
              "date: run python tests/conformance/readme.py")
        return 0 if ok else 1
    changed = write()
    print(f"{'updated' if changed else 'already up to date:'} {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
