"""The reverse-mode engine: iterative topological order and the backward pass.

Nothing here recurses, so graphs of millions of nodes work. ``topological_order`` serves
``Value.backward`` and rendering; ``Tensor`` backward counts consumers in one pass and runs
each node as soon as its last consumer is done (the same Kahn order, without a sorted list).

Backward walks nodes consumers-first. Each node's incoming gradient is popped from a dict as
soon as it is consumed (memory is released as the walk goes), the op's gradient formula runs
once, and each parent's gradient is reduced to the parent's shape and dtype by one central
``unbroadcast``. The first gradient reaching a node is stored as it is; a second one is added
into a fresh buffer, never in place, so gradients never alias each other by accident.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

import numpy as np

from .function import gradient_tuple
from .grad_mode import no_grad, set_grad_enabled, state
from .tensor import Tensor


def count_consumers(roots, parents_of: Callable) -> tuple[dict, dict]:
    """The first pass of Kahn's algorithm, iterative: for every node reachable from ``roots``,
    how many consumers it has among them (``consumers``) and its inputs (``inputs_of``)."""
    consumers = dict.fromkeys(roots, 0)
    inputs_of = {}
    stack = list(consumers)
    while stack:
        node = stack.pop()
        inputs_of[node] = parents = parents_of(node)
        for parent in parents:
            if parent in consumers:
                consumers[parent] += 1
            else:
                consumers[parent] = 1
                stack.append(parent)
    return consumers, inputs_of


def topological_order(root, parents_of: Callable) -> list:
    """All nodes reachable from ``root``, each listed before every node it depends on.

    ``parents_of(node)`` returns the node's inputs. Kahn's algorithm: count how many
    consumers each node has, then emit a node once all its consumers are emitted.
    """
    consumers, inputs_of = count_consumers((root,), parents_of)
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
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _second_backward_error(ctx) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time: the saved arrays of op "
        f"'{ctx.name}'{ctx.where()} were released by the first backward(). "
        f"Pass retain_graph=True to the first backward() if you need to call it twice."
    )


def _tensor_edges(node) -> tuple:
    """A Tensor's inputs that need a gradient (its op's ``edges``); raises once released."""
    ctx = node._ctx
    if ctx is None:
        return ()
    edges = ctx.edges
    if edges is None:
        raise _second_backward_error(ctx)
    return edges


def backward(
    roots: Iterable,
    grad_roots: Iterable,
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: tuple | None = None,
):
    """Run the chain rule from ``roots`` (Tensors) seeded with ``grad_roots``.

    Without ``inputs``: gradients accumulate into ``.grad`` of every leaf that requires grad.
    With ``inputs``: nothing is accumulated; the gradients of ``inputs`` are returned
    (``None`` where an input is not reached), as ``torch.autograd.grad`` does.

    Kahn's order, as PyTorch's engine does it: count each node's consumers, then run a node's
    gradient formula as soon as all its consumers have sent their gradients to it.
    """
    roots = list(roots)
    if state.tracer is not None:  # am.compile records this backward's schedule, then it runs eagerly
        grad_roots = list(grad_roots)
        state.tracer.on_backward(roots, grad_roots, retain_graph, create_graph, inputs)
    grads = {}
    for root, g in zip(roots, grad_roots):
        grads[root] = grads[root] + g if root in grads else g
    consumers, inputs_of = count_consumers(roots, _tensor_edges)
    ready = [root for root in consumers if consumers[root] == 0 and root in grads]

    wanted = None
    results = []
    if inputs is not None:  # input -> its places in ``inputs`` (the same tensor may come twice)
        wanted = {}
        for i, t in enumerate(inputs):
            wanted.setdefault(t, []).append(i)
        results = [None] * len(inputs)
    handed_to_leaves = set()  # ids of arrays given to a leaf's .grad in this pass
    anomaly = state.anomaly
    for g in grads.values():
        if not create_graph and isinstance(g, np.ndarray):
            handed_to_leaves.add(id(g))  # a caller's seed array is never stored uncopied

    # in anomaly mode a non-finite gradient raises a named error: numpy's warning would be noise
    quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore") if anomaly else contextlib.nullcontext()
    with set_grad_enabled(create_graph), quiet:
        while ready:
            node = ready.pop()
            for parent in inputs_of[node]:  # the parents this node will send gradients to
                left = consumers[parent] - 1
                consumers[parent] = left
                if left == 0:
                    ready.append(parent)
            g = grads.pop(node, None)
            if g is None:
                continue
            ctx = node._ctx
            if wanted is None:
                if ctx is None:
                    if node._requires_grad:
                        _accumulate_leaf(node, g, create_graph, handed_to_leaves)
                    continue
                if node._retains_grad:
                    _retain(node, g, create_graph)
            else:
                places = wanted.get(node)
                if places is not None:
                    found = g if create_graph else Tensor(g)
                    for i in places:
                        results[i] = found
                if ctx is None:
                    continue
            if create_graph:
                parent_grads = ctx.run_backward(g, True, node)
            else:  # ctx.run_backward(g, False, node), inlined: it runs once per node
                parent_grads = ctx.backward(ctx, g)
                if type(parent_grads) is not tuple or len(parent_grads) != len(ctx.parents):
                    parent_grads = gradient_tuple(ctx, parent_grads)
            for parent, need, pg in zip(ctx.parents, ctx.needs_input_grad, parent_grads):
                if not need or pg is None:
                    continue
                target = parent.data
                if pg.shape != target.shape:
                    pg = _reduce_to_input(ctx, parent, pg, target.shape)
                if pg.dtype != target.dtype:
                    pg = pg.astype(target.dtype)
                if anomaly:
                    ctx.check_finite(pg, "backward")
                if parent in grads:
                    grads[parent] = grads[parent] + pg
                else:
                    grads[parent] = pg
            if not retain_graph:  # release the op's saved arrays and links (once per node: inline)
                if ctx._held is not None:
                    ctx._held.release()
                    ctx._held = None
                ctx.saved = ()
                ctx.edges = ctx.parents = ctx.inputs = None
    return results


def _reduce_to_input(ctx, parent, grad, shape: tuple):
    """``unbroadcast(grad, shape)`` after checking that ``grad``'s shape is a broadcast of the
    input's ``shape`` (a custom backward returning any other shape is a bug: it raises)."""
    gshape = grad.shape
    extra = len(gshape) - len(shape)
    if extra < 0 or any(n != 1 and n != m for n, m in zip(shape, gshape[extra:])):
        index = next(i for i, p in enumerate(ctx.parents) if p is parent)
        raise RuntimeError(
            f"{ctx.name}.backward returned a gradient of shape {gshape} for input {index} of shape {shape}: "
            f"a gradient must have its input's shape (or a broadcast of it){ctx.where()}"
        )
    return unbroadcast(grad, shape)


def _retain(node, g, create_graph) -> None:
    """``retain_grad()``: accumulate into a non-leaf's ``.grad`` across backward calls."""
    if create_graph:
        node.grad = g if node.grad is None else node.grad + g
        return
    g = g.data if isinstance(g, Tensor) else g
    node.grad = Tensor(g.copy()) if node.grad is None else Tensor(node.grad.data + g)


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
