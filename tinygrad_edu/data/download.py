"""Download a file and prove it is the right one: checksum, temporary name, then rename.

    download_url("https://.../t10k-labels-idx1-ubyte.gz", "data/t10k-labels-idx1-ubyte.gz",
                 md5="ec29112dd5afa0611ce80d1b7f02629c")

The bytes go to a temporary file beside the destination while their checksum is computed; only
a complete file with the expected checksum is renamed into place. A dropped connection or a
wrong file never leaves a partial or wrong file under the final name.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from urllib.request import urlopen

from ..atomic import atomic_write

__all__ = ["ChecksumError", "DownloadError", "download_url", "file_digest"]

_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's checksum is not the expected one: it is corrupt, partial or a different file."""


class DownloadError(OSError):
    """No mirror delivered the file."""


def file_digest(path: str | os.PathLike, algorithm: str = "md5") -> str:
    """Hex digest of a file's bytes, read in chunks (`algorithm`: md5, sha256, ...)."""
    h = hashlib.new(algorithm, usedforsecurity=False)  # an integrity check, not security
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def download_url(
    url: str,
    path: str | os.PathLike,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    opener: Callable = urlopen,
    timeout: float = 60.0,
    max_bytes: int = 1 << 32,
) -> Path:
    """Fetch `url` into `path`, checking the md5 and/or sha256 given; return `path`.

    `opener(url, timeout=...)` returns a readable response (urllib's `urlopen` by default;
    tests pass their own, or use file:// URLs). Raises `ChecksumError` naming the file and
    both checksums when the bytes are not the expected ones; the wrong file is deleted.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wanted = {name: want for name, want in (("md5", md5), ("sha256", sha256)) if want}
    digests = {name: hashlib.new(name, usedforsecurity=False) for name in wanted}
    with atomic_write(path) as out, opener(url, timeout=timeout) as response:
        size = 0
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise DownloadError(
                    f"download_url: {url} sent more than {max_bytes} bytes for {path.name}; "
                    "stopped (wrong URL?)"
                )
            out.write(chunk)
            for h in digests.values():
                h.update(chunk)
        for name, want in wanted.items():
            if digests[name].hexdigest() != want.lower():
                raise ChecksumError(
                    f"download_url: {path.name} from {url} has {name} "
                    f"{digests[name].hexdigest()}, expected {want.lower()}; "
                    "the download is corrupt or the mirror serves a different file"
                )
    return path
