"""The losses' rows of nn's op table (``nn_op_table.py``): each reduced loss as a function
of y_pred (y_true, sample weights and options are constants), value against a numpy
reference and 1st/2nd-order gradients against finite differences."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from op_harness import MAX_SIDE, Op

import nn
from autograd_mini.testing import arrays, shapes


def _draw_sparse_ce(data):
    """logits (n, k), integer labels (one maybe ignored), positive sample weights, a reduction."""
    n, k = data.draw(st.integers(1, MAX_SIDE)), data.draw(st.integers(2, MAX_SIDE))
    labels = np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    options = {
        "labels": labels,
        "sample_weight": data.draw(arrays((n,), low=0.1, high=2.0)),
        "ignore_class": data.draw(st.sampled_from([None, 0])),
        "reduction": data.draw(st.sampled_from(["sum_over_batch_size", "sum", "mean_with_sample_weight"])),
    }
    assume(options["ignore_class"] is None or np.any(labels != 0))
    return [data.draw(arrays((n, k)))], options


def _sparse_ce(logits, labels, sample_weight, ignore_class, reduction):
    loss = nn.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=ignore_class, reduction=reduction)
    return loss(labels, logits, sample_weight=sample_weight)


def _sparse_ce_ref(z, labels, sample_weight, ignore_class, reduction):
    log_p = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    values = -log_p[np.arange(len(labels)), labels]
    valid = np.ones(len(labels), bool) if ignore_class is None else labels != ignore_class
    w = sample_weight * (
        np.where(valid, len(labels) / valid.sum(), 0.0)
        if reduction != "sum" and reduction != "mean_with_sample_weight"
        else valid
    )
    total = np.sum(values * w)
    return np.asarray({"sum": total, "sum_over_batch_size": total / len(labels)}.get(reduction, total / np.sum(w)))


def _draw_binary_ce(data):
    """logits and 0/1 targets of one shape, label smoothing, a per-sample weight."""
    shape = data.draw(shapes(min_dims=2, max_dims=2, max_side=MAX_SIDE))
    targets = (data.draw(arrays(shape)) > 0).astype(float)
    return [data.draw(arrays(shape))], {
        "targets": targets,
        "label_smoothing": data.draw(st.sampled_from([0.0, 0.2])),
        "sample_weight": data.draw(arrays(shape[:1], low=0.1, high=2.0)),
    }


def _binary_ce(logits, targets, label_smoothing, sample_weight):
    loss = nn.losses.BinaryCrossentropy(from_logits=True, label_smoothing=label_smoothing)
    return loss(targets, logits, sample_weight=sample_weight)


def _binary_ce_ref(z, targets, label_smoothing, sample_weight):
    y = targets * (1 - label_smoothing) + 0.5 * label_smoothing
    per = np.logaddexp(0, z) - z * y
    return np.asarray(np.mean(per.mean(axis=-1) * sample_weight))


def _draw_regression(data):
    """predictions and targets of one shape (errors kept off Huber's kink at |e| = delta)."""
    shape = data.draw(shapes(min_dims=2, max_dims=2, max_side=MAX_SIDE))
    pred, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    assume(np.all(np.abs(np.abs(pred - target) - 0.5) > 1e-3))
    return [pred], {"targets": target}


def _huber_plus_log_cosh(pred, targets):
    return nn.losses.Huber(delta=0.5)(targets, pred) + nn.losses.LogCosh()(targets, pred)


def _huber_plus_log_cosh_ref(pred, targets):
    e = pred - targets
    huber = np.where(np.abs(e) <= 0.5, 0.5 * e**2, 0.5 * np.abs(e) - 0.125).mean(axis=-1).mean()
    return np.asarray(huber + np.mean(np.mean(np.log(np.cosh(e)), axis=-1)))


def _draw_overlap(data):
    """probabilities in (0.05, 0.95) and 0/1 targets of one 2-d shape; Tversky's alpha, beta; an axis."""
    shape = data.draw(shapes(min_dims=2, max_dims=2, max_side=MAX_SIDE))
    targets = (data.draw(arrays(shape)) > 0).astype(float)
    return [data.draw(arrays(shape, low=0.05, high=0.95))], {
        "targets": targets,
        "alpha": data.draw(st.sampled_from([0.5, 0.3])),
        "axis": data.draw(st.sampled_from([None, -1])),
    }


def _dice_plus_tversky(pred, targets, alpha, axis):
    return nn.losses.Dice(axis=axis)(targets, pred) + nn.losses.Tversky(alpha=alpha, beta=1 - alpha, axis=axis)(
        targets, pred
    )


def _dice_plus_tversky_ref(p, targets, alpha, axis):
    y = targets
    tp = np.sum(y * p, axis=axis)
    dice = 1 - 2 * tp / (np.sum(y, axis=axis) + np.sum(p, axis=axis) + 1e-7)
    fp, fn = np.sum((1 - p) * y, axis=axis), np.sum(p * (1 - y), axis=axis)
    tversky = 1 - tp / (tp + alpha * fp + (1 - alpha) * fn + 1e-7)
    return np.asarray(np.mean(dice) + np.mean(tversky))


def _draw_gce(data):
    """positive scores (n, k) normalised to probabilities, integer labels, q."""
    n, k = data.draw(st.integers(1, MAX_SIDE)), data.draw(st.integers(2, MAX_SIDE))
    labels = np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return [data.draw(arrays((n, k), low=0.1, high=1.0))], {
        "labels": labels,
        "q": data.draw(st.sampled_from([0.5, 0.7])),
    }


def _gce(scores, labels, q):
    return nn.losses.CategoricalGeneralizedCrossEntropy(q=q)(labels, scores / scores.sum(axis=-1, keepdims=True))


def _gce_ref(scores, labels, q):
    p = (scores / scores.sum(axis=-1, keepdims=True))[np.arange(len(labels)), labels]
    return np.asarray(np.mean((1 - p**q) / q))


LOSS_OPS = [
    Op("nn.losses.sparse_categorical_crossentropy", _sparse_ce, _sparse_ce_ref, _draw_sparse_ce, covers=()),
    Op("nn.losses.binary_crossentropy", _binary_ce, _binary_ce_ref, _draw_binary_ce, covers=()),
    Op("nn.losses.huber+log_cosh", _huber_plus_log_cosh, _huber_plus_log_cosh_ref, _draw_regression, covers=()),
    Op("nn.losses.dice+tversky", _dice_plus_tversky, _dice_plus_tversky_ref, _draw_overlap, covers=()),
    Op("nn.losses.categorical_generalized_cross_entropy", _gce, _gce_ref, _draw_gce, covers=()),
]
