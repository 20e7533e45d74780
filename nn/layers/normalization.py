"""Keras 3's normalization layers: BatchNormalization, LayerNormalization, UnitNormalization,
and the preprocessing ones Normalization (with ``adapt``) and Rescaling."""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from .. import constraints, initializers, regularizers
from .core import _serialize_initializer
from .layer import Layer


def _axes(axis, ndim, where):
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{where}: axis {a} is out of range for inputs of rank {ndim}")
        out.append(a % ndim)
    return sorted(out)


class BatchNormalization(Layer):
    """Keras' BatchNormalization: (x - mean) / sqrt(var + epsilon) * gamma + beta.

    In training (and when the layer is trainable) mean and var are the batch's (biased) over
    every axis but ``axis``, and the moving statistics move: moving = moving * momentum +
    batch * (1 - momentum), written through ``Parameter.mutable_data()``; otherwise the moving
    statistics are used. gamma, beta trainable; moving_mean, moving_variance not.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis = axis
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.synchronized = synchronized
        self.gamma = self.beta = None

    def build(self, input_shape):
        """gamma, beta, moving_mean, moving_variance of shape input_shape[axis]."""
        ndim = len(input_shape)
        self._axis = _axes(self.axis, ndim, f"BatchNormalization '{self.name}'")
        shape = tuple(input_shape[a] for a in self._axis)
        if None in shape:
            raise ValueError(f"BatchNormalization '{self.name}': axis {self.axis} of {input_shape} must be known")
        if self.scale:
            self.add_weight(
                "gamma",
                shape,
                self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.add_weight(
                "beta", shape, self.beta_initializer, regularizer=self.beta_regularizer, constraint=self.beta_constraint
            )
        self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", shape, self.moving_variance_initializer, trainable=False)
        self._reduce = tuple(a for a in range(ndim) if a not in self._axis)
        self._broadcast = tuple(input_shape[a] if a in self._axis else 1 for a in range(ndim))

    def call(self, inputs, training=None):
        """Normalize with the batch's statistics (training) or the moving ones (inference)."""
        if inputs.ndim != len(self._broadcast):
            raise ValueError(
                f"BatchNormalization '{self.name}': expected inputs of rank {len(self._broadcast)}, got shape {inputs.shape}"
            )
        if training and self.trainable:
            mean = inputs.mean(axis=self._reduce, keepdims=True)
            centered = inputs - mean
            variance = (centered * centered).mean(axis=self._reduce, keepdims=True)
            _update_moving(self, mean, variance)
            out = centered / am.sqrt(variance + self.epsilon)
        else:
            mean = self.moving_mean.reshape(self._broadcast)
            variance = self.moving_variance.reshape(self._broadcast)
            out = (inputs - mean) / am.sqrt(variance + self.epsilon)
        if self.scale:
            out = out * self.gamma.reshape(self._broadcast)
        if self.center:
            out = out + self.beta.reshape(self._broadcast)
        return out

    def get_config(self):
        """Keras 3's BatchNormalization config."""
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _serialize_initializer(self.beta_initializer),
            "gamma_initializer": _serialize_initializer(self.gamma_initializer),
            "moving_mean_initializer": _serialize_initializer(self.moving_mean_initializer),
            "moving_variance_initializer": _serialize_initializer(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
        }


class LayerNormalization(Layer):
    """Keras' LayerNormalization: per sample over ``axis``, (x - mean) / sqrt(var + epsilon) *
    gamma + beta; ``rms_scaling=True``: x / sqrt(mean(x**2) + epsilon) * gamma."""

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        rms_scaling=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = float(epsilon)
        self.center, self.scale, self.rms_scaling = bool(center), bool(scale), bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        """gamma and beta of the normalized axes' shape."""
        ndim = len(input_shape)
        self._axis = tuple(_axes(self.axis, ndim, f"LayerNormalization '{self.name}'"))
        shape = tuple(input_shape[a] for a in self._axis)
        self._broadcast = tuple(input_shape[a] if a in self._axis else 1 for a in range(ndim))
        if self.scale:
            self.add_weight(
                "gamma",
                shape,
                self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center and not self.rms_scaling:
            self.add_weight(
                "beta", shape, self.beta_initializer, regularizer=self.beta_regularizer, constraint=self.beta_constraint
            )

    def call(self, inputs, training=None):
        """The normalized inputs."""
        if self.rms_scaling:
            out = inputs / am.sqrt((inputs * inputs).mean(axis=self._axis, keepdims=True) + self.epsilon)
        else:
            mean = inputs.mean(axis=self._axis, keepdims=True)
            centered = inputs - mean
            out = centered / am.sqrt((centered * centered).mean(axis=self._axis, keepdims=True) + self.epsilon)
        if self.gamma is not None:
            out = out * self.gamma.reshape(self._broadcast)
        if self.beta is not None:
            out = out + self.beta.reshape(self._broadcast)
        return out

    def get_config(self):
        """Keras 3's LayerNormalization config."""
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": _serialize_initializer(self.beta_initializer),
            "gamma_initializer": _serialize_initializer(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class UnitNormalization(Layer):
    """Keras' UnitNormalization: x / ||x|| along ``axis`` (norm floored at 1e-12... squared: 1e-24)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)

    def call(self, inputs, training=None):
        """inputs divided by their L2 norm along axis."""
        axis = self.axis if isinstance(self.axis, int) else tuple(self.axis)
        return inputs / am.sqrt(am.maximum((inputs * inputs).sum(axis=axis, keepdims=True), 1e-24))

    def get_config(self):
        """Keras 3's config: axis."""
        return {**super().get_config(), "axis": self.axis}


class Normalization(Layer):
    """Keras' Normalization: (x - mean) / max(sqrt(variance), 1e-7) per feature along ``axis``
    (``invert=True``: mean + x * max(sqrt(variance), 1e-7)). mean and variance come from the
    constructor or from ``adapt(data)``; they are non-trainable weights."""

    _EPSILON = 1e-7

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if axis is None or isinstance(axis, int) else list(axis)
        if (mean is None) != (variance is None):
            raise ValueError(
                f"Normalization: give both mean and variance or neither, got mean={mean!r}, variance={variance!r}"
            )
        self.input_mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.input_variance = None if variance is None else np.asarray(variance, dtype=np.float64)
        self.invert = bool(invert)
        self.mean = self.variance = None

    def build(self, input_shape):
        """Given mean and variance: constants (no weights, as Keras); else non-trainable weights
        'mean' and 'variance' of the kept axes' shape, set by ``adapt``."""
        ndim = len(input_shape)
        keep = [] if self.axis is None else _axes(self.axis, ndim, f"Normalization '{self.name}'")
        self._reduce = tuple(a for a in range(ndim) if a not in keep)
        self._broadcast = tuple(input_shape[a] if a in keep else 1 for a in range(ndim))
        shape = tuple(input_shape[a] for a in keep)
        if None in shape:
            raise ValueError(f"Normalization '{self.name}': axis {self.axis} of {input_shape} must be known")
        if self.input_mean is None:
            self.add_weight("mean", shape, "zeros", trainable=False)
            self.add_weight("variance", shape, "ones", trainable=False)
            self._add_count_weight()
            self._adapted = False
        else:
            self._constants = (
                np.broadcast_to(self.input_mean, self._broadcast),
                np.broadcast_to(self.input_variance, self._broadcast),
            )

    def _add_count_weight(self):
        """Keras 3's third variable, ``count`` (shape (), kept at 0 by ``adapt`` as in Keras: it
        exists so files carry Keras' three variables mean, variance, count). Keras holds it as
        int32; nn's weights are floats, so it is a float32 0 (files convert both ways)."""
        from ..module import Parameter

        count = Parameter(np.zeros((), np.float32), name=f"{self.name}.count", trainable=False)
        count.requires_grad = False
        self._weights.append(count)
        object.__setattr__(self, "count", count)

    def adapt(self, data, batch_size=None, steps=None):
        """Set mean and variance to the data's (over every axis but ``axis``)."""
        array = np.asarray(data.data if isinstance(data, am.Tensor) else data, dtype=np.float64)
        if array.ndim == 1:
            array = array[:, None]
        if not self.built:
            self.build_for((None,) + array.shape[1:])
        if self.input_mean is not None:
            raise ValueError(f"Normalization '{self.name}': adapt() is for layers made without mean and variance")
        self.mean.mutable_data()[...] = array.mean(axis=self._reduce).reshape(self.mean.shape)
        self.variance.mutable_data()[...] = array.var(axis=self._reduce).reshape(self.variance.shape)
        self._adapted = True

    def call(self, inputs, training=None):
        """The normalized (or, with invert, de-normalized) inputs."""
        if self.input_mean is not None:
            mean, variance = self._constants
        else:
            mean, variance = self.mean.data.reshape(self._broadcast), self.variance.data.reshape(self._broadcast)
        std = np.maximum(np.sqrt(variance), self._EPSILON).astype(inputs.dtype)
        mean = mean.astype(inputs.dtype)
        if self.invert:
            return inputs * std + mean
        return (inputs - mean) / std

    def get_config(self):
        """Keras 3's config: axis, invert, mean, variance."""
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": None if self.input_mean is None else self.input_mean.tolist(),
            "variance": None if self.input_variance is None else self.input_variance.tolist(),
        }


class Rescaling(Layer):
    """Keras' Rescaling: inputs * scale + offset."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs, training=None):
        """inputs * scale + offset."""
        scale = np.asarray(self.scale, dtype=inputs.dtype)
        offset = np.asarray(self.offset, dtype=inputs.dtype)
        return inputs * scale + offset

    def get_config(self):
        """Keras 3's config: scale, offset."""
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


@am.replayable  # a captured training step (jit_compile) moves the statistics again on every replay
def _update_moving(layer, mean, variance) -> None:
    """moving = moving * momentum + batch * (1 - momentum), in place (copy-on-write)."""
    m = layer.momentum
    for param, batch in ((layer.moving_mean, mean), (layer.moving_variance, variance)):
        batch = batch.data if isinstance(batch, am.Tensor) else np.asarray(batch)
        data = param.mutable_data()
        data *= m
        data += (1.0 - m) * batch.reshape(data.shape).astype(data.dtype)
