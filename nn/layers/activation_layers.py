"""Keras 3's activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax; and RReLU (PyTorch's)."""

from __future__ import annotations

import autograd_mini as am

from .. import activations, constraints, initializers, regularizers
from ..random import SeedGenerator
from ..utils import rng
from .core import _serialize_initializer
from .layer import Layer


class ReLU(Layer):
    """Keras' ReLU layer: ``activations.relu(x, negative_slope, max_value, threshold)``."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: max_value must be >= 0 or None, got {max_value!r}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"ReLU: negative_slope must be >= 0, got {negative_slope!r}")
        if threshold is None or threshold < 0:
            raise ValueError(f"ReLU: threshold must be >= 0, got {threshold!r}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs, training=None):
        """relu with this layer's options."""
        return activations.relu(
            inputs, negative_slope=self.negative_slope, max_value=self.max_value, threshold=self.threshold
        )

    def get_config(self):
        """Keras 3's ReLU config."""
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(Layer):
    """Keras 3's LeakyReLU: x if x > 0 else negative_slope * x (layer default 0.3; ``alpha``
    is Keras' deprecated name of the same argument)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        alpha = kwargs.pop("alpha", None)
        super().__init__(**kwargs)
        if alpha is not None:
            negative_slope = alpha
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope must be >= 0, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    @property
    def alpha(self) -> float:
        """The negative slope (Keras 2's name)."""
        return self.negative_slope

    def call(self, inputs, training=None):
        """leaky_relu(inputs, negative_slope)."""
        return am.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        """Keras 3's LeakyReLU config."""
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Keras' PReLU: relu(x) - alpha * relu(-x), alpha trainable per feature (zeros at start),
    shared (size 1) along ``shared_axes``."""

    def __init__(
        self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        """alpha of shape input_shape[1:] (1 along shared axes)."""
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU '{self.name}': the input shape must be known, got {input_shape}")
        self.add_weight(
            "alpha",
            tuple(shape),
            self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )

    def call(self, inputs, training=None):
        """relu(x) - alpha * relu(-x)."""
        return am.relu(inputs) - self.alpha * am.relu(-inputs)

    def get_config(self):
        """Keras 3's PReLU config."""
        return {
            **super().get_config(),
            "alpha_initializer": _serialize_initializer(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class ELU(Layer):
    """Keras' ELU layer: x if x > 0 else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs, training=None):
        """elu(inputs, alpha)."""
        return am.elu(inputs, self.alpha)

    def get_config(self):
        """Keras 3's ELU config."""
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Keras' Softmax layer: softmax along ``axis``; the output carries ``_keras_logits``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None, training=None):
        """softmax(inputs) along axis (masked positions, where mask is False, get probability 0)."""
        if mask is not None:
            inputs = inputs + (1.0 - am.as_tensor(mask).data.astype(inputs.dtype)) * -1e9
        if isinstance(self.axis, (list, tuple)):
            logits = inputs
            out = am.exp(inputs - am.logsumexp(inputs, axis=tuple(self.axis), keepdims=True))
            out._keras_logits = logits
            return out
        return activations.softmax(inputs, axis=self.axis)

    def get_config(self):
        """Keras 3's Softmax config."""
        return {**super().get_config(), "axis": self.axis}


class RReLU(Layer):
    """Randomized leaky ReLU (PyTorch's ``nn.RReLU``): in training the negative slope of each
    element is drawn from U(lower, upper); in inference it is (lower + upper) / 2."""

    def __init__(self, lower=1 / 8, upper=1 / 3, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= lower <= upper:
            raise ValueError(f"RReLU: need 0 <= lower <= upper, got lower={lower}, upper={upper}")
        self.lower, self.upper, self.seed = float(lower), float(upper), seed
        # a seeded layer draws from its own SeedGenerator, whose state saving stores (as Dropout)
        self.seed_generator = None if seed is None else SeedGenerator(seed, name=f"{self.name}_seed_generator")

    def call(self, inputs, training=None):
        """x if x > 0 else slope * x."""
        if not training:
            return am.leaky_relu(inputs, (self.lower + self.upper) / 2)
        generator = rng() if self.seed_generator is None else self.seed_generator.generator()
        slope = generator.uniform(self.lower, self.upper, inputs.shape).astype(inputs.dtype)
        return am.where(inputs.data > 0, inputs, inputs * slope)

    def get_config(self):
        """lower, upper, seed."""
        return {**super().get_config(), "lower": self.lower, "upper": self.upper, "seed": self.seed}
