"""Write a file so that it appears whole or not at all, keeping the mode of the file it replaces.

    with atomic_write("ckpt.npz") as out:
        out.write(data)

The data goes to a temporary file in the target's folder, named
`.<name>.<host>-<pid>-<random>.tinygrad_edu-tmp`; it is flushed to disk and renamed over the
target, so a crash at any moment leaves the old file (or none), never half a file. A symlink is
written through (the file it points to is replaced). The new file keeps the mode of the file
it replaces (a 0600 checkpoint stays 0600); a new file gets the mode `open()` would give it, the
kernel applying the umask, which is never read or changed (changing it, even for a moment,
changes the mode of files other threads create meanwhile).

A writer killed mid-write (kill -9, out of memory) cannot remove its temporary file; the next
`atomic_write` of the same path, or `remove_stale_temps(path)` (which `load` calls), removes the
temporary files of writers that are gone: same host, process no longer running.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "remove_stale_temps"]

TEMP_SUFFIX = ".tinygrad_edu-tmp"


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write `path`'s new content into; it replaces `path` when the block
    ends without an exception, and is deleted if one is raised."""
    target = Path(os.path.realpath(path))
    remove_stale_temps(target)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    tmp = target.with_name(f".{target.name}.{_host()}-{os.getpid()}-{secrets.token_hex(4)}"
                           f"{TEMP_SUFFIX}")
    # a new file: 0o666 less the umask, as open() gives it; the file it replaces: its mode,
    # set while the temporary file is still empty and private
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            if mode is not None:
                os.chmod(out.fileno() if os.chmod in os.supports_fd else tmp, mode)
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def remove_stale_temps(path: str | os.PathLike) -> None:
    """Delete the temporary files that writes of `path` on this host left when their process
    died mid-write (a live writer's file, or another host's, is left alone)."""
    if os.name != "posix":  # no safe "is this process alive?" check there; leave them
        return
    target = Path(os.path.realpath(path))
    start = f".{target.name}.{_host()}-"
    try:
        names = [n for n in os.listdir(target.parent)
                 if n.startswith(start) and n.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for name in names:
        pid, _, token = name[len(start):-len(TEMP_SUFFIX)].partition("-")
        if pid.isdigit() and len(token) == 8 and not _alive(int(pid)):
            (target.parent / name).unlink(missing_ok=True)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9._]", "_", socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of ours may be writing right now
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); elsewhere the rename is all we can do."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
