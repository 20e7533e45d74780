"""Keras' loss classes: each a ``Loss`` around the function of the same name, with Keras'
arguments, defaults, names and configs (``keras/src/losses/losses.py``).

The categorical cross-entropies take the **fused path** when logits are known (``from_logits``
or a marked softmax output, see ``crossentropy.logits_of``) and the loss is reduced: the
whole weighted batch loss is one ``SoftmaxCrossEntropy`` node. Sample weights, the
``ignore_class`` mask and label smoothing fold into the node's targets (its gradient
(p sum(y) - y) handles unnormalised targets), so they keep the fast path too.
"""

from __future__ import annotations

import math

import numpy as np

import autograd_mini as am

from ..fused_cross_entropy import softmax_cross_entropy
from . import crossentropy as ce
from . import functions as fn
from .loss import Loss, LossFunctionWrapper, apply_mask, as_weights, divide_no_nan, rank_plan, row_weights, to_array


def _simple(class_name: str, function, default_name: str, doc: str):
    """A LossFunctionWrapper subclass with only reduction / name / dtype arguments."""

    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, function, reduction=reduction, name=name, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    get_config.__doc__ = "name and reduction (Keras' config)."
    return type(class_name, (LossFunctionWrapper,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


MeanSquaredError = _simple(
    "MeanSquaredError", fn.mean_squared_error, "mean_squared_error", "mean((y_true - y_pred)^2) per sample, reduced."
)
MeanAbsoluteError = _simple(
    "MeanAbsoluteError", fn.mean_absolute_error, "mean_absolute_error", "mean(|y_true - y_pred|) per sample, reduced."
)
MeanAbsolutePercentageError = _simple(
    "MeanAbsolutePercentageError",
    fn.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "100 mean(|y_true - y_pred| / max(|y_true|, 1e-7)) per sample, reduced.",
)
MeanSquaredLogarithmicError = _simple(
    "MeanSquaredLogarithmicError",
    fn.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "mean((log1p(max(y_pred, eps)) - log1p(max(y_true, eps)))^2) per sample, reduced.",
)
LogCosh = _simple("LogCosh", fn.log_cosh, "log_cosh", "mean(log cosh(y_pred - y_true)) per sample, reduced.")
Hinge = _simple("Hinge", fn.hinge, "hinge", "mean(max(1 - y_true y_pred, 0)) per sample (0/1 labels -> -1/1), reduced.")
SquaredHinge = _simple(
    "SquaredHinge", fn.squared_hinge, "squared_hinge", "mean(max(1 - y_true y_pred, 0)^2) per sample, reduced."
)
CategoricalHinge = _simple(
    "CategoricalHinge",
    fn.categorical_hinge,
    "categorical_hinge",
    "max(max((1 - y) p) - sum(y p) + 1, 0) per sample, reduced.",
)
KLDivergence = _simple(
    "KLDivergence", fn.kl_divergence, "kl_divergence", "sum(y log(y / p)) per sample (clipped to [1e-7, 1]), reduced."
)
Poisson = _simple("Poisson", fn.poisson, "poisson", "mean(p - y log(p + 1e-7)) per sample, reduced.")


class CosineSimilarity(LossFunctionWrapper):
    """-cosine(y_true, y_pred) along ``axis`` per sample, reduced (-1 is perfect agreement)."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(fn.cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        """name and reduction (Keras' config)."""
        return Loss.get_config(self)


class Huber(LossFunctionWrapper):
    """Huber loss with threshold ``delta`` per sample, reduced."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(fn.huber, reduction=reduction, name=name, dtype=dtype, delta=delta)

    def get_config(self):
        """name and reduction (Keras' config)."""
        return Loss.get_config(self)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy averaged over ``axis``, reduced; a marked sigmoid output (or
    ``from_logits``) uses the stable logits form softplus(x) - x y."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            ce.binary_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def get_config(self):
        """name, reduction, from_logits, label_smoothing, axis."""
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal binary cross-entropy (1 - p_t)^gamma bce, optionally class-balanced by alpha."""

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            ce.binary_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def get_config(self):
        """name, reduction, from_logits, label_smoothing, axis, apply_class_balancing, alpha, gamma."""
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
            "apply_class_balancing": self.apply_class_balancing,
            "alpha": self.alpha,
            "gamma": self.gamma,
        }


def _fused_softmax_ce(logits, targets, sample_weight, mask, reduction):
    """The reduced, weighted cross-entropy as one SoftmaxCrossEntropy node, or None when the
    weights do not fit the per-sample shape (the caller then takes the plain path)."""
    values_shape = logits.shape[:-1]
    if reduction in (None, "none") or not values_shape or 0 in logits.shape:
        return None
    n = float(math.prod(values_shape))
    if sample_weight is None and mask is None:  # Keras' default: no extra node on the fast path
        _, divisor = row_weights(values_shape, None, None, reduction, logits.dtype)
        loss = softmax_cross_entropy(logits, targets)  # sum(ce) / n
        return loss if divisor == n else loss * np.asarray(_factor(n, divisor), dtype=logits.dtype)
    probe = None if sample_weight is None else np.zeros(np.shape(_array(sample_weight)))  # shapes decide the path
    if row_weights(values_shape, probe, None, reduction, logits.dtype) is None:
        return None
    weights, factor = _row_weights(sample_weight, mask, reduction, values_shape, logits.dtype)
    if isinstance(weights, am.Tensor):  # (targets stay an operand: a captured step resolves them to the step's value)
        weighted = am.expand_dims(weights, -1) * targets
    else:
        weighted = targets * weights[..., None]
    return softmax_cross_entropy(logits, weighted) * factor  # sum(w ce) / n * (n / divisor)


def _array(x):
    return x.data if isinstance(x, am.Tensor) else x


def _factor(n: float, divisor) -> float:
    return n if divisor is None else (n / divisor if divisor else 0.0)


def _row_weights(sample_weight, mask, reduction, values_shape, dtype) -> tuple:
    """(row weights shaped like the per-sample values, n / Keras' divisor) under ``row_weights``'
    rules, the mask merged by ``apply_mask``; with ops when the weights are a Tensor (the batch's
    weights in a captured step, which then reads each batch's), numpy for constant weights."""
    if sample_weight is not None:
        sample_weight = as_weights(sample_weight, dtype)
    weights = apply_mask(sample_weight, mask, dtype, reduction)
    tensor = isinstance(weights, am.Tensor)
    probe_op, weights_op = rank_plan(values_shape, weights.shape)
    if weights_op == "expand":
        weights = am.expand_dims(weights, -1) if tensor else weights[..., None]
    elif weights_op == "squeeze":
        weights = am.squeeze(weights, -1) if tensor else weights[..., 0]
    matched = weights  # (Keras' mean_with_sample_weight divides by the sum of these)
    probe = (
        values_shape + (1,) if probe_op == "expand" else values_shape[:-1] if probe_op == "squeeze" else values_shape
    )
    shape = np.broadcast_shapes(probe, weights.shape)
    if shape != weights.shape:
        weights = am.broadcast_to(weights, shape) if tensor else np.broadcast_to(weights, shape)
    if shape != values_shape:
        weights = am.reshape(weights, values_shape) if tensor else weights.reshape(values_shape)
    n = float(math.prod(values_shape))
    if reduction == "mean_with_sample_weight":  # (the weights, or the mask alone: Keras' divisor)
        return weights, divide_no_nan(am.as_tensor(np.asarray(n, dtype)), matched.sum())
    divisor = None if reduction == "sum" else n
    return weights, np.asarray(_factor(n, divisor), dtype=dtype)


class CategoricalCrossentropy(LossFunctionWrapper):
    """-sum(y log p) over ``axis`` per sample, reduced; one fused node from logits."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            ce.categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def _fused(self, y_true, y_pred, sample_weight):
        logits, from_logits = ce.logits_of(y_pred, self.from_logits, self.name)
        if not from_logits or logits.ndim == 0 or self.axis not in (-1, logits.ndim - 1):
            return None
        targets = to_array(y_true, logits.dtype)
        if targets.shape != logits.shape:
            return None  # the plain path raises the shape error
        targets = ce.smooth_categorical(targets, self.label_smoothing)
        return _fused_softmax_ce(logits, targets, sample_weight, None, self.reduction)

    def get_config(self):
        """name, reduction, from_logits, label_smoothing, axis."""
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal categorical cross-entropy: sum over ``axis`` of alpha (1 - p)^gamma (-y log p)."""

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            ce.categorical_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def get_config(self):
        """name, reduction, from_logits, label_smoothing, axis, alpha, gamma."""
        return {
            **Loss.get_config(self),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
            "alpha": self.alpha,
            "gamma": self.gamma,
        }


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """-log p[label] per sample with integer labels, reduced; ``ignore_class`` labels are
    masked out (the mean runs over the others); one fused node from logits."""

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            ce.sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def _call_with_mask(self, y_true, y_pred):
        return ce.sparse_crossentropy_with_mask(y_true, y_pred, self.from_logits, self.ignore_class, self.axis)

    def _fused(self, y_true, y_pred, sample_weight):
        logits, from_logits = ce.logits_of(y_pred, self.from_logits, self.name)
        if not from_logits or logits.ndim == 0 or self.axis not in (-1, logits.ndim - 1):
            return None
        targets, mask = ce.sparse_targets(y_true, logits.shape, logits.dtype, self.ignore_class)
        return _fused_softmax_ce(logits, targets, sample_weight, mask, self.reduction)

    def get_config(self):
        """name, reduction, from_logits, ignore_class (Keras' config)."""
        return {**Loss.get_config(self), "from_logits": self.from_logits, "ignore_class": self.ignore_class}
