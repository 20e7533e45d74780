"""Reductions over ``axis`` (None, an int or a tuple) with ``keepdims``.

Conventions: ties in max/min share the gradient equally among the tied elements.
"""

from __future__ import annotations

import builtins
import numbers

import numpy as np

from ..function import Function
from . import dual


def normalize_axis(name: str, ndim: int, axis) -> tuple:
    """``axis`` as a sorted tuple of non-negative ints; None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for ax in axes:
        if not isinstance(ax, numbers.Integral):
            raise TypeError(f"{name}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -builtins.max(ndim, 1) <= ax < builtins.max(ndim, 1):
            raise ValueError(f"{name}: axis {ax} is out of bounds for an array of dimension {ndim}")
        out.append(int(ax) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis!r}")
    return tuple(sorted(out)) if ndim else ()


def _keepdims_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g, shape: tuple, axes: tuple):
    """Broadcast a reduced gradient ``g`` back over the reduced ``axes`` of ``shape``."""
    return dual.broadcast_to(g.reshape(_keepdims_shape(shape, axes)), shape)


class Sum(Function):
    """z = sum(a) over axes;  dz/da = 1 (the gradient is spread over the summed axes)"""

    @staticmethod
    def forward(ctx, a, axes=(), keepdims=False):
        ctx.shape, ctx.axes = np.shape(a), axes
        return np.sum(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx.shape, ctx.axes)


class Mean(Function):
    """z = mean(a) over axes;  dz/da = 1/n, n the number of averaged elements"""

    @staticmethod
    def forward(ctx, a, axes=(), keepdims=False):
        ctx.shape, ctx.axes = np.shape(a), axes
        ctx.count = int(np.prod([ctx.shape[i] for i in axes])) if axes else 1
        return np.mean(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return _spread(g / ctx.count, ctx.shape, ctx.axes)


class _Extreme(Function):
    """z = max (or min) over axes;  dz/da = [a == z] / (number of tied elements)"""

    pick = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, a, axes=(), keepdims=False):
        a = np.asarray(a)
        if a.size == 0:
            raise ValueError(f"{cls.name}: cannot reduce an empty array of shape {a.shape}")
        kept = cls.pick(a, axis=axes, keepdims=True)
        ctx.shape, ctx.axes = a.shape, axes
        hit = a == kept
        ctx.share = hit / hit.sum(axis=axes, keepdims=True).astype(a.dtype)  # a constant of the gradient graph
        return kept if keepdims else kept.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        return g.reshape(_keepdims_shape(ctx.shape, ctx.axes)) * ctx.share


class Max(_Extreme):
    """z = max over axes;  dz/da = [a == z] / (number of tied maxima)"""

    pick = staticmethod(np.max)


class Min(_Extreme):
    """z = min over axes;  dz/da = [a == z] / (number of tied minima)"""

    pick = staticmethod(np.min)


class LogSumExp(Function):
    """z = log(sum(exp(a))) over axes;  dz/da = exp(a - z) (the softmax)"""

    @staticmethod
    def forward(ctx, a, axes=(), keepdims=False):
        a = np.asarray(a)
        m = np.max(a, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        kept = np.log(np.exp(a - m).sum(axis=axes, keepdims=True)) + m
        out = kept if keepdims else kept.reshape([n for i, n in enumerate(a.shape) if i not in axes])
        ctx.shape, ctx.axes = a.shape, axes
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        kept_shape = _keepdims_shape(ctx.shape, ctx.axes)
        return g.reshape(kept_shape) * dual.exp(a - out.reshape(kept_shape))


def _reduce(cls, a, axis, keepdims):
    return cls.apply(a, axes=normalize_axis(cls.name, np.ndim(dual.raw(a)), axis), keepdims=keepdims)


def sum(a, axis=None, keepdims=False):
    """Sum over ``axis`` (None: all)."""
    return _reduce(Sum, a, axis, keepdims)


def mean(a, axis=None, keepdims=False):
    """Mean over ``axis`` (None: all)."""
    return _reduce(Mean, a, axis, keepdims)


def max(a, axis=None, keepdims=False):
    """Maximum over ``axis``; tied maxima share the gradient equally."""
    return _reduce(Max, a, axis, keepdims)


def min(a, axis=None, keepdims=False):
    """Minimum over ``axis``; tied minima share the gradient equally."""
    return _reduce(Min, a, axis, keepdims)


def logsumexp(a, axis=-1, keepdims=False):
    """log(sum(exp(a))) over ``axis``, computed stably."""
    return _reduce(LogSumExp, a, axis, keepdims)


__all__ = ["logsumexp", "max", "mean", "min", "sum"]
