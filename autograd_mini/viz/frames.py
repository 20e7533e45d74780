"""Backprop as slides: one picture per step, each step's arithmetic written out.

``story(root)`` lists the steps: optionally the forward pass (one value per step, in the
order it is computed), then the backward pass in the engine's order, where each step says
how the node's gradient is made: ``upstream * local = contribution`` for each use of the
node, and the sum of the contributions when it is used more than once. Local derivatives are
the ops' own (``Value._local``; a Tensor op's ``backward``, see ``edges``).

``frame_dot`` draws one step. Every frame is laid out with every value and gradient in place
(the ones not known yet are drawn invisible), so nodes never move between frames.
``export_frames`` writes each frame as PNG (1920 x 1080), SVG and PDF, and the whole as an
animated GIF (960 x 540) and an MP4 (1920 x 1080, when ``imageio`` with ``imageio-ffmpeg`` is
installed), sized for a 16:9 slide.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..tensor import Tensor
from ..value import Value
from . import format as F
from . import html
from .dot import STYLE, escape
from .edges import Matrix, array_text, tensor_edges
from .steps import backward_order
from .walk import build

#: a 16:9 slide in inches, and the PNG resolution (1920 x 1080 pixels)
SLIDE_INCHES = (13.33, 7.5)
SLIDE_PIXELS = (1920, 1080)

CURRENT, DONE = "#ffd27f", "#c9efc9"

#: an unnamed intermediate is called by the expression that made it, up to this many characters
MAX_NAME = 32


def node_name(node_label, obj) -> str:
    """The user's name for a node (its label or name, or the argument it was passed as), else
    a description: never an internal id."""
    head = node_label[0] if node_label and isinstance(node_label[0], str) else ""
    if isinstance(obj, Value):
        return obj.label or f"the value {F.fmt(obj.data)}" + (f" (output of {obj._op})" if obj._op else "")
    if isinstance(obj, Tensor):
        if obj.name:
            return obj.name
        if head and not head.startswith("("):
            return head
        return f"the output of {obj._ctx.name}" if obj._ctx is not None else "a constant"
    return "a constant"


def _scalar_grad(g) -> float | None:
    g = np.asarray(g)
    return float(g.reshape(-1)[0]) if g.size == 1 else None


def story(root, *, forward: bool = True, precision: int = 4):
    """The drawing nodes and the steps. A step: ``phase`` (forward/backward), ``index`` of the
    node, ``name``, ``text`` (the arithmetic, one line or a few) and, backward, ``grad`` (the
    gradient array) and ``grad_text`` (as the node shows it)."""

    order, grads = backward_order(root)
    nodes = build(root, precision=precision, show_grad=False)
    objects = _objects(root, nodes)
    index = {node.key: i for i, node in enumerate(nodes) if node.kind != "op"}
    names = {key: node_name(nodes[i].label, objects[key]) for key, i in index.items()}
    calls = {}  # an unnamed intermediate Tensor as the call that made it: mul(w, x)
    for obj in reversed(order):  # inputs before the ops that use them
        if isinstance(obj, Tensor) and obj._ctx is not None:
            args = ", ".join(
                names.get(id(p), F.fmt_constant(p))
                if np.ndim(p) == 0 and not isinstance(p, Tensor)
                else names.get(id(p), "?")
                for p in obj._ctx.parents
            )
            calls[id(obj)] = f"{obj._ctx.name}({args})"
            if names[id(obj)].startswith("the output of ") and len(calls[id(obj)]) <= MAX_NAME:
                names[id(obj)] = calls[id(obj)]
    uses: dict[int, list] = {}  # id(input) -> [(op node, position k, output object, edge)]
    for i, node in enumerate(nodes):
        if node.kind == "op" and node.source is not None:
            ctx, out, _, positions = node.source
            for e, (j, k) in enumerate(zip(node.inputs, positions)):
                uses.setdefault(nodes[j].key, []).append((node, k, out, (i, e)))
    steps = []
    if forward:
        for obj in reversed(order):
            i = index[id(obj)]
            data = obj.data
            text = f"forward: {names[id(obj)]} = {F.fmt(data, precision) if np.size(data) == 1 else np.shape(data)}"
            if isinstance(obj, Value) and obj._prev:
                args = f" {obj._op} ".join(F.fmt(p.data, precision) for p in obj._prev)
                text = f"forward: {names[id(obj)]} = {args} = {F.fmt(data, precision)}"
            elif isinstance(obj, Tensor) and obj._ctx is not None:
                value = _shape_or_value(data, precision)
                if names[id(obj)] == calls[id(obj)]:
                    text = f"forward: {calls[id(obj)]} = {value}"
                elif len(calls[id(obj)]) <= MAX_NAME:
                    text = f"forward: {names[id(obj)]} = {calls[id(obj)]} = {value}"
                else:
                    text = f"forward: {names[id(obj)]} = {obj._ctx.name}(...) = {value}"
            else:
                text = f"input: {names[id(obj)]} = " + _shape_or_value(data, precision)
            steps.append({"phase": "forward", "index": i, "name": names[id(obj)], "text": text})
    for k, obj in enumerate(order):
        i = index[id(obj)]
        g = grads.get(id(obj), 0.0)
        name = names[id(obj)]
        lines, edges = [], {}
        if k == 0:
            lines.append(f"d{name}/d{name} = 1: the gradient starts at the output")
        else:
            parts = []
            for op_node, pos, out, edge in uses.get(id(obj), []):
                upstream = grads.get(id(out))
                if upstream is None:
                    continue
                if isinstance(out, Value):
                    local = out._local[pos]
                    contribution = upstream * local
                    lines.append(
                        f"via {out._op} into {names[id(out)]}: upstream {F.fmt(upstream, precision)} * local "
                        f"{F.fmt(local, precision)} = {F.fmt(contribution, precision)}"
                    )
                    parts.append(contribution)
                    edges[edge] = (
                        f"{F.fmt(upstream, precision)} * {F.fmt(local, precision)} = {F.fmt(contribution, precision)}"
                    )
                else:
                    ctx = op_node.source[0]
                    labels, contributions = tensor_edges(ctx, out, upstream, [pos], precision, "product")
                    c = contributions[0]
                    if c is None:
                        continue
                    parts.append(np.asarray(c))
                    label = labels[0]
                    if isinstance(label, str) and "\n" in label:  # scalars: "local l\nu * l = c"
                        local_text, product = label.split("\n", 1)
                        up, rest = product.split(" * ", 1)
                        lines.append(
                            f"via {op_node.label} into {names[id(out)]}: upstream {up} * {local_text} = "
                            f"{rest.split(' = ')[-1]}"
                        )
                        edges[edge] = product
                        continue
                    text = _shape_or_value(c, precision)
                    lines.append(f"via {op_node.label} into {names[id(out)]}: upstream * local = {text}")
                    edges[edge] = "upstream * local = " + text
            if len(parts) > 1:
                if all(np.size(p) == 1 for p in parts):
                    terms = " + ".join(F.fmt(_scalar_grad(p), precision) for p in parts)
                    lines.append(f"{name} is used {len(parts)} times: grad = {terms} = {_grad_short(g, precision)}")
                else:
                    lines.append(f"{name} is used {len(parts)} times: grad = the sum of the {len(parts)} contributions")
        head = f"backward: grad of {name} = {_grad_short(g, precision)}"
        steps.append(
            {
                "phase": "backward",
                "index": i,
                "name": name,
                "text": "\n".join([head, *lines]),
                "grad": np.asarray(g, dtype=np.float64),
                "grad_text": _grad_field(g, precision),
                "edges": edges,
            }
        )
    return nodes, steps


def _shape_or_value(a, precision) -> str:
    """A number, a small array's values (``[0.5, -1]``, rows for a matrix), else shape and norm."""
    a = np.asarray(a)
    if a.size == 1:
        return F.fmt(a.reshape(-1)[0], precision)
    if a.size <= 8 and a.ndim <= 2:
        digits = min(precision, 3)
        if a.ndim == 2:
            return "[" + ", ".join(F.values(row, digits) for row in a) + "]"
        return F.values(a, digits)
    norm = float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))
    return f"shape {tuple(a.shape)}, norm {F.fmt(norm, precision)}"


def _grad_short(g, precision) -> str:
    g = np.asarray(g)
    return F.fmt(g.reshape(-1)[0], precision) if g.size == 1 else _shape_or_value(g, precision)


def _grad_field(g, precision):
    g = np.asarray(g)
    if g.size == 1:
        return "grad " + F.fmt(g.reshape(-1)[0], precision)
    shown = array_text(g, precision, "grad")
    return shown if isinstance(shown, Matrix) else "grad " + F.grad_stats(g, precision)


def _objects(root, nodes) -> dict:
    """id -> object for every data node (walked again, iteratively)."""
    found, stack = {id(root): root}, [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, Value):
            inputs = obj._prev
        elif isinstance(obj, Tensor) and obj._ctx is not None:
            inputs = obj._ctx.parents
        else:
            continue
        for item in inputs:
            if id(item) not in found:
                found[id(item)] = item
                stack.append(item)
    return found


def frame_dot(nodes, steps, upto: int, *, rankdir="LR", title="") -> str:
    """DOT text of the picture after ``upto`` steps (0: nothing computed yet)."""
    forward_steps = [s for s in steps if s["phase"] == "forward"]
    shown_data = {s["index"] for s in steps[:upto] if s["phase"] == "forward"}
    if not forward_steps:
        shown_data = {i for i, n in enumerate(nodes) if n.kind != "op"}
    else:  # leaves are known from the start
        shown_data |= {i for i, n in enumerate(nodes) if n.kind == "const"}
    grad_of = {s["index"]: s["grad_text"] for s in steps if s["phase"] == "backward"}
    shown_grad = {s["index"] for s in steps[:upto] if s["phase"] == "backward"}
    current = steps[upto - 1]["index"] if upto else None
    caption = steps[upto - 1]["text"] if upto else "the graph: nothing computed yet"
    counter = f"step {upto}/{len(steps)}"
    lines = [
        "digraph frame {",
        f'  graph [rankdir={rankdir}, fontname="Helvetica", size="{SLIDE_INCHES[0]},{SLIDE_INCHES[1]}!", '
        f"pad=0.3, labelloc=t, labeljust=l, fontsize=16, label=<{_caption(title, counter, caption, steps)}>];",
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [arrowsize=0.8, fontname="Helvetica"];',
    ]
    for i, node in enumerate(nodes):
        if node.kind == "op":
            attrs = dict(STYLE["op"])
            attrs["fontsize"] = "13"
            lines.append(
                f'  n{i} [label="{escape(node.label)}", ' + ", ".join(f'{k}="{v}"' for k, v in attrs.items()) + "];"
            )
            continue
        fields = list(node.label)
        hidden = set()
        if i not in shown_data:
            hidden |= {k for k, f in enumerate(fields) if not (isinstance(f, str) and (k == 0 or f.startswith("(")))}
        if i in grad_of:
            fields.append(grad_of[i])
            if i not in shown_grad:
                hidden.add(len(fields) - 1)
        fill = STYLE[node.kind]["fillcolor"]
        if i == current:
            fill = CURRENT
        elif i in shown_grad:
            fill = DONE
        label = html.fields(fields, fontsize=12, bgcolor=fill, hidden=hidden)
        lines.append(f"  n{i} [shape=plain, label=<{label}>];")
    # every edge carries its label in every frame (the layout never moves): future ones
    # invisible, the current step's in orange, earlier ones in grey
    every = {edge: (text, n) for n, step in enumerate(steps) for edge, text in step.get("edges", {}).items()}
    for i, node in enumerate(nodes):
        for e, j in enumerate(node.inputs):
            text, n = every.get((i, e), (None, None))
            if text is None:
                lines.append(f"  n{j} -> n{i};")
                continue
            if n == upto - 1:  # the gradient flows back along this edge now
                style = 'color="#e07b00", penwidth=3, fontcolor="#b35f00"'
            elif n < upto:
                style = 'fontcolor="#777777"'
            else:
                style = 'fontcolor="#ffffff"'
            lines.append(f'  n{j} -> n{i} [{style}, fontsize=13, label="{escape(text)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _caption(title, counter, text, steps) -> str:
    """The slide's title, step counter and arithmetic. Every frame's caption has the same
    number of lines and the widest line of all (in white), so the picture never rescales."""
    said = [line for step in steps for line in step["text"].split("\n")]
    widest = max([*said, *text.split("\n")], key=len)
    height = max(step["text"].count("\n") + 1 for step in steps) if steps else 1
    lines = text.split("\n")
    lines += [""] * (height - len(lines))
    rows = [f'<font point-size="20"><b>{html.text(title)}</b></font>'] if title else []
    rows.append(f'<font point-size="15" color="#555555">{html.text(counter)}</font>')
    rows += [
        f'<font point-size="16">{html.text(line)}</font>' if line else '<font point-size="16" color="#ffffff">.</font>'
        for line in lines
    ]  # an empty line keeps its height only with some (white) ink
    rows.append(f'<font point-size="16" color="#ffffff">{html.text(widest)}</font>')
    return "<br align='left'/>".join(rows) + "<br align='left'/>"


def render(dot: str, fmt: str) -> bytes:
    """Render DOT text with the configured ``dot`` (Graphviz or graphviz-pure)."""
    import graphviz

    from . import ensure_renderer

    ensure_renderer()
    graph = graphviz.Source(dot)
    return graph.pipe(format=fmt, quiet=True)


def _slide_png(dot: str):
    """The frame as a 1920x1080 RGB image (the drawing scaled and centred on white)."""
    from PIL import Image

    picture = Image.open(io.BytesIO(render(dot.replace("digraph frame {", "digraph frame {\n  dpi=144;", 1), "png")))
    picture = picture.convert("RGB")
    scale = min(SLIDE_PIXELS[0] / picture.width, SLIDE_PIXELS[1] / picture.height, 1.0)
    if scale < 1.0:
        picture = picture.resize((int(picture.width * scale), int(picture.height * scale)), Image.LANCZOS)
    slide = Image.new("RGB", SLIDE_PIXELS, "white")
    slide.paste(picture, ((SLIDE_PIXELS[0] - picture.width) // 2, (SLIDE_PIXELS[1] - picture.height) // 2))
    return slide


def export_frames(
    nodes, steps, directory, *, rankdir="LR", title="", formats=("png", "svg", "pdf"), gif=True, mp4=None, seconds=1.2
) -> list[Path]:
    """Write ``frame_000.png/.svg/.pdf`` ... for every step (0: nothing computed yet) and
    ``backprop.gif`` (and ``backprop.mp4``: ``mp4=None`` writes it when imageio-ffmpeg is
    installed, ``True`` requires it). PDFs hold the 1920x1080 PNG. Returns the paths."""
    for f in formats:
        if f not in ("png", "svg", "pdf"):
            raise ValueError(f"animate_backward: frame formats are png, svg and pdf, got {f!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written, images = [], []
    for upto in range(len(steps) + 1):
        dot = frame_dot(nodes, steps, upto, rankdir=rankdir, title=title)
        stem = directory / f"frame_{upto:03d}"
        if "svg" in formats:
            written.append(_atomic(stem.with_suffix(".svg"), render(dot, "svg")))
        if {"png", "pdf"} & set(formats) or gif or mp4:
            slide = _slide_png(dot)
            images.append(slide)
            for f in ("png", "pdf"):
                if f in formats:
                    buffer = io.BytesIO()
                    slide.save(buffer, format=f.upper(), resolution=144.0)
                    written.append(_atomic(stem.with_suffix("." + f), buffer.getvalue()))
    if gif and images:  # half size (960 x 540) and 64 colours: small and quick, still sharp
        from PIL import Image

        small = [
            image.resize((SLIDE_PIXELS[0] // 2, SLIDE_PIXELS[1] // 2), Image.LANCZOS).quantize(
                64, method=Image.Quantize.FASTOCTREE
            )
            for image in images
        ]
        buffer = io.BytesIO()
        durations = [int(seconds * 1000)] * (len(small) - 1) + [int(seconds * 3000)]
        small[0].save(buffer, format="GIF", save_all=True, append_images=small[1:], duration=durations, loop=0)
        written.append(_atomic(directory / "backprop.gif", buffer.getvalue()))
    if mp4 is not False and images:
        try:
            import imageio.v2 as imageio
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            if mp4:
                raise ImportError(
                    "animate_backward: writing an MP4 needs imageio and imageio-ffmpeg "
                    "(pip install 'autograd_mini[slides]')"
                ) from None
        else:
            target = directory / "backprop.mp4"
            temporary = target.with_suffix(".tmp.mp4")
            with imageio.get_writer(
                temporary, fps=1 / seconds, codec="libx264", macro_block_size=8, ffmpeg_log_level="error"
            ) as writer:
                for image in images:
                    writer.append_data(np.asarray(image))
            temporary.replace(target)
            written.append(target)
    return written


def _atomic(path: Path, data: bytes) -> Path:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    return path
