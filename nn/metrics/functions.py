"""Keras' metric functions in numpy: one value per sample (``keras/src/metrics/*.py``).

The accuracies compare labels; the loss-valued metrics reuse ``nn.losses``' functions with no
graph recorded (so the numbers are the losses' numbers).
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from .. import losses as L
from ..losses.loss import squeeze_or_expand_to_same_rank
from .metric import as_array


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred (after rank matching), else 0.0."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(as_array(y_true), as_array(y_pred))
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where y_true == (y_pred > threshold), elementwise; only predictions are thresholded."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(as_array(y_true), as_array(y_pred))
    return (y_true == (y_pred > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_true) == argmax(y_pred) along the last axis."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    labels = np.argmax(y_true, axis=-1)
    original = labels.shape
    reshape = labels.ndim == y_pred.ndim
    if reshape:
        labels = np.squeeze(labels, -1)
    matches = (labels == np.argmax(y_pred, axis=-1)).astype(np.float64)
    return matches.reshape(original) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals argmax(y_pred) (labels (n,) or (n, 1))."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    original = y_true.shape
    reshape = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if reshape:
        y_true = np.squeeze(y_true, -1)
    matches = (y_true == np.argmax(y_pred, axis=-1)).astype(np.float64)
    if reshape:
        matches = matches.reshape(original)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = np.squeeze(matches, -1)
    return matches


def _in_top_k(labels: np.ndarray, predictions: np.ndarray, k: int) -> np.ndarray:
    """True where the label's score has fewer than k scores strictly above it (Keras' in_top_k)."""
    at_label = np.take_along_axis(predictions, labels[:, None].astype(np.int64), axis=-1)
    at_label = np.where(np.isnan(at_label), -np.inf, at_label)
    return 1 + np.sum(predictions > at_label, axis=-1) <= k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where argmax(y_true) is among the k highest predictions."""
    y_pred = as_array(y_pred)
    labels = np.argmax(as_array(y_true), axis=-1)
    original = labels.shape
    matches = _in_top_k(labels.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k).astype(np.float64)
    return matches.reshape(original)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k highest predictions (or, with
    ``from_sorted_ids``, among the first k ids of y_pred)."""
    y_pred = as_array(y_pred)
    labels = as_array(y_true)
    original = labels.shape
    flat_pred = y_pred.reshape(-1, y_pred.shape[-1])
    labels = labels.reshape(-1)
    if from_sorted_ids:
        matches = np.any(labels[:, None] == flat_pred[:, :k], axis=1)
    else:
        matches = _in_top_k(labels, flat_pred, k)
    return matches.astype(np.float64).reshape(original)


def _no_graph(loss_fn):
    """A metric function from an ``nn.losses`` function: float64, no graph, numpy out."""

    def metric_fn(y_true, y_pred, **kwargs):
        with am.no_grad():
            pred = y_pred if isinstance(y_pred, am.Tensor) else as_array(y_pred)
            return loss_fn(as_array(y_true), pred, **kwargs).data

    metric_fn.__name__ = loss_fn.__name__
    metric_fn.__doc__ = f"The per-sample ``nn.losses.{loss_fn.__name__}`` as numpy (no graph)."
    return metric_fn


mean_squared_error = _no_graph(L.mean_squared_error)
mean_absolute_error = _no_graph(L.mean_absolute_error)
mean_absolute_percentage_error = _no_graph(L.mean_absolute_percentage_error)
mean_squared_logarithmic_error = _no_graph(L.mean_squared_logarithmic_error)
log_cosh = _no_graph(L.log_cosh)
hinge = _no_graph(L.hinge)
squared_hinge = _no_graph(L.squared_hinge)
categorical_hinge = _no_graph(L.categorical_hinge)
kl_divergence = _no_graph(L.kl_divergence)
poisson = _no_graph(L.poisson)
huber = _no_graph(L.huber)
binary_crossentropy = _no_graph(L.binary_crossentropy)
binary_focal_crossentropy = _no_graph(L.binary_focal_crossentropy)
categorical_crossentropy = _no_graph(L.categorical_crossentropy)
categorical_focal_crossentropy = _no_graph(L.categorical_focal_crossentropy)
sparse_categorical_crossentropy = _no_graph(L.sparse_categorical_crossentropy)
_negative_cosine = _no_graph(L.cosine_similarity)


def cosine_similarity(y_true, y_pred, axis=-1):
    """cos(y_true, y_pred) along ``axis`` (the metric's sign: +1 is perfect agreement)."""
    return -_negative_cosine(y_true, y_pred, axis=axis)
