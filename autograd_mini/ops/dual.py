"""Helpers that work on ndarrays and on Tensors alike, for writing gradient formulas once.

In a first-order backward pass the formulas receive ndarrays and these call numpy; with
``create_graph=True`` they receive Tensors and these call the differentiable ops, so the
gradient computation is itself recorded.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def exp(a):
    return a.exp() if isinstance(a, Tensor) else np.exp(a)


def log(a):
    return a.log() if isinstance(a, Tensor) else np.log(a)


def sin(a):
    return a.sin() if isinstance(a, Tensor) else np.sin(a)


def cos(a):
    return a.cos() if isinstance(a, Tensor) else np.cos(a)


def sigmoid(a):
    from .formula import ARRAYS

    return a.sigmoid() if isinstance(a, Tensor) else ARRAYS.sigmoid(a)


def step(a):
    """The mask [a > 0], a constant of the graph."""
    return raw(a) > 0


def sign(a):
    """sign(a), a constant of the graph (its derivative is 0 almost everywhere)."""
    return Tensor._wrap(np.sign(a.data)) if isinstance(a, Tensor) else np.sign(a)


def where(condition, a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from .elementwise import where as where_op

        return where_op(condition, a, b)
    return np.where(condition.data if isinstance(condition, Tensor) else condition, a, b)


def broadcast_to(a, shape):
    if isinstance(a, Tensor):
        return a.broadcast_to(shape)
    return np.broadcast_to(a, shape)


def expand_dims(a, axis):
    return a.expand_dims(axis) if isinstance(a, Tensor) else np.expand_dims(a, axis)


def scatter_add(grad, index, shape):
    """Zeros of ``shape`` with ``grad`` added at ``index`` (repeated indices accumulate)."""
    if isinstance(grad, Tensor):
        from .shape import ScatterAdd

        return ScatterAdd.apply(grad, index=index, shape=shape)
    from .shape import scatter_add_array

    return scatter_add_array(grad, index, shape)


def raw(a):
    """The ndarray behind ``a`` (a Tensor's data, or ``a`` itself): for masks and shapes."""
    return a.data if isinstance(a, Tensor) else a
