"""Keras' regression, hinge and probabilistic losses as functions: one value per sample.

Each takes ``y_true`` (constant: array or Tensor) and ``y_pred`` (array or Tensor; the
gradient flows to it) and returns a Tensor in ``y_pred``'s float dtype, reduced over the last
axis as Keras' function of the same name (``keras/src/losses/losses.py``).

Values computed from ``y_true`` (a scale, a log, a normalisation, hinge's -1/1 labels) are
computed with ops on ``target(y_true)``, never with numpy: a captured step (``jit_compile``)
records them and computes them again from each batch's targets (numpy on the targets would
be frozen as the first batch's constants, which the capture refuses), and the loop kernels
compile them with the rest of the step. The ops compute what the numpy did, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

import autograd_mini as am

from .loss import EPSILON, _is_zero, squeeze_or_expand_to_same_rank, to_array, to_pred


def target(y_true: np.ndarray) -> am.Tensor:
    """``y_true`` (an array of the step) as a constant Tensor, so that ops on it are recorded."""
    return am.as_tensor(y_true)


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
    scale = 1.0 / am.maximum(am.abs(target(y_true)), EPSILON)
    return (am.abs(y_pred - y_true) * scale).mean(axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2) over the last axis."""
    y_true, y_pred = pair(y_true, y_pred)
    second = am.log(am.maximum(target(y_true), EPSILON) + 1.0)
    diff = am.log(am.maximum(y_pred, EPSILON) + 1.0) - second
    return (diff * diff).mean(axis=-1)


def _l2_normalize(x: am.Tensor, axis) -> am.Tensor:
    """x / max(||x||, 1e-7) along ``axis`` (Keras' normalize, order 2)."""
    return x / am.sqrt(am.maximum((x * x).sum(axis=axis, keepdims=True), EPSILON**2))


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) along ``axis`` (the negated cosine)."""
    y_true, y_pred = pair(y_true, y_pred)
    return -(_l2_normalize(y_pred, axis) * _l2_normalize(target(y_true), axis)).sum(axis=axis)


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


def _hinge_labels(y_true: np.ndarray) -> am.Tensor:
    """Keras' rule (``convert_binary_labels_to_hinge``), per batch: labels that are all 0 or 1
    become -1 / 1; others are kept. All are 0 or 1 exactly when sum(|y (y - 1)|) == 0 (a sum of
    non-negative terms, each 0 only for y = 0 or 1; NaN or inf labels are kept, as numpy's test)."""
    y = target(y_true)
    binary = _is_zero(am.abs(y * (y - 1.0)).sum())
    return am.where(binary, y * 2.0 - 1.0, y)


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
    neg = (y_pred * (1.0 - target(y_true))).max(axis=-1)
    return am.relu(neg - pos + 1.0)


def kl_divergence(y_true, y_pred):
    """sum(y log(y / p)) over the last axis, with y and p clipped to [1e-7, 1]."""
    y_true, y_pred = pair(y_true, y_pred, match_rank=False)
    y = am.minimum(am.maximum(target(y_true), EPSILON), 1.0)  # (np.clip's values; no gradient to keep)
    return (-(am.log(am.clip(y_pred, EPSILON, 1.0)) - am.log(y)) * y).sum(axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis."""
    y_true, y_pred = pair(y_true, y_pred, match_rank=False)
    return (y_pred - am.log(y_pred + EPSILON) * y_true).mean(axis=-1)
