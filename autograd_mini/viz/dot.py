"""DOT text from drawing nodes: record nodes for data, ellipses for ops, a cluster per
name scope, an optional legend, and with ``grad_colors`` a log-scale gradient colour map."""

from __future__ import annotations

import math

from . import html
from .walk import Node

STYLE = {
    "param": {"fillcolor": "#cfe2ff", "style": "filled"},  # leaves that require grad
    "const": {"fillcolor": "#eeeeee", "style": "filled"},  # data that needs no gradient
    "output": {"fillcolor": "#d1f2d1", "style": "filled"},  # the drawn root
    "inner": {"fillcolor": "#ffffff", "style": "filled"},
    "op": {"shape": "ellipse", "fillcolor": "#fff3cd", "style": "filled", "fontsize": "11"},
    "fused": {"shape": "ellipse", "fillcolor": "#ffe0f0", "style": "filled,dashed", "fontsize": "11"},
    "group": {"shape": "box3d", "fillcolor": "#fde2cf", "style": "filled"},
    "note": {"shape": "note", "fillcolor": "#fffbe6", "style": "filled"},
}

# a viridis-like ramp: dark = vanishing gradient, bright = large gradient
RAMP = ["#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725"]


def _escape_record(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for ch in '{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def grad_scale(nodes: list[Node]) -> tuple[float, float] | None:
    """log10 range of the nonzero gradient magnitudes (None: no gradients)."""
    logs = [math.log10(n.magnitude) for n in nodes if n.magnitude]
    if not logs:
        return None
    low, high = min(logs), max(logs)
    return (low, high if high > low else low + 1)


def ramp_color(log_value: float, scale) -> str:
    low, high = scale
    position = (log_value - low) / (high - low)
    return RAMP[min(len(RAMP) - 1, max(0, int(position * len(RAMP))))]


def _size(size) -> str:
    """Graph attributes that scale a drawing down to ``size`` inches (a PNG: 72 px per inch)."""
    return "" if size is None else f', size="{size[0]},{size[1]}"'


def edge_attrs(label) -> str:
    """An edge's label attributes: the chain rule's text, or cells for matrices."""
    from .edges import Matrix

    if label is None:
        return ""
    parts = label if isinstance(label, list) else [label]
    style = 'fontsize=9, fontcolor="#1f5fa8"'
    if any(isinstance(p, Matrix) for p in parts):
        return f" [label=<{html.stack(parts, fontsize=9, fontcolor='#1f5fa8')}>, {style}]"
    text = "\\n".join(escape(line) for p in parts for line in str(p).split("\n"))
    return f' [label="{text}", {style}]'


def emit(
    nodes: list[Node],
    *,
    rankdir="LR",
    legend=False,
    clusters=True,
    grad_colors=False,
    notes=(),
    ids=False,
    size=None,
) -> str:
    """The DOT source (deterministic: node ids follow the walk's order). ``ids``: give each
    node an ``id`` attribute (``n<i>``), which SVG renderers keep (for scripts)."""
    lines = [
        "digraph autograd_mini {",
        f'  graph [rankdir={rankdir}, fontname="Helvetica", pad=0.25{_size(size)}];',
        '  node [fontname="Helvetica", fontsize=10, shape=record];',
        '  edge [arrowsize=0.7, fontname="Helvetica"];',
    ]
    scale = grad_scale(nodes) if grad_colors else None
    # one look for every data node: once some node shows a matrix as cells, all are tables
    tables = any(
        isinstance(node.label, list) and any(not isinstance(f, str) for f in node.label)
        for node in nodes
        if node.kind not in ("op", "group")
    )

    def node_line(i, node):
        kind = "fused" if node.kind == "op" and node.fused else node.kind
        attrs = dict(STYLE[kind])
        label = node.label
        if node.kind in ("op", "group"):
            text = label + "".join("\n" + n for n in node.notes)
            attrs["label"] = '"' + escape(text) + '"'
            if node.fused:
                attrs["tooltip"] = f"part of fused op {node.fused}"
        else:
            fields = list(label) if isinstance(label, (list, tuple)) else [label]
            fields += node.notes
            if tables:  # matrices: HTML-like tables
                attrs["label"] = fields
            else:
                attrs["label"] = '"{ ' + " | ".join(_escape_record(f) for f in fields) + ' }"'
            if scale is not None:
                if node.magnitude is None:
                    attrs["fillcolor"] = "#ffffff"
                elif node.magnitude == 0:
                    attrs["fillcolor"] = "#000000"
                    attrs["fontcolor"] = "#ffffff"
                else:
                    color = ramp_color(math.log10(node.magnitude), scale)
                    attrs["fillcolor"] = color
                    if color in RAMP[:4]:
                        attrs["fontcolor"] = "#ffffff"
        if isinstance(attrs["label"], list):  # the table carries the fill (a plain node has none)
            fields = attrs.pop("label")
            fill, font = attrs.pop("fillcolor", "#ffffff"), attrs.pop("fontcolor", "#000000")
            attrs = {"shape": "plain", "label": "<" + html.fields(fields, bgcolor=fill, fontcolor=font) + ">"}
        if ids:
            attrs["id"] = f"n{i}"
        text = ", ".join(f"{k}={v}" if k == "label" else f'{k}="{v}"' for k, v in attrs.items())
        return f"  n{i} [{text}];"

    by_scope: dict[str, list[int]] = {}
    if clusters:
        for i, node in enumerate(nodes):
            if node.scope:
                by_scope.setdefault(node.scope.split("/")[0], []).append(i)
    scoped = {i for members in by_scope.values() for i in members}
    for i, node in enumerate(nodes):
        if i not in scoped:
            lines.append(node_line(i, node))
    for c, (scope, members) in enumerate(by_scope.items()):
        lines.append(f"  subgraph cluster_{c} {{")
        lines.append(f'    label="{escape(scope)}"; style="rounded,dashed"; color="#888888"; fontsize=11;')
        lines.extend("  " + node_line(i, nodes[i]) for i in members)
        lines.append("  }")
    for i, node in enumerate(nodes):
        labels = node.edge_labels or ()
        for k, j in enumerate(node.inputs):
            label = labels[k] if k < len(labels) else None
            lines.append(f"  n{j} -> n{i}{edge_attrs(label)};")
    if notes:
        text = "\\l".join(escape(n) for n in notes) + "\\l"
        attrs = ", ".join(f'{k}="{v}"' for k, v in STYLE["note"].items())
        lines.append(f'  collapsed_note [label="collapsed to stay drawable:\\l{text}", {attrs}];')
    if legend:
        lines.append("  subgraph cluster_legend {")
        lines.append('    label="legend"; style="dashed"; fontsize=10;')
        for kind, text in (
            ("param", "leaf that requires grad"),
            ("const", "constant / no grad"),
            ("inner", "intermediate"),
            ("output", "output"),
            ("op", "op"),
            ("fused", "op inside a fused op"),
        ):
            attrs = ", ".join(f'{k}="{v}"' for k, v in STYLE[kind].items())
            lines.append(f'    legend_{kind} [label="{text}", {attrs}];')
        lines.append("  }")
    if scale is not None:
        low, high = scale
        lines.append("  subgraph cluster_grad_legend {")
        lines.append('    label="|grad| (RMS), log scale"; style="dashed"; fontsize=10;')
        for k, color in enumerate(RAMP):
            exponent = low + (high - low) * (k + 0.5) / len(RAMP)
            font = ', fontcolor="#ffffff"' if k < 4 else ""
            lines.append(
                f'    grad_legend_{k} [shape=box, width=1.9, style=filled, fillcolor="{color}"{font}, label="{10**exponent:.1e}"];'  # wider than its title: never clipped
            )
        for k in range(len(RAMP) - 1):
            lines.append(f"    grad_legend_{k} -> grad_legend_{k + 1} [style=invis];")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
