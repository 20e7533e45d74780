"""Losses with Keras names and definitions; each returns the batch mean as a scalar Tensor.

Per sample, Keras averages over the last axis (MSE, MAE, binary CE) or sums over classes
(categorical CE), then averages over the batch. Probabilities are clipped to [1e-7, 1 - 1e-7]
as Keras does. When ``y_pred`` was produced by a softmax (sigmoid) op in a recorded graph, the
cross-entropy is computed from the logits in fused, stable form instead (as Keras does), so
the loss and its gradient stay finite even at logits of 1e4.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am
from autograd_mini.ops.activation import Sigmoid, Softmax

from .fused_cross_entropy import softmax_cross_entropy

EPSILON = 1e-7


def _as_pred(y_pred):
    return (
        y_pred
        if isinstance(y_pred, am.Tensor)
        else am.as_tensor(np.asarray(y_pred, dtype=np.float32) if not isinstance(y_pred, np.ndarray) else y_pred)
    )


def _as_true(y_true, dtype):
    data = y_true.data if isinstance(y_true, am.Tensor) else np.asarray(y_true)
    return data.astype(dtype, copy=False)


def _match_rank(y_true: np.ndarray, y_pred) -> np.ndarray:
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    if y_true.shape != y_pred.shape and not (
        y_true.ndim == y_pred.ndim and np.broadcast_shapes(y_true.shape, y_pred.shape) == y_pred.shape
    ):
        raise ValueError(f"loss: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
    return y_true


def _logits_of(y_pred, op_type):
    ctx = y_pred.grad_fn
    if (
        isinstance(ctx, op_type)
        and ctx.parents is not None
        and (op_type is not Softmax or ctx.axis in (-1, y_pred.ndim - 1))
    ):
        return ctx.parents[0]
    return None


class Loss:
    """Base class: ``loss(y_true, y_pred)`` -> scalar Tensor (the batch mean)."""

    name = "loss"

    def __call__(self, y_true, y_pred):
        y_pred = _as_pred(y_pred)
        return self.per_sample(y_true, y_pred).mean()

    def per_sample(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, **{k: v for k, v in vars(self).items()}}


class MeanSquaredError(Loss):
    """mean((y_true - y_pred)^2) over the last axis, then over the batch."""

    name = "mean_squared_error"

    def per_sample(self, y_true, y_pred):
        diff = y_pred - _match_rank(_as_true(y_true, y_pred.dtype), y_pred)
        return (diff * diff).mean(axis=-1) if y_pred.ndim else diff * diff


class MeanAbsoluteError(Loss):
    """mean(|y_true - y_pred|) over the last axis, then over the batch."""

    name = "mean_absolute_error"

    def per_sample(self, y_true, y_pred):
        diff = am.abs(y_pred - _match_rank(_as_true(y_true, y_pred.dtype), y_pred))
        return diff.mean(axis=-1) if y_pred.ndim else diff


class BinaryCrossentropy(Loss):
    """-(y log p + (1 - y) log(1 - p)), averaged over the last axis; from logits x:
    softplus(x) - x y (stable for any x)."""

    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False):
        self.from_logits = from_logits

    def per_sample(self, y_true, y_pred):
        y = _match_rank(_as_true(y_true, y_pred.dtype), y_pred)
        logits = y_pred if self.from_logits else _logits_of(y_pred, Sigmoid)
        if logits is not None:
            per_element = am.softplus(logits) - logits * y
        else:
            p = am.clip(y_pred, EPSILON, 1 - EPSILON)
            per_element = -(y * am.log(p) + (1 - y) * am.log(1 - p))
        return per_element.mean(axis=-1)


class CategoricalCrossentropy(Loss):
    """-sum(y log p) over classes (p normalized to sum 1, clipped); from logits: -sum(y log_softmax(x)).

    From logits (or a softmax output of a recorded graph) the batch mean is one fused node,
    ``nn.fused_cross_entropy.SoftmaxCrossEntropy``, with gradient (softmax(x) - y) / n."""

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False):
        self.from_logits = from_logits

    def __call__(self, y_true, y_pred):
        y_pred = _as_pred(y_pred)
        logits = y_pred if self.from_logits else _logits_of(y_pred, Softmax)
        if logits is None or logits.ndim == 0:
            return self.per_sample(y_true, y_pred).mean()
        return softmax_cross_entropy(logits, self._targets(y_true, y_pred))

    def per_sample(self, y_true, y_pred):
        return -(self._targets(y_true, y_pred) * self._log_probs(y_pred)).sum(axis=-1)

    def _targets(self, y_true, y_pred) -> np.ndarray:
        """y_true as an array shaped like y_pred (one-hot for the sparse loss), in its dtype."""
        y = _as_true(y_true, y_pred.dtype)
        if y.shape != y_pred.shape:
            raise ValueError(
                f"categorical_crossentropy: y_true of shape {y.shape} does not match y_pred of shape "
                f"{y_pred.shape} (one-hot targets expected; for integer labels use "
                f"sparse_categorical_crossentropy)"
            )
        return y

    def _log_probs(self, y_pred):
        logits = y_pred if self.from_logits else _logits_of(y_pred, Softmax)
        if logits is not None:
            return am.log_softmax(logits, -1)
        p = y_pred / y_pred.sum(axis=-1, keepdims=True)
        return am.log(am.clip(p, EPSILON, 1 - EPSILON))


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """-log p[label]: categorical cross-entropy with integer labels."""

    name = "sparse_categorical_crossentropy"

    def _targets(self, y_true, y_pred) -> np.ndarray:
        labels = _as_true(y_true, np.int64).reshape(-1)
        classes = y_pred.shape[-1]
        if labels.size != int(np.prod(y_pred.shape[:-1])):
            raise ValueError(
                f"sparse_categorical_crossentropy: {labels.size} labels for predictions of shape {y_pred.shape}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(
                f"sparse_categorical_crossentropy: labels must be in [0, {classes}) for an output of "
                f"{classes} units, got values in [{labels.min()}, {labels.max()}]"
            )
        one_hot = np.zeros((labels.size, classes), dtype=y_pred.dtype)
        one_hot[np.arange(labels.size), labels] = 1
        return one_hot.reshape(y_pred.shape)


_BY_NAME = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier) -> Loss:
    """A loss from a name ('mse', 'categorical_crossentropy', ...), an instance, or a callable."""
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, (str, type))):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"unknown loss {identifier!r}; expected one of {sorted(_BY_NAME)}")


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError()(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError()(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    return BinaryCrossentropy(from_logits)(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return CategoricalCrossentropy(from_logits)(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return SparseCategoricalCrossentropy(from_logits)(y_true, y_pred)


mse = mean_squared_error
mae = mean_absolute_error
