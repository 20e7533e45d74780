"""Keras' cross-entropies as functions (one value per sample) and the logits rule.

Probabilities are clipped to [1e-7, 1 - 1e-7] (Keras' ``backend.epsilon()``); the categorical
forms first renormalise along ``axis``. **Logits rule** (Keras 3 marks a softmax/sigmoid
output with ``output._keras_logits``): when ``y_pred`` carries logits, the loss is computed
from them in stable form (log_softmax; softplus(x) - x y), whether or not a graph is being
recorded, so a saturated probability gives the same value with and without a graph.
"""

from __future__ import annotations

import warnings

import numpy as np

import autograd_mini as am

from .functions import as_dtype, targets
from .loss import EPSILON, to_array, to_pred


def logits_of(y_pred, from_logits: bool, fn_name: str):
    """(tensor, from_logits): the ``_keras_logits`` of a marked softmax/sigmoid output replace
    it (with a warning when ``from_logits=True`` was claimed, as Keras does)."""
    marked = getattr(y_pred, "_keras_logits", None)
    if marked is None:
        return y_pred, from_logits
    if from_logits:
        warnings.warn(
            f"`{fn_name}` received `from_logits=True`, but the `output` argument was produced by a "
            "softmax/sigmoid activation and thus does not represent logits. Was this intended?",
            stacklevel=3,
        )
    return marked, True


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def smooth_categorical(y_true: np.ndarray, label_smoothing: float, axis: int = -1) -> np.ndarray:
    """y (1 - ls) + ls / num_classes (Keras' label smoothing for categorical targets)."""
    if not label_smoothing:
        return y_true
    return _smoothed(y_true, label_smoothing, label_smoothing / y_true.shape[axis])


@am.replayable  # a captured step (jit_compile) smooths each batch's targets again on replay
def _smoothed(y_true: np.ndarray, label_smoothing: float, shift: float) -> np.ndarray:
    """y (1 - ls) + shift, in y's dtype (label smoothing: shift ls / num_classes, or ls / 2 for binary)."""
    return (y_true * (1.0 - label_smoothing) + shift).astype(y_true.dtype)


def categorical_log_probs(y_pred, from_logits: bool, axis: int):
    """log p along ``axis``: log_softmax of logits, else log(clip(p / sum p, 1e-7, 1 - 1e-7))."""
    if from_logits:
        return am.log_softmax(y_pred, axis)
    p = y_pred / y_pred.sum(axis=axis, keepdims=True)
    return am.log(am.clip(p, EPSILON, 1.0 - EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log p) along ``axis``; targets one-hot (or any distribution) shaped like y_pred."""
    _check_axis(axis)
    y_pred, from_logits = logits_of(to_pred(y_pred), from_logits, "categorical_crossentropy")
    y_true = to_array(y_true, y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={y_true.shape}, output.shape={y_pred.shape} (integer labels: use "
            "sparse_categorical_crossentropy)"
        )
    if y_pred.ndim < 1:
        raise ValueError(f"categorical_crossentropy: y_pred must be at least rank 1, got shape {y_pred.shape}")
    y_true = smooth_categorical(y_true, label_smoothing, axis)
    return -(categorical_log_probs(y_pred, from_logits, axis) * y_true).sum(axis=axis)


def sparse_targets(y_true, y_pred_shape, dtype, ignore_class=None, axis=-1):
    """(one-hot targets shaped like y_pred, valid mask or None) from integer labels, after
    Keras' squeeze of a trailing 1; labels equal to ``ignore_class`` get an all-zero row.

    Recomputed from the labels on every replay of a captured step (``@am.replayable``): labels of
    a dtype the compiled kernels read (``LOOP_LABEL_DTYPES``, filled by ``nn.lowering_rules``)
    go through ``one_hot_targets``, which has a loop form (``jit_compile=True``: the step stays
    one kernel); others (uint8) through ``_one_hot_targets_python``, the same Python without
    one, which a kernel runs as Python between two of its parts."""
    labels_dtype = getattr(y_true.data if isinstance(y_true, am.Tensor) else y_true, "dtype", None)
    replayable = one_hot_targets if labels_dtype in LOOP_LABEL_DTYPES else _one_hot_targets_python
    return replayable(y_true, y_pred_shape, dtype, ignore_class, axis)


LOOP_LABEL_DTYPES: set = set()  # label dtypes with a loop form of ``one_hot_targets`` (nn.lowering_rules)


def _one_hot(y_true, y_pred_shape, dtype, ignore_class=None, axis=-1):
    """``sparse_targets``' work (see there); raises ValueError for labels of the wrong shape,
    fractional or out of range, naming what was expected and given."""
    labels = to_array(y_true)
    ndim = len(y_pred_shape)
    if labels.ndim == ndim and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis=axis)
    if ndim < 1:
        raise ValueError(f"sparse_categorical_crossentropy: y_pred must be at least rank 1, got shape {y_pred_shape}")
    class_axis = axis % ndim
    expected = tuple(d for i, d in enumerate(y_pred_shape) if i != class_axis)
    if labels.shape != expected:
        raise ValueError(
            "sparse_categorical_crossentropy: y_true (integer labels) must have the shape of y_pred "
            f"without its class axis: expected {expected}, got y_true of shape {labels.shape} for "
            f"y_pred of shape {tuple(y_pred_shape)}"
        )
    classes = y_pred_shape[class_axis]
    if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
        raise ValueError("sparse_categorical_crossentropy: y_true must hold integer class labels, got fractions")
    labels = labels.astype(np.int64, copy=False)
    mask = None
    if ignore_class is not None:
        mask = labels != ignore_class
        labels = np.where(mask, labels, 0)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"sparse_categorical_crossentropy: labels must be in [0, {classes}) for y_pred with {classes} "
            f"classes, got values in [{labels.min()}, {labels.max()}]"
        )
    one_hot = np.zeros((labels.size, classes), dtype=dtype)
    one_hot[np.arange(labels.size), labels.reshape(-1)] = 1
    if mask is not None:
        one_hot[~mask.reshape(-1)] = 0
    one_hot = one_hot.reshape(labels.shape + (classes,))
    if class_axis != ndim - 1:
        one_hot = np.moveaxis(one_hot, -1, class_axis)
    return one_hot, mask


@am.replayable  # (a captured step records which of the two ran: only this one has a loop form)
def one_hot_targets(y_true, y_pred_shape, dtype, ignore_class=None, axis=-1):
    """``sparse_targets`` of labels that a compiled kernel reads (see ``nn.lowering_rules``)."""
    return _one_hot(y_true, y_pred_shape, dtype, ignore_class, axis)


@am.replayable
def _one_hot_targets_python(y_true, y_pred_shape, dtype, ignore_class=None, axis=-1):
    """``sparse_targets`` of labels of another dtype: Python on every replay."""
    return _one_hot(y_true, y_pred_shape, dtype, ignore_class, axis)


def sparse_crossentropy_with_mask(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """(per-sample -log p[label], valid mask or None); ignored labels give 0 and a False mask."""
    _check_axis(axis)
    y_pred, from_logits = logits_of(to_pred(y_pred), from_logits, "sparse_categorical_crossentropy")
    one_hot, mask = sparse_targets(y_true, y_pred.shape, y_pred.dtype, ignore_class, axis)
    values = -(categorical_log_probs(y_pred, from_logits, axis) * one_hot).sum(axis=axis)
    return values, mask


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label] per sample, labels integers (shape of y_pred without the class axis, or a
    trailing 1); with ``ignore_class`` those samples give 0."""
    return sparse_crossentropy_with_mask(y_true, y_pred, from_logits, ignore_class, axis)[0]


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over ``axis`` of -(y log p + (1 - y) log(1 - p)), p clipped to [1e-7, 1 - 1e-7];
    from logits x: softplus(x) - x y (stable for any x). Smoothing: y (1 - ls) + ls / 2."""
    y_pred, from_logits = logits_of(to_pred(y_pred), from_logits, "binary_crossentropy")
    y_true = to_array(y_true, y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={y_true.shape}, output.shape={y_pred.shape}"
        )
    if label_smoothing:
        y_true = _smoothed(y_true, label_smoothing, 0.5 * label_smoothing)
    return _binary_elementwise(y_true, y_pred, from_logits).mean(axis=axis)


def _binary_elementwise(y_true, y_pred, from_logits, one_minus_y=None):
    """softplus(x) - x y from logits, else -(y log p + (1 - y) log(1 - p)), p clipped; 1 - y
    (``one_minus_y`` when the caller has it) with an op, so a captured step computes it per batch."""
    if from_logits:
        return am.softplus(y_pred) - y_pred * y_true
    if one_minus_y is None:
        one_minus_y = 1.0 - targets(y_true)[1]
    p = am.clip(y_pred, EPSILON, 1.0 - EPSILON)
    return -(am.log(p) * y_true + am.log(1.0 - p) * one_minus_y)


def binary_focal_crossentropy(
    y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """mean over ``axis`` of (1 - p_t)^gamma * bce, p_t = y p + (1 - y)(1 - p); with class
    balancing times y alpha + (1 - y)(1 - alpha) (Keras' focal loss, probabilities clipped in bce)."""
    y_pred = to_pred(y_pred)
    y_true = to_array(y_true, y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"binary_focal_crossentropy: y_true of shape {y_true.shape} != y_pred of shape {y_pred.shape}")
    if label_smoothing:
        y_true = _smoothed(y_true, label_smoothing, 0.5 * label_smoothing)
    if from_logits:
        y_pred = am.sigmoid(y_pred)
    y = targets(y_true)[1]  # (a captured step computes these from each batch's targets)
    one_minus_y = 1.0 - y
    bce = _binary_elementwise(y_true, y_pred, False, one_minus_y)
    p_t = y_pred * y_true + (1.0 - y_pred) * one_minus_y
    focal = (1.0 - p_t) ** float(gamma) * bce
    if apply_class_balancing:
        focal = focal * as_dtype(y * alpha + one_minus_y * (1.0 - alpha), y_pred.dtype)
    return focal.mean(axis=axis)


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """sum over ``axis`` of alpha (1 - p)^gamma * (-y log p), p = clip(renormalised softmax/probabilities)."""
    _check_axis(axis)
    y_pred = to_pred(y_pred)
    y_true = to_array(y_true, y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"categorical_focal_crossentropy: y_true of shape {y_true.shape} != y_pred of shape {y_pred.shape}"
        )
    y_true = smooth_categorical(y_true, label_smoothing, axis)
    if from_logits:
        y_pred = am.softmax(y_pred, axis)
    p = am.clip(y_pred / y_pred.sum(axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    cce = -am.log(p) * y_true
    return ((1.0 - p) ** float(gamma) * cce * float(alpha)).sum(axis=axis)
