"""Edit and see: sliders on a graph's inputs that re-run forward and backward, in Jupyter.

    explore(lambda a, b, c: (a * b + c).tanh(), a=2.0, b=-3.0, c=10.0)

Each slider is one input; moving it rebuilds the graph from fresh Values, runs backward, and
redraws the same step-through player as everywhere else (needs ipywidgets, which the
`[notebook]` extra installs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..value import Value
from .stepper import step_through

__all__ = ["explore"]


def explore(build: Callable[..., Any], *, span: float = 3.0, step: float = 0.05,
            **inputs: float) -> Any:
    """A slider per keyword input (its value +- `span`) over the player of `build(**Values)`.

    `build` gets one `Value(x, label=name)` per input and returns the output to step through.
    Returns the ipywidgets box (display it, or leave it last in a cell).
    """
    if not inputs:
        raise ValueError("explore: give the inputs and their start values, e.g. "
                         "explore(lambda a, b: a * b, a=2.0, b=-3.0)")
    try:
        import ipywidgets as widgets
        from IPython.display import HTML, display
    except ImportError:
        raise ImportError("explore needs ipywidgets in Jupyter: pip install "
                          "'tinygrad-edu[notebook]'; step_through(root) shows the player "
                          "without it") from None
    sliders = {name: widgets.FloatSlider(value=float(v), min=float(v) - span,
                                         max=float(v) + span, step=step, description=name,
                                         continuous_update=False)
               for name, v in inputs.items()}
    view = widgets.Output()

    def redraw(change: Any = None) -> None:
        root = build(**{name: Value(s.value, label=name) for name, s in sliders.items()})
        player = step_through(root)
        view.clear_output(wait=True)
        with view:  # an output area runs the player's script, as a cell's output does
            display(HTML(player.to_html(full_page=False)))

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    return widgets.VBox([*sliders.values(), view])
