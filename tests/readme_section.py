"""A README section kept between two markers, rewritten from a table (shared by the errors
catalogue and the conformance table's renderers)."""

from __future__ import annotations

from pathlib import Path


def between(readme: str, start: str, end: str) -> str | None:
    """What stands between the markers now, or None if they are missing."""
    if start not in readme or end not in readme:
        return None
    return readme.split(start, 1)[1].split(end, 1)[0]


def rewrite(path: Path, start: str, end: str, heading: str, body: str) -> bool:
    """Put `body` between the markers (adding heading and markers at the end if missing);
    True if the file changed."""
    readme = path.read_text(encoding="utf-8")
    if between(readme, start, end) is None:
        readme = readme.rstrip("\n") + f"\n\n{heading}\n\n{start}\n{end}\n"
    before, rest = readme.split(start, 1)
    new = f"{before}{start}{body}{end}{rest.split(end, 1)[1]}"
    if new != path.read_text(encoding="utf-8"):
        path.write_text(new, encoding="utf-8")
        return True
    return False
