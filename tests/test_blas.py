"""numpy's BLAS: set_num_threads really changes its thread count, and info() names the kernels
it really runs."""

import os
import subprocess
import sys

import pytest

import tinygrad_edu as tg
from tinygrad_edu import blas


def test_set_num_threads_is_read_back_by_get_num_threads():
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
        tg.set_num_threads(2)
        assert tg.get_num_threads() == 2
    finally:
        tg.set_num_threads(before)


def test_the_blas_itself_reports_the_new_count():
    lib = blas._openblas()
    if lib is None:  # pragma: no cover  (a numpy without OpenBLAS)
        pytest.skip("numpy's BLAS is not OpenBLAS")
    before = int(lib.get_threads())
    try:
        tg.set_num_threads(1)
        assert int(lib.get_threads()) == 1  # asked of OpenBLAS, not of our own bookkeeping
    finally:
        tg.set_num_threads(before)


def test_bad_counts_are_refused():
    for n in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive int"):
            tg.set_num_threads(n)


def test_info_names_the_kernels_openblas_was_told_to_run():
    if blas._openblas() is None:  # pragma: no cover
        pytest.skip("numpy's BLAS is not OpenBLAS")
    for kernels in ("Nehalem", "Sandybridge"):  # any x86-64 machine here runs both
        env = dict(os.environ, OPENBLAS_CORETYPE=kernels)
        out = subprocess.run(
            [sys.executable, "-c", "from tinygrad_edu import blas; print(blas.info()['kernels'])"],
            env=env, capture_output=True, text=True, check=True,
        )
        assert out.stdout.strip() == kernels


AVX512_CPU = frozenset({"avx2", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})


def test_the_note_says_when_the_kernels_fall_short_of_the_cpu_and_why():
    forced = blas._note("Haswell", AVX512_CPU, coretype="Haswell")
    assert "Haswell kernels" in forced and "OPENBLAS_CORETYPE=Haswell" in forced
    assert "did not recognise" in blas._note("Zen", AVX512_CPU, coretype=None)
    assert blas._note("SkylakeX", AVX512_CPU, coretype=None) is None  # the CPU's best
    assert blas._note("Haswell", AVX512_CPU - {"avx512bw"}, coretype=None) is None  # no AVX-512BW
    assert blas._note(None, AVX512_CPU, coretype=None) is None  # not OpenBLAS


def test_transpose_is_exact_and_refuses_what_it_cannot_do():
    import numpy as np

    if blas._openblas() is None or not blas._openblas().omatcopy:  # pragma: no cover
        pytest.skip("no OpenBLAS omatcopy")
    for dtype in (np.float32, np.float64):
        a = np.random.default_rng(0).normal(size=(7, 12)).astype(dtype)[1:, 2:]  # strided rows
        a[0, :3] = [np.nan, -0.0, -np.inf]
        out = np.full((13, 9), 5.0, dtype)[:10, :6]  # an out with a row stride of its own
        assert blas.transpose(a, out)
        np.testing.assert_array_equal(out, a.T)  # nan, -0.0 and -inf as they were
        assert np.signbit(out[1, 0])
    out16 = np.zeros((3, 2), np.float16)
    assert not blas.transpose(np.ones((2, 3), np.float16), out16)  # no omatcopy for float16
    assert not blas.transpose(np.ones((3, 2)).T, np.zeros((3, 2)))  # columns not contiguous
    assert not blas.transpose(np.ones((2, 3)), np.zeros((2, 3)))  # wrong shape
    assert (out16 == 0).all()
