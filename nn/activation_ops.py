"""The activation primitives the core lacks: ``erf`` (for exact GELU) and ``sparsemax``.

Each is an ``am.Function`` whose backward is written with operators that ndarrays and
Tensors share, so second-order gradients work too.
"""

from __future__ import annotations

import math

import numpy as np

import autograd_mini as am
from autograd_mini.ops import dual

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_array(x):
    try:
        from scipy.special import erf
    except ImportError:  # scipy is optional: math.erf elementwise (slower, same values)
        erf = np.vectorize(math.erf, otypes=[np.float64])
    x = np.asarray(x)
    return np.asarray(erf(x)).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


class Erf(am.Function):
    """z = erf(a) = 2/sqrt(pi) * integral_0^a exp(-t**2) dt;  dz/da = 2/sqrt(pi) * exp(-a**2)"""

    name = "erf"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _erf_array(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (_TWO_OVER_SQRT_PI * dual.exp(-(a * a)))


def erf(x):
    """erf(x), differentiable at every order."""
    return Erf.apply(x)


class Sparsemax(am.Function):
    """z = argmin_{p in simplex} |p - a|^2 along ``axis`` (Martins & Astudillo 2016), i.e.
    z = max(a - tau, 0) with tau such that sum(z) = 1;  with S = [z > 0] (the support),
    dL/da = S * (g - sum(S g) / sum(S))  (piecewise linear: the second derivative is 0)."""

    name = "sparsemax"

    @staticmethod
    def forward(ctx, a, axis=-1):
        a = np.asarray(a)
        moved = np.moveaxis(a, axis, -1)
        z = -np.sort(-moved, axis=-1)
        cumulative = np.cumsum(z, axis=-1)
        k = np.arange(1, moved.shape[-1] + 1, dtype=a.dtype)
        support = 1 + k * z > cumulative
        k_z = support.sum(axis=-1, keepdims=True)
        tau = (np.take_along_axis(cumulative, k_z - 1, axis=-1) - 1) / k_z
        out = np.moveaxis(np.maximum(moved - tau, 0), -1, axis).astype(a.dtype, copy=False)
        mask = (out > 0).astype(a.dtype)
        ctx.axis = axis
        ctx.mask = mask  # not an input or the output: a constant of the gradient (piecewise linear)
        return np.ascontiguousarray(out)

    @staticmethod
    def backward(ctx, g):
        mask = ctx.mask
        total = (g * mask).sum(axis=ctx.axis, keepdims=True)
        count = mask.sum(axis=ctx.axis, keepdims=True)
        return (g - total / count) * mask


def sparsemax(x, axis=-1):
    """sparsemax along ``axis``: a projection onto the probability simplex (sparse softmax)."""
    if x.ndim == 0:
        raise ValueError(f"sparsemax: expected an input with at least 1 dimension, got shape {x.shape}")
    return Sparsemax.apply(x, axis=axis)
