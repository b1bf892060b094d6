"""See the graph: drawings, step-by-step traces of forward and backward, and an HTML player.

    from tinygrad_edu import Value
    from tinygrad_edu.viz import draw_graph, trace_backward, step_through

    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    L = (a * b + c).tanh()
    draw_graph(L)                    # the graph (inline in Jupyter; .save_svg / .save_png)
    print(trace_backward(L))         # runs backward: every chain-rule step, in the engine's order
    L = (a * b + c).tanh()           # a fresh graph: the step-through runs backward too
    step_through(L).save_html("steps.html")      # a player for any browser, offline
    explore(lambda a, b: (a * b).tanh(), a=2.0, b=-3.0)  # Jupyter: sliders re-run and redraw

Works for `Value` and `Tensor` graphs alike: it reads only the node protocol of
`autograd/graph.py`. Rendering needs no system Graphviz (the `graphviz-pure` binary is used
when `dot` is missing).
"""

from .draw import Drawing, by_label_prefix, by_module, draw_dot, draw_graph
from .explore import explore
from .expression import ExpressionError, build_expression
from .render import RenderError, find_renderer, render_dot
from .stepper import Frame, Stepper, step_through
from .trace import BackwardStep, Contribution, ForwardStep, Trace, trace_backward, trace_forward

__all__ = [
    "Drawing",
    "draw_graph",
    "draw_dot",
    "by_label_prefix",
    "by_module",
    "trace_forward",
    "trace_backward",
    "Trace",
    "ForwardStep",
    "BackwardStep",
    "Contribution",
    "Stepper",
    "step_through",
    "explore",
    "Frame",
    "render_dot",
    "find_renderer",
    "RenderError",
    "build_expression",
    "ExpressionError",
]
