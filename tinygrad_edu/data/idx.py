"""The IDX file format of MNIST and Fashion-MNIST: a tiny header, then one big array.

    magic   0x00 0x00 <dtype code> <ndim>          4 bytes
    dims    ndim big-endian uint32 sizes            4 * ndim bytes
    data    prod(dims) values, big-endian, C order

`read_idx` trusts nothing in a file. It checks the magic, the dtype code, ndim and that the
data is exactly as long as the header says *before* it allocates the array, so a header that
claims 10**9 images in a 1 KB file is an error, not a 784 GB allocation. Gzipped files
(recognized by their first bytes, whatever the name) are checked too: a deflate stream cannot
expand more than about 1032 times, and the gzip CRC must match, so a truncated or corrupt
download is an error naming the file, never a garbage array.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ..atomic import atomic_write

__all__ = ["IDXError", "read_idx", "write_idx", "idx_digest", "IDX_DTYPES"]

# dtype code -> numpy dtype (big-endian, as stored)
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DEFLATE_RATIO = 1100  # deflate's true limit is ~1032:1; a little slack for headers
_MAX_NDIM = 32
_CHUNK = 1 << 20


class IDXError(ValueError):
    """A file is not a valid IDX file (bad header, wrong length, corrupt gzip)."""


def _fail(path, problem: str) -> IDXError:
    return IDXError(f"read_idx: {path}: {problem}")


def _read_exact(stream, n: int, path, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise _fail(path, f"file ends inside the {what} ({len(data)} of {n} bytes present)")
    return data


def _parse_header(stream, path) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, shape, header length in bytes), every field checked."""
    magic = _read_exact(stream, 4, path, "4-byte magic number")
    if magic[0] != 0 or magic[1] != 0:
        raise _fail(
            path,
            f"not an IDX file: the magic number must start with two zero bytes, "
            f"got {magic.hex(' ')}",
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({IDX_DTYPES[c].name})" for c in IDX_DTYPES)
        raise _fail(path, f"unknown IDX dtype code 0x{code:02X}; known codes: {known}")
    if not 1 <= ndim <= _MAX_NDIM:
        raise _fail(path, f"header says ndim={ndim}; an IDX array has 1 to {_MAX_NDIM} dims")
    dims = _read_exact(stream, 4 * ndim, path, f"header ({ndim} dimension sizes)")
    shape = tuple(int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
    return IDX_DTYPES[code], shape, 4 + 4 * ndim


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a native-endian numpy array.

    Raises `IDXError` (a ValueError) naming the file for anything that is not a whole, valid
    IDX file: bad magic, unknown dtype, a length that does not match the header, a truncated
    or corrupt gzip stream, trailing bytes.
    """
    path = Path(path)
    file_size = path.stat().st_size
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not gzipped:
            return _read_stream(raw, path, max_payload=file_size, exact=True)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(
                    stream, path, max_payload=_MAX_DEFLATE_RATIO * file_size, exact=False
                )
        except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
            raise _fail(path, f"corrupt or truncated gzip data ({type(e).__name__}: {e})") from e


def _read_stream(stream, path, max_payload: int, exact: bool) -> np.ndarray:
    dtype, shape, header_len = _parse_header(stream, path)
    expected = math.prod(shape) * dtype.itemsize  # Python ints: exact, however large
    claim = f"header says shape {shape} of {dtype.newbyteorder('=').name}"
    nonzero = math.prod(max(size, 1) for size in shape)
    if nonzero * dtype.itemsize > np.iinfo(np.intp).max:  # numpy refuses even if a dim is 0
        raise _fail(path, f"{claim}: no array can have that shape")
    if exact and header_len + expected != max_payload:
        raise _fail(
            path,
            f"{claim}, which needs {expected} data bytes, but the file has "
            f"{max_payload - header_len} bytes after the {header_len}-byte header",
        )
    if header_len + expected > max_payload:
        raise _fail(
            path,
            f"{claim}, which needs {expected} data bytes, more than a gzip file of "
            f"{max_payload // _MAX_DEFLATE_RATIO} bytes can hold",
        )
    buffer = np.empty(expected, dtype=np.uint8)
    view = memoryview(buffer)
    filled = 0
    while filled < expected:
        n = stream.readinto(view[filled : filled + _CHUNK])
        if not n:
            raise _fail(
                path,
                f"{claim}, which needs {expected} data bytes, but the data ends after "
                f"{filled} bytes (truncated file?)",
            )
        filled += n
    if stream.read(1):  # also makes gzip read its trailer and check the CRC
        raise _fail(path, f"{claim}, which needs {expected} data bytes, but more data follows them")
    return buffer.view(dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def _encode(array: np.ndarray, where: str) -> tuple[bytes, np.ndarray]:
    """The IDX header of `array` and its data as a contiguous big-endian array."""
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        known = ", ".join(dt.newbyteorder("=").name for dt in IDX_DTYPES.values())
        raise ValueError(f"{where}: IDX cannot store dtype {array.dtype}; use one of {known}")
    if not 1 <= array.ndim <= _MAX_NDIM:
        raise ValueError(f"{where}: IDX stores 1 to {_MAX_NDIM} dims, got shape {array.shape}")
    if any(size >= 2**32 for size in array.shape):
        raise ValueError(f"{where}: every dim must be < 2**32, got shape {array.shape}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    return header, np.ascontiguousarray(array, dtype=IDX_DTYPES[code])


def idx_digest(array, algorithm: str = "md5") -> str:
    """Checksum of `array` written as an uncompressed IDX file, without writing it.

    Equal to the md5 of the gunzipped file, so it identifies the data whatever the compression.
    """
    header, data = _encode(np.asarray(array), "idx_digest")
    h = hashlib.new(algorithm, usedforsecurity=False)  # an integrity check, not security
    h.update(header)
    h.update(memoryview(data.reshape(-1)).cast("B"))
    return h.hexdigest()


def write_idx(path: str | os.PathLike, array, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file (gzipped if `compress`, default: the name ends in .gz).

    The file appears whole or not at all (written to a temporary file, then renamed).
    """
    path = Path(path)
    header, data = _encode(np.asarray(array), "write_idx")
    payload = header + data.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    with atomic_write(path) as f:
        f.write(payload)
    return path
