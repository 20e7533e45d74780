"""The graph behind a root, as drawing nodes: data nodes (Values, Tensors, constants) and op
nodes, every walk iterative. Gradients of intermediate Tensors come from one extra backward
pass over the retained graph (nothing is accumulated into ``.grad``); fused ops whose
``Function`` class defines ``composite`` can be drawn as the core ops they stand for."""

from __future__ import annotations

import functools
import inspect

import numpy as np

from ..grad_mode import enable_grad
from ..tensor import Tensor
from ..value import Value
from . import format as F

#: beyond this many Tensors the extra backward pass for intermediate gradients is skipped
GRADIENT_LIMIT = 20_000


class Node:
    """One drawn node: ``kind`` in param/const/inner/output/op/group/note; ``inputs`` are the
    indices of the nodes feeding it; ``label`` is text or a function making it on demand."""

    __slots__ = (
        "key",
        "kind",
        "_label",
        "scope",
        "op",
        "inputs",
        "magnitude",
        "fused",
        "notes",
        "counts",
        "source",
        "edge_labels",
        "grad_value",
    )

    def __init__(self, key, kind, label, scope=None, op=None):
        self.key, self.kind, self._label, self.scope, self.op = key, kind, label, scope, op
        self.inputs: list[int] = []
        self.magnitude = None  # gradient size (RMS) for grad_colors; None: no gradient known
        self.fused = None  # name of the fused op this op node is part of (expand_fused)
        self.notes: list[str] = []  # extra lines (what collapsing hid)
        self.counts: dict[str, int] | None = None  # a group's ops by name
        self.source = None  # an op node's (ctx or Value, output, gradient key, input positions)
        self.edge_labels: list | None = None  # an op node's label per input edge (edge_labels=)
        self.grad_value = None  # a Value's gradient (for writing it as a sum of contributions)

    def op_counts(self) -> dict[str, int]:
        """The ops this node stands for, by name."""
        if self.counts is not None:
            return self.counts
        return {self.op: 1} if self.kind == "op" else {}

    @property
    def label(self) -> str:
        if callable(self._label):
            self._label = self._label()
        return self._label


def released_error(ctx) -> RuntimeError:
    return RuntimeError(
        f"draw_graph: the graph was released by backward(): op '{ctx.name}'{ctx.where()} no longer "
        f"knows its inputs. Call backward(retain_graph=True) to draw the graph with its gradients, "
        f"or draw it before backward()."
    )


def collect_tensors(root: Tensor) -> list[Tensor]:
    """Every Tensor reachable from ``root`` (root first); raises if any op was released."""
    seen = {id(root)}
    order, stack = [], [root]
    while stack:
        t = stack.pop()
        order.append(t)
        ctx = t._ctx
        if ctx is None:
            continue
        if ctx.parents is None:
            raise released_error(ctx)
        for p in ctx.parents:
            if isinstance(p, Tensor) and id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return order


def has_gradients(tensors) -> bool:
    return any(t.grad is not None for t in tensors)


def tensor_gradients(root: Tensor, tensors: list[Tensor]) -> dict[int, np.ndarray]:
    """id -> gradient of every Tensor: leaves' and retained ``.grad``, and for intermediates
    d(root)/d(node) seeded with ``root.grad`` (else 1 for a scalar root) by a backward pass
    over the retained graph that accumulates nothing."""
    from ..engine import backward

    grads = {id(t): t.grad.data for t in tensors if t.grad is not None}
    if root._ctx is None or len(tensors) > GRADIENT_LIMIT:
        return grads
    if root.grad is not None:
        seed = root.grad.data
    elif root.size == 1:
        seed = np.ones_like(root.data)
    else:
        return grads
    wanted = tuple(t for t in tensors if t._ctx is not None)
    for t, g in zip(wanted, backward([root], [seed], retain_graph=True, inputs=wanted)):
        if g is not None and id(t) not in grads:
            grads[id(t)] = g.data
    grads[id(root)] = np.asarray(seed)
    return grads


def composite_options(ctx) -> dict:
    """The keyword options of ``composite`` beyond the op's inputs, read from ``ctx``."""
    names = list(inspect.signature(type(ctx).composite).parameters)[len(ctx.parents) :]
    return {name: getattr(ctx, name) for name in names if hasattr(ctx, name)}


def expand(t: Tensor, grads: dict, alias: dict, keep: list) -> Tensor:
    """Re-run ``t``'s fused op as its ``composite`` on detached copies of the inputs; returns
    the composite's result, whose inner Tensors get values and (when ``t``'s upstream
    gradient is known) gradients. ``alias`` maps each copy's id to the original input."""
    from ..engine import backward

    ctx = t._ctx
    copies = []
    for p in ctx.parents:
        if isinstance(p, Tensor):
            c = Tensor(p.data.copy(), requires_grad=p.requires_grad)
            alias[id(c)] = p
            copies.append(c)
        else:
            copies.append(p)
    with enable_grad():
        sub = type(ctx).composite(*copies, **composite_options(ctx))
    keep.extend(copies)
    keep.append(sub)
    if sub.shape != t.shape or not np.allclose(sub.data, t.data, rtol=1e-4, atol=1e-6):
        raise RuntimeError(f"draw_graph: {type(ctx).__name__}.composite does not reproduce the op's result")
    upstream = grads.get(id(t))
    if upstream is not None and sub._ctx is not None:
        inner = tuple(s for s in collect_tensors(sub) if s._ctx is not None and s is not sub)
        for s, g in zip(inner, backward([sub], [upstream], retain_graph=True, inputs=inner)):
            if g is not None:
                grads[id(s)] = g.data
    return sub


def _cells(array) -> bool:
    """Whether an array is drawn as cells: 1-D or 2-D with at most 8 entries per side."""
    return array.size > 1 and array.ndim <= 2 and max(array.shape) <= 8


def tensor_label(t, grads, names, precision, show_data, show_grad) -> list:
    """Fields of a Tensor node: name, shape and dtype, data and gradient (small matrices as
    cells with their values, larger ones as a summary)."""
    from .edges import Matrix

    path = getattr(t, "path", None)  # a Keras-style variable: 'dense_1/kernel' is drawn as dense_1.kernel
    name = (path.replace("/", ".") if isinstance(path, str) and path else t.name) or names.get(id(t), "")
    parts = [name] if name else []
    parts.append(f"{tuple(t.shape)} {t.dtype}")
    digits = min(precision, 3)
    if show_data:
        data = np.asarray(t.data)
        if _cells(data) and data.dtype.kind in "fiub":
            parts.append(Matrix(data if data.ndim == 2 else data.reshape(1, -1), "data", digits))
        else:
            parts.append("data " + F.summary(t.data, precision))
    g = grads.get(id(t))
    if show_grad and g is not None:
        g = np.asarray(g)
        if _cells(g):
            parts.append(Matrix(g if g.ndim == 2 else g.reshape(1, -1), "grad", digits))
        elif g.size <= F.PREVIEW_SIZE:
            parts.append("grad " + F.values(g, precision))
        if g.size > 1:
            parts.append("grad " + F.grad_stats(g, precision))
    return parts


def value_label(v: Value, precision, show_data, show_grad) -> list[str]:
    parts = [v.label] if v.label else []
    if show_data:
        parts.append("data " + F.fmt(v.data, precision))
    if show_grad:
        parts.append("grad " + F.fmt(v.grad, precision))
    return parts or ["value"]


def constant_label(c, precision, name="") -> list:
    """A constant input: its value, or an array's name, shape and values (cells when small)."""
    from .edges import Matrix

    if isinstance(c, np.ndarray):
        head = [name] if name else []
        if _cells(c) and c.dtype.kind in "fiub":
            return [
                *head,
                f"{c.shape} {c.dtype}",
                Matrix(c if c.ndim == 2 else c.reshape(1, -1), "", min(precision, 3)),
            ]
        return [*head, f"{c.shape} {c.dtype}", F.summary(c, precision)]
    return [F.fmt_constant(c, precision)]


def fused_label(ctx) -> str:
    """A fused op's name with its string options: ``dense (relu)``."""
    options = [v for v in composite_options(ctx).values() if isinstance(v, str) and v != "linear"]
    return f"{ctx.name} ({', '.join(options)})" if options else ctx.name


#: argument names too generic to name an input by (the two sides of an elementwise op)
GENERIC_ARGUMENTS = frozenset({"a", "b", "lhs", "rhs", "other", "arrays"})


@functools.cache
def _forward_arguments(cls) -> tuple:
    """The names of ``cls.forward``'s positional arguments after ``ctx`` (up to any ``*args``)."""
    try:
        params = list(inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return ()
    names = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    return tuple(names)


def name_inputs(ctx, inputs, names: dict) -> None:
    """Name unnamed leaf arrays by the ``forward`` argument they were passed as (``x``, ``y``)."""
    for k, item in enumerate(inputs):
        if isinstance(item, Tensor):
            if item._ctx is not None or item.name or item.data.ndim == 0:
                continue
        elif not isinstance(item, np.ndarray) or item.ndim == 0:
            continue
        if id(item) in names:
            continue
        arguments = _forward_arguments(type(ctx))
        if k < len(arguments) and arguments[k] not in GENERIC_ARGUMENTS:
            names[id(item)] = arguments[k]


def build(
    root, *, precision=4, show_data=True, show_grad=True, names=None, expand_fused=False, edge_labels=None
) -> list[Node]:
    """All nodes reachable from ``root`` in depth-first discovery order; labels are lists of
    record fields (made lazily). ``edge_labels`` ("local"/"product") labels each op's input
    edges with the chain rule (see ``edges``)."""
    names = dict(names or {})
    grads: dict[int, np.ndarray] = {}
    if isinstance(root, Tensor):
        tensors = collect_tensors(root)
        if has_gradients(tensors):
            grads = tensor_gradients(root, tensors)
    nodes: list[Node] = []
    index: dict[int, int] = {}
    keep: list = []  # ids stay unique while the walk runs
    alias: dict[int, Tensor] = {}  # composite copies -> the original inputs
    fused_of: dict[int, str] = {}  # id of a composite's inner Tensor -> fused op name
    stack: list = []

    def data_node(obj) -> int:
        obj = alias.get(id(obj), obj)
        key = id(obj)
        if key in index:
            return index[key]
        keep.append(obj)
        if isinstance(obj, Value):
            kind = "output" if obj is root else ("inner" if obj._prev else "param")
            node = Node(key, kind, lambda v=obj: value_label(v, precision, show_data, show_grad))
            if show_grad and obj.grad is not None:
                node.magnitude = abs(float(obj.grad))
                node.grad_value = obj.grad
        elif isinstance(obj, Tensor):
            if obj is root:
                kind = "output"
            elif obj._ctx is not None:
                kind = "inner"
            else:
                kind = "param" if obj.requires_grad else "const"
            node = Node(key, kind, lambda t=obj: tensor_label(t, grads, names, precision, show_data, show_grad))
            if show_grad and key in grads:
                node.magnitude = F.magnitude(grads[key])
        else:
            node = Node(key, "const", lambda c=obj: constant_label(c, precision, names.get(id(c), "")))
        index[key] = len(nodes)
        nodes.append(node)
        stack.append(obj)
        return index[key]

    data_node(root)
    while stack:
        obj = stack.pop()
        me = index[id(obj)]
        fused = None
        if isinstance(obj, Value):
            if not obj._prev:
                continue
            op_name, scope, inputs = obj._op or "op", None, obj._prev
            source = (obj, obj, None)
        elif isinstance(obj, Tensor) and obj._ctx is not None:
            ctx = obj._ctx
            if ctx.parents is None:
                raise released_error(ctx)
            op_name, scope, inputs = ctx.name, ctx.scope, ctx.parents
            source = (ctx, obj, id(obj))
            fused = fused_of.get(id(obj))
            if expand_fused and fused is None and hasattr(type(ctx), "composite"):
                sub = expand(obj, grads, alias, keep)
                if sub._ctx is not None:
                    scope = scope or ctx.name  # an unscoped fused op gets a box of its own
                    for s in collect_tensors(sub):
                        if s._ctx is not None:
                            fused_of[id(s)] = ctx.name
                    fused = ctx.name
                    op_name, inputs = sub._ctx.name, sub._ctx.parents
                    source = (sub._ctx, sub, id(obj))
                    for s in collect_tensors(sub):  # inner Tensors sit in the fused op's scope
                        if s._ctx is not None and s._ctx.scope is None and scope is not None:
                            s._ctx.scope = scope
        else:
            continue
        label = op_name
        if isinstance(obj, Tensor) and not fused and hasattr(type(obj._ctx), "composite"):
            label = fused_label(obj._ctx)
        op = Node(("op", id(obj)), "op", label, scope=scope, op=op_name)
        op.fused = fused
        op_index = len(nodes)
        nodes.append(op)
        nodes[me].inputs.append(op_index)
        nodes[me].scope = scope
        pending, positions = [], []
        if isinstance(obj, Tensor):
            name_inputs(source[0], inputs, names)
        for k, item in enumerate(inputs):
            if isinstance(item, (Value, Tensor, float, int, np.ndarray, np.generic)) and not isinstance(item, bool):
                pending.append(data_node(item))
                positions.append(k)
        op.inputs.extend(pending)
        op.source = (*source, positions)
    if edge_labels is not None:
        from .edges import annotate

        annotate(nodes, edge_labels, grads, precision, show_grad)
    return nodes
