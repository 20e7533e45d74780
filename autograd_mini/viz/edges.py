"""The chain rule on every edge: the local derivative d(out)/d(in) of each op input and, once
the output's gradient is known, the contribution upstream * local that flows along the edge.

No derivative is written here. A ``Value`` op stores its local derivatives next to its forward
formula (``Value._local``); a Tensor op's are read from its own ``Function.backward``: the
contribution is ``backward(upstream)`` (reduced to the input's shape as the engine does), and
a small Jacobian is ``backward`` of each one-hot upstream. So the picture cannot disagree with
the gradients the engine computes.

Fan-out: a value used by several ops receives one contribution per use; ``sum_text`` writes its
gradient as ``1 + 2 = 3`` when the contributions add up to it.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from ..value import Value
from . import format as F

#: Jacobians with at most this many entries are drawn as cells; larger ones as their shape
JACOBIAN_CELLS = 64

MODES = ("local", "product", None)


class Matrix:
    """A small array drawn as a grid of cells (values, or a heat-map when it has many)."""

    __slots__ = ("array", "title", "precision")

    def __init__(self, array, title: str = "", precision: int = 3):
        self.array = np.atleast_2d(np.asarray(array, dtype=np.float64))
        self.title, self.precision = title, precision

    def __str__(self) -> str:  # the flat text form (for tests and plain labels)
        rows = ["[" + ", ".join(F.fmt(v, self.precision) for v in row) + "]" for row in self.array]
        return (self.title + " " if self.title else "") + "[" + ", ".join(rows) + "]"


def check_mode(edge_labels) -> None:
    if edge_labels not in MODES:
        raise ValueError(f"draw_graph: edge_labels must be 'local', 'product' or None, got {edge_labels!r}")


def _scalar(x, precision) -> str:
    return F.fmt(x, precision)


def _reduce(grad, shape) -> np.ndarray:
    """A broadcast gradient summed to the input's shape (the engine's ``unbroadcast``)."""
    from ..engine import unbroadcast

    grad = np.asarray(grad)
    return grad if grad.shape == tuple(shape) else np.asarray(unbroadcast(grad, tuple(shape)))


def array_text(a, precision, what: str):
    """A tensor on an edge: its value when tiny, a small matrix as cells, else shape and norm."""
    a = np.asarray(a)
    if a.size == 1:
        return _scalar(a.reshape(-1)[0], precision)
    if a.ndim <= 2 and a.size <= JACOBIAN_CELLS and max(a.shape) <= 8:
        return Matrix(a.reshape(a.shape if a.ndim == 2 else (1, -1)), what, precision=min(precision, 3))
    norm = math.sqrt(float(np.sum(np.square(a, dtype=np.float64))))
    return f"{what} {tuple(a.shape)} norm {F.fmt(norm, precision)}"


def value_edges(out: Value, positions, precision, mode) -> tuple[list, list]:
    """Edge labels and contributions of a Value op's inputs (``positions`` index ``_prev``)."""
    labels, contributions = [], []
    upstream = out.grad
    for k in positions:
        local = out._local[k]
        child = out._prev[k]
        head = f"d{out.label}/d{child.label} = " if out.label and child.label else "local "
        text = head + _scalar(local, precision)
        contribution = None
        if mode == "product" and upstream != 0.0:
            contribution = upstream * local
            text += (
                f"\n{_scalar(upstream, precision)} * {_scalar(local, precision)} = {_scalar(contribution, precision)}"
            )
        labels.append(text)
        contributions.append(contribution)
    return labels, contributions


def tensor_edges(ctx, out: Tensor, upstream, positions, precision, mode) -> tuple[list, list]:
    """Edge labels and contributions of a Tensor op's inputs, from the op's own backward."""
    parents = ctx.parents
    labels: list = [None] * len(positions)
    contributions: list = [None] * len(positions)
    needs = [k < len(ctx.needs_input_grad) and ctx.needs_input_grad[k] for k in range(len(parents))]
    wanted = [i for i, k in enumerate(positions) if needs[k]]
    if not wanted:
        return labels, contributions
    out_shape = tuple(np.shape(out.data))

    def run(g):
        grads = type(ctx).backward(ctx, g)
        if type(grads) is not tuple:
            grads = tuple(grads) if isinstance(grads, list) else (grads,)
        return grads

    for i in wanted:
        k = positions[i]
        shape = tuple(np.shape(parents[k].data))
        size = int(np.prod(out_shape, dtype=np.int64)) * int(np.prod(shape, dtype=np.int64))
        local = None
        if size == 1:
            g = run(np.ones(out_shape, dtype=out.data.dtype))[k]
            local = None if g is None else _scalar(_reduce(g, shape).reshape(-1)[0], precision)
        elif size <= JACOBIAN_CELLS and len(out_shape) <= 1 and len(shape) <= 1:
            rows = []
            for e in range(max(1, out.data.size)):
                seed = np.zeros(out.data.size, dtype=out.data.dtype)
                seed[e] = 1
                g = run(seed.reshape(out_shape))[k]
                rows.append(np.zeros(shape) if g is None else _reduce(g, shape).reshape(-1))
            local = Matrix(np.array(rows), "local d out/d in", precision=min(precision, 3))
        if local is None:
            local = f"local: Jacobian {out_shape} x {shape}"
        labels[i] = local if isinstance(local, Matrix) else (local if local.startswith("local") else "local " + local)
    if mode == "product" and upstream is not None:
        grads = run(np.array(upstream, dtype=out.data.dtype).reshape(out_shape))  # a copy: backward may write
        for i in wanted:
            k = positions[i]
            g = grads[k] if k < len(grads) else None
            if g is None:
                continue
            contribution = _reduce(g, np.shape(parents[k].data))
            contributions[i] = contribution
            up = np.asarray(upstream)
            if up.size == 1 and contribution.size == 1 and not isinstance(labels[i], Matrix):
                local_text = labels[i].removeprefix("local ")
                labels[i] = (
                    f"local {local_text}\n{_scalar(up.reshape(-1)[0], precision)} * {local_text} = "
                    f"{_scalar(contribution.reshape(-1)[0], precision)}"
                )
            else:
                labels[i] = [labels[i], array_text(contribution, precision, "upstream * local =")]
    return labels, contributions


def sum_text(contributions, total, precision) -> str | None:
    """``grad a + b = c`` for a node fed by several contributions that add up to ``total``."""
    parts = [c for c in contributions if c is not None]
    if len(parts) < 2 or len(parts) != len(contributions):
        return None
    arrays = [np.asarray(c, dtype=np.float64) for c in parts]
    total = np.asarray(total, dtype=np.float64)
    if any(a.shape != total.shape for a in arrays):
        return None
    if not np.allclose(sum(arrays), total, rtol=1e-5, atol=1e-8):
        return None  # e.g. a leaf that accumulated over several backward calls
    if total.size == 1:
        terms = " + ".join(_scalar(a.reshape(-1)[0], precision) for a in arrays).replace("+ -", "- ")
        return f"grad {terms} = {_scalar(total.reshape(-1)[0], precision)}"
    return None  # a tensor's gradient stays its values or summary; the edges show the parts


def annotate(nodes, mode, grads: dict, precision: int, show_grad: bool) -> None:
    """Set ``edge_labels`` on every op node and, where several contributions reach a value,
    write its gradient as their sum (``grad 1 + 2 = 3``)."""
    check_mode(mode)
    received: dict[int, list] = {}
    for node in nodes:
        if node.kind != "op" or node.source is None:
            continue
        ctx, out, key, positions = node.source
        if isinstance(ctx, Value):
            labels, contributions = value_edges(ctx, positions, precision, mode)
        else:
            upstream = grads.get(key) if key is not None else None
            labels, contributions = tensor_edges(ctx, out, upstream, positions, precision, mode)
        node.edge_labels = labels
        for j, c in zip(node.inputs, contributions):
            received.setdefault(j, []).append(c)
    if mode != "product" or not show_grad:
        return
    for j, contributions in received.items():
        if len(contributions) < 2:
            continue
        node = nodes[j]
        obj_grad = grads.get(node.key, node.grad_value)
        if obj_grad is None:
            continue
        text = sum_text(contributions, obj_grad, precision)
        if text is not None:
            node._label = _with_grad(node._label, text)


def _with_grad(label, text):
    def make():
        fields = list(label() if callable(label) else label)
        for i, field in enumerate(fields):
            if isinstance(field, str) and field.startswith("grad "):
                fields[i] = text
                return fields
        return fields + [text]

    return make
