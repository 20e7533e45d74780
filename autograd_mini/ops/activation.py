"""Activation functions, written to stay finite (values and gradients) for |x| up to 1e4+.

Conventions: relu'(0) = 0, leaky_relu'(0) = alpha, elu'(0) = alpha.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual
from .formula import Elementwise, public_functions
from .reduce import normalize_axis


class Tanh(Elementwise):
    """y = tanh(x);  dy/dx = 1 - y**2"""

    value = staticmethod(lambda x, m: m.tanh(x))
    grad = staticmethod(lambda g, x, y, m: g * (1 - y * y))


class Sigmoid(Elementwise):
    """y = 1/(1+exp(-x)), from e = exp(-|x|) so it never overflows;  dy/dx = y (1 - y)"""

    @staticmethod
    def value(x, m):
        e = m.exp(-abs(x))
        return m.where(x >= 0, 1 / (1 + e), e / (1 + e))

    grad = staticmethod(lambda g, x, y, m: g * (y * (1 - y)))


class Relu(Elementwise):
    """y = max(x, 0);  dy/dx = [x > 0]  (relu'(0) = 0)"""

    value = staticmethod(lambda x, m: m.maximum(x, 0))
    grad = staticmethod(lambda g, x, y, m: g * m.step(y))


class LeakyRelu(Elementwise):
    """y = x if x > 0 else alpha x;  dy/dx = 1 if x > 0 else alpha"""

    name = "leaky_relu"
    saves = "x"
    value = staticmethod(lambda x, m, alpha=0.01: m.where(m.step(x), x, x * alpha))
    grad = staticmethod(lambda g, x, y, m, alpha=0.01: m.where(m.step(x), g, g * alpha))


class Softplus(Elementwise):
    """y = log(1 + exp(x)) = log1p(exp(-|x|)) + max(x, 0);  dy/dx = sigmoid(x)"""

    saves = "x"
    value = staticmethod(lambda x, m: m.log1p(m.exp(-abs(x))) + m.maximum(x, 0))
    grad = staticmethod(lambda g, x, y, m: g * m.sigmoid(x))


class Elu(Elementwise):
    """y = x if x > 0 else alpha (exp(x) - 1);  dy/dx = 1 if x > 0 else y + alpha"""

    saves = "xy"
    value = staticmethod(lambda x, m, alpha=1.0: m.where(m.step(x), x, alpha * m.expm1(m.minimum(x, 0))))
    grad = staticmethod(lambda g, x, y, m, alpha=1.0: m.where(m.step(x), g, g * (y + alpha)))


class Softsign(Elementwise):
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)**2"""

    saves = "x"
    value = staticmethod(lambda x, m: x / (1 + abs(x)))
    grad = staticmethod(lambda g, x, y, m: g / ((1 + abs(x)) * (1 + abs(x))))


def softmax_parts(a, axis=-1):
    """(shifted, e, total) along ``axis``: a - max(a), its exp and their sum (kept); softmax is
    e / total, log_softmax is shifted - log(total). Shared with nn's fused cross-entropy."""
    shifted = a - np.max(a, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=axis, keepdims=True)


class Softmax(Function):
    """z = exp(a) / sum(exp(a)) along axis;  dL/da = z * (g - sum(g z))"""

    @staticmethod
    def forward(ctx, a, axis=-1):
        ctx.axis = axis
        _, e, total = softmax_parts(a, axis)
        out = e / total
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
        shifted, _, total = softmax_parts(a, axis)
        out = shifted - np.log(total)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - dual.exp(out) * g.sum(axis=ctx.axis, keepdims=True)


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


globals().update(public_functions(__name__))
__all__ = sorted([*public_functions(__name__), "log_softmax", "softmax"])
