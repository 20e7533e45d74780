"""Metrics (Keras names), computed on numpy arrays and averaged over samples across batches."""

from __future__ import annotations

import numpy as np


def _labels(y_true: np.ndarray) -> np.ndarray:
    return y_true.reshape(y_true.shape[0], -1)[:, 0] if y_true.ndim > 1 else y_true


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    y_true = np.asarray(y_true).reshape(np.shape(y_pred)) if np.size(y_true) == np.size(y_pred) else y_true
    return np.mean((np.asarray(y_pred) > threshold) == (np.asarray(y_true) > 0.5), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    return (_labels(np.asarray(y_true)).astype(np.int64) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def _same_rank(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    return y_true[..., None] if y_true.ndim == np.ndim(y_pred) - 1 else y_true


def mean_squared_error(y_true, y_pred):
    return np.mean((np.asarray(y_pred, dtype=np.float64) - _same_rank(y_true, y_pred)) ** 2, axis=-1)


def mean_absolute_error(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_pred, dtype=np.float64) - _same_rank(y_true, y_pred)), axis=-1)


_BY_NAME = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}


def resolve(name, loss_name: str, output_units: int):
    """The metric function for ``name``; 'accuracy' is resolved from the loss as Keras does."""
    if callable(name):
        return getattr(name, "__name__", "metric"), name
    if name in ("accuracy", "acc"):
        if loss_name == "sparse_categorical_crossentropy":
            return name, sparse_categorical_accuracy
        if loss_name == "binary_crossentropy" or output_units == 1:
            return name, binary_accuracy
        return name, categorical_accuracy
    if name in _BY_NAME:
        return name, _BY_NAME[name]
    raise ValueError(f"unknown metric {name!r}; expected 'accuracy' or one of {sorted(_BY_NAME)}")


class Mean:
    """Running mean of per-sample values (what Keras reports for a metric over an epoch)."""

    def __init__(self):
        self.total = 0.0
        self.count = 0

    def update(self, values, count: int | None = None) -> None:
        values = np.asarray(values, dtype=np.float64)
        if count is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            self.total += float(values) * count
            self.count += count

    def result(self) -> float:
        return self.total / self.count if self.count else float("nan")
