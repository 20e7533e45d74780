"""Loop forms of the core ops (see ``autograd_mini.lowering``). Elementwise ops get theirs
generated from their own formulas (``ops.formula``); the others mirror the op's numpy forward and
backward, operation for operation, so only sums' order and the libm of ``exp``/``log``/``tanh``
can change the last bits."""

from __future__ import annotations

import math

import numpy as np

from ..ops import activation, elementwise, linalg, reduce, shape
from ..ops.formula import Elementwise, loop_template
from . import register
from .emitter import NotLowerable, Var, dtype_name, literal


def _need(needs, index, make):
    return make() if needs[index] else None


def _binary(template):
    def forward(L, ins, options):
        return L.map(template, *ins)

    return forward


# ---- elementwise ----------------------------------------------------------------------------------------
register(elementwise.Add, _binary("{0} + {1}"), lambda L, g, ins, out, o, needs: (g, g))
register(
    elementwise.Sub,
    _binary("{0} - {1}"),
    lambda L, g, ins, out, o, needs: (g, _need(needs, 1, lambda: L.map("-{0}", g))),
)
register(
    elementwise.Mul,
    _binary("{0} * {1}"),
    lambda L, g, ins, out, o, needs: (
        _need(needs, 0, lambda: L.map("{0} * {1}", g, ins[1])),
        _need(needs, 1, lambda: L.map("{0} * {1}", g, ins[0])),
    ),
)
register(
    elementwise.Div,
    _binary("{0} / {1}"),
    lambda L, g, ins, out, o, needs: (
        _need(needs, 0, lambda: L.map("{0} / {1}", g, ins[1])),
        _need(needs, 1, lambda: L.map("-{0} * {1} / ({2} * {2})", g, ins[0], ins[1])),
    ),
)
_MAXIMUM = "({0} if ({0} > {1} or {0} != {0}) else {1})"
_MINIMUM = "({0} if ({0} < {1} or {0} != {0}) else {1})"


def _share(compare):
    def backward(L, g, ins, out, options, needs):
        a, b = ins
        win = f"({{f}}(1.0) if {{1}} {compare} {{2}} else ({{f}}(0.5) if {{1}} == {{2}} else {{f}}(0.0)))"
        lose = f"({{f}}(0.0) if {{1}} {compare} {{2}} else ({{f}}(0.5) if {{1}} == {{2}} else {{f}}(1.0)))"
        return (
            _need(needs, 0, lambda: L.map("{0} * " + win, g, a, b)),
            _need(needs, 1, lambda: L.map("{0} * " + lose, g, a, b)),
        )

    return backward


register(elementwise.Maximum, _binary(_MAXIMUM), _share(">"))
register(elementwise.Minimum, _binary(_MINIMUM), _share("<"))


def _clip_bounds(ins, options) -> tuple:
    x, lo, hi = ins[0], options.get("a_min"), options.get("a_max")
    if not isinstance(x, Var) or x.dtype.kind != "f" or any(b is not None and np.ndim(b) for b in (lo, hi)):
        raise NotLowerable("clip of a constant, of integers or with array bounds")
    return x, lo, hi


def _clip(L, ins, options):
    """np.clip: max(x, a_min) then min(., a_max), NaN kept (numpy's clip); the bounds are weak
    Python numbers (a numpy float64 bound would promote: the dtype check then keeps the replay)."""
    x, lo, hi = _clip_bounds(ins, options)
    out = x if lo is None else L.map(_MAXIMUM, x, float(lo))
    return out if hi is None else L.map(_MINIMUM, out, float(hi))


def _clip_backward(L, g, ins, out, options, needs):
    """g * [a_min <= x <= a_max], compared in x's dtype as the eager mask is."""
    x, lo, hi = _clip_bounds(ins, options)
    kind = dtype_name(x.dtype)
    inside = [
        f"{{1}} >= {kind}({literal(b)})" if op == ">=" else f"{{1}} <= {kind}({literal(b)})"
        for op, b in ((">=", lo), ("<=", hi))
        if b is not None
    ]
    return (L.map("{0} * ({f}(1.0) if " + " and ".join(inside) + " else {f}(0.0))", g, x),)


register(elementwise.Clip, _clip, _clip_backward)


def _pow_forward(L, ins, options):
    a, b = ins
    if isinstance(b, Var):
        raise NotLowerable("pow with an array exponent")
    if b == 2:
        return L.map("{0} * {0}", a)
    return L.map("{0} ** {1}", a, b)


def _pow_backward(L, g, ins, out, options, needs):
    a, b = ins
    if needs[1]:
        raise NotLowerable("the gradient of pow in its exponent")
    if b == 0:
        return (L.map("{0} * {f}(0.0) * {1}", g, a), None)
    # eager: g * (b * a ** (b - 1))
    return (L.map("{0} * ({1} * {2} ** {3})", g, b, a, b - 1), None)


register(elementwise.Pow, _pow_forward, _pow_backward)


def _cast_forward(L, ins, options):
    return L.cast(ins[0], options.get("dtype"))


register(elementwise.Cast, _cast_forward, lambda L, g, ins, out, o, needs: (g,))


# ---- activations ---------------------------------------------------------------------------------------
def activation_forward(L, cls, x: Var, options) -> Var:
    """The loop form of an ``Elementwise`` op, generated from its ``value`` formula."""
    return L.map(loop_template(cls.value, 1, **options), x)


def activation_backward(L, cls, g: Var, x: Var | None, y: Var, options) -> Var:
    """The loop form of an ``Elementwise`` op's gradient, generated from its ``grad`` formula
    (``x`` may be None when the formula reads only y)."""
    return L.map(loop_template(cls.grad, 3, **options), g, y if x is None else x, y)


def register_elementwise(cls) -> None:
    """Give an ``Elementwise`` op the loop form generated from its formulas (the kernel builder
    calls it for subclasses defined after this module, a user's too)."""
    register(
        cls,
        lambda L, ins, options: activation_forward(L, cls, ins[0], options),
        lambda L, g, ins, out, options, needs: (activation_backward(L, cls, g, ins[0], out, options),),
    )


for _cls in Elementwise.registry.values():
    register_elementwise(_cls)


def _last_axis(x: Var, axis) -> None:
    if not x.shape or axis % len(x.shape) != len(x.shape) - 1:
        raise NotLowerable("softmax over another axis than the last")


def softmax_parts(L, a: Var):
    """(shifted, e, total) of a softmax over the last axis, as the eager forward computes them.
    Written once per computed value and function: a softmax output, its cross-entropy's forward
    and its backward read the same buffers (a computed value is written once; an input's buffer,
    which an optimizer may update in place, is not memoised)."""
    memo = L.__dict__.setdefault("softmax_parts", {})
    key = (a.name, a.shape, a.dtype) if a.name.startswith("v") else None
    if key is None or key not in memo:
        shifted = L.map("{0} - {1}", a, L.reduce_max(a, -1, keepdims=True))
        e = L.map("math.exp({0})", shifted)
        parts = shifted, e, L.reduce_sum(e, (len(a.shape) - 1,), keepdims=True)
        if key is None:
            return parts
        memo[key] = parts
    return memo[key]


def _softmax(L, ins, options):
    _last_axis(ins[0], options.get("axis", -1))
    _, e, total = softmax_parts(L, ins[0])
    return L.map("{0} / {1}", e, total)


def _softmax_backward(L, g, ins, out, options, needs):
    inner = L.reduce_sum(L.map("{0} * {1}", g, out), (len(out.shape) - 1,), keepdims=True)
    return (L.map("{0} * ({1} - {2})", out, g, inner),)


def _log_softmax(L, ins, options):
    _last_axis(ins[0], options.get("axis", -1))
    shifted, _, total = softmax_parts(L, ins[0])
    return L.map("{0} - math.log({1})", shifted, total)


def _log_softmax_backward(L, g, ins, out, options, needs):
    total = L.reduce_sum(g, (len(g.shape) - 1,), keepdims=True)
    return (L.map("{0} - math.exp({1}) * {2}", g, out, total),)


register(activation.Softmax, _softmax, _softmax_backward)
register(activation.LogSoftmax, _log_softmax, _log_softmax_backward)


# ---- reductions -----------------------------------------------------------------------------------------
def _axes(x: Var, options) -> tuple:
    return tuple(options.get("axes", ()))


def _spread(L, g: Var, x: Var, axes: tuple) -> Var:
    kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    return L.broadcast_to(L.reshape(g, kept), x.shape)


def _sum(L, ins, options):
    x = ins[0]
    if not isinstance(x, Var):
        raise NotLowerable("sum of a constant")
    return L.reduce_sum(x, _axes(x, options), options.get("keepdims", False))


def _mean(L, ins, options):
    x = ins[0]
    if not isinstance(x, Var) or x.dtype.kind != "f":
        raise NotLowerable("mean of a constant or of integers")
    axes = _axes(x, options)
    count = math.prod(x.shape[i] for i in axes) if axes else 1
    total = L.reduce_sum(x, axes, options.get("keepdims", False))
    return L.map("{0} / {1}", total, count)


def _mean_backward(L, g, ins, out, options, needs):
    x = ins[0]
    axes = _axes(x, options)
    count = math.prod(x.shape[i] for i in axes) if axes else 1
    return (_spread(L, L.map("{0} / {1}", g, count), x, axes),)


register(reduce.Sum, _sum, lambda L, g, ins, out, o, needs: (_spread(L, g, ins[0], _axes(ins[0], o)),))
register(reduce.Mean, _mean, _mean_backward)


# ---- matrix product and shapes -----------------------------------------------------------------------------
def _matmul(L, ins, options):
    a, b = ins
    if not (isinstance(a, Var) and isinstance(b, Var)):
        raise NotLowerable("matmul with a constant operand")
    return L.matmul(a, b)


def _matmul_backward(L, g, ins, out, options, needs):
    a, b = ins
    return (
        _need(needs, 0, lambda: L.matmul(g, b, transpose_b=True)),
        _need(needs, 1, lambda: L.matmul(a, g, transpose_a=True)),
    )


register(linalg.MatMul, _matmul, _matmul_backward)


def _reshape(L, ins, options):
    x = ins[0]
    target = options.get("shape", ())
    target = (target,) if isinstance(target, (int, np.integer)) else tuple(target)
    if -1 in target:
        known = math.prod(n for n in target if n != -1)
        target = tuple(x.size // max(known, 1) if n == -1 else n for n in target)
    return L.reshape(x, target)


def _where(L, ins, options):
    condition, a, b = ins
    if isinstance(condition, Var) and condition.dtype != np.bool_:
        raise NotLowerable("where with a condition that is not boolean")
    if not isinstance(condition, Var):
        condition = np.asarray(condition, dtype=bool)
    return L.map("{1} if {0} else {2}", condition, a, b)


def _where_backward(L, g, ins, out, options, needs):
    condition = ins[0] if isinstance(ins[0], Var) else np.asarray(ins[0], dtype=bool)
    return (
        None,
        _need(needs, 1, lambda: L.map("{1} if {0} else {f}(0.0)", condition, g)),
        _need(needs, 2, lambda: L.map("{f}(0.0) if {0} else {1}", condition, g)),
    )


register(elementwise.Where, _where, _where_backward)


def _transpose(L, ins, options):
    axes = options.get("axes")
    if axes is not None and tuple(axes) != (1, 0):
        raise NotLowerable("transpose with axes (only the 2-d transpose has a loop form)")
    return L.transpose(ins[0])


register(shape.Transpose, _transpose, lambda L, g, ins, out, o, needs: (L.transpose(g),))
register(shape.Reshape, _reshape, lambda L, g, ins, out, o, needs: (L.reshape(g, ins[0].shape),))
register(
    shape.BroadcastTo,
    lambda L, ins, options: L.broadcast_to(ins[0], tuple(options.get("shape", ()))),
    lambda L, g, ins, out, o, needs: (g,),
)
