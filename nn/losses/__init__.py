"""Losses with Keras 3's names, arguments, numbers and reductions (``keras.losses``).

Classes (``MeanSquaredError()(y_true, y_pred, sample_weight=None)`` -> scalar Tensor,
differentiable in ``y_pred``) and function forms (``mse(y_true, y_pred)`` -> one loss per
sample, unreduced), as in Keras. ``get`` / ``serialize`` / ``deserialize`` resolve names,
functions, instances and config dicts.

One difference from Keras, kept for the training loop: ``get("mse")`` (a function name) gives
the *instance* ``MeanSquaredError()`` — a reduced loss — where Keras returns the function.
"""

from __future__ import annotations

import inspect

from .classes import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from .crossentropy import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
)
from .functions import (
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
    squared_hinge,
)
from .loss import EPSILON, REDUCTIONS, Loss, LossFunctionWrapper, reduce_weighted_values
from .overlap import (
    CategoricalGeneralizedCrossEntropy,
    Circle,
    Dice,
    Tversky,
    categorical_generalized_cross_entropy,
    circle,
    dice,
    tversky,
)

# Keras' aliases of the function forms.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

CLASSES = (
    Loss,
    LossFunctionWrapper,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    Huber,
    LogCosh,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    SparseCategoricalCrossentropy,
    Dice,
    Tversky,
    Circle,
    CategoricalGeneralizedCrossEntropy,
)
FUNCTIONS = (
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    cosine_similarity,
    huber,
    log_cosh,
    hinge,
    squared_hinge,
    categorical_hinge,
    kl_divergence,
    poisson,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
    dice,
    tversky,
    circle,
    categorical_generalized_cross_entropy,
)
_FUNCTION_ALIASES = {
    "mse": mean_squared_error,
    "MSE": mean_squared_error,
    "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
    "kld": kl_divergence,
    "KLD": kl_divergence,
    "kullback_leibler_divergence": kl_divergence,
    "logcosh": log_cosh,
    "bce": binary_crossentropy,
    "BCE": binary_crossentropy,
}
# the class computing each function, for get("mse") -> MeanSquaredError()
_CLASS_OF = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    cosine_similarity: CosineSimilarity,
    huber: Huber,
    log_cosh: LogCosh,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    dice: Dice,
    tversky: Tversky,
    circle: Circle,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
}
# deprecated (nn/saving reads it): loss name or alias -> class
_BY_NAME = {name: _CLASS_OF[f] for name, f in {**{f.__name__: f for f in FUNCTIONS}, **_FUNCTION_ALIASES}.items()}
_BY_NAME.update({cls().name: cls for cls in _CLASS_OF.values()})  # default names such as 'huber_loss'
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in CLASSES + FUNCTIONS}
ALL_OBJECTS_DICT.update(_FUNCTION_ALIASES)


def get_function(name: str):
    """The per-sample function for a Keras function name or alias ('mse', 'huber', ...)."""
    obj = ALL_OBJECTS_DICT.get(name)
    if obj is None or inspect.isclass(obj):
        raise ValueError(f"unknown loss function {name!r}; expected one of {sorted(f.__name__ for f in FUNCTIONS)}")
    return obj


def serialize(loss) -> dict | str:
    """A loss as Keras' ``{"class_name": ..., "config": ...}`` (a function: its name)."""
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config()}
    if callable(loss) and getattr(loss, "__name__", None) in ALL_OBJECTS_DICT:
        return loss.__name__
    raise ValueError(f"serialize: expected an nn loss or loss function, got {loss!r}")


def deserialize(config, custom_objects=None):
    """The loss for a name or a ``{"class_name", "config"}`` dict (``custom_objects`` first)."""
    objects = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    if isinstance(config, str):
        if config not in objects:
            raise ValueError(f"Could not interpret loss identifier: {config!r}; expected one of {sorted(objects)}")
        return objects[config]
    if isinstance(config, dict) and "class_name" in config:
        cls = objects.get(config["class_name"])
        if cls is None or not inspect.isclass(cls):
            raise ValueError(
                f"Could not interpret loss class {config['class_name']!r}; expected one of "
                f"{sorted(c.__name__ for c in CLASSES)}"
            )
        return cls.from_config(config.get("config", {}))
    raise ValueError(f"deserialize: expected a loss name or a {{'class_name', 'config'}} dict, got {config!r}")


def get(identifier):
    """A loss from a name ('mse', 'MeanSquaredError', 'categorical_crossentropy', ...), a class,
    an instance, a config dict or a callable ``fn(y_true, y_pred)``; None stays None.

    Names give a reduced ``Loss`` instance (see the module note); unknown names raise a
    ValueError listing the known ones."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        identifier = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            raise ValueError(
                f"Could not interpret loss identifier: {identifier!r}; expected one of {sorted(ALL_OBJECTS_DICT)}"
            )
        identifier = _CLASS_OF.get(obj, obj)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


__all__ = (
    [c.__name__ for c in CLASSES]
    + [f.__name__ for f in FUNCTIONS]
    + [
        "BCE",
        "EPSILON",
        "KLD",
        "MAE",
        "MAPE",
        "MSE",
        "MSLE",
        "REDUCTIONS",
        "bce",
        "deserialize",
        "get",
        "get_function",
        "kld",
        "kullback_leibler_divergence",
        "logcosh",
        "mae",
        "mape",
        "mse",
        "msle",
        "reduce_weighted_values",
        "serialize",
    ]
)
