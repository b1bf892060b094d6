"""Fuzzing what the library reads from disk: `load`, `load_state_dict` and the dataset readers.

Damaged, hostile or merely foreign files must give a clear error that names the file (a
ValueError whose message starts with 'load:'), or load exactly what was saved: never another
exception, a hang, a huge allocation or code running. The IDX reader itself is fuzzed in
tests/data/test_idx.py; here, the dataset classes on top of it.

    FUZZ_EXAMPLES=2000 pytest tests/robustness/test_fuzz_files.py     # a longer run
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.data import MNIST, ChecksumError, FashionMNIST, IDXError

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
SECONDS = 2.0  # a load of a file of a few KB that takes longer than this is a hang


# ---- valid files, then damage -------------------------------------------------------------------

dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_, np.float16])
arrays = dtypes.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3,
                                                                   max_side=4)))
leaves = arrays | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=5) | st.none()
trees = st.dictionaries(st.text("abc.", min_size=1, max_size=4), leaves | st.lists(leaves,
                                                                                   max_size=3),
                        max_size=4)


def saved(obj) -> bytes:
    buf = io.BytesIO()
    tg.save(obj, buf)
    return buf.getvalue()


def content_size(path: Path) -> int:
    """The file's size, or what its zip members hold once inflated, whichever is larger.
    (Deflate legitimately inflates up to ~1000x: the fair base for a memory limit.)"""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as z:
            inflated = sum(min(i.file_size, 1100 * i.compress_size + 4096) for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return size
    return max(size, inflated)


def load_checked(path: Path):
    """Load with a time limit and an allocation limit; errors must be load's own ValueErrors."""
    size = content_size(path)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        return tg.load(path)
    except ValueError as err:
        assert str(err).startswith("load: ") and path.name in str(err), str(err)
        return err
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < SECONDS, f"load took {elapsed:.1f} s on a {size}-byte file"
        assert peak < 64 * size + 2**20, f"load allocated {peak} bytes for a {size}-byte file"


def same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return a == b or (a != a and b != b)


@FUZZ
@given(obj=trees, data=st.data())
def test_round_trip_then_truncation_at_any_byte(tmp_path, obj, data):
    blob = saved(obj)
    path = tmp_path / "ckpt.npz"
    path.write_bytes(blob)
    assert same(load_checked(path), obj)
    cut = data.draw(st.integers(0, len(blob) - 1))
    path.write_bytes(blob[:cut])
    assert isinstance(load_checked(path), ValueError)


@FUZZ
@given(obj=trees, data=st.data())
def test_bit_flips_give_the_saved_object_or_an_error(tmp_path, obj, data):
    blob = bytearray(saved(obj))
    for _ in range(data.draw(st.integers(1, 8))):
        bit = data.draw(st.integers(0, 8 * len(blob) - 1))
        blob[bit // 8] ^= 1 << (bit % 8)
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(blob))
    result = load_checked(path)
    # zip checksums every member, so a flip is either caught or lands where it changes nothing
    assert isinstance(result, ValueError) or same(result, obj)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_are_refused(tmp_path, data):
    path = tmp_path / "random.npz"
    path.write_bytes(data)
    assert isinstance(load_checked(path), ValueError)


# ---- hostile members -----------------------------------------------------------------------------


def npy(array: np.ndarray, header: dict | None = None) -> bytes:
    buf = io.BytesIO()
    if header is None:
        np.lib.format.write_array(buf, array, allow_pickle=True)
    else:
        np.lib.format.write_array_header_1_0(buf, header)
        buf.write(array.tobytes())
    return buf.getvalue()


def npz(members: dict[str, bytes], compress: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def manifest(tree) -> bytes:
    text = json.dumps({"format": "tinygrad_edu.save", "version": 1, "tree": tree})
    return npy(np.frombuffer(text.encode(), np.uint8))


class Boom:
    """Unpickling this would run code: load() must never get that far."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/tinygrad_edu_pwned",))


HOSTILE = {
    "object array (pickle)": lambda: {"__tinygrad_edu__.npy": manifest({"array": "a0"}),
                                      "a0.npy": npy(np.array([Boom()], dtype=object))},
    "pickled manifest": lambda: {"__tinygrad_edu__.npy": npy(np.array([Boom()], dtype=object))},
    "complex dtype": lambda: {"__tinygrad_edu__.npy": manifest({"array": "a0"}),
                              "a0.npy": npy(np.ones(2, np.complex128))},
    "string dtype": lambda: {"__tinygrad_edu__.npy": manifest({"array": "a0"}),
                             "a0.npy": npy(np.array(["ab", "c"]))},
    "datetime dtype": lambda: {"__tinygrad_edu__.npy": manifest({"array": "a0"}),
                               "a0.npy": npy(np.array(["2020-01-01"], "datetime64[D]"))},
    "structured dtype": lambda: {"__tinygrad_edu__.npy": manifest({"array": "a0"}),
                                 "a0.npy": npy(np.zeros(2, [("x", "f8"), ("y", "i4")]))},
    "extra member": lambda: {"__tinygrad_edu__.npy": manifest({"list": []}),
                             "a0.npy": npy(np.ones(3))},
    "missing member": lambda: {"__tinygrad_edu__.npy": manifest({"array": "a7"})},
    "member used twice": lambda: {"__tinygrad_edu__.npy": manifest({"list": [{"array": "a0"},
                                                                            {"array": "a0"}]}),
                                  "a0.npy": npy(np.ones(3))},
    "member that is not npy": lambda: {"__tinygrad_edu__.npy": manifest({"list": []}),
                                       "notes.txt": b"hello"},
    "manifest that is not npy": lambda: {"__tinygrad_edu__.npy": b"not an array at all"},
    "manifest not JSON": lambda: {"__tinygrad_edu__.npy": npy(np.frombuffer(b"{oops", np.uint8))},
    "manifest float64": lambda: {"__tinygrad_edu__.npy": npy(np.ones(4))},
    "manifest wrong format": lambda: {"__tinygrad_edu__.npy": npy(np.frombuffer(
        json.dumps({"format": "other", "version": 1, "tree": None}).encode(), np.uint8))},
    "manifest newer version": lambda: {"__tinygrad_edu__.npy": npy(np.frombuffer(
        json.dumps({"format": "tinygrad_edu.save", "version": 99, "tree": None}).encode(),
        np.uint8))},
    "manifest nested 100k deep": lambda: {"__tinygrad_edu__.npy": npy(np.frombuffer(
        (b'{"format": "tinygrad_edu.save", "version": 1, "tree": ' + b'{"list": [' * 100_000
         + b"]}" * 100_000 + b"}"), np.uint8))},
    "manifest with a 100000-digit int": lambda: {"__tinygrad_edu__.npy": npy(np.frombuffer(
        b'{"format": "tinygrad_edu.save", "version": 1, "tree": ' + b"7" * 100_000 + b"}",
        np.uint8))},
    "manifest with a 100000-digit key": lambda: {"__tinygrad_edu__.npy": npy(np.frombuffer(
        b'{"format": "tinygrad_edu.save", "version": 1, "tree": {"dict": [[' + b"7" * 100_000
        + b", 1]]}}", np.uint8))},
    "manifest unknown kind": lambda: {"__tinygrad_edu__.npy": manifest({"eval": "1+1"})},
    "header claims 10**12 floats": lambda: {
        "__tinygrad_edu__.npy": manifest({"array": "a0"}),
        "a0.npy": npy(np.ones(3), {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})},
    "header claims 10**8 bytes": lambda: {
        "__tinygrad_edu__.npy": manifest({"array": "a0"}),
        "a0.npy": npy(np.ones(3), {"descr": "|u1", "fortran_order": False, "shape": (10**8,)})},
    "header claims fewer elements": lambda: {
        "__tinygrad_edu__.npy": manifest({"array": "a0"}),
        "a0.npy": npy(np.ones(8), {"descr": "<f8", "fortran_order": False, "shape": (2,)})},
    "no manifest": lambda: {"a0.npy": npy(np.ones(3))},
    "empty zip": lambda: {},
}


@pytest.mark.parametrize("compress", [False, True], ids=["stored", "deflated"])
@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_refused_by_name(tmp_path, kind, compress):
    marker = Path("/tmp/tinygrad_edu_pwned")
    marker.unlink(missing_ok=True)
    path = tmp_path / "hostile.npz"
    path.write_bytes(npz(HOSTILE[kind](), compress))
    result = load_checked(path)
    assert isinstance(result, ValueError), result
    assert not marker.exists(), "loading ran code from the file"


def test_a_zip_member_lying_about_its_size_is_refused(tmp_path):
    """The central directory says 10**9 bytes for a member that holds a few: refused early."""
    blob = bytearray(npz({"__tinygrad_edu__.npy": manifest({"list": []})}))
    for sig in (b"PK\x01\x02", b"PK\x03\x04"):  # the size field in both headers
        at = blob.find(sig)
        off = at + (24 if sig == b"PK\x01\x02" else 22)
        blob[off:off + 4] = struct.pack("<I", 10**9)
    path = tmp_path / "liar.npz"
    path.write_bytes(bytes(blob))
    assert isinstance(load_checked(path), ValueError)


@pytest.mark.parametrize("field, value", [("method", 99), ("flags", 1 << 6), ("flags", 1 << 5)],
                         ids=["unknown-compression", "strong-encryption", "patched-data"])
def test_zip_features_python_cannot_read_are_a_clear_error(tmp_path, field, value):
    """Found by the bit-flip fuzzer: zipfile raises NotImplementedError for these."""
    blob = bytearray(saved({"w": np.ones(3)}))
    for sig, offsets in ((b"PK\x03\x04", {"flags": 6, "method": 8}),
                         (b"PK\x01\x02", {"flags": 8, "method": 10})):
        at = blob.find(sig)
        while at != -1:
            off = at + offsets[field]
            blob[off:off + 2] = struct.pack("<H", value)
            at = blob.find(sig, at + 1)
    path = tmp_path / "odd.npz"
    path.write_bytes(bytes(blob))
    assert isinstance(load_checked(path), ValueError)


def test_a_checker_that_can_fail():
    """load_checked itself notices a foreign exception type (so its silence means something)."""
    with pytest.raises(AssertionError):
        try:
            raise ValueError("numpy said something")
        except ValueError as err:
            assert str(err).startswith("load: "), str(err)


# ---- load_state_dict with whatever a file might hold ---------------------------------------------


def model() -> nn.Module:
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


KEYS = ["0.weight", "0.bias", "2.weight", "2.bias"]
entries = (arrays | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=3)
           | st.none() | st.lists(st.floats(-1, 1), max_size=3)
           | hnp.arrays(np.complex64, (2,)) | st.just(np.array(["x"], dtype=object)))


@FUZZ
@given(sd=st.dictionaries(st.sampled_from(KEYS + ["extra", "0.weight.x", "", "bias"]), entries,
                          max_size=6), strict=st.booleans())
def test_load_state_dict_loads_all_or_nothing(sd, strict):
    m = model()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    try:
        m.load_state_dict(sd, strict=strict)
    except (RuntimeError, TypeError) as err:
        assert "load" in str(err) or "expected" in str(err), str(err)
        for k, v in m.state_dict().items():  # nothing was written
            np.testing.assert_array_equal(v.numpy(), before[k])
        return
    for k, v in m.state_dict().items():  # it loaded: each key took the given value, or none
        if k in sd:
            np.testing.assert_array_equal(v.numpy(), np.asarray(sd[k]).astype(v.numpy().dtype))
        else:
            assert not strict
            np.testing.assert_array_equal(v.numpy(), before[k])
    assert m(tg.ones(1, 3)).shape == (1, 2)


@FUZZ
@given(obj=trees)
def test_a_loaded_file_of_another_model_never_half_loads(tmp_path, obj):
    path = tmp_path / "other.npz"
    tg.save(obj, path)
    m = model()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    with pytest.raises((RuntimeError, TypeError)):
        m.load_state_dict(tg.load(path))  # keys from `trees` never match the model's
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


# ---- the dataset readers -------------------------------------------------------------------------

REAL = Path("/usr/share/datasets/fashion-mnist")
LABELS = "t10k-labels-idx1-ubyte.gz"
IMAGES = "t10k-images-idx3-ubyte.gz"


def fashion_root(tmp_path: Path, labels: bytes) -> Path:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    shutil.copyfile(REAL / IMAGES, root / IMAGES)
    (root / LABELS).write_bytes(labels)
    return root


@pytest.fixture(scope="module")
def real_labels() -> bytes:
    if not (REAL / LABELS).exists():
        pytest.skip("Fashion-MNIST is not installed in /usr/share/datasets")
    return (REAL / LABELS).read_bytes()


@settings(max_examples=max(EXAMPLES // 4, 5), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_label_files_are_reported_by_the_dataset(tmp_path, real_labels, data):
    blob = bytearray(real_labels)
    if data.draw(st.booleans(), label="truncate"):
        blob = blob[:data.draw(st.integers(0, len(blob) - 1))]
    else:
        for _ in range(data.draw(st.integers(1, 4))):
            bit = data.draw(st.integers(0, 8 * len(blob) - 1))
            blob[bit // 8] ^= 1 << (bit % 8)
    root = fashion_root(tmp_path, bytes(blob))
    try:
        ds = FashionMNIST(root, train=False)
    except (IDXError, ChecksumError) as err:
        assert LABELS.removesuffix(".gz") in str(err) or "FashionMNIST" in str(err), str(err)
        return
    # a flip in the gzip header's name/time fields changes nothing that is read
    assert len(ds) == 10_000 and ds.targets.max() < 10


def test_a_label_file_with_a_lying_header_fails_fast(tmp_path, real_labels):
    lie = struct.pack(">BBBBI", 0, 0, 0x08, 1, 10**9) + bytes(1000)
    root = fashion_root(tmp_path, gzip.compress(lie))
    tracemalloc.start()
    try:
        with pytest.raises(IDXError, match=LABELS):
            FashionMNIST(root, train=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20  # the real images (7.8 MB), never the 1 GB the header claims


@FUZZ
@given(images=hnp.arrays(np.uint8, st.tuples(st.integers(0, 3), st.just(28), st.just(28))),
       labels=hnp.arrays(np.uint8, st.integers(0, 4)))
def test_well_formed_files_with_other_content_are_not_mnist(tmp_path, images, labels):
    from tinygrad_edu.data import write_idx

    root = tmp_path / "mnist"
    root.mkdir(exist_ok=True)
    write_idx(root / "t10k-images-idx3-ubyte.gz", images)
    write_idx(root / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(ChecksumError, match="t10k-images-idx3-ubyte"):
        MNIST(root, train=False)
