"""The step-through player: one SVG drawn once, frames that restyle it, a few lines of JavaScript.

The page holds the layout (layout.py) as SVG, the first frame's state of every node, and for
each later frame only the nodes that changed (a state class, the data and grad texts, the full-
precision values for hover). The script applies them, so 300 frames cost a few hundred KB. It
zooms (wheel, + and -), pans (drag), fits on demand, keeps the current node in view, jumps to
a node's step on click, exports the frame as SVG, and picks light or dark colours from the page
it is on. No network, no CDN: the file works offline.
"""

from __future__ import annotations

import html
import json
import uuid
from typing import Any

from .layout import CHAR, FONT, PAD, ROW, Layout, esc

__all__ = ["LEGEND", "KEYS", "svg_of", "player_html"]

KEYS = ("\u2190 \u2192 step \u00b7 space play \u00b7 + \u2212 zoom (or wheel) \u00b7 0 fit "
        "\u00b7 drag to pan \u00b7 click a node: its step (shift: the other pass) \u00b7 "
        "hover: full precision")
LEGEND = (
    ("cur", "current step"),
    ("recv", "gets a gradient now"),
    ("unknown", "not computed yet"),
    ("partial", "grad so far: more to come"),
    ("complete", "grad complete: all consumers in"),
)
MIN_TEXT_PX = 11.5  # the default view never shows the graph's text smaller than this


def svg_of(layout: Layout, texts: dict[str, list[str]], pid: str) -> str:
    """The graph as one SVG: a `<g>` per item with its cells; texts are those of frame 0."""
    out = [f'<svg class="tge-graph" xmlns="http://www.w3.org/2000/svg" '
           f'data-w="{layout.width:.1f}" data-h="{layout.height:.1f}">'
           '<defs><marker id="' + pid + '-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z" class="tge-arrowhead"/></marker></defs>'
           '<g class="tge-cam">']
    within: dict[str, list[str]] = {}  # item -> the groups it is in
    for g in layout.groups.values():
        x, y, w, h = g.rect
        out.append(f'<g class="tge-grp" id="{pid}-{g.key}" data-grp="{g.key}">'
                   f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6"/>'
                   f'<text class="tge-gtitle" x="{x + 6:.1f}" y="{y + ROW * 0.72:.1f}">'
                   f'\u25be {esc(g.title)}</text><text class="tge-ghint" x="{x + 6:.1f}" '
                   f'y="{y + ROW * 1.72:.1f}" style="display:none"></text>'
                   f'<title>{esc(g.title)}</title></g>')
        for k in g.members:
            within.setdefault(k, []).append(g.key)
    for tail, head, pts in layout.edges:
        d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f}" + "".join(
            f" C{pts[i][0]:.1f},{pts[i][1]:.1f} {pts[i + 1][0]:.1f},{pts[i + 1][1]:.1f} "
            f"{pts[i + 2][0]:.1f},{pts[i + 2][1]:.1f}" for i in range(1, len(pts) - 2, 3))
        out.append(f'<path class="tge-edge" d="{d}" data-t="{tail}" data-h="{head}" '
                   f'marker-end="url(#{pid}-arrow)"/>')
    for key, it in layout.items.items():
        x0, y0 = it.x - it.w / 2, it.y - it.h / 2
        groups = f' data-in="{" ".join(within[key])}"' if key in within else ""
        out.append(f'<g class="tge-{"o" if it.kind == "op" else "v"}" id="{pid}-{key}" '
                   f'data-key="{key}"{groups}><title></title>')
        if it.kind == "op":
            out.append(f'<ellipse cx="{it.x:.1f}" cy="{it.y:.1f}" rx="{it.w / 2:.1f}" '
                       f'ry="{it.h / 2:.1f}"/><text x="{it.x:.1f}" y="{it.y + FONT * 0.35:.1f}" '
                       f'text-anchor="middle">{esc(texts[key][0])}</text></g>')
            continue
        out.append(f'<rect class="tge-box" x="{x0:.1f}" y="{y0:.1f}" width="{it.w:.1f}" '
                   f'height="{it.h:.1f}"/>')
        cx = x0
        for k, (role, chars) in enumerate(it.cells):
            cw = it.w if it.stacked else chars * CHAR + PAD
            cy = y0 + (ROW * k if it.stacked else 0)
            if k:
                line = (f'x1="{x0:.1f}" y1="{cy:.1f}" x2="{x0 + it.w:.1f}" y2="{cy:.1f}"'
                        if it.stacked else
                        f'x1="{cx:.1f}" y1="{y0:.1f}" x2="{cx:.1f}" y2="{y0 + it.h:.1f}"')
                out.append(f'<line class="tge-sep" {line}/>')
            out.append(f'<text class="tge-{role}" x="{cx + PAD / 2:.1f}" '
                       f'y="{cy + ROW / 2 + FONT * 0.35:.1f}">{esc(texts[key][k])}</text>')
            if not it.stacked:
                cx += cw
        out.append("</g>")
    out.append("</g></svg>")
    return "".join(out)


def player_html(layout: Layout, texts: dict[str, list[str]], data: dict[str, Any], *,
                title: str, full_page: bool) -> str:
    """The whole player (a page, or a fragment for a notebook) around the SVG and the frames.

    `data` holds `nodes` (per item: key, name, full data, the frames a click jumps to),
    `frames` (title, explanation, changed states) and `inputs` (items in the gradient table).
    """
    pid = "tge-" + uuid.uuid4().hex[:10]
    legend = "".join(f'<span class="tge-key tge-k-{cls}"><i></i>{esc(text)}</span>'
                     for cls, text in LEGEND)
    n = len(data["frames"])
    body = (
        f'<div class="tge-player" id="{pid}" tabindex="0" data-step="0">'
        f'<div class="tge-heading">{esc(title)}</div>'
        f'<div class="tge-help">{esc(KEYS)}</div>'
        '<div class="tge-controls">'
        '<button class="tge-first" title="first step (Home)">|&lt;</button>'
        '<button class="tge-prev" title="previous step (left arrow)">&lt; Prev</button>'
        '<button class="tge-play" title="play / pause (space)">Play</button>'
        '<button class="tge-next" title="next step (right arrow)">Next &gt;</button>'
        '<button class="tge-last" title="last step (End)">&gt;|</button>'
        f'<input class="tge-slider" type="range" min="0" max="{n - 1}" value="0" '
        'aria-label="step">'
        f'<span class="tge-counter">step 1 / {n}</span>'
        '<button class="tge-zout" title="zoom out (-)">\u2212</button>'
        '<button class="tge-zin" title="zoom in (+)">+</button>'
        '<button class="tge-fit" title="fit the graph in view (0)">Fit</button>'
        '<button class="tge-export" title="save this frame as an SVG file">SVG</button>'
        + ('<button class="tge-collapse" title="collapse the innermost boxes (neurons)">'
           'Collapse</button><button class="tge-expand" title="expand every box">Expand'
           '</button>' if layout.groups else "")
        + '</div>'
        f'<div class="tge-legend">{legend}</div>'
        f'<div class="tge-view">{svg_of(layout, texts, pid)}</div>'
        '<div class="tge-title"></div><div class="tge-explain"></div>'
        '<table class="tge-grads"><thead><tr><th>input</th><th>gradient so far</th></tr>'
        '</thead><tbody></tbody></table>'
        '<script type="application/json" class="tge-json">'
        + json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
        + f"</script><style>{CSS}</style>"
        + f"<script>{_JS % (json.dumps(pid), json.dumps(full_page), MIN_TEXT_PX / FONT)}"
        "</script></div>"
    )
    if not full_page:
        return body
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body>{body}</body></html>")


# colours as variables: light by default, dark when the page behind the player is dark
SVG_CSS = f"""
.tge-graph text{{font-family:Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:{FONT}px;
fill:var(--tge-fg)}}
.tge-edge{{fill:none;stroke:var(--tge-edge);stroke-width:1.2}}
.tge-arrowhead{{fill:var(--tge-edge)}}
.tge-box{{fill:var(--tge-result);stroke:var(--tge-line);stroke-width:1}}
.tge-sep{{stroke:var(--tge-line);stroke-width:1}}
.tge-v .tge-name{{font-weight:bold}}
.tge-v.leaf .tge-box{{fill:var(--tge-leaf)}}
.tge-v.const .tge-box{{fill:var(--tge-const)}}
.tge-v.unknown .tge-box{{fill:var(--tge-pending)}}
.tge-v.unknown .tge-data,.tge-v .tge-grad{{fill:var(--tge-muted)}}
.tge-v.partial .tge-grad{{fill:var(--tge-partial);font-weight:bold}}
.tge-v.complete .tge-grad{{fill:var(--tge-final);font-weight:bold}}
.tge-v.complete .tge-box{{fill:var(--tge-done)}}
.tge-v.recv .tge-box{{stroke:var(--tge-partial);stroke-width:3}}
.tge-v.cur .tge-box,.tge-o.cur ellipse{{fill:var(--tge-cur);stroke:var(--tge-cur-line);
stroke-width:3}}
.tge-o ellipse{{fill:var(--tge-op);stroke:var(--tge-line)}}
.tge-v,.tge-o{{cursor:pointer}}
.tge-grp rect{{fill:none;stroke:var(--tge-muted);stroke-dasharray:5 3}}
.tge-grp .tge-gtitle,.tge-grp .tge-ghint{{fill:var(--tge-muted);cursor:pointer}}
.tge-grp.tge-shut rect{{fill:var(--tge-const);stroke-dasharray:none}}
.tge-grp.tge-shut .tge-gtitle,.tge-grp.tge-shut .tge-ghint{{fill:var(--tge-fg)}}
.tge-grp.cur rect{{fill:var(--tge-cur);stroke:var(--tge-cur-line);stroke-width:3}}
"""
COLOURS = {
    "light": dict(fg="#111827", bg="#ffffff", muted="#6b7280", edge="#4b5563", line="#374151",
                  leaf="#dbeafe", const="#e5e7eb", result="#ffffff", pending="#f3f4f6",
                  op="#fef9c3", cur="#fde047", **{"cur-line": "#b45309"}, done="#bbf7d0",
                  partial="#c2410c", final="#15803d", panel="#f1f5f9", accent="#f59e0b"),
    "dark": dict(fg="#e5e7eb", bg="#111827", muted="#9ca3af", edge="#9ca3af", line="#9ca3af",
                 leaf="#1e3a8a", const="#374151", result="#1f2937", pending="#111827",
                 op="#423a0c", cur="#854d0e", **{"cur-line": "#fbbf24"}, done="#14532d",
                 partial="#fb923c", final="#4ade80", panel="#1f2937", accent="#f59e0b"),
}


def _vars(theme: str) -> str:
    return ";".join(f"--tge-{k}:{v}" for k, v in COLOURS[theme].items())


CSS = (
    f".tge-player{{{_vars('light')};color:var(--tge-fg);background:var(--tge-bg);"
    "font-family:Helvetica,Arial,sans-serif;font-size:14px;outline:none;padding:6px;"
    "border:1px solid var(--tge-line);border-radius:4px;max-width:100%;box-sizing:border-box}"
    f".tge-player.tge-dark{{{_vars('dark')}}}"
    ".tge-heading{font-weight:bold;font-size:16px}"
    ".tge-help{color:var(--tge-muted);font-size:13px;margin:2px 0}"
    ".tge-controls{margin:4px 0;display:flex;flex-wrap:wrap;gap:6px;align-items:center}"
    ".tge-controls button{padding:3px 10px;font-size:14px;color:var(--tge-fg);"
    "background:var(--tge-panel);border:1px solid var(--tge-line);border-radius:3px}"
    # one line in JupyterLab's output area (file browser open, a 1280 px window); wrapped,
    # its lines stay close
    ".tge-legend{display:flex;flex-wrap:wrap;gap:2px 10px;font-size:13px;margin:2px 0 4px;"
    "line-height:18px}"
    ".tge-key i{display:inline-block;width:14px;height:12px;margin-right:4px;"
    "vertical-align:-1px;border:1px solid var(--tge-line);box-sizing:border-box}"
    ".tge-k-cur i{background:var(--tge-cur);border:2px solid var(--tge-cur-line)}"
    ".tge-k-recv i{background:var(--tge-result);border:3px solid var(--tge-partial)}"
    ".tge-k-unknown i{background:var(--tge-pending)}"
    ".tge-k-partial i{background:var(--tge-partial)}"
    ".tge-k-complete i{background:var(--tge-done)}"
    ".tge-view{position:relative;overflow:hidden;border:1px solid var(--tge-line);"
    "background:var(--tge-bg);cursor:grab;touch-action:none}"
    ".tge-view svg{display:block;width:100%;height:100%}"
    ".tge-title{font-weight:bold;margin:6px 0 2px}"
    ".tge-explain{font-family:Menlo,Consolas,monospace;font-size:14px;white-space:pre;"
    "overflow-x:auto;color:var(--tge-fg);background:var(--tge-panel);padding:6px;"
    "border-left:3px solid var(--tge-accent);margin:4px 0}"
    # the table's rules outweigh those a host page gives every table (JupyterLab's zebra rows
    # and colours for its own theme, which would leave light text on the player's light panel)
    ".tge-player table.tge-grads{border-collapse:collapse;margin:4px 0 0;border:none;"
    "color:var(--tge-fg);background:transparent;table-layout:auto;font-size:14px}"
    ".tge-player table.tge-grads tr,.tge-player table.tge-grads tbody tr:nth-child(odd),"
    ".tge-player table.tge-grads tbody tr:hover{background:transparent}"
    ".tge-player table.tge-grads td,.tge-player table.tge-grads th{color:var(--tge-fg);"
    "background:transparent;border:1px solid var(--tge-line);padding:2px 8px;"
    "font-family:monospace;font-size:14px;line-height:normal;white-space:nowrap;"
    "max-width:none;vertical-align:middle}"
    ".tge-player table.tge-grads th{font-weight:bold;text-align:left}"
    ".tge-player table.tge-grads td{text-align:right}"
    + SVG_CSS.replace("\n", "")
)

_JS = r"""(function(){
var root=document.getElementById(%s), full=%s, MIN=%s;
var D=JSON.parse(root.querySelector('.tge-json').textContent);
var nodes=D.nodes, frames=D.frames, n=frames.length, k=-1, timer=null;
var view=root.querySelector('.tge-view'), svg=view.querySelector('svg');
var cam=svg.querySelector('.tge-cam'), W=+svg.getAttribute('data-w'), H=+svg.getAttribute('data-h');
var q=function(c){return root.querySelector(c);};
var counter=q('.tge-counter'), slider=q('.tge-slider'), playBtn=q('.tge-play');
var els=nodes.map(function(nd){return document.getElementById(root.id+'-'+nd.k);});
var state=[], shut={};
var groups=D.groups||[], gEls={};
groups.forEach(function(g){gEls[g.k]=document.getElementById(root.id+'-'+g.k);});
var edges=[].slice.call(svg.querySelectorAll('.tge-edge'));
function hiddenBy(el){  // the collapsed group an item is hidden in, if any
  var gs=(el.getAttribute('data-in')||'').split(' ');
  for(var j=0;j<gs.length;j++){if(shut[gs[j]]){return gs[j];}}
  return null;
}
var G=D.geom||{c:8,r:22,dir:'TB'}, across=G.dir==='LR'||G.dir==='RL';
var gByK={}; groups.forEach(function(g){gByK[g.k]=g;});
var box0=nodes.map(function(nd){return nd.b;});  // as laid out: x, y, w, h
var at=nodes.map(function(){return [0,0];});  // each item's shift now
edges.forEach(function(e){e.tgeD=e.getAttribute('d');
  e.tgeP=(e.tgeD.match(/-?[\d.]+(e-?\d+)?/g)||[]).map(Number);});
function strip(g,open){  // where a group's title is: one line when open, two when shut
  var w=Math.max((g.t.length+2)*G.c+12,open?0:(String(g.n).length+30)*G.c+12);
  w=Math.min(w,g.r[2]); var h=Math.min(open?G.r+2:2*G.r+4,g.r[3]);
  return open?[g.r[0],g.r[1],w,h]:[g.r[0]+(g.r[2]-w)/2,g.r[1]+(g.r[3]-h)/2,w,h];
}
function merged(bs,a){  // the intervals covered by boxes bs along axis a (0: x, 1: y)
  var iv=bs.map(function(b){return [b[a],b[a]+b[a+2]];}).sort(function(p,q){return p[0]-q[0];});
  var out=[];
  iv.forEach(function(v){var l=out[out.length-1];
    if(l&&v[0]<=l[1]){l[1]=Math.max(l[1],v[1]);}else{out.push([v[0],v[1]]);}});
  return out;
}
function covered(iv,a,b){  // how much of [a, b] the intervals iv cover
  var s=0; iv.forEach(function(v){s+=Math.max(0,Math.min(b,v[1])-Math.max(a,v[0]));});
  return s;
}
var moved0=null;  // where each group's box is now
var whole=null;  // the intervals the fully open layout covers, per axis
function squeeze(now,was,end){  // a map of one axis: the gaps that hiding opened close up
  var pts=[[0,0]], y=0, prev=0;
  now.concat([[end,end]]).forEach(function(v){
    var L=v[0]-prev; if(L<0){L=0;}
    var keep=Math.max(L-covered(was,prev,v[0]),Math.min(L,16));
    y+=keep; pts.push([v[0],y]); y+=v[1]-v[0]; pts.push([v[1],y]); prev=Math.max(prev,v[1]);
  });
  return function(x){
    for(var i=1;i<pts.length;i++){
      var p=pts[i-1], r=pts[i];
      if(x<=r[0]){return r[0]>p[0]?p[1]+(x-p[0])*(r[1]-p[1])/(r[0]-p[0]):r[1]-(r[0]-x);}
    }
    var l=pts[pts.length-1]; return l[1]+(x-l[0]);
  };
}
function curve(p){  // the SVG path through x, y pairs: a start, then 3 points per segment
  var xy=function(i){return p[i].toFixed(1)+','+p[i+1].toFixed(1);}, d='M'+xy(0);
  for(var i=2;i+5<p.length;i+=6){d+=' C'+xy(i)+' '+xy(i+2)+' '+xy(i+4);}
  return d;
}
function foldGroups(){
  var hidGrp={}, any=false;
  groups.forEach(function(g){
    for(var up=g.p;up;up=gByK[up].p){if(shut[up]){hidGrp[g.k]=1;}}
    if(shut[g.k]){any=true;}
  });
  var hidden={}, vis=[];
  els.forEach(function(el,i){var h=hiddenBy(el); hidden[nodes[i].k]=h; if(!h){vis.push(i);}});
  // what the picture covers now: the visible items, open groups' titles, shut groups' boxes
  var bs=vis.map(function(i){return box0[i];}), place={};
  groups.forEach(function(g){
    if(!hidGrp[g.k]){place[g.k]=strip(g,!shut[g.k]); bs.push(place[g.k]);}
  });
  if(!whole){
    var all=box0.slice(); groups.forEach(function(g){all.push(strip(g,true));});
    whole=[merged(all,0),merged(all,1)];
  }
  var W0=+svg.getAttribute('data-w'), H0=+svg.getAttribute('data-h');
  var fx=squeeze(merged(bs,0),whole[0],W0), fy=squeeze(merged(bs,1),whole[1],H0);
  W=any?fx(W0):W0; H=any?fy(H0):H0;
  els.forEach(function(el,i){
    el.style.display=hidden[nodes[i].k]?'none':'';
    var b=box0[i], dx=any?fx(b[0])-b[0]:0, dy=any?fy(b[1])-b[1]:0; at[i]=[dx,dy];
    if(dx||dy){el.setAttribute('transform','translate('+dx.toFixed(1)+','+dy.toFixed(1)+')');}
    else{el.removeAttribute('transform');}
  });
  var moved={};  // where each group's box is now
  groups.forEach(function(g){
    var el=gEls[g.k], s=!!shut[g.k], rect=el.querySelector('rect');
    el.style.display=hidGrp[g.k]?'none':''; el.classList.toggle('tge-shut',s);
    var r=s?place[g.k]||g.r:g.r, x0=fx(r[0]), y0=fy(r[1]);
    var nr=any?[x0,y0,fx(r[0]+r[2])-x0,fy(r[1]+r[3])-y0]:r; moved[g.k]=nr;
    rect.setAttribute('x',nr[0].toFixed(1)); rect.setAttribute('y',nr[1].toFixed(1));
    rect.setAttribute('width',nr[2].toFixed(1)); rect.setAttribute('height',nr[3].toFixed(1));
    var fit=Math.max(4,Math.floor((nr[2]-12)/G.c)), t=(s?'\u25b8 ':'\u25be ')+g.t;
    var title=el.querySelector('.tge-gtitle'), hint=el.querySelector('.tge-ghint');
    title.textContent=s&&t.length>fit?t.slice(0,fit-1)+'\u2026':t;
    title.setAttribute('x',(nr[0]+6).toFixed(1));
    title.setAttribute('y',(nr[1]+G.r*0.72).toFixed(1));
    hint.textContent=s?'('+g.n+' nodes inside; click to open)':''; hint.style.display=s?'':'none';
    hint.setAttribute('x',(nr[0]+6).toFixed(1));
    hint.setAttribute('y',(nr[1]+G.r*1.72).toFixed(1));
    el.querySelector('title').textContent=g.t+(s?' ('+g.n+' nodes inside; click to open)':'');
  });
  var index={}; nodes.forEach(function(nd,i){index[nd.k]=i;});
  function endBox(k){  // the box an edge end is drawn at: its item, or the shut group around it
    var h=hidden[k]; if(h){return moved[h];}
    var i=index[k], b=box0[i]; return [b[0]+at[i][0],b[1]+at[i][1],b[2],b[3]];
  }
  var drawn={}; moved0=moved;
  edges.forEach(function(e){
    var t=e.getAttribute('data-t'), h=e.getAttribute('data-h'), a=hidden[t], b=hidden[h];
    if(a&&b&&a===b){e.style.display='none';return;}  // inside one closed box
    if(!any){e.style.display=''; e.setAttribute('d',e.tgeD); return;}
    if(!a&&!b){e.style.display=''; e.setAttribute('d',curve(e.tgeP.map(function(v,j){
      return j&1?fy(v):fx(v);}))); return;}
    var key=(a||t)+'>'+(b||h); if(drawn[key]){e.style.display='none';return;}
    drawn[key]=1; e.style.display='';
    var p=endBox(t), r=endBox(h), s, z;  // rerouted: from side to side of the two boxes
    if(across){var l=G.dir==='RL'?-1:1;
      s=[p[0]+(l>0?p[2]:0),p[1]+p[3]/2]; z=[r[0]+(l>0?0:r[2]),r[1]+r[3]/2];
      var m=Math.max(20,Math.abs(z[0]-s[0])/2)*l;
      e.setAttribute('d',curve([s[0],s[1],s[0]+m,s[1],z[0]-m,z[1],z[0],z[1]]));
    }else{var u=G.dir==='BT'?-1:1;
      s=[p[0]+p[2]/2,p[1]+(u>0?p[3]:0)]; z=[r[0]+r[2]/2,r[1]+(u>0?0:r[3])];
      var n2=Math.max(20,Math.abs(z[1]-s[1])/2)*u;
      e.setAttribute('d',curve([s[0],s[1],s[0],s[1]+n2,z[0],z[1]-n2,z[0],z[1]]));
    }
  });
}
function bg(el){  // the colour behind the player: the first opaque background up the tree
  for(;el&&el.nodeType===1;el=el.parentElement){
    var m=getComputedStyle(el).backgroundColor.match(/[\d.]+/g);
    if(m&&(m.length<4||+m[3]>0.5)){return m.slice(0,3).map(Number);}
  }
  return [255,255,255];
}
function theme(){  // dark colours on a dark page; again whenever the page changes its theme
  if(!root.isConnected){return;}
  var c=bg(root.parentElement);
  root.classList.toggle('tge-dark',0.2126*c[0]+0.7152*c[1]+0.0722*c[2]<128);
}
theme();
if(window.MutationObserver){  // a theme switch (JupyterLab's) restyles <body> or adds CSS
  var watch=new MutationObserver(function(){
    if(!root.isConnected){watch.disconnect();return;}  // this output was cleared or replaced
    theme(); setTimeout(theme,250); setTimeout(theme,1500);  // the new CSS may load later
  });
  watch.observe(document.documentElement,{attributes:true});
  if(document.body){watch.observe(document.body,{attributes:true});}
  if(document.head){watch.observe(document.head,{childList:true});}
}
root.addEventListener('pointerenter',theme);
function apply(i){  // make the stored state that of frame i
  if(i<k||k<0){state=[];k=-1;}
  for(var f=k+1;f<=i;f++){
    var ch=frames[f].s;
    for(var j=0;j<ch.length;j++){state[ch[j][0]]=ch[j];}
  }
  k=i;
}
function paint(){
  for(var i=0;i<nodes.length;i++){
    var s=state[i], el=els[i]; if(!s||!el){continue;}
    el.setAttribute('class',(nodes[i].op?'tge-o ':'tge-v ')+s[1]+(s[5]?' '+s[5]:''));
    if(!nodes[i].op){
      var d=el.querySelector('.tge-data'), g=el.querySelector('.tge-grad');
      if(d&&d.textContent!==s[2]){d.textContent=s[2];}
      if(g&&g.textContent!==s[3]){g.textContent=s[3];}
    }
  }
  groups.forEach(function(g){gEls[g.k].classList.remove('cur');});
  for(var c=0;c<nodes.length;c++){
    if(!state[c]||!/\bcur\b/.test(state[c][5]||'')){continue;}
    var h=hiddenBy(els[c]); if(h){gEls[h].classList.add('cur');}
  }
  var rows=q('.tge-grads tbody'), html='';
  for(var r=0;r<D.inputs.length;r++){
    var i2=D.inputs[r], s2=state[i2];
    var known=s2&&s2[4]!==null, nm=esc(nodes[i2].n);
    html+='<tr data-node="'+nm+'"><td>'+nm+'</td><td class="tge-grad" data-value="'
      +esc(known?s2[4]:'')+'">'+esc(known?s2[3].replace(/^grad (so far )?/,''):'?')
      +'</td></tr>';
  }
  rows.innerHTML=html;
}
function esc(t){return String(t).replace(/&/g,'&amp;').replace(/</g,'&lt;').replace(/"/g,'&quot;');}
// ---- camera: scale s, then translate (tx, ty), in screen px
var s=1, tx=0, ty=0;
function setCam(){cam.setAttribute('transform','translate('+tx+','+ty+') scale('+s+')');}
function fitScale(){return Math.min(view.clientWidth/(W+16), view.clientHeight/(H+16));}
function zoomAt(f,px,py){
  var ns=Math.max(0.05,Math.min(6,s*f)); tx=px-(px-tx)*ns/s; ty=py-(py-ty)*ns/s; s=ns; setCam();
}
function fit(){s=fitScale(); tx=(view.clientWidth-W*s)/2; ty=(view.clientHeight-H*s)/2; setCam();}
function home(){  // the default view: fitted, but never smaller than readable text allows
  s=Math.min(1,Math.max(MIN,fitScale())); tx=Math.max(8,(view.clientWidth-W*s)/2);
  ty=Math.max(8,(view.clientHeight-H*s)/2); setCam();
}
function inView(i){  // pan so that node i is inside the view
  var b=[box0[i][0]+at[i][0],box0[i][1]+at[i][1],box0[i][2],box0[i][3]];
  var vw=view.clientWidth, vh=view.clientHeight;
  var x0=b[0]*s+tx, y0=b[1]*s+ty, x1=(b[0]+b[2])*s+tx, y1=(b[1]+b[3])*s+ty;
  if(x0<0||y0<0||x1>vw||y1>vh){
    tx=vw/2-(b[0]+b[2]/2)*s; ty=vh/2-(b[1]+b[3]/2)*s; setCam();
  }
}
view.style.height=Math.max(180,Math.min(H*Math.min(1,Math.max(MIN,
  Math.min((view.clientWidth||800)/(W+16),1)))+24,Math.max(320,window.innerHeight*0.7)))+'px';
function show(i){
  i=Math.max(0,Math.min(n-1,i)); apply(i); paint();
  q('.tge-title').textContent=frames[i].t; q('.tge-explain').textContent=frames[i].e;
  counter.textContent='step '+(i+1)+' / '+n; slider.value=i; root.setAttribute('data-step',i);
  for(var j=0;j<nodes.length;j++){
    if(state[j]&&/\bcur\b/.test(state[j][5]||'')&&!hiddenBy(els[j])){inView(j);break;}
  }
}
function stop(){if(timer){clearInterval(timer);timer=null;} playBtn.textContent='Play';}
function play(){
  if(timer){stop();return;}
  if(k>=n-1){show(0);}
  playBtn.textContent='Pause';
  timer=setInterval(function(){if(k>=n-1){stop();}else{show(k+1);}},1200);
}
root.tgeExport=function(){  // the current frame as a standalone SVG document
  var copy=svg.cloneNode(true), st=getComputedStyle(root), css='';
  copy.setAttribute('viewBox','0 0 '+W+' '+H);
  copy.setAttribute('width',W); copy.setAttribute('height',H);
  copy.querySelector('.tge-cam').removeAttribute('transform');
  var vars=root.querySelector('style').textContent.match(/--tge-[\w-]+/g)||[];
  vars.forEach(function(v){css+=v+':'+st.getPropertyValue(v)+';';});
  var style=document.createElementNS('http://www.w3.org/2000/svg','style');
  style.textContent='svg{'+css+'}'+D.svgcss;
  copy.insertBefore(style,copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
};
q('.tge-first').onclick=function(){stop();show(0);};
q('.tge-prev').onclick=function(){stop();show(k-1);};
q('.tge-next').onclick=function(){stop();show(k+1);};
q('.tge-last').onclick=function(){stop();show(n-1);};
q('.tge-zin').onclick=function(){zoomAt(1.25,view.clientWidth/2,view.clientHeight/2);};
q('.tge-zout').onclick=function(){zoomAt(0.8,view.clientWidth/2,view.clientHeight/2);};
q('.tge-fit').onclick=fit;
q('.tge-export').onclick=function(){
  var a=document.createElement('a');
  a.href=URL.createObjectURL(new Blob([root.tgeExport()],{type:'image/svg+xml'}));
  a.download='step-'+(k+1)+'.svg'; document.body.appendChild(a); a.click(); a.remove();
};
playBtn.onclick=play;
slider.oninput=function(){stop();show(parseInt(slider.value,10));};
view.addEventListener('wheel',function(e){
  e.preventDefault(); var r=view.getBoundingClientRect();
  zoomAt(e.deltaY<0?1.15:1/1.15,e.clientX-r.left,e.clientY-r.top);
},{passive:false});
var drag=null;
view.addEventListener('pointerdown',function(e){drag={x:e.clientX,y:e.clientY,tx:tx,ty:ty,moved:false};});
window.addEventListener('pointermove',function(e){
  if(!drag){return;} var dx=e.clientX-drag.x, dy=e.clientY-drag.y;
  if(Math.abs(dx)+Math.abs(dy)>3){drag.moved=true;}
  if(drag.moved){tx=drag.tx+dx; ty=drag.ty+dy; setCam();}
});
window.addEventListener('pointerup',function(){setTimeout(function(){drag=null;},0);});
if(groups.length){
  q('.tge-collapse').onclick=function(){
    groups.forEach(function(g){if(g.leaf){shut[g.k]=1;}}); foldGroups(); paint(); home();
  };
  q('.tge-expand').onclick=function(){shut={}; foldGroups(); paint(); home();};
}
function nodeOf(t){  // the item (value box or op) an event happened in
  for(;t&&t!==svg;t=t.parentNode){if(t.getAttribute&&t.getAttribute('data-key')){return t;}}
  return null;
}
svg.addEventListener('click',function(e){  // to the node's step in this pass (shift: the other)
  if(drag&&drag.moved){return;}
  var grp=e.target.closest&&e.target.closest('.tge-grp');
  if(grp&&e.target.classList.contains('tge-gtitle')||grp&&shut[grp.getAttribute('data-grp')]){
    var gk=grp.getAttribute('data-grp'), was=(moved0||{})[gk]||gByK[gk].r;
    shut[gk]=!shut[gk]; foldGroups(); paint();
    var now=moved0[gk]; tx+=(was[0]-now[0])*s; ty+=(was[1]-now[1])*s; setCam();  // it stays put
    return;
  }
  var g=nodeOf(e.target); if(!g){return;}
  var nd=nodes[els.indexOf(g)], back=frames[k].p==='b';
  if(e.shiftKey){back=!back;}
  var to=back?(nd.bk!=null?nd.bk:nd.fw):(nd.fw!=null?nd.fw:nd.bk);
  if(to!=null){stop();show(to);}
});
svg.addEventListener('mouseover',function(e){  // full precision in the tooltip
  var g=nodeOf(e.target); if(!g){return;}
  var i=els.indexOf(g), nd=nodes[i], st2=state[i];
  var t=nd.n+(nd.op?(nd.d?'\n'+nd.d:''):'\ndata = '+nd.d)
    +(st2&&st2[4]!==null&&st2[4]!==undefined?'\ngrad = '+st2[4]:'');
  g.querySelector('title').textContent=t;
});
function key(e){
  var t=e.target&&e.target.tagName; if(t==='INPUT'&&e.target!==slider||t==='TEXTAREA'){return;}
  if(e.ctrlKey||e.metaKey||e.altKey){return;}  // the browser's and the host's shortcuts
  var w=view.clientWidth/2, h=view.clientHeight/2;
  if(e.key==='ArrowRight'){stop();show(k+1);}
  else if(e.key==='ArrowLeft'){stop();show(k-1);}
  else if(e.key===' '){play();}
  else if(e.key==='+'||e.key==='='){zoomAt(1.25,w,h);}
  else if(e.key==='-'||e.key==='_'){zoomAt(0.8,w,h);}
  else if(e.key==='0'){fit();}
  else if(e.key==='Home'){stop();show(0);}
  else if(e.key==='End'){stop();show(n-1);}
  else{return;}
  e.preventDefault();
}
if(full){document.addEventListener('keydown',key);}
else{  // in a notebook the keys pressed inside a player are its own. Jupyter's shortcuts listen
  // on the document, Notebook 7's in the capture phase, before the player could see the key;
  // so one listener on the window, ahead of them, hands a key to the player it was pressed
  // in, and a key the player takes is marked handled (defaultPrevented): Jupyter ignores it
  root.tgeKey=key;
  if(!window.tgePlayerKeys){
    window.tgePlayerKeys=true;
    window.addEventListener('keydown',function(e){
      var p=e.target&&e.target.closest&&e.target.closest('.tge-player');
      if(p&&p.tgeKey){p.tgeKey(e);}
    },true);
  }
}
home(); show(0);
})();"""
