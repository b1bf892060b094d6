"""set_num_threads really changes the BLAS thread count (numpy's OpenBLAS here)."""

import tinygrad_edu as tg


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
    from tinygrad_edu import threads

    blas = threads._openblas()
    if blas is None:  # pragma: no cover  (a numpy without OpenBLAS)
        return
    before = int(blas[0]())
    try:
        tg.set_num_threads(1)
        assert int(blas[0]()) == 1  # asked of OpenBLAS, not of our own bookkeeping
    finally:
        tg.set_num_threads(before)


def test_bad_counts_are_refused():
    import pytest

    for n in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive int"):
            tg.set_num_threads(n)
