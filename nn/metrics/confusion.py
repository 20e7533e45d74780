"""Confusion-matrix metrics: Precision, Recall, AUC and the four counts, in numpy
(``keras/src/metrics/confusion_metrics.py``, ``metrics_utils.py``).

A prediction is positive at threshold t when ``y_pred > t``; a label is positive when nonzero.
Counts at all thresholds come from one sort and cumulative sums (O(n log n), not O(n T)).
"""

from __future__ import annotations

import numpy as np

from ..losses.loss import EPSILON, squeeze_or_expand_to_same_rank
from .metric import Metric, as_array, divide_no_nan

NEG_INF = -1e10


def _thresholds(thresholds, default):
    values = [default] if thresholds is None else list(np.atleast_1d(thresholds).tolist())
    if thresholds is not None and any(not 0 <= t <= 1 for t in values):
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {values}")
    return values


def _counts_1d(pred, positive, weight, thresholds):
    """(tp, fp, tn, fn) at each threshold for flat predictions."""
    order = np.argsort(pred, kind="stable")
    pred = pred[order]
    pos_w = np.concatenate([[0.0], np.cumsum(np.where(positive[order], weight[order], 0.0))])
    neg_w = np.concatenate([[0.0], np.cumsum(np.where(positive[order], 0.0, weight[order]))])
    below = np.searchsorted(pred, thresholds, side="right")  # how many preds are <= t
    tp, fn = pos_w[-1] - pos_w[below], pos_w[below]
    fp, tn = neg_w[-1] - neg_w[below], neg_w[below]
    return tp, fp, tn, fn


def _filter_top_k(x, k):
    """Keep the k largest entries of each row (first index wins ties), others -> NEG_INF."""
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(keep, idx, True, axis=-1)
    return np.where(keep, x, NEG_INF)


def confusion_counts(
    y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None, multi_label=False, label_weights=None
):
    """Keras' update_confusion_matrix_variables as a function: (tp, fp, tn, fn), each of shape
    (T,) or (T, labels) with ``multi_label``."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = as_array(sample_weight)[..., None]
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                f"When class_id is provided, y_pred must be a 2D array with shape (num_samples, num_classes), "
                f"found shape: {y_pred.shape}"
            )
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    if y_true.shape != y_pred.shape:
        y_true = np.broadcast_to(y_true, np.broadcast_shapes(y_true.shape, y_pred.shape))
        y_pred = np.broadcast_to(y_pred, y_true.shape)
    weight = np.ones(y_pred.shape) if sample_weight is None else np.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        weight = weight * np.broadcast_to(np.asarray(label_weights, dtype=np.float64), y_pred.shape)
    positive = y_true != 0
    if not multi_label:
        return _counts_1d(y_pred.reshape(-1), positive.reshape(-1), weight.reshape(-1), thresholds)
    columns = [_counts_1d(y_pred[:, j], positive[:, j], weight[:, j], thresholds) for j in range(y_pred.shape[1])]
    return tuple(np.stack([c[i] for c in columns], axis=1) for i in range(4))


class _ConfusionBase(Metric):
    """Counts at ``thresholds`` (default 0.5), optionally after ``top_k`` / ``class_id`` selection."""

    _keys = ("tp", "fp", "tn", "fn")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's counts."""
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.top_k, self.class_id)
        for key, value in zip(("tp", "fp", "tn", "fn"), counts):
            setattr(self, key, getattr(self, key) + value)

    def reset_state(self):
        """All counts back to 0."""
        n = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n) for _ in range(4))

    def _per_threshold(self, value):
        return self._out(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self) -> dict:
        """name, dtype, thresholds, top_k, class_id."""
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_ConfusionBase):
    """tp / (tp + fp) at each threshold (one value for one threshold)."""

    def result(self):
        """The precision (0 where nothing was predicted positive)."""
        return self._per_threshold(divide_no_nan(self.tp, self.tp + self.fp))


class Recall(_ConfusionBase):
    """tp / (tp + fn) at each threshold (one value for one threshold)."""

    def result(self):
        """The recall (0 where no label was positive)."""
        return self._per_threshold(divide_no_nan(self.tp, self.tp + self.fn))


def _count_metric(class_name: str, key: str, default_name: str):
    class CountMetric(_ConfusionBase):
        def __init__(self, thresholds=None, name=None, dtype=None):
            super().__init__(thresholds=thresholds, name=name, dtype=dtype)

        def result(self):
            return self._per_threshold(getattr(self, key))

        def get_config(self):
            return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}

    CountMetric.__name__ = CountMetric.__qualname__ = class_name
    CountMetric.__doc__ = f"The (weighted) number of {default_name.replace('_', ' ')} at each threshold."
    CountMetric.result.__doc__ = f"The accumulated {key} count."
    CountMetric.get_config.__doc__ = "name, dtype, thresholds."
    return CountMetric


TruePositives = _count_metric("TruePositives", "tp", "true_positives")
FalsePositives = _count_metric("FalsePositives", "fp", "false_positives")
TrueNegatives = _count_metric("TrueNegatives", "tn", "true_negatives")
FalseNegatives = _count_metric("FalseNegatives", "fn", "false_negatives")


class AUC(Metric):
    """Area under the ROC or PR curve from counts at ``num_thresholds`` (Keras' default 200)
    evenly spaced thresholds in [0, 1] (widened by 1e-7 at the ends), summed by ``interpolation``
    (trapezoids; PR with Davis & Goadrich's interpolation), ``minoring`` or ``majoring``."""

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        if str(summation_method).lower() not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                '["interpolation", "majoring", "minoring"]'
            )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            inner = sorted(float(t) for t in thresholds)
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.curve = str(curve).upper()
        self.summation_method = str(summation_method).lower()
        super().__init__(name=name, dtype=dtype)
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        self._from_logits = from_logits
        self.reset_state()

    @property
    def thresholds(self) -> list:
        """The thresholds, including the two end points."""
        return list(self._thresholds)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's counts at every threshold."""
        y_pred = as_array(y_pred)
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {y_pred.ndim}.")
        if self._from_logits:
            y_pred = np.exp(-np.logaddexp(0.0, -y_pred))
        counts = confusion_counts(
            y_true,
            y_pred,
            self._thresholds,
            sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
        )
        if self.tp is None:
            self.tp, self.fp, self.tn, self.fn = (np.zeros_like(c) for c in counts)
        self.tp, self.fp, self.tn, self.fn = (a + c for a, c in zip((self.tp, self.fp, self.tn, self.fn), counts))

    def reset_state(self):
        """All counts back to 0."""
        self.tp = self.fp = self.tn = self.fn = None

    def _by_label(self, terms):
        if not self.multi_label:
            return np.sum(terms)
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return np.mean(by_label)
        return divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = np.where((p[:-1] > 0) & (p[1:] > 0), divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increment = divide_no_nan(prec_slope * (dtp + intercept * np.log(safe_p_ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return self._by_label(increment)

    def result(self):
        """The area (0 before any update)."""
        if self.tp is None:
            return self._out(0.0)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._out(self._interpolate_pr_auc())
        recall = divide_no_nan(self.tp, self.tp + self.fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(self.fp, self.fp + self.tn), recall
        else:
            x, y = recall, divide_no_nan(self.tp, self.tp + self.fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._out(self._by_label((x[:-1] - x[1:]) * heights))

    def get_config(self) -> dict:
        """Keras' AUC config."""
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
