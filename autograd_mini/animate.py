"""Backprop, step by step: ``animate_backward(root, path)`` writes one self-contained HTML
page (inline SVG, CSS and JavaScript; nothing is fetched) that shows the forward values, then
the backward pass one node at a time in the engine's own order (Kahn's order, as
``am.topological_order`` gives it), each gradient appearing when it is computed.

Controls: previous / next / play buttons and the arrow keys; ``page.html?step=N`` (or
``#step=N``) opens at step N (0: the forward pass only).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from .value import Value
from .viz import ensure_renderer
from .viz import format as F
from .viz.dot import emit
from .viz.steps import backward_order
from .viz.walk import build


def _grad_text(g, precision) -> str:
    g = np.asarray(g)
    if g.size == 1:
        return "grad " + F.values(g, precision)
    if g.size <= F.PREVIEW_SIZE:
        return "grad " + F.values(g, precision)
    return "grad " + F.grad_stats(g, precision)


def backward_steps(root, precision: int = 4) -> tuple[list, list[dict]]:
    """The drawing nodes (each laid out with its gradient text, which the page hides until its
    step) and the steps: per step, the node id whose gradient is now known, its name, the
    gradient text and the exact gradient values."""
    from .viz.frames import node_name

    order, grads = backward_order(root)
    nodes = build(root, precision=precision, show_grad=False)
    index = {node.key: i for i, node in enumerate(nodes) if node.kind != "op"}
    steps = []
    for obj in order:
        g = grads.get(id(obj), 0.0)
        name = node_name(nodes[index[id(obj)]].label, obj)
        text = _grad_text(g, precision)
        node = nodes[index[id(obj)]]
        node._label = list(node.label) + [text]  # laid out with its gradient; hidden until its step
        steps.append(
            {
                "node": f"n{index[id(obj)]}",
                "name": name,
                "text": text,
                "values": np.asarray(g, dtype=np.float64).reshape(-1).tolist(),
            }
        )
    from .viz.frames import story

    _, told = story(root, forward=False, precision=precision)
    for step, said in zip(steps, told):
        step["arithmetic"] = said["text"]
        step["name"] = said["name"]  # a user's label, or the call that made it: mul(w, x)
    return nodes, steps


_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 16px; }
#controls button { font-size: 15px; margin-right: 6px; padding: 4px 12px; }
#status { margin: 10px 0; font-size: 16px; min-height: 4.5em; white-space: pre-line; }
#picture svg { max-width: 100%; height: auto; }
.node.done > polygon:first-of-type, .node.done > path:first-of-type { fill: #c9efc9; }
.node.current > polygon:first-of-type, .node.current > path:first-of-type { fill: #ffd27f; }
.node .grad-pending { fill: #bbbbbb; }
"""

_JS = """
(function () {
  var steps = JSON.parse(document.getElementById("steps").textContent);
  var slots = {};
  steps.forEach(function (s) {
    var g = document.getElementById(s.node);
    if (!g) { return; }
    g.querySelectorAll("text").forEach(function (t) {
      if (t.textContent === s.text) { slots[s.node] = t; }
    });
  });
  var current = 0, timer = null;
  function show(k) {
    current = Math.max(0, Math.min(steps.length, k));
    document.querySelectorAll("g.node").forEach(function (g) { g.classList.remove("done", "current"); });
    Object.keys(slots).forEach(function (id) { slots[id].textContent = ""; });
    for (var i = 0; i < current; i++) {
      var s = steps[i], g = document.getElementById(s.node);
      if (slots[s.node]) { slots[s.node].textContent = s.text; }
      if (g) { g.classList.add(i === current - 1 ? "current" : "done"); g.setAttribute("data-grad", JSON.stringify(s.values)); }
    }
    var status = document.getElementById("status");
    if (current === 0) {
      status.textContent = "step 0/" + steps.length + ": forward pass (values only)";
    } else {
      var s = steps[current - 1];
      status.textContent = "step " + current + "/" + steps.length + ": " + s.arithmetic;
    }
    document.body.setAttribute("data-step", String(current));
  }
  function play() {
    if (timer) { clearInterval(timer); timer = null; document.getElementById("play").textContent = "play"; return; }
    if (current >= steps.length) { show(0); }
    document.getElementById("play").textContent = "pause";
    timer = setInterval(function () {
      if (current >= steps.length) { play(); return; }
      show(current + 1);
    }, 900);
  }
  document.getElementById("prev").onclick = function () { show(current - 1); };
  document.getElementById("next").onclick = function () { show(current + 1); };
  document.getElementById("play").onclick = play;
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { show(current + 1); }
    if (e.key === "ArrowLeft") { show(current - 1); }
  });
  var match = /step=(\\d+)/.exec(window.location.search + window.location.hash);
  show(match ? parseInt(match[1], 10) : 0);
})();
"""


def animate_backward(
    root,
    path,
    *,
    precision: int = 4,
    title: str | None = None,
    rankdir: str | None = None,
    frames=None,
    forward: bool = True,
    formats=("png", "svg", "pdf"),
    gif: bool = True,
    mp4: bool | None = None,
) -> Path:
    """Write ``path``: one self-contained HTML page stepping through backprop of ``root`` (a
    Value, or a scalar Tensor whose graph is not released), one node per step in the engine's
    order, each gradient d(root)/d(node) appearing as it is computed with its arithmetic
    (``upstream * local = contribution`` per use, and the sum when a node is used more than
    once). Nodes are named by their labels (or the argument they were passed as), never by
    internal ids. Nothing is accumulated into ``.grad``. Returns the path.

    ``frames``: a directory that receives every step as a 16:9 slide (``frame_000.png``,
    ``.svg``, ``.pdf``; ``formats`` picks them), ``backprop.gif`` (``gif``) and, when
    imageio-ffmpeg is installed (``pip install 'autograd_mini[slides]'``), ``backprop.mp4``
    (``mp4=True`` requires it, ``False`` skips it). ``forward``: the frames first compute the
    forward pass, one value per step. ``rankdir``: default LR for Values, TB for Tensors."""
    if rankdir is None:
        rankdir = "LR" if isinstance(root, Value) else "TB"
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"animate_backward: rankdir must be one of LR, TB, RL, BT, got {rankdir!r}")
    import graphviz

    nodes, steps = backward_steps(root, precision)
    ensure_renderer()
    source = emit(nodes, rankdir=rankdir, ids=True)
    graph = graphviz.Digraph("autograd_mini")
    graph.body.extend(line + "\n" for line in source.splitlines()[1:-1])
    svg = graph.pipe(format="svg").decode()
    svg = svg[svg.index("<svg") :]
    title = title or "Backpropagation, step by step"
    steps_json = json.dumps(steps).replace("</", "<\\/")
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h2>{html.escape(title)}</h2>"
        "<div id='controls'><button id='prev'>&#9664; previous</button>"
        "<button id='next'>next &#9654;</button><button id='play'>play</button></div>"
        "<div id='status'></div>"
        f"<div id='picture'>{svg}</div>"
        f"<script type='application/json' id='steps'>{steps_json}</script>"
        f"<script>{_JS}</script>"
        "</body></html>\n"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(path)
    if frames is not None:
        from .viz.frames import export_frames, story

        frame_nodes, told = story(root, forward=forward, precision=precision)
        export_frames(frame_nodes, told, frames, rankdir=rankdir, title=title, formats=formats, gif=gif, mp4=mp4)
    return path
