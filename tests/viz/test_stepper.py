"""The step-through: frames for every forward and backward step, and the offline HTML player."""

import re
import sys

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import Stepper, step_through, trace_forward
from tinygrad_edu.viz.stepper import CURRENT, CURRENT_OP, DONE, frame_patches


def example():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    L = (a * b + c).tanh() + a
    return a, b, c, L


def test_one_frame_for_the_inputs_each_op_each_backward_step_and_the_end():
    a, b, c, L = example()
    s = step_through(L)
    forward, backward = s.forward_trace, s.backward_trace
    assert len(forward) == 4 and len(backward) == 4
    assert len(s) == 1 + 4 + 4 + 1
    titles = [f.title for f in s.frames]
    assert titles[0] == "the inputs" and titles[1] == "forward 1/4"
    assert titles[5] == "backward 1/4" and titles[-1] == "done"
    assert s.frames[1].explanation == trace_forward(L)[0].explanation


def test_the_current_node_is_highlighted_and_finished_nodes_marked():
    a, b, c, L = example()
    s = step_through(L)
    first_backward = s.frames[5]
    assert first_backward.styles[id(L)]["fill"] == CURRENT
    assert first_backward.styles[id(L)]["border"] == CURRENT_OP
    # after the root's step, `a` has part of its gradient (via '+'), the rest comes at the end
    assert first_backward.styles[id(a)]["grad"].startswith("grad so far")
    assert "fill" not in first_backward.styles[id(a)] or \
        first_backward.styles[id(a)]["fill"] != DONE
    last = s.frames[-1]
    assert all(last.styles[id(n)]["fill"] == DONE for n in (a, b, c, L))
    assert last.styles[id(a)]["grad"] == f"grad {a.grad:.4g}"


def test_gradients_fill_in_as_they_become_known_and_end_at_grad():
    a, b, c, L = example()
    s = step_through(L)
    assert dict(s.frames[0].grads) == {"a": None, "b": None, "c": None}
    known = [sum(g is not None for _, g in f.grads) for f in s.frames]
    assert known == sorted(known), "a gradient once known stays known"
    assert dict(s.frames[-1].grads) == {"a": a.grad, "b": b.grad, "c": c.grad}


def test_forward_only_changes_nothing():
    a, b, c, L = example()
    s = Stepper(L, backward=False)
    assert len(s) == 5 and a.grad == 0.0
    L.backward()  # the graph is still there


def test_big_graphs_are_refused_with_advice():
    x = Value(1.0, label="x")
    for _ in range(100):
        x = x * 1.0
    with pytest.raises(ValueError, match="draw_graph"):
        step_through(x, max_steps=50)


def test_the_player_is_one_self_contained_html_file(tmp_path):
    a, b, c, L = example()
    path = step_through(L).save_html(tmp_path / "steps.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('class="tge-frame"') == 10
    assert page.count("<svg") == 1, "the first frame is inline; the others are patches of it"
    assert "<?xml" not in page
    for pattern in (r"<script[^>]+src=", r"<link\b", r"@import", r"url\(\s*['\"]?http"):
        assert not re.search(pattern, page), f"no external resources ({pattern})"
    hosts = set(re.findall(r"https?://([^/\"' ]+)", page))
    assert hosts <= {"www.w3.org"}, f"only XML namespace names, no links: {hosts}"
    for control in ("tge-prev", "tge-next", "tge-play", "ArrowRight", "ArrowLeft"):
        assert control in page
    assert "dL/da += dL/dv" in page, "the explanation line is under the graph"


def test_notebook_display_is_an_html_fragment():
    *_, L = example()
    fragment = step_through(L)._repr_html_()
    assert fragment.startswith('<div class="tge-player"') and "<html" not in fragment
    ids = re.findall(r'id="(tge-[0-9a-f]+)"', fragment)
    assert len(ids) == 1 and f'"{ids[0]}"' in fragment, "the script finds its own player"


def test_widget_needs_ipywidgets_and_says_so(monkeypatch):
    *_, L = example()
    s = step_through(L)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        s.widget()


def test_a_frame_can_be_drawn_on_its_own():
    *_, L = example()
    s = step_through(L)
    d = s.drawing(5)
    assert CURRENT in d.source
    assert b"<svg" in d.pipe("svg")


def test_widget_slider_shows_the_chosen_frame(monkeypatch):
    """With ipywidgets present, a slider picks the frame (here a minimal stand-in module)."""
    import types

    class Widget:
        def __init__(self, *children, **kw):
            self.children, self.__dict__["_observers"] = children, []
            self.__dict__.update(kw)

        def observe(self, fn, names):
            self._observers.append(fn)

        def __setattr__(self, name, value):
            self.__dict__[name] = value
            for fn in self.__dict__.get("_observers", []):
                fn({"name": name, "new": value})

    fake = types.ModuleType("ipywidgets")
    fake.IntSlider = fake.Play = fake.HTML = fake.HBox = fake.VBox = Widget
    fake.jslink = lambda a, b: None
    monkeypatch.setitem(sys.modules, "ipywidgets", fake)
    *_, L = example()
    s = step_through(L)
    box = s.widget()
    (controls, view) = box.children[0]
    (play, slider) = controls.children[0]
    assert slider.max == len(s) - 1 and "the inputs" in view.value
    slider.value = len(s) - 1
    assert "done" in view.value and "<svg" in view.value


def test_frames_are_stored_as_small_patches_that_rebuild_every_frame():
    *_, L = example()
    s = step_through(L)
    svgs = s.svgs()
    patches = frame_patches(svgs)
    assert all(isinstance(p, list) for p in patches), "every frame keeps the same layout"
    assert max(len(p) for p in patches) < len(svgs[0].split("\n")) / 4, "patches are small"
    lines = svgs[0].split("\n")
    for k, patch in enumerate(patches, start=1):
        for i, line in patch:
            lines[i] = line
        assert "\n".join(lines) == svgs[k]
    assert frame_patches(["<svg>\na\n</svg>", "<svg>\nb\nc\n</svg>"]) == ["<svg>\nb\nc\n</svg>"]
