"""Ops that move elements around without changing their values: the gradient moves back."""

from __future__ import annotations

import numbers

import numpy as np

from ..function import Function
from ..tensor import Tensor
from . import dual
from .reduce import normalize_axis


class Reshape(Function):
    """z = a viewed with a new shape;  dL/da = g reshaped back"""

    @staticmethod
    def forward(ctx, a, shape=()):
        ctx.shape = np.shape(a)
        try:
            return np.reshape(a, shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape an array of shape {np.shape(a)} (size {np.size(a)}) into shape {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Transpose(Function):
    """z = a with axes permuted;  dL/da = g with the inverse permutation"""

    @staticmethod
    def forward(ctx, a, axes=None):
        ctx.axes = axes
        return np.transpose(a, axes)

    @staticmethod
    def backward(ctx, g):
        if ctx.axes is None:
            return g.transpose()
        return g.transpose(tuple(np.argsort(ctx.axes)))


class BroadcastTo(Function):
    """z = a broadcast to a shape;  dL/da = g summed over the broadcast axes (done centrally)"""

    name = "broadcast_to"

    @staticmethod
    def forward(ctx, a, shape=()):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g


class Concatenate(Function):
    """z = [a_1, ..., a_n] joined along axis;  dL/da_i = the slice of g that a_i fills"""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [np.shape(a)[axis] for a in arrays])
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.axis
        return tuple(
            g[lead + (slice(int(lo), int(hi)),)] if need else None
            for need, lo, hi in zip(ctx.needs_input_grad, ctx.bounds[:-1], ctx.bounds[1:])
        )


class Stack(Function):
    """z = [a_1, ..., a_n] stacked on a new axis;  dL/da_i = g[..., i, ...]"""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.axis
        return tuple(g[lead + (i,)] if need else None for i, need in enumerate(ctx.needs_input_grad))


class GetItem(Function):
    """z = a[index];  dL/da = zeros with g added at index (repeated indices accumulate)"""

    @staticmethod
    def forward(ctx, a, index=None):
        ctx.shape, ctx.index = np.shape(a), index
        return np.asarray(a)[index]

    @staticmethod
    def backward(ctx, g):
        return dual.scatter_add(g, ctx.index, ctx.shape)


class ScatterAdd(Function):
    """z = zeros(shape) with a added at index;  dL/da = g[index]"""

    name = "scatter_add"

    @staticmethod
    def forward(ctx, a, index=None, shape=()):
        ctx.index = index
        return scatter_add_array(a, index, shape)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index]


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, numbers.Integral)) for p in parts)


def scatter_add_array(values, index, shape):
    values = np.asarray(values)
    out = np.zeros(shape, dtype=values.dtype)
    if _is_basic(index):
        out[index] = values  # basic indexing never repeats an element
    else:
        np.add.at(out, index, values)
    return out


def _plain_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(p.data if isinstance(p, Tensor) else p for p in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def reshape(a, shape):
    """``a`` with a new shape (one entry may be -1)."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    return Reshape.apply(a, shape=shape)


def transpose(a, axes=None):
    """Permute axes (reverse them when ``axes`` is None)."""
    if axes is not None:
        ndim = np.ndim(dual.raw(a))
        axes = tuple(int(x) % ndim if ndim else int(x) for x in axes)
        if sorted(axes) != list(range(ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {ndim} axes of shape {np.shape(dual.raw(a))}"
            )
    return Transpose.apply(a, axes=axes)


def swapaxes(a, axis1, axis2):
    """Exchange two axes."""
    ndim = np.ndim(dual.raw(a))
    axes = list(range(ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(a, axes)


def broadcast_to(a, shape):
    """``a`` broadcast to ``shape`` (numpy rules); the gradient is summed back."""
    return BroadcastTo.apply(a, shape=tuple(shape))


def expand_dims(a, axis):
    """Insert a length-1 axis at ``axis``."""
    shape = np.shape(dual.raw(a))
    new_ndim = len(shape) + 1
    ax = axis % new_ndim if -new_ndim <= axis < new_ndim else None
    if ax is None:
        raise ValueError(f"expand_dims: axis {axis} is out of bounds for the result's {new_ndim} dimensions")
    return reshape(a, shape[:ax] + (1,) + shape[ax:])


def squeeze(a, axis=None):
    """Remove length-1 axes (all of them, or those in ``axis``)."""
    shape = np.shape(dual.raw(a))
    axes = (
        normalize_axis("squeeze", len(shape), axis)
        if axis is not None
        else tuple(i for i, n in enumerate(shape) if n == 1)
    )
    for ax in axes:
        if shape[ax] != 1:
            raise ValueError(f"squeeze: axis {ax} of shape {shape} has length {shape[ax]}, not 1")
    return reshape(a, tuple(n for i, n in enumerate(shape) if i not in axes))


def concatenate(tensors, axis=0):
    """Join a sequence of tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: need at least one tensor")
    (axis,) = normalize_axis("concatenate", np.ndim(getattr(tensors[0], "data", tensors[0])), axis)
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join a sequence of same-shape tensors along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    (axis,) = normalize_axis("stack", np.ndim(getattr(tensors[0], "data", tensors[0])) + 1, axis)
    return Stack.apply(*tensors, axis=axis)


def getitem(a, index):
    """``a[index]``: basic slicing, integer arrays and boolean masks."""
    return GetItem.apply(a, index=_plain_index(index))


__all__ = [
    "broadcast_to",
    "concatenate",
    "expand_dims",
    "getitem",
    "reshape",
    "squeeze",
    "stack",
    "swapaxes",
    "transpose",
]
