"""Keras 3's overlap, metric-learning and noise-robust losses: ``dice``, ``tversky``,
``circle``, ``categorical_generalized_cross_entropy`` (functions and classes), composed from
core ops (so differentiable at every order). Formulas from ``keras/src/losses/losses.py``.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from .loss import EPSILON, Loss, LossFunctionWrapper, to_array


def _pred(y_pred):
    return y_pred if isinstance(y_pred, am.Tensor) else am.as_tensor(np.asarray(y_pred, dtype=np.float32))


def dice(y_true, y_pred, axis=None):
    """1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + eps), summed over ``axis`` (None: all)."""
    y_pred = _pred(y_pred)
    y_true = am.as_tensor(to_array(y_true, y_pred.dtype))
    intersection = am.sum(y_true * y_pred, axis=axis)
    return 1.0 - (2.0 * intersection) / (am.sum(y_true, axis=axis) + am.sum(y_pred, axis=axis) + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha FP + beta FN + eps), with TP = sum(y p), FP = sum((1 - p) y),
    FN = sum(p (1 - y)) (Keras' naming) over ``axis``; alpha = beta = 0.5 is ``dice``."""
    y_pred = _pred(y_pred)
    y_true = am.as_tensor(to_array(y_true, y_pred.dtype))
    intersection = am.sum(y_true * y_pred, axis=axis)
    fp = am.sum((1.0 - y_pred) * y_true, axis=axis)
    fn = am.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - intersection / (intersection + fp * alpha + fn * beta + EPSILON)


def _masked_logsumexp(values, mask: np.ndarray):
    """log(sum over the row's masked entries of exp(values)); -inf for a row without any."""
    any_row = mask.any(axis=1)
    shift = am.max(
        am.where(mask, values, am.as_tensor(np.full((), -1e30, values.dtype))), axis=1, keepdims=True
    ).detach()
    total = am.sum(am.exp(values - shift) * am.as_tensor(mask.astype(values.dtype)), axis=1)
    safe = am.where(any_row, total, am.as_tensor(np.ones((), values.dtype)))
    out = am.log(safe) + am.reshape(shift, (-1,))
    return am.where(any_row, out, am.as_tensor(np.full((), -np.inf, values.dtype)))


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss per sample: softplus(lse_pos + lse_neg) over the pairwise cosine distances
    d = max(1 - y_pred ref^T, 0) (embeddings L2-normalised by the caller), with positive
    weights max(margin + d, 0), negative weights max(1 + margin - d, 0), as Keras."""
    y_pred = _pred(y_pred)
    labels = np.asarray(y_true.data if isinstance(y_true, am.Tensor) else y_true).astype(np.int64).reshape(-1)
    ref = y_pred if ref_embeddings is None else _pred(ref_embeddings)
    ref_labels = labels if ref_labels is None else np.asarray(ref_labels).astype(np.int64).reshape(-1)
    distances = am.maximum(1.0 - am.matmul(y_pred, am.transpose(ref)), 0.0)
    positive = labels[:, None] == ref_labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~np.eye(len(labels), len(ref_labels), dtype=bool)
    dtype = distances.dtype
    pos_weights = am.maximum((margin + distances) * am.as_tensor(positive.astype(dtype)), 0.0)
    neg_weights = am.maximum(((1.0 + margin) - distances) * am.as_tensor(negative.astype(dtype)), 0.0)
    pos_wdists = -1.0 * gamma * pos_weights * (margin - distances)
    neg_wdists = gamma * neg_weights * ((1.0 - margin) - distances)
    return am.softplus(_masked_logsumexp(pos_wdists, positive) + _masked_logsumexp(neg_wdists, negative))


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p^q) / q per sample, p the predicted probability of the integer label (Zhang & Sabuncu)."""
    y_pred = _pred(y_pred)
    p = am.sum(y_pred * _one_hot(y_true, y_pred.shape[-1], y_pred.dtype), axis=-1)
    return (1.0 - p ** float(q)) / q  # (a Python exponent: the same bits, and a loop form)


@am.replayable  # a captured step (jit_compile) builds each batch's one-hot targets again on replay
def _one_hot(y_true, classes: int, dtype) -> np.ndarray:
    """The integer labels ``y_true`` as one-hot rows of ``classes`` in ``dtype``."""
    labels = np.asarray(y_true.data if isinstance(y_true, am.Tensor) else y_true).astype(np.int64)
    return (labels[..., None] == np.arange(classes)).astype(dtype)


class _Wrapper(LossFunctionWrapper):
    _KEYS: tuple = ()

    def call(self, y_true, y_pred):
        """The function on (y_true, y_pred) as given (no rank matching: these losses reduce themselves)."""
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        """Keras' config: name, reduction and the loss's own arguments."""
        return {**Loss.get_config(self), **{k: self._fn_kwargs[k] for k in self._KEYS}}

    @classmethod
    def from_config(cls, config):
        """``cls(**config)``."""
        return cls(**config)


class Dice(_Wrapper):
    """Keras' ``Dice``: ``dice`` over ``axis``, reduced."""

    _KEYS = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(_Wrapper):
    """Keras' ``Tversky``: ``tversky`` with alpha, beta over ``axis``, reduced."""

    _KEYS = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)


class Circle(_Wrapper):
    """Keras' ``Circle``: integer labels and L2-normalised embeddings. As Keras masks the
    samples whose loss is 0, the reduction averages over the samples with a positive loss."""

    _KEYS = ("gamma", "margin", "remove_diagonal")

    def __init__(
        self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle", dtype=None
    ):
        super().__init__(
            circle,
            reduction=reduction,
            name=name,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )

    def call(self, y_true, y_pred):
        """Per-sample circle loss; samples with loss 0 are left out of the mean (Keras' mask)."""
        values = circle(y_true, y_pred, **self._fn_kwargs)
        valid = values.data > 0
        if self.reduction == "sum_over_batch_size" and valid.any():
            scale = np.where(valid, len(valid) / valid.sum(), 0.0).astype(values.dtype)
            values = values * am.as_tensor(scale)
        return values


class CategoricalGeneralizedCrossEntropy(_Wrapper):
    """Keras' ``CategoricalGeneralizedCrossEntropy(q=0.5)``: integer labels, probabilities."""

    _KEYS = ("q",)

    def __init__(
        self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy", dtype=None
    ):
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q)
