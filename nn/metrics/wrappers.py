"""Keras' mean metrics: the mean over samples of a per-sample function, with Keras' names,
arguments and configs (``accuracy_metrics.py``, ``regression_metrics.py``,
``probabilistic_metrics.py``, ``hinge_metrics.py``)."""

from __future__ import annotations

from . import functions as F
from .metric import MeanMetricWrapper, Metric


def _plain(class_name: str, fn, default_name: str, doc: str):
    """A MeanMetricWrapper subclass taking only name and dtype."""

    def __init__(self, name=default_name, dtype=None):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype)

    def get_config(self):
        return Metric.get_config(self)

    get_config.__doc__ = "name and dtype."
    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


Accuracy = _plain("Accuracy", F.accuracy, "accuracy", "How often y_pred equals y_true exactly.")
CategoricalAccuracy = _plain(
    "CategoricalAccuracy", F.categorical_accuracy, "categorical_accuracy", "How often argmax(y_pred) == argmax(y_true)."
)
SparseCategoricalAccuracy = _plain(
    "SparseCategoricalAccuracy",
    F.sparse_categorical_accuracy,
    "sparse_categorical_accuracy",
    "How often argmax(y_pred) equals the integer label.",
)
MeanSquaredError = _plain("MeanSquaredError", F.mean_squared_error, "mean_squared_error", "Mean of mean((y - p)^2).")
MeanAbsoluteError = _plain("MeanAbsoluteError", F.mean_absolute_error, "mean_absolute_error", "Mean of mean(|y - p|).")
MeanAbsolutePercentageError = _plain(
    "MeanAbsolutePercentageError",
    F.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "Mean of 100 mean(|y - p| / max(|y|, 1e-7)).",
)
MeanSquaredLogarithmicError = _plain(
    "MeanSquaredLogarithmicError",
    F.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "Mean of the squared log1p differences.",
)
LogCoshError = _plain("LogCoshError", F.log_cosh, "logcosh", "Mean of log(cosh(p - y)).")
KLDivergence = _plain("KLDivergence", F.kl_divergence, "kl_divergence", "Mean of sum(y log(y / p)).")
Poisson = _plain("Poisson", F.poisson, "poisson", "Mean of mean(p - y log(p + 1e-7)).")
Hinge = _plain("Hinge", F.hinge, "hinge", "Mean of the hinge loss.")
SquaredHinge = _plain("SquaredHinge", F.squared_hinge, "squared_hinge", "Mean of the squared hinge loss.")
CategoricalHinge = _plain(
    "CategoricalHinge", F.categorical_hinge, "categorical_hinge", "Mean of the categorical hinge loss."
)


class BinaryAccuracy(MeanMetricWrapper):
    """How often y_true == (y_pred > threshold) (labels are compared as given)."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(F.binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        """name, dtype, threshold."""
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_true) is among the k highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(F.top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        """name, dtype, k."""
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(
            F.sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids
        )
        self.k, self.from_sorted_ids = k, from_sorted_ids

    def get_config(self):
        """name, dtype, k (and from_sorted_ids when set)."""
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between y_true and y_pred along ``axis``."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(F.cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        """name and dtype."""
        return {"name": self.name, "dtype": self.dtype}


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(
            F.binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing
        )
        self.from_logits, self.label_smoothing = from_logits, label_smoothing

    def get_config(self):
        """name, dtype, from_logits, label_smoothing."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(
            F.categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def get_config(self):
        """name, dtype, from_logits, label_smoothing, axis."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy."""

    def __init__(
        self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None, axis=-1
    ):
        super().__init__(
            F.sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def get_config(self):
        """name, dtype, from_logits, ignore_class, axis."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }
