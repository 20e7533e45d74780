"""Draw computation graphs: ``to_dot`` (DOT text, no binary needed) and ``draw_graph``
(a ``graphviz.Digraph``: ``.render(path)``, ``.pipe()``, inline display in Jupyter).

Value graphs look like a lecture's backprop diagram: a record ``{ label | data | grad }`` per
value and a small node per op. Tensor graphs show name, shape, dtype, the data (values when
tiny, min/max otherwise) and, once gradients exist, a gradient summary of every node
(intermediates and output included). Ops recorded inside ``am.name_scope`` (every ``nn``
layer opens one) are drawn inside a box named after the scope. Every walk is iterative.

Bounded drawings: a drawing has at most ``max_nodes + 1`` nodes and
``MAX_EDGES_PER_NODE * max_nodes`` edges (see ``collapse``), so it renders in bounded time.

Fused ops: a ``Function`` subclass may define a static ``composite(*inputs, **options)``
returning the same result built from core ops (options are read from ``ctx`` attributes of the
same names); ``expand_fused=True`` draws such nodes as those ops, with their values and
gradients.
"""

from __future__ import annotations

import gc
import shutil
import sys
from pathlib import Path

from ..tensor import Tensor
from ..value import Value
from .collapse import MAX_EDGES_PER_NODE, bound, collapse
from .dot import emit
from .edges import check_mode
from .walk import build

#: a 16:9 slide in inches (13.33 x 7.5, PowerPoint's and Keynote's widescreen page)
SLIDE = (13.33, 7.5)

__all__ = ["MAX_EDGES_PER_NODE", "draw_graph", "ensure_renderer", "to_dot"]


def _check(root, rankdir, precision, max_nodes, edge_labels=None, fit=None):
    if not isinstance(root, (Value, Tensor)):
        raise TypeError(f"to_dot: expected a Value or a Tensor, got {type(root).__name__}")
    if fit not in (None, "slide"):
        raise ValueError(f"to_dot: fit must be None or 'slide' (16:9), got {fit!r}")
    if rankdir not in (None, "LR", "TB", "RL", "BT"):
        raise ValueError(f"to_dot: rankdir must be one of LR, TB, RL, BT, got {rankdir!r}")
    if not isinstance(precision, int) or isinstance(precision, bool) or not 1 <= precision <= 17:
        raise ValueError(f"to_dot: precision must be an int of significant digits in 1..17, got {precision!r}")
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 10:
        raise ValueError(f"to_dot: max_nodes must be an int >= 10, got {max_nodes!r}")
    check_mode(edge_labels)


def to_dot(
    root,
    *,
    precision: int = 4,
    expand_fused: bool = False,
    grad_colors: bool = False,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str | None = None,
    max_nodes: int = 500,
    legend: bool = False,
    names: dict | None = None,
    edge_labels: str | None = None,
    fit: str | None = None,
) -> str:
    """DOT source of the graph that produced ``root`` (a Value or a Tensor).

    ``precision``: significant digits (tiny and huge numbers in scientific notation).
    ``expand_fused``: draw fused ops (those whose Function defines ``composite``) as their ops.
    ``grad_colors``: fill data nodes by the RMS of their gradient on a log scale, with a legend.
    ``names`` maps tensors to labels (``{"W1": w}`` or a model's ``named_parameters()``).
    ``edge_labels``: ``"local"`` writes each op input's local derivative d(out)/d(in) on its
    edge (a number for scalars, cells for a small Jacobian, else its shape); ``"product"``
    adds, once gradients exist, the chain rule's ``upstream * local = contribution``, and a
    value used by several ops shows its gradient as the sum of its contributions
    (``grad 1 + 2 = 3``). Derivatives come from each op's own backward.
    ``rankdir``: ``LR`` (default for Values), ``TB`` (default for Tensors: their nodes are
    tall, so a model's graph stays narrow), ``RL``, ``BT``. ``fit="slide"``: scale the drawing
    down to fit a 16:9 slide (13.33 x 7.5 in); without a ``rankdir`` it lays the graph out both
    ways and keeps the one that comes out largest on the slide.
    Beyond ``max_nodes`` nodes the graph is collapsed (scopes and repeated-op chains) and a
    note says what was hidden. Deterministic: the same graph gives the same text. A Tensor
    graph released by ``backward()`` raises: pass ``retain_graph=True`` or draw before it.
    """
    _check(root, rankdir, precision, max_nodes, edge_labels, fit)
    if rankdir is None and fit == "slide":  # the direction whose drawing is largest on the slide
        options = dict(precision=precision, expand_fused=expand_fused, grad_colors=grad_colors, show_data=show_data)
        options.update(show_grad=show_grad, max_nodes=max_nodes, legend=legend, names=names, edge_labels=edge_labels)
        drawings = [to_dot(root, rankdir=d, fit=fit, **options) for d in ("TB", "LR")]
        return max(drawings, key=_slide_scale)
    if rankdir is None:  # a Value chain reads left to right; tensor graphs (big nodes) top-down
        rankdir = "LR" if isinstance(root, Value) else "TB"
    was_enabled = gc.isenabled()
    gc.disable()  # the walk allocates many small objects: collections would rescan the graph
    try:
        return _to_dot(
            root,
            precision,
            expand_fused,
            grad_colors,
            show_data,
            show_grad,
            rankdir,
            max_nodes,
            legend,
            names,
            edge_labels,
            fit,
        )
    finally:
        if was_enabled:
            gc.enable()


def _to_dot(
    root,
    precision,
    expand_fused,
    grad_colors,
    show_data,
    show_grad,
    rankdir,
    max_nodes,
    legend,
    names,
    edge_labels,
    fit,
):
    label_of = {}
    for key, value in (dict(names) if names is not None else {}).items():
        if isinstance(value, Tensor):
            label_of[id(value)] = key
        elif isinstance(key, Tensor):
            label_of[id(key)] = value
    nodes = build(
        root,
        precision=precision,
        show_data=show_data,
        show_grad=show_grad,
        names=label_of,
        expand_fused=expand_fused,
        edge_labels=edge_labels,
    )
    collapsed = len(nodes) > max_nodes
    notes = []
    if collapsed:
        before = len(nodes)
        nodes = collapse(nodes)
        if len(nodes) > max_nodes:
            nodes = collapse(nodes, any_op=True)
        notes.append(f"{before} nodes merged into {len(nodes)} (scopes and chains of ops)")
    nodes, more = bound(nodes, max_nodes)
    notes += more
    return emit(
        nodes,
        rankdir=rankdir,
        legend=legend,
        clusters=not collapsed,
        grad_colors=grad_colors,
        notes=notes,
        size=SLIDE if fit == "slide" else None,
    )


def _slide_scale(source: str) -> float:
    """How large a drawing comes out on a 16:9 slide (the layout's size from ``dot -Tplain``;
    0 when no renderer is installed, so the first candidate wins)."""
    import graphviz

    try:
        ensure_renderer()
        plain = graphviz.Source(source.replace(f', size="{SLIDE[0]},{SLIDE[1]}"', "")).pipe(format="plain", quiet=True)
    except (RuntimeError, graphviz.ExecutableNotFound, graphviz.CalledProcessError):
        return 0.0
    _, _, width, height = plain.split(b"\n", 1)[0].split()[:4]
    return min(SLIDE[0] / float(width), SLIDE[1] / float(height))


def ensure_renderer() -> None:
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
    precision: int = 4,
    expand_fused: bool = False,
    grad_colors: bool = False,
    format: str = "svg",
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str | None = None,
    max_nodes: int = 500,
    legend: bool = False,
    names: dict | None = None,
    edge_labels: str | None = None,
    fit: str | None = None,
):
    """The graph as a ``graphviz.Digraph`` (``.render(path)``, ``.pipe()``; shown inline in
    Jupyter through its ``_repr_mimebundle_``). Options as in ``to_dot``."""
    import graphviz

    ensure_renderer()
    source = to_dot(
        root,
        precision=precision,
        expand_fused=expand_fused,
        grad_colors=grad_colors,
        show_data=show_data,
        show_grad=show_grad,
        rankdir=rankdir,
        max_nodes=max_nodes,
        legend=legend,
        names=names,
        edge_labels=edge_labels,
        fit=fit,
    )
    graph = graphviz.Digraph("autograd_mini", format=format)
    graph.body.extend(line + "\n" for line in source.splitlines()[1:-1])
    return graph
