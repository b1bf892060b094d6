"""Progress for training loops: a tqdm bar in a terminal or a notebook, a few plain lines
when the output is a log file or a pipe (a bar's redraws would flood it), nothing when quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["progress"]

T = TypeVar("T")


class _Lines:
    """The fallback: a line every `every` items, with whatever `set_postfix` last said."""

    def __init__(self, items: Iterable[T], desc: str, total: int | None, every: int) -> None:
        self.items, self.desc, self.total, self.every = items, desc, total, every
        self.postfix: dict[str, Any] = {}

    def __iter__(self) -> Iterator[T]:
        i = 0
        for i, item in enumerate(self.items, 1):
            yield item
            if i % self.every == 0 or i == self.total:
                self._print(i)

    def set_postfix(self, **values: Any) -> None:
        self.postfix = values

    def _print(self, i: int) -> None:
        of = f"/{self.total}" if self.total else ""
        extra = " ".join(f"{k}={v}" for k, v in self.postfix.items())
        print(f"{self.desc} {i}{of} {extra}".rstrip(), file=sys.stderr, flush=True)


class _Quiet(_Lines):
    """No output at all (`--quiet`), with the same `set_postfix`."""

    def _print(self, i: int) -> None:
        pass


LOG_LINES = 10  # at most about this many lines per loop when the output is not a terminal


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def progress(items: Iterable[T], desc: str = "", total: int | None = None, every: int = 10,
             *, quiet: bool = False) -> Any:
    """Wrap an iterable with a progress bar; `.set_postfix(loss=...)` shows live figures.

    A bar in a terminal or a notebook; when stderr is a file or a pipe, a plain line every
    `every` items but no more than about LOG_LINES in all; with `quiet`, nothing.
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if quiet:
        return _Quiet(items, desc, total, every)
    if not _in_notebook() and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return _Lines(items, desc, total, max(every, -(-(total or 0) // LOG_LINES)))
    try:
        import ipywidgets  # noqa: F401  (tqdm.auto's notebook bar needs it)
        from tqdm.auto import tqdm
    except ImportError:  # a terminal bar, or plain lines without tqdm
        try:
            from tqdm import tqdm
        except ImportError:
            return _Lines(items, desc, total, every)
    return tqdm(items, desc=desc, total=total, leave=True, dynamic_ncols=True)
