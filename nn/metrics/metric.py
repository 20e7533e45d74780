"""Keras' stateful ``Metric`` API in numpy, and the reducing metrics ``Mean``, ``Sum`` and
``MeanMetricWrapper`` (``keras/src/metrics/metric.py``, ``reduction_metrics.py``).

Metrics take Tensors or arrays, record no graph, accumulate in float64 and report in their
``dtype`` (float32 by default, as Keras' floatx).
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from ..losses.loss import squeeze_or_expand_to_same_rank, to_snake_case


def as_array(x, dtype=np.float64) -> np.ndarray:
    """A Tensor, array or list as a numpy array (in ``dtype`` when given)."""
    data = x.data if isinstance(x, am.Tensor) else np.asarray(x)
    return data if dtype is None else data.astype(dtype, copy=False)


def divide_no_nan(a, b):
    """a / b, 0 where b == 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def auto_name(class_name: str) -> str:
    """Keras' auto_name: the snake-case class name, made unique ('auc', 'auc_1', ...)."""
    from ..utils import unique_name

    return unique_name(to_snake_case(class_name))


class Metric:
    """Keras' ``Metric``: ``update_state(...)`` accumulates, ``result()`` reads,
    ``reset_state()`` clears; ``metric(...)`` updates then returns the result."""

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(type(self).__name__)
        self._dtype = np.dtype(dtype or "float32")

    @property
    def dtype(self) -> str:
        """The dtype results are reported in ('float32' unless given)."""
        return self._dtype.name

    def update_state(self, *args, **kwargs):
        """Accumulate statistics from one batch."""
        raise NotImplementedError

    def result(self):
        """The metric's value from the statistics so far."""
        raise NotImplementedError

    def reset_state(self):
        """Forget all accumulated statistics: Keras' default sets every ``add_variable``
        variable back to zeros (classes with other state override it)."""
        variables = self.__dict__.get("_variables")
        if not variables:
            raise NotImplementedError(f"{type(self).__name__}.reset_state is not implemented")
        for v in variables:
            v.assign(np.zeros(v.shape, v.dtype))

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """Keras 3's ``Metric.add_variable``: a non-trainable state variable (update it with
        ``assign``/``assign_add``); ``reset_state`` sets it to zeros."""
        from .. import initializers
        from ..module import Parameter

        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape or ())
        dtype = np.dtype(dtype or self._dtype)
        init = initializers.get(initializer)
        value = np.asarray(init(shape, dtype=dtype), dtype=dtype) if callable(init) else np.full(shape, init, dtype)
        variables = self.__dict__.setdefault("_variables", [])
        variable = Parameter(value, name=name or f"variable_{len(variables)}", trainable=False)
        variable.requires_grad = False
        variable._path = f"{self.name}/{variable.name}"
        variables.append(variable)
        return variable

    @property
    def variables(self) -> list:
        """The state variables made by ``add_variable``."""
        return list(self.__dict__.get("_variables", ()))

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def _out(self, value):
        value = np.asarray(value, dtype=self._dtype)
        return value[()] if value.ndim == 0 else value

    def get_config(self) -> dict:
        """name and dtype (subclasses add their arguments)."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """The metric ``cls(**config)``."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def reduce_to_samplewise_values(values, sample_weight, reduce_fn):
    """Keras' rule: weight values by sample (rank-matched, broadcast), reduce every axis past
    the first with ``reduce_fn``; returns (values, sample_weight)."""
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = as_array(sample_weight)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.ndim, values.ndim
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The running (weighted) sum of all values."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        """Add sum(values * sample_weight)."""
        values, _ = reduce_to_samplewise_values(as_array(values), sample_weight, np.sum)
        self.total += float(np.sum(values))

    def reset_state(self):
        """Back to 0."""
        self.total = 0.0

    def result(self):
        """The sum so far."""
        return self._out(self.total)


class Mean(Metric):
    """The running weighted mean: sum(values * w) / sum(w) over samples (w = 1 without weights;
    values with more than one axis are first averaged per sample)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        """Add one batch of values (per sample) with optional sample weights."""
        values, sample_weight = reduce_to_samplewise_values(as_array(values), sample_weight, np.mean)
        self.total += float(np.sum(values))
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight))
        else:
            self.count += values.shape[0] if values.ndim >= 1 else 1

    def update(self, values, count: int | None = None) -> None:
        """Deprecated (old fit loop): ``update(per_sample_values)`` or ``update(batch_mean, count)``."""
        self.update_state(values, None if count is None else count)

    def reset_state(self):
        """Back to no values."""
        self.total = 0.0
        self.count = 0.0

    def result(self):
        """total / count (0 before any value, as Keras' divide_no_nan)."""
        return self._out(self.total / self.count if self.count else 0.0)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over samples (with sample weights)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper", dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add ``fn``'s per-sample values for this batch."""
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(as_array(values), sample_weight=sample_weight)

    def get_config(self) -> dict:
        """name, dtype, the function's name and its keyword arguments."""
        return {**super().get_config(), "fn": getattr(self._fn, "__name__", repr(self._fn)), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        """Rebuild; ``fn`` given by name is looked up among nn's metric functions."""
        config = dict(config)
        if isinstance(config.get("fn"), str):
            from . import get_function

            config["fn"] = get_function(config["fn"])
        return cls(**config)
