"""Keras' regression, hinge and probabilistic losses as functions: one value per sample.

Each takes ``y_true`` (constant: array or Tensor) and ``y_pred`` (array or Tensor; the
gradient flows to it) and returns a Tensor in ``y_pred``'s float dtype, reduced over the last
axis as Keras' function of the same name (``keras/src/losses/losses.py``).

Values computed from ``y_true`` (a scale, a log, a normalisation, hinge's -1/1 labels) are
formulas over a namespace ``m`` given by ``targets(y_true)``: numpy on the array in an eager
call (no op, no Tensor), and autograd_mini's ops on a constant Tensor while ``am.compile``
records a step (``jit_compile``), so the step records them and a replay or a loop kernel
computes them from each batch's targets (numpy there would be frozen as the first batch's
constants, which the capture refuses). The ops run the same numpy functions: the same bits.
"""

from __future__ import annotations

import math

import numpy as np

import autograd_mini as am
from autograd_mini.grad_mode import state as _grad_state

from .loss import EPSILON, _is_zero, squeeze_or_expand_to_same_rank, to_array, to_pred


def targets(y_true: np.ndarray) -> tuple:
    """(m, y) to compute values from the targets ``y_true`` (an array) with: (numpy, the array) in
    an eager call, today's cost; (autograd_mini, a constant Tensor around it) while ``am.compile``
    records a step, whose ops the step records and recomputes from each batch's targets."""
    if _grad_state.tracer is None:
        return np, y_true
    return am, am.as_tensor(y_true)


def as_dtype(x, dtype):
    """``x`` (an array or a Tensor from ``targets``' namespace) in ``dtype``."""
    if x.dtype == dtype:
        return x
    return am.cast(x, dtype) if isinstance(x, am.Tensor) else x.astype(dtype)


def pair(y_true, y_pred, match_rank: bool = True):
    """(y_true as a numpy array in y_pred's dtype, y_pred as a Tensor), rank-matched as Keras."""
    y_pred = to_pred(y_pred)
    y_true = to_array(y_true, y_pred.dtype)
    if match_rank:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)^2) over the last axis; d/dy_pred = 2 (y_pred - y_true) / n."""
    y_true, y_pred = pair(y_true, y_pred)
    diff = y_pred - y_true
    return (diff * diff).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis."""
    y_true, y_pred = pair(y_true, y_pred)
    return am.abs(y_pred - y_true).mean(axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis."""
    y_true, y_pred = pair(y_true, y_pred)
    m, y = targets(y_true)
    scale = 1.0 / m.maximum(m.abs(y), EPSILON)
    return (am.abs(y_pred - y_true) * scale).mean(axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2) over the last axis."""
    y_true, y_pred = pair(y_true, y_pred)
    m, y = targets(y_true)
    second = m.log(m.maximum(y, EPSILON) + 1.0)
    diff = am.log(am.maximum(y_pred, EPSILON) + 1.0) - second
    return (diff * diff).mean(axis=-1)


def _l2_normalize(x, axis, m=am):
    """x / max(||x||, 1e-7) along ``axis`` (Keras' normalize, order 2), with the namespace ``m``."""
    return x / m.sqrt(m.maximum((x * x).sum(axis=axis, keepdims=True), EPSILON**2))


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) along ``axis`` (the negated cosine)."""
    y_true, y_pred = pair(y_true, y_pred)
    m, y = targets(y_true)
    return -(_l2_normalize(y_pred, axis) * _l2_normalize(y, axis, m)).sum(axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2 (e = y_pred - y_true)."""
    y_true, y_pred = pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = am.abs(error)
    quadratic = error * error * 0.5
    linear = abs_error * float(delta) - 0.5 * float(delta) ** 2
    return am.where(_within(abs_error, delta), quadratic, linear).mean(axis=-1)


@am.replayable  # a captured step (jit_compile) compares each batch's errors again on replay
def _within(abs_error, delta) -> np.ndarray:
    """|e| <= delta, elementwise (a constant of the gradient graph)."""
    return (abs_error.data if isinstance(abs_error, am.Tensor) else np.asarray(abs_error)) <= delta


def log_cosh(y_true, y_pred):
    """mean(log(cosh(e))) over the last axis, computed as e + softplus(-2e) - log 2 (stable)."""
    y_true, y_pred = pair(y_true, y_pred)
    error = y_pred - y_true
    return (error + am.softplus(error * -2.0) - math.log(2.0)).mean(axis=-1)


def _hinge_labels(y_true: np.ndarray):
    """Keras' rule (``convert_binary_labels_to_hinge``), per batch: labels that are all 0 or 1
    become -1 / 1; others are kept. All are 0 or 1 exactly when sum(|y (y - 1)|) == 0 (a sum of
    non-negative terms, each 0 only for y = 0 or 1; NaN and inf are not), a test with ops."""
    m, y = targets(y_true)
    binary = _is_zero(m.abs(y * (y - 1.0)).sum())
    return m.where(binary, y * 2.0 - 1.0, y)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis (0/1 labels mapped to -1/1)."""
    y_true, y_pred = pair(y_true, y_pred, match_rank=False)
    return am.relu(1.0 - y_pred * _hinge_labels(y_true)).mean(axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)^2) over the last axis (0/1 labels mapped to -1/1)."""
    y_true, y_pred = pair(y_true, y_pred, match_rank=False)
    margin = am.relu(1.0 - y_pred * _hinge_labels(y_true))
    return (margin * margin).mean(axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) over the last axis."""
    y_true, y_pred = pair(y_true, y_pred, match_rank=False)
    pos = (y_pred * y_true).sum(axis=-1)
    neg = (y_pred * (1.0 - targets(y_true)[1])).max(axis=-1)
    return am.relu(neg - pos + 1.0)


def kl_divergence(y_true, y_pred):
    """sum(y log(y / p)) over the last axis, with y and p clipped to [1e-7, 1]."""
    y_true, y_pred = pair(y_true, y_pred, match_rank=False)
    m, y = targets(y_true)
    y = m.minimum(m.maximum(y, EPSILON), 1.0)  # (np.clip's values)
    return (-(am.log(am.clip(y_pred, EPSILON, 1.0)) - m.log(y)) * y).sum(axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis."""
    y_true, y_pred = pair(y_true, y_pred, match_rank=False)
    return (y_pred - am.log(y_pred + EPSILON) * y_true).mean(axis=-1)
