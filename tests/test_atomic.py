"""atomic_write: the new content appears whole or not at all, with the mode of the file it
replaces (or open()'s), and no temporary file outlives its writer. save() and the IDX and
download writers all go through it (their own tests: test_serialization.py, tests/data/)."""

import os

import numpy as np
import pytest

from tinygrad_edu.atomic import TEMP_SUFFIX, atomic_write, remove_stale_temps
from tinygrad_edu.data import write_idx


def test_the_content_replaces_the_file_only_when_the_block_succeeds(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="midway"):
        with atomic_write(path) as out:
            out.write(b"half of the new")
            raise RuntimeError("midway")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]
    with atomic_write(path) as out:
        out.write(b"new")
        assert path.read_bytes() == b"old"  # not before the block ends
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["f.bin"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755], ids=oct)
def test_the_mode_of_the_replaced_file_is_kept(tmp_path, mode):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    path.chmod(mode)
    with atomic_write(path) as out:
        out.write(b"new")
    assert path.stat().st_mode & 0o7777 == mode


def test_write_idx_files_get_the_mode_open_gives_them(tmp_path):
    """Found beside save(): write_idx made its files private (0600) through mkstemp."""
    old = os.umask(0o022)
    try:
        write_idx(tmp_path / "labels-idx1-ubyte", np.arange(3, dtype=np.uint8))
    finally:
        os.umask(old)
    assert (tmp_path / "labels-idx1-ubyte").stat().st_mode & 0o777 == 0o644


def test_only_temporary_files_of_dead_writers_of_that_path_are_removed(tmp_path):
    path = tmp_path / "f.bin"
    from tinygrad_edu.atomic import _host

    def temp(target: str, pid: int, host: str = _host()):
        p = tmp_path / f".{target}.{host}-{pid}-0123abcd{TEMP_SUFFIX}"
        p.write_bytes(b"x")
        return p

    dead = temp("f.bin", 2**22 + 12345)  # above the usual pid_max: no such process
    alive = temp("f.bin", os.getppid())
    other_host = temp("f.bin", 2**22 + 12345, host="elsewhere")
    other_file = temp("g.bin", 2**22 + 12345)
    remove_stale_temps(path)
    assert not dead.exists()
    assert alive.exists() and other_host.exists() and other_file.exists()
