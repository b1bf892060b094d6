"""explore: sliders on the inputs re-run forward and backward and redraw the player."""

import sys
import types

import pytest

from tinygrad_edu.viz import explore


class Widget:
    """A minimal stand-in for an ipywidgets widget: attributes, observers, children."""

    def __init__(self, *children, **kw):
        self.__dict__["_observers"] = []
        self.__dict__.update(kw, children=children[0] if children else [])

    def observe(self, fn, names):
        self._observers.append(fn)

    def __setattr__(self, name, value):
        self.__dict__[name] = value
        for fn in self._observers:
            fn({"name": name, "new": value})


class Output(Widget):
    def clear_output(self, wait=False):
        self.__dict__["shown"] = []

    def __enter__(self):
        Output.current = self

    def __exit__(self, *exc):
        Output.current = None


@pytest.fixture
def fake_jupyter(monkeypatch):
    fake = types.ModuleType("ipywidgets")
    fake.FloatSlider, fake.VBox, fake.Output = Widget, Widget, Output
    monkeypatch.setitem(sys.modules, "ipywidgets", fake)
    import IPython.display as ipd

    monkeypatch.setattr(ipd, "display", lambda obj: Output.current.shown.append(obj.data))
    return fake


def test_moving_a_slider_rebuilds_runs_backward_and_redraws(fake_jupyter):
    built = []

    def build(a, b):
        built.append((a.data, b.data))
        return (a * b).tanh()

    box = explore(build, a=2.0, b=-3.0)
    a_slider, b_slider, view = box.children
    assert (a_slider.value, a_slider.min, a_slider.max) == (2.0, -1.0, 5.0)
    (first,) = view.shown
    assert first.startswith('<div class="tge-player"') and "d(a * b)/da" in first
    b_slider.value = 0.5
    assert built == [(2.0, -3.0), (2.0, 0.5)], "forward runs again on the new values"
    (second,) = view.shown
    assert second != first and "0.5" in second


def test_explore_says_what_it_needs(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # as if not installed
    with pytest.raises(ImportError, match=r"tinygrad-edu\[notebook\]"):
        explore(lambda a: a * a, a=1.0)
    with pytest.raises(ValueError, match="give the inputs"):
        explore(lambda: None)
