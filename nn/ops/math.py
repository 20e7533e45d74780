"""Keras 3's math ops (``keras.ops.math``) that dense models use, composed from core ops."""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from ..activation_ops import erf as _erf
from ._convert import as_float, plain, to_tensor


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis`` (None: all), shifted by the maximum (finite for large x)."""
    t = as_float(x)
    if axis is None:
        return (
            am.logsumexp(am.reshape(t, (-1,)), axis=0, keepdims=False)
            if not keepdims
            else am.reshape(am.logsumexp(am.reshape(t, (-1,)), axis=0), (1,) * t.ndim)
        )
    if isinstance(axis, (list, tuple)):
        m = am.max(t, axis=tuple(axis), keepdims=True).detach()
        out = am.log(am.sum(am.exp(t - m), axis=tuple(axis), keepdims=True)) + m
        return out if keepdims else am.squeeze(out, tuple(axis))
    return am.logsumexp(t, axis=axis, keepdims=keepdims)


def rsqrt(x):
    """1 / sqrt(x)."""
    t = as_float(x)
    return am.as_tensor(np.ones((), t.dtype)) / am.sqrt(t)


def erf(x):
    """The error function (d/dx = 2 / sqrt(pi) exp(-x^2))."""
    return _erf(as_float(x))


def erfc(x):
    """1 - erf(x)."""
    return 1.0 - _erf(as_float(x))


def top_k(x, k, sorted=True):
    """(values, indices) of the k largest along the last axis; values gathered, so the gradient
    reaches the chosen entries."""
    t = to_tensor(x)
    order = np.argsort(-plain(t), axis=-1, kind="stable")[..., :k].astype(np.int32)
    from .numpy import take_along_axis

    return take_along_axis(t, order, axis=-1), am.as_tensor(order)


def in_top_k(targets, predictions, k):
    """True where the target's prediction is among the k largest (ties count, as Keras)."""
    p = plain(predictions)
    t = plain(targets).astype(np.intp)
    chosen = np.take_along_axis(p, t[:, None], axis=-1)
    return am.as_tensor((p > chosen).sum(axis=-1) < k)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of the rows of ``data`` per segment id: a one-hot matrix product."""
    t = as_float(data)
    ids = plain(segment_ids).astype(np.int64)
    n = int(ids.max()) + 1 if num_segments is None else int(num_segments)
    hot = am.as_tensor((np.arange(n)[:, None] == ids[None, :]).astype(t.dtype))
    flat = am.reshape(t, (t.shape[0], -1))
    return am.reshape(am.matmul(hot, flat), (n,) + t.shape[1:])
