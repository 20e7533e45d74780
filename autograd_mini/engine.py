"""The reverse-mode engine: iterative topological order and the backward pass.

Nothing here recurses, so graphs of millions of nodes work. The same ``topological_order``
serves ``Tensor.backward``, ``Value.backward``, freeing and rendering.

Backward walks nodes consumers-first. Each node's incoming gradient is popped from a dict as
soon as it is consumed (memory is released as the walk goes), the op's gradient formula runs
once, and each parent's gradient is reduced to the parent's shape and dtype by one central
``unbroadcast``. The first gradient reaching a node is stored as it is; a second one is added
into a fresh buffer, never in place, so gradients never alias each other by accident.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .grad_mode import no_grad, set_grad_enabled, state
from .tensor import Tensor


def topological_order(root, parents_of: Callable) -> list:
    """All nodes reachable from ``root``, each listed before every node it depends on.

    ``parents_of(node)`` returns the node's inputs. Kahn's algorithm: count how many
    consumers each node has, then emit a node once all its consumers are emitted.
    """
    consumers = {root: 0}
    inputs_of = {}
    stack = [root]
    while stack:
        node = stack.pop()
        inputs_of[node] = parents = parents_of(node)
        for parent in parents:
            if parent in consumers:
                consumers[parent] += 1
            else:
                consumers[parent] = 1
                stack.append(parent)
    order = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in inputs_of[node]:
            left = consumers[parent] - 1
            consumers[parent] = left
            if left == 0:
                ready.append(parent)
    return order


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    Works on ndarrays and on Tensors (for differentiable gradients).
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"unbroadcast: gradient of shape {grad.shape} is smaller than its input {shape}")
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _tensor_parents(tensor):
    ctx = tensor._ctx
    if ctx is None:
        return ()
    if ctx.edges is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time: the saved arrays of op "
            f"'{ctx.name}'{ctx.where()} were released by the first backward(). "
            f"Pass retain_graph=True to the first backward() if you need to call it twice."
        )
    return ctx.edges


def backward(roots: Iterable, grad_roots: Iterable, *, retain_graph: bool = False,
             create_graph: bool = False, inputs: tuple | None = None):
    """Run the chain rule from ``roots`` (Tensors) seeded with ``grad_roots``.

    Without ``inputs``: gradients accumulate into ``.grad`` of every leaf that requires grad.
    With ``inputs``: nothing is accumulated; the gradients of ``inputs`` are returned
    (``None`` where an input is not reached), as ``torch.autograd.grad`` does.
    """
    roots = list(roots)
    grads = {}
    # a synthetic root joins several outputs so that one walk serves them all
    for root, g in zip(roots, grad_roots):
        if root in grads:
            grads[root] = grads[root] + g
        else:
            grads[root] = g
    if len(roots) == 1:
        order = topological_order(roots[0], _tensor_parents)
    else:
        sentinel = _Joined(roots)
        order = topological_order(sentinel, lambda n: n.parents if n is sentinel else _tensor_parents(n))[1:]

    wanted = None if inputs is None else {t: i for i, t in enumerate(inputs)}
    results = [None] * (0 if inputs is None else len(inputs))
    handed_to_leaves = set()  # ids of arrays given to a leaf's .grad in this pass
    anomaly = state.anomaly
    for root, g in grads.items():
        if not create_graph and isinstance(g, np.ndarray):
            handed_to_leaves.add(id(g))  # a caller's seed array is never stored uncopied

    with set_grad_enabled(create_graph):
        for node in order:
            g = grads.pop(node, None)
            if g is None:
                continue
            if wanted is not None and node in wanted:
                results[wanted[node]] = g if create_graph else Tensor(g)
            ctx = node._ctx
            if ctx is None:
                if wanted is None and node.requires_grad:
                    _accumulate_leaf(node, g, create_graph, handed_to_leaves)
                continue
            if wanted is None and node._retains_grad:
                node.grad = g if create_graph else Tensor(g.copy())
            if create_graph:
                parent_grads = ctx.run_backward(g, True, node)
            else:
                parent_grads = ctx.backward(ctx, g)
                if type(parent_grads) is not tuple:
                    parent_grads = (parent_grads,)
                if len(parent_grads) != len(ctx.parents):
                    raise RuntimeError(f"{ctx.name}.backward returned {len(parent_grads)} gradients "
                                       f"for {len(ctx.parents)} inputs")
            for parent, need, pg in zip(ctx.parents, ctx.needs_input_grad, parent_grads):
                if not need or pg is None:
                    continue
                target = parent.data
                if pg.shape != target.shape:
                    pg = unbroadcast(pg, target.shape)
                if pg.dtype != target.dtype:
                    pg = pg.astype(target.dtype)
                if anomaly:
                    ctx.check_finite(pg, "backward")
                if parent in grads:
                    grads[parent] = grads[parent] + pg
                else:
                    grads[parent] = pg
            if not retain_graph:
                ctx.release()
    return results


class _Joined:
    """A stand-in root whose parents are several outputs (for multi-output backward)."""

    def __init__(self, roots):
        self.parents = tuple(dict.fromkeys(roots))


def _accumulate_leaf(leaf, g, create_graph, handed):
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    if isinstance(g, Tensor):
        g = g.data
    if leaf.grad is None:
        # store without a copy only when nothing else can see this buffer
        if g.base is not None or id(g) in handed or not g.flags.writeable:
            g = g.copy()
        handed.add(id(g))
        leaf.grad = Tensor(g)
    else:
        with no_grad():
            leaf.grad = Tensor(leaf.grad.data + g)
