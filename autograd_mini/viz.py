"""Draw computation graphs: ``to_dot`` (DOT text, no binary needed) and ``draw_graph``
(a ``graphviz.Digraph``: ``.render(path)``, ``.pipe()``, inline display in Jupyter).

Value graphs look like a lecture's backprop diagram: a record ``{ label | data | grad }`` per
value and a small node per op. Tensor graphs show name, shape, dtype and, for small tensors, a
preview of data and gradient; trainable leaves, constants and the output are coloured apart.
Ops recorded inside ``am.name_scope`` (every ``nn`` layer opens one) are drawn inside a box
named after the scope. Graphs beyond ``max_nodes`` are collapsed: each scope becomes one node,
and chains of one repeated op become one node with a count. Every walk is iterative.
"""

from __future__ import annotations

import html
import shutil
import sys
from pathlib import Path

import numpy as np

from .tensor import Tensor
from .value import Value

_STYLE = {
    "param": {"fillcolor": "#cfe2ff", "style": "filled"},  # leaves that require grad
    "const": {"fillcolor": "#eeeeee", "style": "filled"},  # data that needs no gradient
    "output": {"fillcolor": "#d1f2d1", "style": "filled"},  # the drawn root
    "inner": {"fillcolor": "#ffffff", "style": "filled"},
    "op": {"shape": "ellipse", "fillcolor": "#fff3cd", "style": "filled", "fontsize": "11"},
    "group": {"shape": "box3d", "fillcolor": "#fde2cf", "style": "filled"},
}


class _Node:
    __slots__ = ("key", "kind", "_label", "scope", "op", "inputs")

    def __init__(self, key, kind, label, scope=None, op=None):
        # label: text, or a function giving it (labels are made only for nodes that are drawn)
        self.key, self.kind, self._label, self.scope, self.op = key, kind, label, scope, op
        self.inputs: list[int] = []  # indices of nodes feeding this one

    @property
    def label(self) -> str:
        if callable(self._label):
            self._label = self._label()
        return self._label


def _record_escape(text: str) -> str:
    for ch in "{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text


def _preview(array, limit=6) -> str:
    array = np.asarray(array)
    if array.size > limit:
        return ""
    return np.array2string(
        array.ravel() if array.ndim > 1 else array, precision=4, separator=", ", suppress_small=True
    ).replace("\n", "")


def _tensor_label(t: Tensor, show_data: bool, show_grad: bool, names: dict) -> str:
    name = t.name or names.get(id(t), "")
    parts = [name] if name else []
    parts.append(f"{tuple(t.shape)} {t.dtype}")
    if show_data and t.size <= 6:
        parts.append("data " + (f"{t.item():.4f}" if t.size == 1 else _preview(t.data)))
    if show_grad and t.grad is not None and t.size <= 6:
        g = t.grad.data
        parts.append("grad " + (f"{float(g.reshape(-1)[0]):.4f}" if g.size == 1 else _preview(g)))
    return "{ " + " | ".join(_record_escape(p) for p in parts) + " }"


def _value_label(v: Value, show_data: bool, show_grad: bool) -> str:
    parts = [v.label] if v.label else []
    if show_data:
        parts.append(f"data {v.data:.4f}")
    if show_grad:
        parts.append(f"grad {v.grad:.4f}")
    return "{ " + " | ".join(_record_escape(p) for p in parts or ["value"]) + " }"


def _build(root, show_data: bool, show_grad: bool, names: dict) -> list[_Node]:
    """All nodes reachable from ``root`` in depth-first discovery order (ids follow it)."""
    nodes: list[_Node] = []
    index: dict[int, int] = {}
    keep_alive = []  # ids stay unique while the walk runs

    def data_node(obj) -> int:
        key = id(obj)
        if key in index:
            return index[key]
        keep_alive.append(obj)
        if isinstance(obj, Value):
            kind = "output" if obj is root else ("inner" if obj._prev else "param")
            node = _Node(key, kind, lambda v=obj: _value_label(v, show_data, show_grad))
        elif isinstance(obj, Tensor):
            if obj is root:
                kind = "output"
            elif obj._ctx is not None:
                kind = "inner"
            else:
                kind = "param" if obj.requires_grad else "const"
            node = _Node(key, kind, lambda t=obj: _tensor_label(t, show_data, show_grad, names))
        else:
            node = _Node(
                key, "const", "{ " + _record_escape(f"{obj:.4g}" if isinstance(obj, float) else str(obj)) + " }"
            )
        index[key] = len(nodes)
        nodes.append(node)
        stack.append(obj)
        return index[key]

    stack: list = []
    data_node(root)
    while stack:
        obj = stack.pop()
        me = index[id(obj)]
        if isinstance(obj, Value):
            if not obj._prev:
                continue
            op_name, scope, inputs = obj._op or "op", None, obj._prev
        elif isinstance(obj, Tensor) and obj._ctx is not None and obj._ctx.parents is not None:
            ctx = obj._ctx
            op_name, scope, inputs = ctx.name, ctx.scope, ctx.parents
        else:
            continue
        op = _Node(("op", id(obj)), "op", op_name, scope=scope, op=op_name)
        op_index = len(nodes)
        nodes.append(op)
        nodes[me].inputs.append(op_index)
        nodes[me].scope = scope
        pending = []
        for item in inputs:
            if item is None or (not isinstance(item, (Value, Tensor, float, int))):
                continue
            pending.append(data_node(item))
        op.inputs.extend(pending)
    return nodes


def _collapse(nodes: list[_Node]) -> list[_Node]:
    """Merge each scope's ops into one node, and chains of one repeated op into one node."""
    group_of = list(range(len(nodes)))

    def find(i):
        while group_of[i] != i:
            group_of[i] = group_of[group_of[i]]
            i = group_of[i]
        return i

    consumers = [0] * len(nodes)
    for node in nodes:
        for j in node.inputs:
            consumers[j] += 1
    scope_root: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node.kind == "op" and node.scope:
            top = node.scope.split("/")[0]
            if top in scope_root:
                group_of[find(i)] = find(scope_root[top])
            else:
                scope_root[top] = i
    for i, node in enumerate(nodes):  # op <- data <- op chains of one op type
        if node.kind != "op" or node.scope:
            continue
        for j in node.inputs:
            data = nodes[j]
            if data.kind == "inner" and consumers[j] == 1 and data.inputs:
                producer = data.inputs[0]
                if nodes[producer].op == node.op and not nodes[producer].scope:
                    group_of[find(producer)] = find(i)
                    group_of[j] = find(i)
    for i, node in enumerate(nodes):  # data made and used inside one group disappear into it
        if node.kind == "inner" and node.inputs:
            producer = find(node.inputs[0])
            if node.scope and nodes[node.inputs[0]].scope:
                group_of[i] = producer
    members: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        members.setdefault(find(i), []).append(i)
    out: list[_Node] = []
    new_index: dict[int, int] = {}
    for rep in sorted(members):
        group = members[rep]
        if len(group) == 1:
            node = nodes[group[0]]
            copy = _Node(node.key, node.kind, node._label, node.scope, node.op)
        else:
            ops = [nodes[i] for i in group if nodes[i].kind == "op"]
            scope = nodes[rep].scope.split("/")[0] if nodes[rep].scope else None
            count = len(ops)
            title = scope if scope else f"{ops[0].op}" if ops else "group"
            copy = _Node(("group", rep), "group", f"{title} x{count}" if not scope else f"{title} ({count} ops)")
        new_index[rep] = len(out)
        out.append(copy)
    for i, node in enumerate(nodes):
        me = new_index[find(i)]
        for j in node.inputs:
            src = new_index[find(j)]
            if src != me and src not in out[me].inputs:
                out[me].inputs.append(src)
    return out


def _emit(nodes: list[_Node], rankdir: str, legend: bool, collapsed: bool) -> str:
    lines = [
        "digraph autograd_mini {",
        f'  graph [rankdir={rankdir}, fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize=10, shape=record];',
        "  edge [arrowsize=0.7];",
    ]
    by_scope: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        if not collapsed and node.scope:
            by_scope.setdefault(node.scope.split("/")[0], []).append(i)

    def node_line(i, node):
        attrs = dict(_STYLE[node.kind])
        label = node.label
        if node.kind in ("op", "group"):
            attrs["label"] = '"' + html.escape(label, quote=True) + '"'
        else:
            attrs["label"] = '"' + label.replace('"', '\\"') + '"'
        attr_text = ", ".join(f"{k}={v}" if k == "label" else f'{k}="{v}"' for k, v in attrs.items())
        return f"  n{i} [{attr_text}];"

    scoped = {i for members in by_scope.values() for i in members}
    for i, node in enumerate(nodes):
        if i not in scoped:
            lines.append(node_line(i, node))
    for c, (scope, members) in enumerate(by_scope.items()):
        lines.append(f"  subgraph cluster_{c} {{")
        lines.append(f'    label="{scope}"; style="rounded,dashed"; color="#888888"; fontsize=11;')
        lines.extend("  " + node_line(i, nodes[i]) for i in members)
        lines.append("  }")
    for i, node in enumerate(nodes):
        for j in node.inputs:
            lines.append(f"  n{j} -> n{i};")
    if legend:
        lines.append("  subgraph cluster_legend {")
        lines.append('    label="legend"; style="dashed"; fontsize=10;')
        for kind, text in (
            ("param", "leaf that requires grad"),
            ("const", "constant / no grad"),
            ("inner", "intermediate"),
            ("output", "output"),
            ("op", "op"),
        ):
            attrs = ", ".join(f'{k}="{v}"' for k, v in _STYLE[kind].items())
            lines.append(f'    legend_{kind} [label="{text}", {attrs}];')
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(
    root,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str = "LR",
    max_nodes: int = 500,
    legend: bool = False,
    names: dict | None = None,
) -> str:
    """DOT source of the graph that produced ``root`` (a Value or a Tensor).

    Deterministic: the same graph gives the same text. ``names`` maps tensors to labels
    (``{"W1": w}`` or a model's ``named_parameters()``); Parameters show their own names.
    Beyond ``max_nodes`` nodes the graph is collapsed (scopes and repeated-op chains).
    Tensor graphs are released by ``backward()``: draw before it, or pass ``retain_graph=True``.
    """
    if not isinstance(root, (Value, Tensor)):
        raise TypeError(f"to_dot: expected a Value or a Tensor, got {type(root).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"to_dot: rankdir must be one of LR, TB, RL, BT, got {rankdir!r}")
    label_of = {}
    for key, value in (dict(names) if names is not None else {}).items():
        if isinstance(value, Tensor):
            label_of[id(value)] = key
        elif isinstance(key, Tensor):
            label_of[id(key)] = value
    nodes = _build(root, show_data, show_grad, label_of)
    collapsed = len(nodes) > max_nodes
    if collapsed:
        nodes = _collapse(nodes)
        if len(nodes) > max_nodes:
            hidden = len(nodes) - max_nodes
            keep = nodes[:max_nodes]
            for node in keep:
                node.inputs = [j for j in node.inputs if j < max_nodes]
            keep.append(_Node("more", "const", "{ " + f"... {hidden} more nodes not drawn" + " }"))
            nodes = keep
    return _emit(nodes, rankdir, legend, collapsed)


def _renderer_ready() -> None:
    """Point the graphviz package at a renderer: Graphviz's ``dot``, else ``graphviz-pure``."""
    from graphviz.backend import dot_command

    if Path(str(dot_command.DOT_BINARY)).name != "dot" or shutil.which("dot"):
        return
    candidates = [shutil.which("graphviz-pure"), str(Path(sys.executable).parent / "graphviz-pure")]
    for found in candidates:
        if found and Path(found).exists():
            dot_command.DOT_BINARY = Path(found)
            return
    raise RuntimeError(
        "draw_graph: no Graphviz renderer found. Install one: `pip install graphviz-pure` (a pip-installable "
        "`dot`, part of this package's dependencies) or your system's Graphviz (`apt-get install graphviz`). "
        "am.to_dot(...) still gives the DOT text without a renderer."
    )


def draw_graph(
    root,
    *,
    format: str = "svg",
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str = "LR",
    max_nodes: int = 500,
    legend: bool = False,
    names: dict | None = None,
):
    """The graph as a ``graphviz.Digraph`` (call ``.render(path)``, ``.pipe()``, or display it)."""
    import graphviz

    _renderer_ready()
    source = to_dot(
        root, show_data=show_data, show_grad=show_grad, rankdir=rankdir, max_nodes=max_nodes, legend=legend, names=names
    )
    body = source.splitlines()[1:-1]
    graph = graphviz.Digraph("autograd_mini", format=format)
    graph.body.extend(line + "\n" for line in body)
    return graph


def model_digraph(model, show_shapes: bool = True, show_layer_names: bool = True, rankdir: str = "TB"):
    """A layer-level diagram of an ``nn.Sequential`` (like ``keras.utils.plot_model``)."""
    import graphviz

    _renderer_ready()
    graph = graphviz.Digraph(getattr(model, "name", "model"), format="png")
    graph.attr(rankdir=rankdir)
    graph.attr("node", shape="record", fontname="Helvetica", fontsize="10", style="filled", fillcolor="#cfe2ff")
    entries = [("input_layer", "InputLayer", None, getattr(model, "input_shape", None))]
    entries += [(layer.name, type(layer).__name__, layer.input_shape, layer.output_shape) for layer in model.layers]
    for i, (name, kind, shape_in, shape_out) in enumerate(entries):
        title = f"{name} ({kind})" if show_layer_names else kind
        if show_shapes:
            shapes = f"input: {shape_in if shape_in is not None else shape_out} | output: {shape_out}"
            label = "{ " + _record_escape(title) + " | { " + _record_escape(shapes).replace("\\|", "|") + " } }"
        else:
            label = _record_escape(title)
        graph.node(f"layer{i}", label=label)
        if i:
            graph.edge(f"layer{i - 1}", f"layer{i}")
    return graph


def render_to(graph, path) -> Path:
    """Write ``graph`` to ``path``; the format comes from the suffix (svg, png, pdf, dot)."""
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if suffix in ("dot", "gv"):
        path.write_text(graph.source)
        return path
    if suffix not in ("svg", "png", "pdf", "jpg", "jpeg"):
        raise ValueError(f"render: unsupported file suffix {path.suffix!r}; use .svg, .png, .pdf or .dot")
    _renderer_ready()
    path.write_bytes(graph.pipe(format=suffix))
    return path
