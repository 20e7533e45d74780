"""Graph ops for the numpy functions custom backwards use: forward mode and higher orders work.

A custom op's ``backward`` written with numpy (``np.cumsum(g)``, ``np.linalg.solve(a.T, g)``)
receives Tensors under ``create_graph=True`` (second order, ``am.jvp``, ``gradcheck`` with
``modes=("fwd",)``); ``numpy_dispatch`` routes these numpy calls here, so the gradient
computation is itself recorded. Each op's backward is written with these same ops, so every
order works. Linear ops come in transposed pairs (cumsum and its reverse, take_along_axis and
its scatter-add, flip and itself).
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor

__all__ = ["cumsum", "expm1", "flip", "log1p", "solve", "sort", "take_along_axis"]


def _axis(x, axis):
    """(array or Tensor flattened when axis is None, the axis)"""
    if axis is None:
        return (x.reshape(-1) if isinstance(x, Tensor) else np.reshape(x, -1)), 0
    return x, axis


class Log1p(Function):
    """y = log(1 + x);  dy/dx = 1 / (1 + x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x)


class Expm1(Function):
    """y = e^x - 1;  dy/dx = e^x = y + 1"""

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y + 1)


class Cumsum(Function):
    """y_i = sum_{k <= i} x_k along axis;  dL/dx_k = sum_{i >= k} g_i (a reversed cumsum)"""

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return flip(cumsum(flip(g, ctx.axis), ctx.axis), ctx.axis)


class Flip(Function):
    """y = x reversed along axis;  dL/dx = g reversed along axis"""

    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.axis = axis
        return np.flip(x, axis=axis).copy()

    @staticmethod
    def backward(ctx, g):
        return flip(g, ctx.axis)


class TakeAlongAxis(Function):
    """y = take_along_axis(x, index, axis);  dL/dx = zeros with g added at index (repeats accumulate)"""

    name = "take_along_axis"

    @staticmethod
    def forward(ctx, x, index=None, axis=-1):
        ctx.index, ctx.axis, ctx.shape = index, axis, x.shape
        return np.take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return AddAlongAxis.apply(g, index=ctx.index, axis=ctx.axis, shape=ctx.shape)


class AddAlongAxis(Function):
    """y = zeros(shape) with a added at index along axis;  dL/da = take_along_axis(g, index, axis)"""

    name = "add_along_axis"

    @staticmethod
    def forward(ctx, a, index=None, axis=-1, shape=()):
        ctx.index, ctx.axis = index, axis
        out = np.zeros(shape, dtype=np.result_type(a))
        axis = axis % len(shape)
        grid = list(np.indices(index.shape, sparse=True))
        grid[axis] = index
        np.add.at(out, tuple(grid), a)
        return out

    @staticmethod
    def backward(ctx, g):
        return TakeAlongAxis.apply(g, index=ctx.index, axis=ctx.axis)


class Solve(Function):
    """x = A^-1 b;  dL/db = A^-T g,  dL/dA = -(A^-T g) x^T  (b a vector (n,) or matrices (..., n, k))"""

    @staticmethod
    def forward(ctx, a, b):
        vector = np.ndim(b) == 1
        if (vector and np.ndim(a) != 2) or (not vector and np.shape(a)[:-2] != np.shape(b)[:-2]):
            raise ValueError(
                f"solve: a of shape {np.shape(a)} and b of shape {np.shape(b)}: b must be a vector (n,) with a "
                f"2-d a, or matrices (..., n, k) with a's batch dimensions {np.shape(a)[:-2]} (batch "
                f"broadcasting is not differentiable here)"
            )
        x = np.linalg.solve(a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        at = a.swapaxes(-1, -2) if isinstance(a, Tensor) else np.swapaxes(a, -1, -2)
        gb = solve(at, g)
        if np.ndim(x) == 1:
            ga = -(gb.reshape(-1, 1) @ x.reshape(1, -1))
        else:
            xt = x.swapaxes(-1, -2) if isinstance(x, Tensor) else np.swapaxes(x, -1, -2)
            ga = -(gb @ xt)
        return ga, gb


def log1p(x):
    """``log(1 + x)``, accurate for small x."""
    return Log1p.apply(x)


def expm1(x):
    """``e^x - 1``, accurate for small x."""
    return Expm1.apply(x)


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (None: of the flattened array), as ``np.cumsum``."""
    x, axis = _axis(x, axis)
    return Cumsum.apply(x, axis=axis)


def flip(x, axis=None):
    """``x`` reversed along ``axis`` (None: all axes), as ``np.flip``."""
    return Flip.apply(x, axis=axis)


def take_along_axis(x, indices, axis=-1):
    """``np.take_along_axis`` with a gradient for ``x`` (``indices``: an integer array)."""
    indices = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    x, axis = _axis(x, axis)
    return TakeAlongAxis.apply(x, index=indices, axis=axis)


def sort(x, axis=-1):
    """``np.sort`` (stable): ``take_along_axis(x, argsort(x))``, so the gradient goes back to each
    element's place (ties are kinks: their order is the stable one)."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if axis is None:
        x, data, axis = (x.reshape(-1) if isinstance(x, Tensor) else data.reshape(-1)), data.reshape(-1), 0
    return take_along_axis(x, np.argsort(data, axis=axis, kind="stable"), axis)


def solve(a, b):
    """``np.linalg.solve(a, b)``: ``x`` with ``a @ x = b``, b a vector or a batch of matrices."""
    return Solve.apply(a, b)
