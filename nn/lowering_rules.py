"""Loop forms of nn's own ops and replayable helpers, for captured steps compiled into numba
kernels (see ``autograd_mini.lowering``). Each mirrors the numpy code it stands for."""

from __future__ import annotations

import inspect
import math

import numpy as np

from autograd_mini.lowering import NotLowerable, Var, register, register_effect
from autograd_mini.lowering.core_rules import activation_backward, activation_forward, softmax_parts
from autograd_mini.lowering.emitter import dtype_name

from .fused import FUSED, DenseFunction
from .fused_cross_entropy import SoftmaxCrossEntropy
from .losses import crossentropy
from .losses.crossentropy import one_hot_targets
from .losses.functions import _within as huber_within
from .losses.loss import _float_mask, _is_zero, to_array


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


def _sparse_targets(L, args, kwargs, step):
    """``sparse_targets(labels, y_pred_shape, dtype, ignore_class, axis)``: the one-hot targets (and the
    ignore mask) written from the step's integer labels, so that a sparse cross-entropy step stays
    one kernel (N steps per native call).

    Invalid labels (out of range, fractional or non-finite floats) are found in the kernel, which
    cannot raise mid-step. Such a step writes nothing: its targets are all NaN, so its loss is NaN
    and the compiled optimizer update (``apply_if_finite``: only on a finite loss) is skipped, and a
    per-call flag (a runtime array, cleared before each call) makes every later step of an N-step
    call NaN as well. After the call, the driver's first ``after`` hooks of the failing step (ours
    come before the optimizer's step count and the loss tracker's) run the eager ``sparse_targets``
    on that step's labels, which raises the eager ``ValueError``. A wrong shape never reaches a
    kernel (shapes are the signature's: the trace raised)."""
    bound = _SPARSE_SIGNATURE.bind(*args, **kwargs)
    bound.apply_defaults()
    labels, pred_shape, dtype, ignore_class, axis = bound.arguments.values()
    if not isinstance(labels, Var) or labels.dtype.kind not in "biuf":
        raise NotLowerable("sparse targets of constant labels")
    if (
        isinstance(axis, bool)
        or not isinstance(axis, (int, np.integer))
        or any(isinstance(a, Var) for a in bound.args[1:])
    ):
        raise NotLowerable("sparse targets with an axis that is not an int")
    pred_shape, dtype = tuple(int(n) for n in pred_shape), np.dtype(dtype)
    ndim = len(pred_shape)
    if ndim < 1:
        raise NotLowerable("sparse targets for a 0-d y_pred (the eager error)")
    class_axis = int(axis) % ndim
    shape = labels.shape
    if len(shape) == ndim and shape[class_axis] == 1:  # (Keras' squeeze of a trailing 1)
        shape = shape[:class_axis] + shape[class_axis + 1 :]
    if shape != pred_shape[:class_axis] + pred_shape[class_axis + 1 :]:
        raise NotLowerable("sparse targets of mismatched labels (the eager error)")
    if ignore_class is not None:
        if isinstance(ignore_class, bool) or not isinstance(ignore_class, (int, np.integer, float, np.floating)):
            raise NotLowerable("an ignore_class that is not a number")
        if not math.isfinite(ignore_class) or float(ignore_class) != int(ignore_class):
            raise NotLowerable("a fractional ignore_class")
        ignore_class = int(ignore_class)
    classes, inner = pred_shape[class_axis], math.prod(pred_shape[class_axis + 1 :])
    kind = dtype_name(dtype)
    one_hot = L.alloc(pred_shape, dtype, fill=0)
    mask = None if ignore_class is None else L.alloc(shape, np.bool_, fill=False)
    flag = step.runtime(_cleared(np.zeros(1, np.int64)))
    seen = L.alloc(labels.shape, np.float64)  # (the labels for the eager error, in a dtype every kernel names)
    bad, i, v, c = L.fresh("bad"), L.fresh("i"), L.fresh("v"), L.fresh("c")
    L.line(f"{bad} = {flag}[0]")
    if labels.size:
        L.line(f"for {i} in range({labels.size}):")
        L.line(f"{v} = {labels.at(i)}", 1)
        L.line(f"{seen.at(i)} = float({v})", 1)
        if labels.dtype.kind == "f":  # eager: fractions (NaN) raise; inf and huge values fall out of range
            L.line(f"if not ({v} == math.floor({v}) and -9.2e18 < {v} < 9.2e18):", 1)
            L.line(f"{bad} = 1", 2)
            L.line(f"{v} = 0", 2)
        L.line(f"{c} = int({v})", 1)
        if mask is not None:  # eager: the mask, then ignored labels read as class 0 with a zero row
            L.line(f"{mask.at(i)} = {c} != {ignore_class}", 1)
            L.line(f"if not {mask.at(i)}:", 1)
            L.line("continue", 2)
        L.line(f"if {c} < 0 or {c} >= {classes}:", 1)
        L.line(f"{bad} = 1", 2)
        L.line("else:", 1)
        at = f"{i} * {classes} + {c}" if inner == 1 else f"({i} // {inner} * {classes} + {c}) * {inner} + {i} % {inner}"
        L.line(f"{one_hot.at(at)} = {kind}(1.0)", 2)
    L.line(f"if {bad}:  # invalid labels: this step (and the rest of an N-step call) writes nothing")
    L.line(f"{flag}[0] = 1", 1)
    if one_hot.scalar:
        L.line(f"{one_hot.name} = {kind}(math.nan)", 1)
    else:
        j = L.fresh("i")
        L.line(f"for {j} in range({one_hot.size}):", 1)
        L.line(f"{one_hot.name}[{j}] = {kind}(math.nan)", 2)
    status = L.alloc((), np.float64)
    L.line(f"{status.name} = float({bad})")
    checker = _LabelCheck(bound)
    step.after(checker.keep, seen)
    step.after(checker.check, status)
    return one_hot, mask


_SPARSE_SIGNATURE = inspect.signature(one_hot_targets.__wrapped__)


def _cleared(flag):
    """The runtime getter of the invalid-labels flag: the same array, cleared before each call."""

    def current():
        flag[0] = 0
        return flag

    return current


class _LabelCheck:
    """The after-call hooks of ``_sparse_targets``: keep each step's labels; for a step whose labels
    the kernel found invalid, raise what the eager ``sparse_targets`` raises on them."""

    def __init__(self, bound):
        self.bound, self.labels = bound, None

    def keep(self, labels):
        self.labels = labels

    def check(self, status):
        if status.item():
            arguments = dict(self.bound.arguments)
            given = self.bound.arguments["y_true"]
            labels = self.labels.reshape(given.shape).astype(given.dtype)
            one_hot_targets.__wrapped__(labels, *list(arguments.values())[1:])
            raise ValueError("sparse_categorical_crossentropy: invalid integer labels")  # (eager raises first)


def _mask_weights(L, args, kwargs, step=None):
    """``_float_mask(mask, dtype, reduction)`` (ignore_class' weights): under the mean reductions
    size / valid on valid entries (0 when none is valid; the division in float64, then cast, as
    numpy computes it), else the mask as 0/1; 0 on masked entries."""
    bound = _MASK_SIGNATURE.bind(*args, **kwargs)
    mask, dtype, reduction = bound.arguments.values()
    if not isinstance(mask, Var) or mask.dtype != np.bool_ or isinstance(dtype, Var) or isinstance(reduction, Var):
        raise NotLowerable("ignore_class weights of a constant or non-boolean mask")
    kind = dtype_name(dtype)
    out = L.alloc(mask.shape, dtype)
    i = L.fresh("i")
    if reduction in ("mean", "sum_over_batch_size"):
        count, factor = L.fresh("valid"), L.fresh("factor")
        L.line(f"{count} = 0")
        L.line(f"for {i} in range({mask.size}):")
        L.line(f"if {mask.at(i)}:", 1)
        L.line(f"{count} += 1", 2)
        L.line(f"{factor} = {float(mask.size)!r} / {count} if {count} else 0.0")
        value = f"{kind}({factor})"
    else:
        value = f"{kind}(1.0)"
    j = L.fresh("i")
    L.line(f"for {j} in range({mask.size}):")
    L.line(f"{out.at(j)} = {value} if {mask.at(j)} else {kind}(0.0)", 1)
    return out


_MASK_SIGNATURE = inspect.signature(_float_mask.__wrapped__)


register(DenseFunction, _dense_forward, _dense_backward)
register(SoftmaxCrossEntropy, _cross_entropy_forward, _cross_entropy_backward)
register_effect(to_array, _to_array)
register_effect(huber_within, _within)
register_effect(_is_zero, _zero)
register_effect(_float_mask, _mask_weights)
register_effect(one_hot_targets, _sparse_targets)


def _loop_label_dtypes() -> set:
    """The label dtypes the kernels read (those the emitter names): ``sparse_targets`` sends them to
    ``one_hot_targets``, the others to its Python twin (a rule could not even read them)."""
    kinds = (np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.float32, np.float64)
    return {np.dtype(kind) for kind in kinds if _named(kind)}


def _named(dtype) -> bool:
    try:
        dtype_name(dtype)
    except NotLowerable:
        return False
    return True


crossentropy.LOOP_LABEL_DTYPES.update(_loop_label_dtypes())
