"""The backward pass as steps a picture shows: the engine's order over a graph and d(root)/d(node)
for each node (``animate_backward``'s page and the exported slide frames both read it)."""

from __future__ import annotations

import numpy as np

from ..engine import topological_order
from ..tensor import Tensor
from ..value import Value
from .walk import collect_tensors


def _value_steps(root: Value):
    """Kahn order and d(root)/d(node) per node for a Value graph (``.grad`` is not touched)."""
    order = topological_order(root, lambda v: v._prev)
    grads = {id(root): 1.0}
    for node in order:
        g = grads.get(id(node), 0.0)
        for child, local in zip(node._prev, node._local):
            grads[id(child)] = grads.get(id(child), 0.0) + local * g
    return order, grads


def _tensor_steps(root: Tensor):
    """The engine's order over the Tensors that need a gradient, and d(root)/d(node) for each,
    from one backward pass over the retained graph (no ``.grad`` is touched)."""
    from ..engine import backward, tensor_edges

    if root.size != 1:
        raise ValueError(f"animate_backward: expected a scalar root (size 1), got shape {root.shape}")
    if not root.requires_grad:
        raise ValueError("animate_backward: the root does not require grad (no input requires grad)")
    collect_tensors(root)  # raises a clear error on a released graph
    order = topological_order(root, tensor_edges)
    seed = np.ones_like(root.data)
    results = backward([root], [seed], retain_graph=True, inputs=tuple(order))
    grads = {id(t): (g.data if g is not None else np.zeros_like(t.data)) for t, g in zip(order, results)}
    return order, grads


def backward_order(root):
    """The engine's order over the nodes that get a gradient and d(root)/d(node) for each."""
    if isinstance(root, Value):
        return _value_steps(root)
    if isinstance(root, Tensor):
        return _tensor_steps(root)
    raise TypeError(f"animate_backward: expected a Value or a Tensor, got {type(root).__name__}")
