"""`save` and `load` for state dicts: a plain `.npz` file, no pickle, written atomically.

    tinygrad_edu.save({"model": model.state_dict(), "optim": opt.state_dict()}, "ckpt.npz")
    ckpt = tinygrad_edu.load("ckpt.npz")
    model.load_state_dict(ckpt["model"])

The file holds one array per Tensor/ndarray in the object, plus a JSON description of the
nesting (dicts with str or int keys, lists, tuples, numbers, strings, None). Loading parses only
that JSON and numpy's array format with `allow_pickle=False`, so an untrusted file can fail to
load but cannot run code, and it allocates no more than `max_bytes` (1 GiB unless raised), a
bound checked against the sizes the file declares before any array is read.

Saving to a path goes through `atomic_write` (atomic.py): a crash leaves the old file or none,
never half a file, a dead writer's temporary file is removed by the next save or load of that
path, and a file saved over keeps its mode.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import zipfile
from typing import Any, BinaryIO

import numpy as np

from .atomic import atomic_write, remove_stale_temps

__all__ = ["save", "load", "MAX_BYTES"]

_MANIFEST = "__tinygrad_edu__"
_FORMAT, _VERSION = "tinygrad_edu.save", 1
_KINDS = "biuf"  # bool, int, uint, float arrays: what numpy stores without pickle
MAX_BYTES = 2**30  # load's default bound on the array bytes a file may declare (1 GiB)


def _is_tensor(x: Any) -> bool:
    return isinstance(getattr(x, "_data", None), np.ndarray) and hasattr(x, "requires_grad")


def _encode(obj: Any, where: str, arrays: dict[str, np.ndarray]) -> Any:
    """The JSON description of `obj`; arrays go into `arrays` and are referenced by name."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        try:
            str(obj)  # JSON writes ints as text; Python refuses very long ones (4300 digits)
        except ValueError:
            digits = int(int(obj).bit_length() * math.log10(2)) + 1
            raise ValueError(f"save: {where} is an integer of about {digits} digits, too long "
                             f"to store (Python writes at most {sys.get_int_max_str_digits()} "
                             "digits as text); store it as a string") from None
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else {"float": repr(x)}  # 'nan', 'inf', '-inf'
    if isinstance(obj, np.bool_):
        return bool(obj)
    if _is_tensor(obj) or isinstance(obj, np.ndarray):
        arr = np.asarray(obj._data if _is_tensor(obj) else obj)
        if arr.dtype.kind not in _KINDS:
            raise TypeError(f"save: {where} is an array of dtype {arr.dtype}; only bool, "
                            "integer and float arrays can be saved (no pickle)")
        name = f"a{len(arrays)}"
        arrays[name] = arr
        return {"tensor" if _is_tensor(obj) else "array": name}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: {where} has a key {k!r} of type {type(k).__name__}; "
                                "keys must be str or int")
            items.append([k, _encode(v, f"{where}[{k!r}]", arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, f"{where}[{i}]", arrays) for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    raise TypeError(
        f"save: {where} is a {type(obj).__name__}; save() stores state dicts: nested dicts, "
        "lists and tuples of Tensors, ndarrays, numbers, strings and None. Save "
        "model.state_dict() rather than the model."
    )


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Write a state dict (or any nesting of dicts/lists of Tensors, arrays, numbers) to `f`.

    `f` is a path (written atomically, see the module docstring; no '.npz' is appended; a
    symlink is written through) or a binary file object.
    """
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, "obj", arrays)
    manifest = json.dumps({"format": _FORMAT, "version": _VERSION, "tree": tree})
    arrays[_MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    with atomic_write(f) as out:
        np.savez(out, **arrays)


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], source: str) -> None:
        self.arrays, self.source, self.used = arrays, source, set()

    def bad(self, why: str) -> ValueError:
        return ValueError(f"load: {self.source} is not a valid tinygrad_edu file: {why}")

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise self.bad(f"unexpected entry {str(node)[:60]!r}")
        (kind, body), = node.items()
        if kind in ("array", "tensor"):
            if not isinstance(body, str) or body not in self.arrays or body in self.used:
                raise self.bad(f"it refers to a missing or reused array {body!r}")
            self.used.add(body)
            arr = self.arrays[body]
            if kind == "tensor":
                from .tensor import Tensor  # only when there are tensors to make

                return Tensor(arr)
            return arr
        if kind == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if kind in ("list", "tuple") and isinstance(body, list):
            items = [self.decode(v) for v in body]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(body, list):
            out = {}
            for pair in body:
                ok = isinstance(pair, list) and len(pair) == 2
                if not ok or not isinstance(pair[0], (str, int)) or isinstance(pair[0], bool):
                    raise self.bad(f"a malformed dict entry {str(pair)[:60]!r}")
                out[pair[0]] = self.decode(pair[1])
            return out
        raise self.bad(f"unknown entry kind {kind!r}")


_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")  # a zip (.npz) or a .npy file


def _head(f: str | os.PathLike | BinaryIO) -> bytes | None:
    """The first bytes of the file (the read position is kept), or None if it cannot seek."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read(6)
    try:
        pos = f.tell()
        head = f.read(6)
        f.seek(pos)
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return head


_DEFLATE_MAX_RATIO = 1100  # deflate cannot expand data more than ~1032 times


def _check_members(zf: zipfile.ZipFile, source: str, max_bytes: int | None) -> None:
    """Refuse members that are not plain .npy arrays of numbers, whose header claims more
    data than the member holds (numpy would allocate the claimed size before reading), or that
    declare more bytes in all than `max_bytes`. Only the headers are read (inflated)."""
    total = 0
    for info in zf.infolist():
        where = f"load: {source} is not a valid tinygrad_edu file: member {info.filename!r}"
        stored = info.compress_type == zipfile.ZIP_STORED
        if (stored and info.file_size != info.compress_size) or (
                info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 4096):
            raise ValueError(f"{where} claims {info.file_size} bytes but holds "
                             f"{info.compress_size}")
        with zf.open(info) as member:
            try:
                version = np.lib.format.read_magic(member)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f".npy format version {version}")
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member)
            except ValueError as err:
                raise ValueError(f"{where} is not a plain numpy array ({err})") from None
            if dtype.hasobject:
                raise ValueError(f"{where} holds Python objects (dtype {dtype}): it needs "
                                 "pickle to read, which load() refuses")
            if dtype.kind not in _KINDS or dtype.fields is not None:
                raise ValueError(f"{where} has dtype {dtype}; only bool, integer and float "
                                 "arrays are read")
            claimed = math.prod(shape) * dtype.itemsize
            held = info.file_size - member.tell()
            if claimed != held:
                raise ValueError(f"{where} has a header claiming shape {shape} of {dtype} "
                                 f"({claimed} bytes), but holds {held} bytes of data")
            total += claimed
            if max_bytes is not None and total > max_bytes:
                raise ValueError(
                    f"load: {source}: member {info.filename!r} declares shape {shape} of "
                    f"{dtype} ({claimed:,} bytes), {total:,} bytes of arrays so far, over the "
                    f"limit max_bytes={max_bytes:,}. If you trust the file and have the "
                    "memory, raise it: load(f, max_bytes=...) (None: no limit)")


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, weights_only: bool | None
         = True, *, max_bytes: int | None = MAX_BYTES) -> Any:
    """Read what `save` wrote. Never unpickles: only numbers, strings and plain arrays.

    PyTorch's signature: `map_location` is accepted and ignored (everything loads on the CPU,
    the only device), and `weights_only` too: loading never runs code from the file, whatever
    its value. `max_bytes` bounds the memory: a file declaring more array bytes than that is
    refused before they are read (None: no limit).
    """
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int)
                                  or max_bytes < 0):
        raise ValueError(f"load: max_bytes must be a non-negative int or None, got "
                         f"{max_bytes!r}")
    source = repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the file object"
    if isinstance(f, (str, os.PathLike)):
        remove_stale_temps(f)
    head = _head(f)
    if head is not None and not head.startswith(_MAGICS):
        what = "it is empty" if not head else f"it starts with {head!r}"
        raise ValueError(f"load: {source} is not an .npz file ({what}); load() reads files "
                         "written by tinygrad_edu.save")
    try:
        npz = np.load(f, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError(f"load: {source} is a single .npy array, not a saved state "
                             "dict; use numpy.load for plain arrays")
        with npz:
            names = set(npz.files)
            if _MANIFEST not in names:
                raise ValueError(f"load: {source} was not written by tinygrad_edu.save "
                                 f"(no {_MANIFEST} entry)")
            _check_members(npz.zip, source, max_bytes)  # before numpy allocates anything
            arrays = {name: npz[name] for name in names}
    except (zipfile.BadZipFile, EOFError, OSError, io.UnsupportedOperation,
            NotImplementedError) as err:  # zipfile: a damaged method field or flag bits
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"load: {source} is truncated or not an .npz file ({err})") from None
    except ValueError as err:
        if str(err).startswith("load:"):
            raise
        raise ValueError(f"load: {source} holds data that needs pickle to read, which "
                         f"load() refuses, or is corrupt ({err})") from None
    manifest_bytes = arrays.pop(_MANIFEST)
    decoder = _Decoder(arrays, source)
    if manifest_bytes.dtype != np.uint8 or manifest_bytes.ndim != 1:
        raise decoder.bad("its description is not a byte string")
    try:
        manifest = json.loads(manifest_bytes.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as err:  # also: an int longer than Python converts
        raise decoder.bad(f"its description cannot be read as JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise decoder.bad("its description has the wrong format tag")
    if manifest.get("version") != _VERSION:
        raise decoder.bad(f"version {manifest.get('version')!r}; this library reads "
                          f"version {_VERSION}")
    for name, arr in arrays.items():
        if arr.dtype.kind not in _KINDS:
            raise decoder.bad(f"member {name!r} has dtype {arr.dtype}")
    try:
        obj = decoder.decode(manifest.get("tree"))
    except RecursionError:
        raise decoder.bad("it is nested too deeply") from None
    extra = sorted(set(arrays) - decoder.used)
    if extra:
        raise decoder.bad(f"unexpected members {extra[:5]}")
    return obj
