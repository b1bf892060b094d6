"""The IDX reader trusts nothing: every bad file is an IDXError naming it, never garbage."""

import gzip
import os
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu.data import IDXError, idx_digest, read_idx, write_idx

FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # tmp_path is only a folder to write into
# CI runs a bounded fuzz; FUZZ_EXAMPLES=100000 pytest tests/data -k fuzz runs a long one
FUZZ = int(os.environ.get("FUZZ_EXAMPLES", "150"))

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def header(code: int, shape) -> bytes:
    return bytes([0, 0, code, len(shape)]) + b"".join(int(s).to_bytes(4, "big") for s in shape)


@pytest.fixture
def small(tmp_path):
    """A small int16 array (so byte order matters) and its raw and gzipped IDX files."""
    array = (np.arange(60, dtype=np.int16) * 331 - 9000).reshape(3, 4, 5)
    return array, write_idx(tmp_path / "a.idx", array), write_idx(tmp_path / "a.idx.gz", array)


# ---- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
def test_round_trip_every_dtype(tmp_path, dtype, name):
    array = (np.arange(24) - 7).reshape(2, 3, 4).astype(dtype)
    out = read_idx(write_idx(tmp_path / name, array))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_layout_is_the_published_one(tmp_path):
    array = np.array([[1, 258]], dtype=np.int16)
    path = write_idx(tmp_path / "b.idx", array)
    assert path.read_bytes() == bytes([0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 1, 2])


def test_gzip_is_recognized_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    plain = write_idx(tmp_path / "plain.gz", array, compress=False)
    packed = write_idx(tmp_path / "packed.idx", array, compress=True)
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(plain), array)
    np.testing.assert_array_equal(read_idx(packed), array)


def test_empty_dims_are_fine(tmp_path):
    out = read_idx(write_idx(tmp_path / "e.idx", np.zeros((0, 28, 28), np.uint8)))
    assert out.shape == (0, 28, 28)


def test_digest_equals_md5_of_the_uncompressed_file(tmp_path, small):
    import hashlib

    array, raw, _ = small
    assert idx_digest(array) == hashlib.md5(raw.read_bytes()).hexdigest()


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    array=hnp.arrays(
        st.sampled_from(DTYPES), hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)
    ),
    compress=st.booleans(),
)
def test_round_trip_property(tmp_path, array, compress):
    out = read_idx(write_idx(tmp_path / "p.idx", array, compress=compress))
    assert out.shape == array.shape and out.dtype == array.dtype
    np.testing.assert_array_equal(out, array)  # NaNs compare equal here


# ---- bad headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_a_header_claiming_a_billion_images_in_1kb_fails_fast_and_small(tmp_path, compress):
    data = header(0x08, (10**9, 28, 28)) + bytes(1000)
    path = tmp_path / "liar-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if compress else data)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(IDXError, match="liar-idx3-ubyte.*1000000000, 28, 28"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 10 * 2**20


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "ends inside the 4-byte magic"),
        (b"\x00\x00", "ends inside the 4-byte magic"),
        (b"\x01\x00\x08\x01" + bytes(5), "magic number must start with two zero bytes"),
        (b"\x00\x00\x07\x01" + bytes(5), "unknown IDX dtype code 0x07"),
        (b"\x00\x00\x08\x00", "ndim=0"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "ends inside the header"),
        (header(0x08, (4,)) + bytes(3), "needs 4 data bytes, but the file has 3"),
        (header(0x08, (4,)) + bytes(5), "needs 4 data bytes, but the file has 5"),
        (header(0x0D, (2,)) + bytes(4), "float32, which needs 8 data bytes"),
        (header(0x08, (0,) + (2**32 - 1,) * 3), "no array can have that shape"),
    ],
)
@pytest.mark.parametrize("compress", [False, True])
def test_bad_files_name_the_file_and_the_problem(tmp_path, data, message, compress):
    path = tmp_path / "bad.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(IDXError, match="bad.idx") as info:
        read_idx(path)
    if compress and "but the file has" in message:  # gzip: the data runs out or runs on
        assert "needs" in str(info.value)
    else:
        assert message in str(info.value)


def test_truncated_at_every_byte_is_an_error(tmp_path, small):
    _, raw, packed = small
    for original in (raw, packed):
        content = original.read_bytes()
        for cut in range(len(content)):
            path = tmp_path / "cut.idx"
            path.write_bytes(content[:cut])
            with pytest.raises(IDXError, match="cut.idx"):
                read_idx(path)


def test_bit_flips_in_gzip_give_an_error_or_the_exact_array(tmp_path, small):
    """A flip the CRC cannot see lands in gzip's header (time stamp, OS byte): data intact."""
    array, _, packed = small
    content = packed.read_bytes()
    for bit in range(len(content) * 8):
        flipped = bytearray(content)
        flipped[bit // 8] ^= 1 << (bit % 8)
        path = tmp_path / "flip.idx.gz"
        path.write_bytes(bytes(flipped))
        try:
            out = read_idx(path)
        except IDXError as e:
            assert "flip.idx.gz" in str(e)
        else:
            assert out.dtype == array.dtype
            np.testing.assert_array_equal(out, array)


def test_corrupt_gzip_stream_is_reported(tmp_path):
    path = tmp_path / "junk.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(range(200)))
    with pytest.raises(IDXError, match="junk.gz.*corrupt or truncated gzip"):
        read_idx(path)


def test_trailing_garbage_after_gzip_member(tmp_path, small):
    _, _, packed = small
    path = tmp_path / "tail.gz"
    path.write_bytes(packed.read_bytes() + b"garbage")
    with pytest.raises(IDXError, match="tail.gz"):
        read_idx(path)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.idx"):
        read_idx(tmp_path / "nope.idx")


# ---- fuzz: any bytes at all --------------------------------------------------------------------


def header_then_bytes():
    """Mostly plausible headers (so the fuzz reaches the length checks), then random bytes."""
    plausible = st.builds(
        header,
        st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF]),
        st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 6), min_size=0, max_size=4),
    )
    return st.tuples(plausible | st.binary(max_size=12), st.binary(max_size=300)).map(
        lambda parts: parts[0] + parts[1]
    )


@settings(max_examples=FUZZ, deadline=None, suppress_health_check=FIXTURE_OK)
@given(data=header_then_bytes(), compress=st.booleans())
def test_fuzz_any_bytes_give_a_consistent_array_or_an_idx_error(tmp_path, data, compress):
    path = tmp_path / "fuzz.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    try:
        out = read_idx(path)
    except IDXError as e:
        assert "fuzz.idx" in str(e)
    else:  # accepted only if the header describes the bytes exactly
        stored = out.astype(out.dtype.newbyteorder(">")).tobytes()
        assert header(data[2], out.shape) + stored == data


@settings(max_examples=FUZZ // 2, deadline=None, suppress_health_check=FIXTURE_OK)
@given(cut=st.integers(0, 10**6), flips=st.lists(st.integers(0, 10**6), max_size=3))
def test_fuzz_damaged_gzip_of_a_real_layout(tmp_path, cut, flips):
    array = (np.arange(2 * 28 * 28) % 251).astype(np.uint8).reshape(2, 28, 28)
    content = bytearray(gzip.compress(header(0x08, array.shape) + array.tobytes()))
    for f in flips:
        content[f % len(content)] ^= 1 << (f % 8)
    content = content[: len(content) - cut % 8]
    path = tmp_path / "damaged.gz"
    path.write_bytes(bytes(content))
    try:
        out = read_idx(path)
    except IDXError as e:
        assert "damaged.gz" in str(e)
    else:
        np.testing.assert_array_equal(out, array)


# ---- the writer --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [bool, np.complex64, np.int64])
def test_writer_refuses_dtypes_idx_cannot_store(tmp_path, dtype):
    bad = np.zeros(3, dtype)
    with pytest.raises(ValueError, match=f"write_idx.*{bad.dtype}"):
        write_idx(tmp_path / "w.idx", bad)


def test_writer_refuses_0d_and_leaves_no_temp_file(tmp_path):
    with pytest.raises(ValueError, match="write_idx.*shape"):
        write_idx(tmp_path / "w.idx", np.uint8(3))
    assert list(tmp_path.iterdir()) == []
