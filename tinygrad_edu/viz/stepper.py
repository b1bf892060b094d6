"""Step through the forward and backward pass of a graph, one picture per step.

    L = (a * b + c).tanh()
    s = step_through(L)         # runs L.backward() and records it
    s                           # in Jupyter: a slider (ipywidgets) or the HTML player
    s.save_html("steps.html")   # one self-contained file: open it in any browser, offline

Each frame is the graph with the current node highlighted, finished nodes marked (green) and
the gradients filled in as they become known (orange while only part of it has arrived), with
the chain-rule line for the step underneath. The player is plain HTML with the frames as
inline SVG and a few lines of JavaScript: no network, no CDN.
"""

from __future__ import annotations

import html
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import nodes as nd
from .draw import Drawing, draw_graph, text_width
from .render import render_many
from .trace import Trace, trace_backward, trace_forward

__all__ = ["Frame", "Stepper", "step_through"]

Node = Any

CURRENT, CURRENT_OP, DONE, PENDING = "#fde047", "#f59e0b", "#bbf7d0", "#f3f4f6"
PARTIAL_COLOR, FINAL_COLOR, UNKNOWN_COLOR = "#c2410c", "#b91c1c", "#9ca3af"


@dataclass
class Frame:
    """One picture of the step-through: which node is current, how every node looks."""

    title: str
    explanation: str
    styles: dict[int, dict[str, str]] = field(default_factory=dict)  # id(node) -> draw style
    grads: list[tuple[str, Any]] = field(default_factory=list)  # (input, its gradient so far)


class Stepper:
    """The frames of a forward (optional) and a backward pass through the graph of `root`.

    Building it with `backward=True` runs a real backward pass (see `trace_backward`): `.grad`
    fills in and the graph is freed unless `retain_graph=True`. `grad` seeds a non-scalar root,
    as in `root.backward(grad)`.
    """

    def __init__(
        self,
        root: Node,
        *,
        forward: bool = True,
        backward: bool = True,
        rankdir: str = "LR",
        max_steps: int | None = 150,
        retain_graph: bool = False,
        grad: Any = None,
    ) -> None:
        self.root, self.rankdir = root, rankdir
        self.nodes = nd.walk([root])
        ops = sum(1 for n in self.nodes if n._op is not None)
        steps = (1 + ops if forward else 0) + (ops + 1 if backward else 0)
        if max_steps is not None and steps > max_steps:
            raise ValueError(
                f"step_through: the graph has {ops} ops, which makes {steps} steps; the "
                f"step-through is for small graphs (max_steps={max_steps}). Draw big graphs "
                "with draw_graph(root, group=...), or pass max_steps=None to step anyway."
            )
        self.forward_trace: Trace | None = trace_forward(root) if forward else None
        self.backward_trace: Trace | None = (
            trace_backward(root, grad, retain_graph=retain_graph) if backward else None
        )
        self.names = nd.names(self.nodes, root)
        self.frames: list[Frame] = self._frames()
        self._svgs: list[str] | None = None

    # ---- frames ----------------------------------------------------------------------------
    def _frames(self) -> list[Frame]:
        nodes, names = self.nodes, self.names
        inputs = [n for n in nodes if n._op is None and n.requires_grad]
        final = self.backward_trace.totals if self.backward_trace is not None else {}

        def style(n: Node, computed: bool, total: Any, finished: bool) -> dict[str, str]:
            s: dict[str, str] = {}
            if not computed:
                s.update(data="data ?" if not nd.is_array(n._raw()) else "?",
                         data_color=UNKNOWN_COLOR, fill=PENDING)
            if total is None:
                s.update(grad="grad ?", grad_color=UNKNOWN_COLOR)
            elif finished:
                s.update(grad="grad " + nd.fmt(total, shape=False), grad_color=FINAL_COLOR,
                         fill=DONE)
            else:
                s.update(grad="grad so far " + nd.fmt(total, shape=False),
                         grad_color=PARTIAL_COLOR)
            return s

        def current(s: dict[str, str]) -> dict[str, str]:
            # colours only: a thicker border would move the layout between frames
            return {**s, "fill": CURRENT, "border": CURRENT_OP, "op_fill": CURRENT_OP}

        frames: list[Frame] = []
        unknown = [(names[id(n)], None) for n in inputs]
        if self.forward_trace is not None:
            computed: set[int] = {id(n) for n in nodes if n._op is None}
            frames.append(Frame(
                "the inputs", "Inputs: " + ", ".join(
                    f"{names[id(n)]} = {nd.fmt(n._raw())}" for n in nodes if n._op is None),
                {id(n): style(n, id(n) in computed, None, False) for n in nodes}, unknown))
            for step in self.forward_trace:
                computed.add(id(step.node))
                styles = {id(n): style(n, id(n) in computed, None, False) for n in nodes}
                styles[id(step.node)] = current(styles[id(step.node)])
                frames.append(Frame(f"forward {step.index}/{len(self.forward_trace)}",
                                    step.explanation, styles, unknown))
        if self.backward_trace is not None:
            steps = self.backward_trace
            own_step = {id(s.node): s.index for s in steps}
            last_in: dict[int, int] = {}  # when each node receives its last contribution
            for s in steps:
                for c in s.contributions:
                    last_in[id(c.parent)] = s.index
            totals: dict[int, Any] = {}
            rname = names[id(self.root)]
            for s in steps:
                totals.setdefault(id(s.node), s.upstream)
                for c in s.contributions:
                    totals[id(c.parent)] = c.total

                def finished(n: Node, k: int = s.index) -> bool:
                    return own_step.get(id(n), last_in.get(id(n), 0)) <= k

                styles = {id(n): style(n, True, totals.get(id(n)), finished(n)) for n in nodes}
                styles[id(s.node)] = current(styles[id(s.node)])
                head = (f"d{rname}/d{s.name} = {nd.fmt(s.upstream)} is complete; the chain rule "
                        f"passes it through '{s.op}' to its inputs:")
                grads = [(names[id(n)], totals.get(id(n))) for n in inputs]
                frames.append(Frame(f"backward {s.index}/{len(steps)}",
                                    head + "\n" + s.explanation, styles, grads))
            done = {id(n): style(n, True, final.get(id(n)), True) for n in nodes}
            grads = [(names[id(n)], final.get(id(n))) for n in inputs]
            summary = ", ".join(f"d{rname}/d{name} = {nd.fmt(g)}" for name, g in grads
                                if g is not None)
            frames.append(Frame("done", "Backward done: " + summary, done, grads))
        _fix_widths(nodes, frames)
        return frames

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, k: int) -> Frame:
        return self.frames[k]

    def drawing(self, k: int) -> Drawing:
        """Frame `k` as a Drawing (displays inline in Jupyter)."""
        styles = self.frames[k].styles
        return draw_graph(self.root, self.rankdir, max_nodes=None,
                          style=lambda n: styles.get(id(n), {}))

    def svgs(self) -> list[str]:
        """Every frame as an SVG document (laid out in one run of the renderer, then cached)."""
        if self._svgs is None:
            self._svgs = render_many([self.drawing(k).source for k in range(len(self))])
        return self._svgs

    # ---- the HTML player ---------------------------------------------------------------------
    def to_html(self, *, full_page: bool = True, title: str = "tinygrad_edu step-through") -> str:
        """The player: inline SVG frames, prev/next/play buttons, arrow keys, a slider.

        All frames share one layout, so the first frame's SVG is stored whole and each later
        frame as the lines that differ from the one before (a few per step): the file stays
        small, and a few lines of JavaScript rebuild frame k.
        """
        pid = "tge-" + uuid.uuid4().hex[:10]
        svgs = [_inline(svg) for svg in self.svgs()]
        frames = []
        for k, frame in enumerate(self.frames):
            rows = "".join(
                f'<tr data-node="{html.escape(name)}"><td>{html.escape(name)}</td>'
                f'<td class="tge-grad" data-value="{_data_value(g)}">'
                f"{html.escape('?' if g is None else nd.fmt(g))}</td></tr>"
                for name, g in frame.grads
            )
            lines = "<br>".join(html.escape(t) for t in frame.explanation.split("\n"))
            frames.append(
                f'<div class="tge-frame" data-step="{k}"{"" if k == 0 else " hidden"}>'
                f'<div class="tge-title">{html.escape(frame.title)}</div>'
                f'<div class="tge-explain">{lines}</div>'
                f'<table class="tge-grads"><tr><th>input</th><th>gradient so far</th></tr>'
                f"{rows}</table></div>"
            )
        data = json.dumps({"base": svgs[0].split("\n"), "patches": frame_patches(svgs)})
        body = (
            f'<div class="tge-player" id="{pid}" tabindex="0">'
            '<div class="tge-controls">'
            '<button class="tge-first" title="first step">|&lt;</button>'
            '<button class="tge-prev" title="previous step (left arrow)">&lt; Prev</button>'
            '<button class="tge-play" title="play / pause (space)">Play</button>'
            '<button class="tge-next" title="next step (right arrow)">Next &gt;</button>'
            '<button class="tge-last" title="last step">&gt;|</button>'
            '<button class="tge-zoom" title="fit the graph / full size">Zoom</button>'
            f'<input class="tge-slider" type="range" min="0" max="{len(frames) - 1}" value="0">'
            f'<span class="tge-counter">step 1 / {len(frames)}</span></div>'
            f'<div class="tge-svg">{svgs[0]}</div>'
            + "".join(frames)
            + '<script type="application/json" class="tge-data">'
            + data.replace("<", "\\u003c")  # no '</script>' or '<!--' can end the script
            + f"</script></div><style>{_CSS}</style>"
            + f"<script>{_JS % (json.dumps(pid), json.dumps(full_page), CURRENT)}</script>"
        )
        if not full_page:
            return body
        return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                f"<title>{html.escape(title)}</title></head><body>{body}</body></html>")

    def save_html(self, path: str | Path) -> Path:
        """Write the player to one HTML file that opens offline in any browser."""
        path = Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return self.to_html(full_page=False)

    def widget(self) -> Any:
        """An ipywidgets slider with the frame under it (needs `pip install ipywidgets`)."""
        try:
            import ipywidgets as widgets
        except ImportError:
            raise ImportError(
                "Stepper.widget needs ipywidgets (pip install ipywidgets); the HTML player "
                "(display the Stepper, or save_html) works without it"
            ) from None
        svgs = self.svgs()
        slider = widgets.IntSlider(value=0, min=0, max=len(self) - 1, description="step")
        play = widgets.Play(value=0, min=0, max=len(self) - 1, interval=1200)
        widgets.jslink((play, "value"), (slider, "value"))
        view = widgets.HTML()

        def show(change: Any = None) -> None:
            frame = self.frames[slider.value]
            lines = "<br>".join(html.escape(t) for t in frame.explanation.split("\n"))
            view.value = (f"<b>{html.escape(frame.title)}</b>{_inline(svgs[slider.value])}"
                          f"<div>{lines}</div>")

        slider.observe(show, names="value")
        show()
        return widgets.VBox([widgets.HBox([play, slider]), view])

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        try:
            display(self.widget())
        except ImportError:
            display(HTML(self._repr_html_()))

    def __repr__(self) -> str:
        return f"<Stepper: {len(self)} frames; save_html(path) writes the player>"


def step_through(root: Node, **options: Any) -> Stepper:
    """A Stepper over the forward and backward pass of `root` (runs `root.backward()`).

    Options: forward=True, backward=True, rankdir='LR', max_steps=150 (frames; each one is
    laid out, so big graphs take long), retain_graph=False, grad=None.
    """
    return Stepper(root, **options)


def _fix_widths(nodes: list[Node], frames: list[Frame]) -> None:
    """Give each text cell the width of its longest text in any frame, so that every frame
    has the same layout (only colours and texts change) and the player can patch frames."""
    for n in nodes:
        data = ("" if nd.is_array(n._raw()) else "data ") + nd.fmt(n._raw(), shape=False)
        styles = [f.styles[id(n)] for f in frames if id(n) in f.styles]
        widest_data = max([len(data)] + [len(s.get("data", "")) for s in styles])
        widest_grad = max([len("grad ?")] + [len(s.get("grad", "")) for s in styles])
        for s in styles:
            s["data_width"] = str(text_width("x" * widest_data))
            s["width"] = str(text_width("x" * widest_grad))


def frame_patches(svgs: list[str]) -> list[Any]:
    """Each frame after the first as [[line number, new line], ...] against the frame before,
    or as its whole text when the line count differs (then the layout moved)."""
    patches: list[Any] = []
    prev = svgs[0].split("\n")
    for svg in svgs[1:]:
        cur = svg.split("\n")
        if len(cur) == len(prev):
            patches.append([[i, line] for i, (line, old) in enumerate(zip(cur, prev))
                            if line != old])
        else:
            patches.append(svg)
        prev = cur
    return patches


def _inline(svg: str) -> str:
    """An SVG document without its XML prologue, to put inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def _data_value(g: Any) -> str:
    if g is None:
        return ""
    raw = g._raw() if hasattr(g, "_raw") else g
    if nd.is_array(raw):
        return html.escape(json.dumps(raw.tolist()))
    return repr(float(raw))


_CSS = """
.tge-player{font-family:Helvetica,Arial,sans-serif;font-size:14px;outline:none}
.tge-controls{margin:4px 0;display:flex;gap:6px;align-items:center}
.tge-controls button{padding:3px 10px;font-size:14px}
.tge-title{font-weight:bold;margin:4px 0}
.tge-svg{overflow:auto;max-height:75vh;border:1px solid #eee}
.tge-svg svg{max-width:100%;height:auto}
.tge-svg.tge-zoomed svg{max-width:none}
.tge-explain{font-family:Menlo,Consolas,monospace;background:#f8fafc;padding:6px;
border-left:3px solid #f59e0b;margin:4px 0;white-space:nowrap;overflow-x:auto}
.tge-grads{border-collapse:collapse;margin-top:4px}
.tge-grads td,.tge-grads th{border:1px solid #ddd;padding:2px 8px;font-family:monospace}
"""

_JS = """(function(){
var root=document.getElementById(%s), full=%s;
var frames=root.querySelectorAll('.tge-frame'), n=frames.length, k=0, timer=null;
var data=JSON.parse(root.querySelector('.tge-data').textContent);
var box=root.querySelector('.tge-svg'), lines=data.base.slice(), at=0;
function svgFor(i){
  if(i<at){lines=data.base.slice();at=0;}
  for(;at<i;at++){
    var p=data.patches[at];
    if(typeof p==='string'){lines=p.split('\\n');}
    else{for(var j=0;j<p.length;j++){lines[p[j][0]]=p[j][1];}}
  }
  return lines.join('\\n');
}
var q=function(c){return root.querySelector(c);};
var counter=q('.tge-counter'), slider=q('.tge-slider'), playBtn=q('.tge-play');
function show(i){
  k=Math.max(0,Math.min(n-1,i));
  for(var j=0;j<n;j++){frames[j].hidden=(j!==k);}
  box.innerHTML=svgFor(k);
  var cur=box.querySelector('[fill="%s"]');  // keep the current node in view
  if(cur&&cur.scrollIntoView){cur.scrollIntoView({block:'nearest',inline:'center'});}
  counter.textContent='step '+(k+1)+' / '+n; slider.value=k; root.setAttribute('data-step',k);
}
function stop(){if(timer){clearInterval(timer);timer=null;} playBtn.textContent='Play';}
function play(){
  if(timer){stop();return;}
  if(k>=n-1){show(0);}
  playBtn.textContent='Pause';
  timer=setInterval(function(){if(k>=n-1){stop();}else{show(k+1);}},1200);
}
q('.tge-first').onclick=function(){stop();show(0);};
q('.tge-prev').onclick=function(){stop();show(k-1);};
q('.tge-next').onclick=function(){stop();show(k+1);};
q('.tge-last').onclick=function(){stop();show(n-1);};
playBtn.onclick=play;
q('.tge-zoom').onclick=function(){box.classList.toggle('tge-zoomed');show(k);};
slider.oninput=function(){stop();show(parseInt(slider.value,10));};
function key(e){
  var t=e.target&&e.target.tagName; if(t==='INPUT'&&e.target!==slider||t==='TEXTAREA'){return;}
  if(e.key==='ArrowRight'){stop();show(k+1);e.preventDefault();}
  else if(e.key==='ArrowLeft'){stop();show(k-1);e.preventDefault();}
  else if(e.key===' '){play();e.preventDefault();}
}
(full?document:root).addEventListener('keydown',key);
show(0);
})();"""
