"""Metrics with their own state: F-beta / F1, R^2 and root mean squared error
(``keras/src/metrics/f_score_metrics.py``, ``regression_metrics.py``)."""

from __future__ import annotations

import warnings

import numpy as np

from ..losses.loss import EPSILON, squeeze_or_expand_to_same_rank
from .metric import Mean, Metric, as_array


class FBetaScore(Metric):
    """(1 + beta^2) P R / (beta^2 P + R) per class from thresholded predictions (``threshold``;
    None: the row's maximum is the positive class), averaged by ``average``
    (None: per class, 'micro', 'macro', 'weighted')."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', 'weighted'}. "
                f"Received: average={average}"
            )
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float > 0. Received: beta={beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or not 0.0 < threshold <= 1.0):
            raise ValueError(
                f"Invalid `threshold` argument value. It should be a Python float with 0 < threshold <= 1. "
                f"Received: threshold={threshold!r}"
            )
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's (weighted) true/false positives and false negatives per class."""
        y_true, y_pred = as_array(y_true), as_array(y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                f"y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}."
            )
        if self.threshold is None:
            y_pred = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(np.float64)
        w = None if sample_weight is None else as_array(sample_weight).reshape(-1)[:, None]

        def weighted_sum(v):
            return np.sum(v if w is None else v * w, axis=self.axis)

        stats = (y_pred * y_true, y_pred * (1 - y_true), (1 - y_pred) * y_true, y_true)
        if self.tp is None:
            self.tp = self.fp = self.fn = self.weights = 0.0
        self.tp, self.fp, self.fn, self.weights = (
            a + weighted_sum(s) for a, s in zip((self.tp, self.fp, self.fn, self.weights), stats)
        )

    def reset_state(self):
        """All counts back to 0."""
        self.tp = self.fp = self.fn = self.weights = None

    def result(self):
        """The F-beta score(s) (Keras adds 1e-7 to each denominator)."""
        if self.tp is None:
            return self._out(0.0)
        precision = self.tp / (self.tp + self.fp + EPSILON)
        recall = self.tp / (self.tp + self.fn + EPSILON)
        score = precision * recall / (self.beta**2 * precision + recall + EPSILON) * (1 + self.beta**2)
        if self.average == "weighted":
            score = np.sum(score * self.weights / (np.sum(self.weights) + EPSILON))
        elif self.average is not None:
            score = np.mean(score)
        return self._out(score)

    def get_config(self) -> dict:
        """name, dtype, average, beta, threshold."""
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        """name, dtype, average, threshold."""
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """Coefficient of determination 1 - SS_res / SS_tot per output, aggregated by
    ``class_aggregation`` ('uniform_average', 'variance_weighted_average' or None), adjusted
    for ``num_regressors`` when given."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        allowed = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in allowed:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {allowed}. "
                f"Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected >= 0. Received: {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's weighted sums per output."""
        y_true, y_pred = squeeze_or_expand_to_same_rank(as_array(y_true), as_array(y_pred))
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                f"y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}."
            )
        w = np.asarray(1.0) if sample_weight is None else as_array(sample_weight)
        if w.ndim == 1:
            w = w[:, None]
        w = np.broadcast_to(w, y_true.shape)
        if self.sum is None:
            self.sum = self.squared_sum = self.total_mse = self.count = np.zeros(y_true.shape[1])
        self.sum = self.sum + np.sum(y_true * w, axis=0)
        self.squared_sum = self.squared_sum + np.sum(y_true * y_true * w, axis=0)
        self.total_mse = self.total_mse + np.sum((y_true - y_pred) ** 2 * w, axis=0)
        self.count = self.count + np.sum(w, axis=0)
        self.num_samples += y_true.size

    def reset_state(self):
        """All sums back to 0."""
        self.sum = self.squared_sum = self.total_mse = self.count = None
        self.num_samples = 0

    def result(self):
        """The R^2 score."""
        if self.sum is None:
            return self._out(0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n, p = self.num_samples, self.num_regressors
            if p > n - 1:
                warnings.warn(
                    "More independent predictors than datapoints in adjusted R2 score. Falling back to standard R2 score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return self._out(score)

    def get_config(self) -> dict:
        """name, dtype, class_aggregation, num_regressors."""
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean of (y_pred - y_true)^2 over all entries."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's squared errors."""
        y_true, y_pred = squeeze_or_expand_to_same_rank(as_array(y_true), as_array(y_pred))
        super().update_state((y_pred - y_true) ** 2, sample_weight=sample_weight)

    def result(self):
        """sqrt(mean squared error)."""
        return self._out(np.sqrt(float(super().result())))
