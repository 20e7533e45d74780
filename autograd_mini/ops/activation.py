"""Activation functions, written to stay finite (values and gradients) for |x| up to 1e4+.

Conventions: relu'(0) = 0, leaky_relu'(0) = alpha, elu'(0) = alpha.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual
from .reduce import normalize_axis


def stable_sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp is only taken of -|x|."""
    e = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.result_type(x, e), copy=False)


class Tanh(Function):
    """z = tanh(a);  dz/da = 1 - z**2"""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class Sigmoid(Function):
    """z = 1/(1+exp(-a));  dz/da = z (1 - z)"""

    @staticmethod
    def forward(ctx, a):
        out = stable_sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out * (1 - out))


class Relu(Function):
    """z = max(a, 0);  dz/da = [a > 0]  (relu'(0) = 0)"""

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (dual.raw(out) > 0)


class LeakyRelu(Function):
    """z = a if a > 0 else alpha a;  dz/da = 1 if a > 0 else alpha"""

    name = "leaky_relu"

    @staticmethod
    def forward(ctx, a, alpha=0.01):
        slope = ctx.slope = np.where(np.asarray(a) > 0, 1.0, alpha).astype(np.result_type(a, 1.0), copy=False)
        return a * slope

    @staticmethod
    def backward(ctx, g):
        return g * ctx.slope


class Softplus(Function):
    """z = log(1 + exp(a));  dz/da = sigmoid(a)"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(np.exp(-np.abs(a))) + np.maximum(a, 0)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * dual.sigmoid(a)


class Elu(Function):
    """z = a if a > 0 else alpha (exp(a) - 1);  dz/da = 1 if a > 0 else z + alpha"""

    @staticmethod
    def forward(ctx, a, alpha=1.0):
        positive = np.asarray(a) > 0
        out = np.where(positive, a, alpha * np.expm1(np.minimum(a, 0)))
        ctx.alpha, ctx.positive = alpha, positive
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return dual.where(ctx.positive, g, g * (out + ctx.alpha))


class Softmax(Function):
    """z = exp(a) / sum(exp(a)) along axis;  dL/da = z * (g - sum(g z))"""

    @staticmethod
    def forward(ctx, a, axis=-1):
        ctx.axis = axis
        shifted = a - np.max(a, axis=axis, keepdims=True)
        e = np.exp(shifted)
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return out * (g - (g * out).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """z = a - logsumexp(a) along axis;  dL/da = g - exp(z) sum(g)"""

    name = "log_softmax"

    @staticmethod
    def forward(ctx, a, axis=-1):
        ctx.axis = axis
        shifted = a - np.max(a, axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - dual.exp(out) * g.sum(axis=ctx.axis, keepdims=True)


tanh = Tanh.apply
sigmoid = Sigmoid.apply
relu = Relu.apply
softplus = Softplus.apply


def leaky_relu(a, alpha=0.01):
    """a for a > 0, alpha * a otherwise."""
    return LeakyRelu.apply(a, alpha=alpha)


def elu(a, alpha=1.0):
    """a for a > 0, alpha (exp(a) - 1) otherwise."""
    return Elu.apply(a, alpha=alpha)


def softmax(a, axis=-1):
    """exp(a) / sum(exp(a)) along ``axis`` (computed after subtracting the max); 1 for a 0-d tensor."""
    return Softmax.apply(a, axis=_single_axis("softmax", a, axis))


def log_softmax(a, axis=-1):
    """log(softmax(a)) along ``axis``, computed stably; 0 for a 0-d tensor."""
    return LogSoftmax.apply(a, axis=_single_axis("log_softmax", a, axis))


def _single_axis(name, a, axis):
    ndim = np.ndim(dual.raw(a))
    if ndim == 0:  # as torch: a 0-d tensor is its own (one-element) axis
        if axis not in (None, 0, -1):
            raise ValueError(f"{name}: axis {axis} is out of bounds for a 0-d tensor (use -1, 0 or None)")
        return None
    if axis is None:
        raise ValueError(f"{name}: axis must be an int for a tensor of {ndim} dimensions, got None")
    (axis,) = normalize_axis(name, ndim, axis)
    return axis


__all__ = ["elu", "leaky_relu", "log_softmax", "relu", "sigmoid", "softmax", "softplus", "tanh"]
