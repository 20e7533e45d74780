"""Loop forms of nn's own ops and replayable helpers, for captured steps compiled into numba
kernels (see ``autograd_mini.lowering``). Each mirrors the numpy code it stands for."""

from __future__ import annotations

import numpy as np

from autograd_mini.lowering import NotLowerable, Var, register, register_effect
from autograd_mini.lowering.core_rules import activation_backward, activation_forward, softmax_parts

from .fused import FUSED, DenseFunction
from .fused_cross_entropy import SoftmaxCrossEntropy
from .losses.functions import _within as huber_within
from .losses.loss import _is_zero, to_array


def _dense_forward(L, ins, options):
    """act(x @ W + b): the matmul, the bias added into it, the activation in place."""
    x, kernel, bias = ins
    activation = options.get("activation", "linear")
    if not isinstance(x, Var) or not isinstance(kernel, Var) or len(x.shape) != 2:
        raise NotLowerable("dense on constants or on inputs that are not 2-d")
    out = L.matmul(x, kernel)
    if bias is not None:
        out = L.map("{0} + {1}", out, bias)
    act = FUSED[activation]
    return out if act is None else activation_forward(L, act, out, {})


def _dense_backward(L, g, ins, out, options, needs):
    """gz = g * act'(y);  dx = gz W^T,  dW = x^T gz,  db = sum over the batch of gz."""
    x, kernel, bias = ins
    activation = options.get("activation", "linear")
    act = FUSED[activation]
    gz = g if act is None else activation_backward(L, act, g, None, out, {})
    gx = L.matmul(gz, kernel, transpose_b=True) if needs[0] else None
    gkernel = L.matmul(x, gz, transpose_a=True) if needs[1] else None
    gbias = L.reduce_sum(gz, (0,)) if needs[2] and bias is not None else None
    return gx, gkernel, gbias


def _cross_entropy_forward(L, ins, options):
    """-(sum of y * log_softmax(z)) / n, with log_softmax = shifted - log(sum(exp(shifted)))."""
    z, y = ins
    if not isinstance(z, Var) or not z.shape:
        raise NotLowerable("softmax cross-entropy of constant or 0-d logits")
    shifted, _, total = softmax_parts(L, z)
    log_p = L.map("{0} - math.log({1})", shifted, total)
    n = max(1, z.size // z.shape[-1])
    summed = L.reduce_sum(L.map("{0} * {1}", y, log_p), tuple(range(len(z.shape))))
    return L.map("-{0} / {1}", summed, n)


def _cross_entropy_backward(L, g, ins, out, options, needs):
    """dz = (p * sum_k y_k - y) * (g / n),  dy = log_p * (-g / n)."""
    z, y = ins
    n = max(1, z.size // z.shape[-1])
    shifted, e, total = softmax_parts(L, z)
    gz = gy = None
    if needs[0]:
        p = L.map("{0} / {1}", e, total)
        mass = L.reduce_sum(L.operand(y), (len(z.shape) - 1,), keepdims=True) if isinstance(y, Var) else None
        if mass is None:
            raise NotLowerable("softmax cross-entropy with constant targets")
        scale = L.map("{0} / {1}", g, n)
        gz = L.map("({0} * {1} - {2}) * {3}", p, mass, y, scale)
    if needs[1]:
        log_p = L.map("{0} - math.log({1})", shifted, total)
        gy = L.map("{0} * ({1})", log_p, L.map("-{0} / {1}", g, n))
    return gz, gy


def _to_array(L, args, kwargs, step=None):
    """``to_array(y, dtype)`` on an array of the step: the same array, cast when asked."""
    y = args[0]
    dtype = args[1] if len(args) > 1 else kwargs.get("dtype")
    if not isinstance(y, Var):
        y = L.operand(np.asarray(y))
    return y if dtype is None else L.cast(y, dtype)


def _within(L, args, kwargs, step=None):
    """``_within(abs_error, delta)`` (Huber's branch): |e| <= delta as a boolean buffer."""
    abs_error, delta = args
    if not isinstance(abs_error, Var):
        raise NotLowerable("huber's comparison on a constant")
    return L.map("{0} <= {1}", abs_error, float(delta), dtype=np.bool_)


def _zero(L, args, kwargs, step=None):
    """``_is_zero(divisor)`` (divide_no_nan's condition): divisor == 0 as a boolean buffer."""
    divisor = args[0]
    if not isinstance(divisor, Var):
        raise NotLowerable("divide_no_nan's test on a constant")
    return L.map("{0} == 0", divisor, dtype=np.bool_)


register(DenseFunction, _dense_forward, _dense_backward)
register(SoftmaxCrossEntropy, _cross_entropy_forward, _cross_entropy_backward)
register_effect(to_array, _to_array)
register_effect(huber_within, _within)
register_effect(_is_zero, _zero)
