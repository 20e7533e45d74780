"""Metrics with Keras 3's stateful API (``keras.metrics``), computed in numpy (no graph).

``m.update_state(y_true, y_pred, sample_weight=None)``, ``m.result()``, ``m.reset_state()``,
``m.name``, ``m.dtype``, ``m.get_config()``; the function forms (``binary_accuracy``, ...)
give one value per sample. ``get`` resolves names as Keras' ``metrics.get``: class names,
their snake-case forms ('auc', 'top_k_categorical_accuracy', ...) and the aliases
'mse', 'mae', 'mape', 'msle', 'bce' give metric instances.
"""

from __future__ import annotations

import inspect

from ..losses.loss import to_snake_case
from .confusion import AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .functions import (
    accuracy,
    binary_accuracy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_accuracy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_accuracy,
    sparse_categorical_crossentropy,
    sparse_top_k_categorical_accuracy,
    squared_hinge,
    top_k_categorical_accuracy,
)
from .metric import Mean, MeanMetricWrapper, Metric, Sum
from .scores import F1Score, FBetaScore, R2Score, RootMeanSquaredError
from .wrappers import (
    Accuracy,
    BinaryAccuracy,
    BinaryCrossentropy,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalAccuracy,
    SparseCategoricalCrossentropy,
    SparseTopKCategoricalAccuracy,
    SquaredHinge,
    TopKCategoricalAccuracy,
)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh

CLASSES = (
    Metric,
    Mean,
    Sum,
    MeanMetricWrapper,
    MeanSquaredError,
    RootMeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCoshError,
    R2Score,
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    F1Score,
    FBetaScore,
)
FUNCTIONS = (
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    log_cosh,
    hinge,
    squared_hinge,
    categorical_hinge,
    kl_divergence,
    poisson,
    huber,
    cosine_similarity,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in CLASSES})
ALL_OBJECTS_DICT.update(
    {
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
    }
)
_FUNCTIONS_BY_NAME = {f.__name__: f for f in FUNCTIONS}


def get_function(name: str):
    """The per-sample metric function of that name ('binary_accuracy', 'mean_squared_error', ...)."""
    if name not in _FUNCTIONS_BY_NAME:
        raise ValueError(f"unknown metric function {name!r}; expected one of {sorted(_FUNCTIONS_BY_NAME)}")
    return _FUNCTIONS_BY_NAME[name]


def serialize(metric) -> dict | str:
    """A metric as Keras' ``{"class_name": ..., "config": ...}`` (a function: its name)."""
    if isinstance(metric, Metric):
        return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config()}
    if callable(metric) and getattr(metric, "__name__", None) in _FUNCTIONS_BY_NAME:
        return metric.__name__
    raise ValueError(f"serialize: expected an nn metric or metric function, got {metric!r}")


def deserialize(config, custom_objects=None):
    """The metric for a name or a ``{"class_name", "config"}`` dict (``custom_objects`` first)."""
    objects = {**ALL_OBJECTS_DICT, **_FUNCTIONS_BY_NAME, **(custom_objects or {})}
    if isinstance(config, str):
        if config not in objects:
            raise ValueError(f"Could not interpret metric identifier: {config!r}; expected one of {sorted(objects)}")
        return objects[config]
    if isinstance(config, dict) and "class_name" in config:
        cls = objects.get(config["class_name"])
        if cls is None or not inspect.isclass(cls):
            raise ValueError(
                f"Could not interpret metric class {config['class_name']!r}; expected one of "
                f"{sorted(c.__name__ for c in CLASSES)}"
            )
        return cls.from_config(config.get("config", {}))
    raise ValueError(f"deserialize: expected a metric name or a {{'class_name', 'config'}} dict, got {config!r}")


def get(identifier):
    """Keras' ``metrics.get``: a name gives a new instance ('auc' -> AUC(), 'mse' ->
    MeanSquaredError()), a dict is deserialized, a class is instantiated, an instance or a
    function is returned as is; None stays None. Unknown names raise a ValueError listing the
    known ones."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            raise ValueError(
                f"Could not interpret metric identifier: {identifier!r}; expected one of {sorted(ALL_OBJECTS_DICT)}"
            )
    else:
        obj = identifier
    if inspect.isclass(obj):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def resolve(name, loss_name: str, output_units: int):
    """Deprecated (the old fit loop): (name, per-sample function); 'accuracy' picked from the
    loss and the output units. New code: ``nn.compile_utils.CompileMetrics``."""
    if callable(name) and not isinstance(name, Metric):
        return getattr(name, "__name__", "metric"), name
    if name in ("accuracy", "acc"):
        if loss_name == "sparse_categorical_crossentropy":
            return name, sparse_categorical_accuracy
        if loss_name == "binary_crossentropy" or output_units == 1:
            return name, binary_accuracy
        return name, categorical_accuracy
    if isinstance(name, str) and name in _FUNCTIONS_BY_NAME:
        return name, _FUNCTIONS_BY_NAME[name]
    if isinstance(name, str) and name in ("mse", "mae", "mape", "msle"):
        return name, {"mse": mse, "mae": mae, "mape": mape, "msle": msle}[name]
    raise ValueError(f"unknown metric {name!r}; expected 'accuracy' or one of {sorted(_FUNCTIONS_BY_NAME)}")


__all__ = sorted(
    [c.__name__ for c in CLASSES]
    + list(_FUNCTIONS_BY_NAME)
    + ["MAE", "MAPE", "MSE", "MSLE", "KLD", "kld", "logcosh", "mae", "mape", "mse", "msle"]
    + ["deserialize", "get", "get_function", "resolve", "serialize"]
)
