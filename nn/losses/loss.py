"""The ``Loss`` base class and Keras 3's reduction rules (``keras/src/losses/loss.py``).

A loss computes one value per sample (``call``), then ``__call__`` folds in ``sample_weight``
and the loss's own mask (e.g. ``ignore_class``) and reduces:

- ``"sum_over_batch_size"`` / ``"mean"``: sum(values * weights) / number of values;
- ``"sum"``: sum(values * weights);
- ``"mean_with_sample_weight"``: sum(values * weights) / sum(weights) (by count without weights);
- ``"none"`` / ``None``: the weighted values, unreduced.

A mask weights valid entries by total/valid under the mean reductions (so the mean runs over
valid entries only) and by 0/1 otherwise, exactly as Keras' ``apply_mask``. Divisions are
``divide_no_nan``: a zero divisor gives 0.
"""

from __future__ import annotations

import math
import re

import numpy as np

import autograd_mini as am

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
EPSILON = 1e-7  # Keras' backend.epsilon()


def to_snake_case(name: str) -> str:
    """Keras' naming rule: 'KLDivergence' -> 'kl_divergence', 'AUC' -> 'auc'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def standardize_reduction(reduction):
    """``reduction`` itself when Keras allows it, else a ValueError naming the allowed values."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. Received: {reduction!r}"
        )
    return reduction


def to_pred(y_pred, dtype=None) -> am.Tensor:
    """``y_pred`` as a Tensor of a float dtype: ``dtype`` when given, else its own (ints -> float32)."""
    if not isinstance(y_pred, am.Tensor):
        array = np.asarray(y_pred)
        if dtype is None and array.dtype.kind != "f":
            array = array.astype(np.float32)
        y_pred = am.as_tensor(array)
    if dtype is not None and y_pred.dtype != np.dtype(dtype):
        y_pred = _keep_mark(am.cast(y_pred, dtype), y_pred, lambda t: am.cast(t, dtype))
    elif y_pred.dtype.kind != "f":
        y_pred = am.cast(y_pred, np.float32)
    return y_pred


@am.replayable  # a captured step (jit_compile) converts each batch's targets again on replay
def to_array(y, dtype=None) -> np.ndarray:
    """``y`` (Tensor, array, list) as a constant numpy array, in ``dtype`` when given."""
    data = y.data if isinstance(y, am.Tensor) else np.asarray(y)
    return data if dtype is None else data.astype(dtype, copy=False)


def _keep_mark(out, source, op):
    """Carry a softmax/sigmoid output's ``_keras_logits`` through a reshape or cast."""
    logits = getattr(source, "_keras_logits", None)
    if logits is not None:
        out._keras_logits = op(logits)
    return out


@am.replayable  # a captured step reshapes each batch's targets again on replay (1-d targets)
def _expand_array(x: np.ndarray) -> np.ndarray:
    return x[..., None]


@am.replayable
def _squeeze_array(x: np.ndarray) -> np.ndarray:
    return x[..., 0]


def _expand(x):
    if not isinstance(x, am.Tensor):
        return _expand_array(x)
    return _keep_mark(am.expand_dims(x, -1), x, lambda t: am.expand_dims(t, -1))


def _squeeze(x):
    if not isinstance(x, am.Tensor):
        return _squeeze_array(x)
    return _keep_mark(am.squeeze(x, -1), x, lambda t: am.squeeze(t, -1))


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Keras' rank matching: when the ranks differ by one and the longer has a last dim of 1,
    squeeze it, except that a rank-1 partner is expanded instead (when ``expand_rank_1``)."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = _expand(x2)
        else:
            x1 = _squeeze(x1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = _expand(x1)
        else:
            x2 = _squeeze(x2)
    return x1, x2


def rank_plan(shape1, shape2) -> tuple:
    """``squeeze_or_expand_to_same_rank``'s rule on two shapes alone: what it does to each input,
    None, "expand" or "squeeze" (for code that must not touch the first one)."""
    r1, r2 = len(shape1), len(shape2)
    if r1 == r2 + 1 and shape1[-1] == 1:
        return (None, "expand") if r2 == 1 else ("squeeze", None)
    if r2 == r1 + 1 and shape2[-1] == 1:
        return ("expand", None) if r1 == 1 else (None, "squeeze")
    return None, None


@am.replayable  # a captured step builds each batch's mask weights again on replay (ignore_class)
def _float_mask(mask, dtype, reduction) -> np.ndarray:
    """Keras' weights of a boolean mask: total/valid on valid entries under the mean reductions
    (0 when none is valid), 1 otherwise; 0 on masked entries."""
    mask = np.asarray(mask.data if isinstance(mask, am.Tensor) else mask, dtype=bool)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = mask.sum()
        factor = mask.size / valid if valid else 0.0
        return np.where(mask, factor, 0.0).astype(dtype)
    return mask.astype(dtype)


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merge a boolean mask into the sample weights as Keras does (total/valid under the mean
    reductions, 0/1 otherwise): a Tensor when there is a mask (the mask's weights come from the
    replayable ``_float_mask``, so a captured step recomputes them per batch), else
    ``sample_weight`` as given."""
    if mask is None:
        return sample_weight
    float_mask = am.as_tensor(_float_mask(mask, dtype, reduction))
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return float_mask * sample_weight


def as_weights(sample_weight, dtype):
    """``sample_weight`` in ``dtype``: a Tensor (the batch's weights inside a captured step) stays
    a Tensor, cast with an op when its dtype differs, so the step reads each batch's weights;
    anything else becomes a numpy array (a constant: never wrapped in a Tensor here, which a
    captured step would read by reference and so freeze)."""
    if isinstance(sample_weight, am.Tensor):
        return sample_weight if sample_weight.dtype == dtype else am.cast(sample_weight, dtype)
    return np.asarray(sample_weight, dtype=dtype)


@am.replayable  # a captured step tests each batch's divisor again on replay
def _is_zero(divisor) -> np.ndarray:
    """divisor == 0 (the condition of ``divide_no_nan``; a constant of the gradient graph)."""
    return np.asarray(np.asarray(divisor.data if isinstance(divisor, am.Tensor) else divisor) == 0)


def divide_no_nan(x: am.Tensor, y) -> am.Tensor:
    """x / y, 0 where y == 0 (Keras' ``ops.divide_no_nan``) with ops, ``y`` a Tensor (data-dependent
    in a captured step) or an array: the same numbers either way."""
    y = y if isinstance(y, am.Tensor) else np.asarray(y)
    zero = _is_zero(y)
    safe = am.where(zero, am.as_tensor(np.ones((), y.dtype)), y)
    return am.where(zero, am.as_tensor(np.zeros((), x.dtype)), x / safe)


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Keras' ``reduce_weighted_values``: weight ``values`` (a Tensor), then reduce.

    ``sample_weight`` (a Tensor, or an array) is applied with ops, so a captured step
    (jit_compile) reads each batch's weights; ``mask`` is a boolean array (or None). The result
    keeps ``values``' dtype."""
    reduction = standardize_reduction(reduction)
    dtype = values.dtype
    if sample_weight is not None:
        sample_weight = as_weights(sample_weight, dtype)
    sample_weight = apply_mask(sample_weight, mask, dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction is None or reduction == "none" or values.shape in ((), (0,)):
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(loss, sample_weight.sum())
    divisor = float(values.size)
    return loss * np.asarray(1.0 / divisor if divisor else 0.0, dtype=dtype)


def row_weights(values_shape, sample_weight, mask, reduction, dtype):
    """For fused losses: (weights broadcast to ``values_shape`` or None, divisor) such that the
    reduced loss is ``sum(weights * values) / divisor`` under Keras' rules (divisor None: no
    division, 0: the loss is 0); None when the weights would broadcast the values to a bigger
    shape (then the caller takes the plain path)."""
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)
    sample_weight = apply_mask(sample_weight, mask, dtype, reduction)
    if isinstance(sample_weight, am.Tensor):  # (merged with a mask)
        sample_weight = sample_weight.data
    size = math.prod(values_shape)
    weights = None
    if sample_weight is not None:
        probe, sample_weight = squeeze_or_expand_to_same_rank(np.empty(values_shape, dtype), sample_weight)
        try:
            shape = np.broadcast_shapes(probe.shape, sample_weight.shape)
        except ValueError:
            return None
        if math.prod(shape) != size:
            return None
        weights = np.broadcast_to(sample_weight, shape).reshape(values_shape)
    if reduction == "sum":
        return weights, None
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return weights, float(np.sum(sample_weight))
    return weights, float(size)


class Loss:
    """Keras' ``Loss``: ``loss(y_true, y_pred, sample_weight=None)`` -> a scalar Tensor
    (or per-sample values with ``reduction="none"``), differentiable in ``y_pred``.

    Subclasses implement ``call(y_true, y_pred)`` -> one value per sample. ``dtype=None``
    computes in ``y_pred``'s float dtype (float32 stays float32); a given dtype casts to it.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = None if dtype is None else np.dtype(dtype)

    @property
    def dtype(self):
        """The computation dtype given at construction (None: follow ``y_pred``)."""
        return None if self._dtype is None else self._dtype.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = to_pred(y_pred, self._dtype)
        fused = self._fused(y_true, y_pred, sample_weight)
        if fused is not None:
            return fused
        values, mask = self._call_with_mask(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def _fused(self, y_true, y_pred, sample_weight):
        """A whole reduced loss in one fused node, or None (the default: no fused form)."""
        return None

    def _call_with_mask(self, y_true, y_pred):
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred):
        """One loss value per sample; subclasses implement it."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Keras' config: name and reduction (subclasses add their arguments)."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """The loss ``cls(**config)``."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """A loss from a per-sample function: ``LossFunctionWrapper(fn, reduction=..., name=..., **kwargs)``
    computes ``fn(y_true, y_pred, **kwargs)`` after Keras' rank matching, then reduces."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        """``fn(y_true, y_pred, **kwargs)`` on rank-matched inputs."""
        y_true, y_pred = squeeze_or_expand_to_same_rank(to_array(y_true), y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        """name, reduction, the function's name and its keyword arguments."""
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        """Rebuild; ``fn`` given by name is looked up among nn's loss functions."""
        config = dict(config)
        if isinstance(config.get("fn"), str):
            from . import get_function

            config["fn"] = get_function(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})>"
