"""The reverse-mode engine: iterative topological order and the backward pass.

Nothing here recurses, so graphs of millions of nodes work. ``backward_order`` is the plan of a
backward pass (Kahn's order, node by node): eager ``backward`` runs it, ``am.compile`` records it
(``program.Backward``), ``topological_order`` lists it for ``Value.backward`` and rendering.

Backward walks nodes consumers-first. Each node's incoming gradient is popped from a dict as
soon as it is consumed (memory is released as the walk goes), the op's gradient formula runs
once, and each parent's gradient goes through ``send``: reduced to the parent's shape and dtype
(``unbroadcast``), then accumulated: the first gradient reaching a node is stored as it is, a
second one is added into a fresh buffer, never in place, so gradients never alias each other by
accident. The replay and the loop kernels run these same rules (``program.walk_backward``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from types import SimpleNamespace

import numpy as np

from .function import gradient_tuple
from .grad_mode import state
from .tensor import Tensor


def backward_order(roots, parents_of: Callable = None) -> list:
    """The engine's plan of a backward pass: every node reachable from ``roots``, each listed after
    all its consumers (Kahn's order, as PyTorch's engine runs it). Eager ``backward`` runs the
    nodes in this order, ``am.compile`` records it (``program.Backward``).
    ``parents_of`` defaults to a Tensor's edges (its inputs that need a gradient)."""
    parents_of = parents_of or tensor_edges
    consumers = dict.fromkeys(roots, 0)  # first pass, iterative: each node's consumer count
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
    ready = [root for root in consumers if consumers[root] == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in inputs_of[node]:
            left = consumers[parent] - 1
            consumers[parent] = left
            if left == 0:
                ready.append(parent)
    return order


def topological_order(root, parents_of: Callable) -> list:
    """All nodes reachable from ``root``, each listed before every node it depends on
    (``parents_of(node)`` returns the node's inputs)."""
    return backward_order((root,), parents_of)


# The operations that reducing, casting and accumulating gradients need, on ndarrays and Tensors;
# the loop kernels pass their own (``lowering.kernel``), so the rules below serve both.
NUMPY = SimpleNamespace(
    sum=lambda g, axes: g.sum(axis=axes, keepdims=True),
    reshape=lambda g, shape: g.reshape(shape),
    cast=lambda g, dtype: g.astype(dtype),
    add=operator.add,
)


def unbroadcast(grad, shape: tuple, math=NUMPY):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    Works on ndarrays and on Tensors (for differentiable gradients); raises ValueError when
    ``grad``'s shape is not a broadcast of ``shape``.
    """
    gshape = grad.shape
    if gshape == shape:
        return grad
    extra = len(gshape) - len(shape)
    if extra < 0 or any(n != 1 and n != m for n, m in zip(shape, gshape[extra:])):
        raise ValueError(f"unbroadcast: a gradient of shape {gshape} is not a broadcast of the input's shape {shape}")
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape) if n == 1 and gshape[extra + i] != 1)
    if axes:
        grad = math.sum(grad, axes)
    return math.reshape(grad, shape)


def conform(g, shape: tuple, dtype, math=NUMPY):
    """``g`` reduced to an input's ``shape`` (``unbroadcast``) and cast to its ``dtype``."""
    if g.shape != shape:
        g = unbroadcast(g, shape, math)
    return g if g.dtype == dtype else math.cast(g, dtype)


def send(grads: dict, key, g, shape, dtype, math=NUMPY) -> None:
    """The one rule of an edge of the backward pass: ``conform`` ``g`` to the input (``shape``
    None: a seed, as given), then accumulate it into ``grads[key]``: the first gradient is stored
    as it is, a second one is added into a fresh buffer (never in place, so gradients never alias
    each other). Eager ``backward`` and ``program.walk_backward`` run it inlined (their hottest
    lines); ``conform`` stays the one reduction."""
    if shape is not None and (g.shape != shape or g.dtype != dtype):
        g = conform(g, shape, dtype, math)
    grads[key] = math.add(grads[key], g) if key in grads else g


def accumulate_leaf(leaf, g, fresh: bool = False, copy: bool | None = False) -> None:
    """The one rule of a leaf's ``.grad`` (ndarray gradients): the first gradient is stored
    (copied when ``copy``: something else can see its buffer; ``copy=None``: when ``g`` is
    read-only or a view), a later one is added into a fresh buffer; ``fresh`` replaces what is
    there (a recorded step whose trace began with no grad)."""
    if fresh or leaf.grad is None:
        if copy is None:
            copy = g.base is not None or not g.flags.writeable
        leaf.grad = Tensor._wrap(g.copy() if copy else g)
    else:
        leaf.grad = Tensor._wrap(leaf.grad.data + g)


def _second_backward_error(ctx) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time: the saved arrays of op "
        f"'{ctx.name}'{ctx.where()} were released by the first backward(). "
        f"Pass retain_graph=True to the first backward() if you need to call it twice."
    )


def tensor_edges(node) -> tuple:
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
    if state.tracer is not None:  # am.compile records this backward's plan, then it runs eagerly
        grad_roots = list(grad_roots)
        state.tracer.on_backward(roots, grad_roots, retain_graph, create_graph, inputs)
    grads = {}
    for root, g in zip(roots, grad_roots):
        send(grads, root, g, None, None)

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
    quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore") if anomaly else None
    # set_grad_enabled(create_graph) for the walk, without its context object (once per backward)
    previous, state.grad = state.grad, bool(create_graph)
    if quiet is not None:
        quiet.__enter__()
    try:
        for node in backward_order(roots):
            g = grads.pop(node, None)
            if g is None:
                continue
            ctx = node._ctx
            if wanted is None:
                if ctx is None:
                    if not node._requires_grad:
                        continue
                    if create_graph:
                        node.grad = g if node.grad is None else node.grad + g
                        continue
                    if type(g) is not np.ndarray and isinstance(g, Tensor):
                        g = g.data
                    # store without a copy only when nothing else can see this buffer
                    copy = node.grad is None and (
                        g.base is not None or id(g) in handed_to_leaves or not g.flags.writeable
                    )
                    accumulate_leaf(node, g, copy=copy)  # the one leaf rule
                    handed_to_leaves.add(id(node.grad.data))
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
                if pg.shape != target.shape or pg.dtype != target.dtype:
                    try:
                        pg = conform(pg, target.shape, target.dtype)
                    except ValueError as error:
                        raise _bad_gradient_shape(ctx, parent, pg, target.shape) from error
                if anomaly:
                    ctx.check_finite(pg, "backward")
                grads[parent] = grads[parent] + pg if parent in grads else pg  # send(), inlined
            if not retain_graph:  # release the op's saved arrays and links (once per node: inline)
                if ctx._held is not None:
                    ctx._held.release()
                    ctx._held = None
                ctx.saved = ()
                ctx.edges = ctx.parents = ctx.inputs = None
    finally:
        state.grad = previous
        if quiet is not None:
            quiet.__exit__(None, None, None)
    return results


def _bad_gradient_shape(ctx, parent, grad, shape: tuple) -> RuntimeError:
    """A custom backward returned a gradient whose shape is not a broadcast of its input's."""
    index = next(i for i, p in enumerate(ctx.parents) if p is parent)
    return RuntimeError(
        f"{ctx.name}.backward returned a gradient of shape {grad.shape} for input {index} of shape {shape}: "
        f"a gradient must have its input's shape (or a broadcast of it){ctx.where()}"
    )


def _retain(node, g, create_graph) -> None:
    """``retain_grad()``: accumulate into a non-leaf's ``.grad`` across backward calls."""
    if create_graph:
        node.grad = g if node.grad is None else node.grad + g
        return
    accumulate_leaf(node, g.data if isinstance(g, Tensor) else g, copy=True)
