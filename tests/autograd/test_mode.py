"""Grad mode and anomaly mode: the switches every op of both engines reads."""

import pytest

import tinygrad_edu as tg
from tinygrad_edu import AnomalyError, Value


def test_no_grad_records_no_graph_and_restores_the_mode():
    x = Value(2.0)
    with tg.no_grad():
        y = x * 3.0
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert y.op == "" and y.parents == ()
    assert (x * 3.0).op == "*"


def test_no_grad_as_a_decorator_is_reentrant():
    @tg.no_grad()
    def depth(n):
        assert not tg.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad_and_set_grad_enabled():
    with tg.no_grad():
        with tg.enable_grad():
            assert (Value(1.0) + 1.0).op == "+"
        assert not tg.is_grad_enabled()
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)


def test_modes_are_restored_after_an_exception():
    with pytest.raises(KeyError):
        with tg.no_grad():
            raise KeyError
    assert tg.is_grad_enabled()


def test_anomaly_mode_raises_at_the_forward_op_that_made_inf_and_names_it():
    big = Value(1e200)
    with tg.detect_anomaly():
        ok = big + 1.0
        with pytest.raises(AnomalyError, match=r"forward of '\*' produced inf.*1e\+200"):
            ok * big
    assert (big * big).data == float("inf")  # outside anomaly mode, IEEE inf as Python floats do


def test_anomaly_mode_raises_at_the_backward_op_that_made_inf():
    x = Value(1e-320)  # log is finite here, but its derivative 1/x overflows
    y = x.log() * 2.0
    with tg.detect_anomaly():
        with pytest.raises(AnomalyError, match=r"backward of 'log' produced inf.*input 0"):
            y.backward()


def test_anomaly_mode_finds_nan_too():
    inf = Value(float("inf"))
    with tg.detect_anomaly():
        with pytest.raises(AnomalyError, match="NaN"):
            inf - inf
