"""Elementwise ops with numpy broadcasting. Each docstring states the derivative.

Backward formulas may return gradients of the broadcast shape; the engine reduces them to
each input's shape (``unbroadcast``), so no formula here sums over broadcast axes.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from ..tensor import Tensor
from . import dual


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1"""

    name = "add"

    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1"""

    name = "sub"

    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a"""

    name = "mul"

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

    name = "div"

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

    name = "pow"

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = g * b * a ** (b - 1) if need_a else None
        gb = None
        if need_b:
            positive = (a.data if isinstance(a, Tensor) else np.asarray(a)) > 0
            safe_a = dual.where(positive, a, 1.0)
            gb = g * dual.where(positive, out * dual.log(safe_a), 0.0)
        return ga, gb


class Neg(Function):
    """z = -a;  dz/da = -1"""

    name = "neg"

    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    """z = exp(a);  dz/da = exp(a) = z"""

    name = "exp"

    @staticmethod
    def forward(ctx, a):
        with np.errstate(over="ignore"):
            out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    """z = log(a);  dz/da = 1/a"""

    name = "log"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class Sqrt(Function):
    """z = sqrt(a);  dz/da = 1 / (2 sqrt(a)) = 1/(2z)"""

    name = "sqrt"

    @staticmethod
    def forward(ctx, a):
        with np.errstate(invalid="ignore"):
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    """z = |a|;  dz/da = sign(a), with abs'(0) = 0"""

    name = "abs"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * dual.sign(a)


class Sin(Function):
    """z = sin(a);  dz/da = cos(a)"""

    name = "sin"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * dual.cos(a)


class Cos(Function):
    """z = cos(a);  dz/da = -sin(a)"""

    name = "cos"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * dual.sin(a)


class Maximum(Function):
    """z = max(a, b);  dz/da = [a > b] + [a == b]/2, dz/db = [b > a] + [a == b]/2 (ties share)"""

    name = "maximum"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _share_by_mask(ctx, g, np.greater)


class Minimum(Function):
    """z = min(a, b);  dz/da = [a < b] + [a == b]/2, dz/db = [b < a] + [a == b]/2 (ties share)"""

    name = "minimum"

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

    name = "clip"

    @staticmethod
    def forward(ctx, a, a_min=None, a_max=None):
        inside = np.ones(np.shape(a), dtype=bool)
        if a_min is not None:
            inside &= a >= a_min
        if a_max is not None:
            inside &= a <= a_max
        ctx.save_for_backward(inside)
        return np.clip(a, a_min, a_max)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return g * inside


class Where(Function):
    """z = a where condition else b;  dz/da = [condition], dz/db = [not condition]"""

    name = "where"

    @staticmethod
    def forward(ctx, condition, a, b):
        condition = np.asarray(condition, dtype=bool)
        ctx.save_for_backward(condition)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        (condition,) = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        zero = 0.0
        ga = dual.where(condition, g, zero) if need_a else None
        gb = dual.where(condition, zero, g) if need_b else None
        return None, ga, gb


class Cast(Function):
    """z = a converted to another float dtype;  dz/da = 1 (the engine casts the gradient back)"""

    name = "cast"

    @staticmethod
    def forward(ctx, a, dtype=None):
        return np.asarray(a).astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g


def add(a, b):
    """a + b (broadcasting)."""
    return Add.apply(a, b)


def sub(a, b):
    """a - b (broadcasting)."""
    return Sub.apply(a, b)


def mul(a, b):
    """a * b (broadcasting)."""
    return Mul.apply(a, b)


def div(a, b):
    """a / b (broadcasting)."""
    return Div.apply(a, b)


def pow(a, b):
    """a ** b (broadcasting); the gradient with respect to b needs a > 0."""
    return Pow.apply(a, b)


def neg(a):
    return Neg.apply(a)


def exp(a):
    return Exp.apply(a)


def log(a):
    return Log.apply(a)


def sqrt(a):
    return Sqrt.apply(a)


def abs(a):
    """|a|, with abs'(0) = 0."""
    return Abs.apply(a)


def sin(a):
    return Sin.apply(a)


def cos(a):
    return Cos.apply(a)


def maximum(a, b):
    """Elementwise maximum; at ties each input gets half the gradient."""
    return Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise minimum; at ties each input gets half the gradient."""
    return Minimum.apply(a, b)


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
