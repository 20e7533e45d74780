"""Elementwise ops with numpy broadcasting. Each docstring states the derivative.

Backward formulas may return gradients of the broadcast shape; the engine reduces them to
each input's shape (``unbroadcast``), so no formula here sums over broadcast axes.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor
from . import dual
from .formula import Elementwise, public_functions


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1"""

    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1"""

    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a"""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # only what backward reads
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b**2"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.true_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = g / b if need_a else None
        gb = -g * a / (b * b) if need_b else None
        return ga, gb


class Pow(Function):
    """z = a ** b;  dz/da = b a**(b-1), dz/db = a**b log(a)  (defined for a > 0)"""

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = g * _power_derivative(a, b) if need_a else None
        gb = None
        if need_b:
            positive = (a.data if isinstance(a, Tensor) else np.asarray(a)) > 0
            safe_a = dual.where(positive, a, 1.0)
            gb = g * dual.where(positive, out * dual.log(safe_a), 0.0)
        return ga, gb


def _power_derivative(a, b):
    """b a**(b-1), exactly 0 where b == 0 (also at a == 0, where the formula gives 0 * inf).

    The exponent is b - 1 except where b == 0 (there 1, times b = 0): a**1 is finite at 0, so
    the formula stays NaN-free when differentiated again (d/da of b a**(b-1) is again a power).
    """
    raw_b = dual.raw(b)
    if np.ndim(raw_b) == 0 and not isinstance(b, Tensor):
        return 0.0 * a if raw_b == 0 else b * a ** (b - 1)
    zero = np.equal(raw_b, 0)
    if not zero.any():
        return b * a ** (b - 1)
    return b * a ** dual.where(zero, 1.0, b - 1)


class Neg(Elementwise):
    """z = -a;  dz/da = -1"""

    saves = ""
    value = staticmethod(lambda x, m: m.negative(x))
    grad = staticmethod(lambda g, x, y, m: -g)


class Exp(Elementwise):
    """z = exp(a);  dz/da = exp(a) = z"""

    errstate = {"over": "ignore"}
    value = staticmethod(lambda x, m: m.exp(x))
    grad = staticmethod(lambda g, x, y, m: g * y)


class Log(Elementwise):
    """z = log(a);  dz/da = 1/a"""

    saves, errstate = "x", {"divide": "ignore", "invalid": "ignore"}
    value = staticmethod(lambda x, m: m.log(x))
    grad = staticmethod(lambda g, x, y, m: g / x)


class Sqrt(Elementwise):
    """z = sqrt(a);  dz/da = 1 / (2 sqrt(a)) = 1/(2z)"""

    errstate = {"invalid": "ignore"}
    value = staticmethod(lambda x, m: m.sqrt(x))
    grad = staticmethod(lambda g, x, y, m: g / (2 * y))


class Abs(Elementwise):
    """z = |a|;  dz/da = sign(a), with abs'(0) = 0"""

    saves = "x"
    value = staticmethod(lambda x, m: m.abs(x))
    grad = staticmethod(lambda g, x, y, m: g * m.sign(x))


class Sin(Elementwise):
    """z = sin(a);  dz/da = cos(a)"""

    saves = "x"
    value = staticmethod(lambda x, m: m.sin(x))
    grad = staticmethod(lambda g, x, y, m: g * m.cos(x))


class Cos(Elementwise):
    """z = cos(a);  dz/da = -sin(a)"""

    saves = "x"
    value = staticmethod(lambda x, m: m.cos(x))
    grad = staticmethod(lambda g, x, y, m: -g * m.sin(x))


class Maximum(Function):
    """z = max(a, b);  dz/da = [a > b] + [a == b]/2, dz/db = [b > a] + [a == b]/2 (ties share)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _share_by_mask(ctx, g, np.greater)


class Minimum(Function):
    """z = min(a, b);  dz/da = [a < b] + [a == b]/2, dz/db = [b < a] + [a == b]/2 (ties share)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _share_by_mask(ctx, g, np.less)


def _share_by_mask(ctx, g, wins):
    a, b = (dual.raw(x) for x in ctx.saved_tensors)
    weight_a = wins(a, b) + 0.5 * np.equal(a, b)
    need_a, need_b = ctx.needs_input_grad
    return (g * weight_a if need_a else None), (g * (1.0 - weight_a) if need_b else None)


class Clip(Function):
    """z = min(max(a, lo), hi);  dz/da = 1 where lo <= a <= hi, else 0"""

    @staticmethod
    def forward(ctx, a, a_min=None, a_max=None):
        inside = np.ones(np.shape(a), dtype=bool)
        if a_min is not None:
            inside &= a >= a_min
        if a_max is not None:
            inside &= a <= a_max
        ctx.inside = inside  # a constant of the gradient graph
        return np.clip(a, a_min, a_max)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.inside


class Where(Function):
    """z = a where condition else b;  dz/da = [condition], dz/db = [not condition]"""

    @staticmethod
    def forward(ctx, condition, a, b):
        condition = ctx.condition = np.asarray(condition, dtype=bool)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        condition = ctx.condition
        _, need_a, need_b = ctx.needs_input_grad
        zero = 0.0
        ga = dual.where(condition, g, zero) if need_a else None
        gb = dual.where(condition, zero, g) if need_b else None
        return None, ga, gb


class Cast(Function):
    """z = a converted to another float dtype;  dz/da = 1 (the engine casts the gradient back)"""

    @staticmethod
    def forward(ctx, a, dtype=None):
        return np.asarray(a).astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g


add = Add.apply
sub = Sub.apply
mul = Mul.apply
div = Div.apply
globals().update(public_functions(__name__))  # neg, exp, log, sqrt, abs, sin, cos
maximum = Maximum.apply
minimum = Minimum.apply


def pow(a, b):
    """a ** b (broadcasting); the gradient with respect to b needs a > 0."""
    if isinstance(b, (list, tuple)):
        b = np.asarray(b)
    return Pow.apply(a, b)


def clip(a, a_min=None, a_max=None):
    """Limit values to [a_min, a_max]; the gradient passes where a_min <= a <= a_max."""
    if a_min is None and a_max is None:
        raise ValueError("clip: give a_min, a_max or both")
    return Clip.apply(a, a_min=a_min, a_max=a_max)


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b`` (the condition carries no gradient)."""
    if isinstance(condition, Tensor):
        condition = condition.data
    return Where.apply(condition, a, b)


def cast(a, dtype):
    """``a`` converted to ``dtype``; gradients flow back in the input's dtype."""
    return Cast.apply(a, dtype=np.dtype(dtype))


__all__ = sorted(
    ["add", "cast", "clip", "div", "maximum", "minimum", "mul", "pow", "sub", "where", *public_functions(__name__)]
)
