"""Keras 3's regularization layers: Dropout, GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization. Noise is applied only with ``training=True``; randomness comes from
``nn.utils.rng()``, or, when the layer has a ``seed``, from its own ``seed_generator`` (a
``nn.random.SeedGenerator`` as in Keras, whose state ``[seed, counter]`` saving stores, so a
loaded model continues the stream exactly)."""

from __future__ import annotations

import math

import numpy as np

import autograd_mini as am

from .. import regularizers
from ..random import SeedGenerator
from ..utils import rng
from .layer import Layer

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_rate(name, rate, allow_one=False):
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.number)):
        raise ValueError(f"{name}: rate must be a float in [0, 1), got {rate!r}")
    if not (0 <= rate < 1 or (allow_one and rate == 1)):
        raise ValueError(f"{name}: rate must be a float in [0, 1), got {rate!r}")
    return float(rate)


class _Random(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"{type(self).__name__}: seed must be None or an int, got {seed!r}")
        self.seed = seed
        self.seed_generator = None if seed is None else SeedGenerator(int(seed), name=f"{self.name}_seed_generator")

    def _rng(self) -> np.random.Generator:
        """The generator for one draw: nn's global one, or a fresh one from the seed generator
        (which advances its counter)."""
        return rng() if self.seed_generator is None else self.seed_generator.generator()


class Dropout(_Random):
    """Keras' Dropout (inverted): in training, zero each input with probability ``rate`` and
    scale the rest by 1/(1-rate); in inference, the identity. ``noise_shape`` (1 on axes that
    share one decision, None: the input's size) as Keras.

    The keep decision compares 16 random bits with a threshold when ``rate`` is within 1e-4
    (relative) of a multiple of 2^-16, as 0.1, 0.2, 0.25, 0.5 are: half the random bits of a
    float32 uniform, for a drop probability off by less than 2^-16 (0.2 drops with probability
    0.2000122). Other rates draw float uniforms, as Keras does.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate("Dropout", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        threshold = int(np.ceil(self.rate * 65536))
        self._threshold16 = (
            threshold if threshold > 0 and abs(threshold / 65536 - self.rate) <= 1e-4 * self.rate else None
        )

    def call(self, inputs, training=None):
        """inputs * keep / (1 - rate) in training, else inputs."""
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != inputs.ndim:
                raise ValueError(
                    f"Dropout '{self.name}': noise_shape {self.noise_shape} must have one entry per input axis, "
                    f"got inputs of shape {inputs.shape}"
                )
            shape = tuple(s if n is None else n for n, s in zip(self.noise_shape, inputs.shape))
        return inputs * _dropout_mask(self, shape, inputs.dtype)

    def get_config(self):
        """Keras 3's Dropout config."""
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": noise_shape}


@am.replayable  # a captured training step (jit_compile) draws a new mask on every replay
def _dropout_mask(layer, shape, dtype) -> np.ndarray:
    """keep / (1 - rate): Bernoulli(1 - rate) keeps, from the layer's generator."""
    generator = layer._rng()
    if layer._threshold16 is not None:
        keep = generator.integers(0, 65536, size=shape, dtype=np.uint16) >= layer._threshold16
    else:
        keep = generator.random(shape, dtype=np.float32 if dtype == np.float32 else np.float64) >= layer.rate
    mask = keep.astype(dtype)
    mask *= 1.0 / (1.0 - layer.rate)
    return mask


@am.replayable  # a captured training step (jit_compile) draws new noise on every replay
def _normal_noise(layer, stddev, offset, shape, dtype) -> np.ndarray:
    """offset + stddev * Normal(0, 1) of ``shape`` in ``dtype``, from the layer's generator."""
    noise = stddev * layer._rng().standard_normal(shape)
    if offset:
        noise = offset + noise
    return noise.astype(dtype)


@am.replayable  # a captured training step (jit_compile) draws new masks on every replay
def _alpha_masks(layer, shape, dtype, alpha_p) -> tuple:
    """(kept as 0/1, alpha' where dropped) of ``shape`` for AlphaDropout, from the layer's generator."""
    keep = layer._rng().random(shape) >= layer.rate
    kept = keep.astype(dtype)
    return kept, (alpha_p * (1.0 - kept)).astype(dtype)


class GaussianNoise(_Random):
    """Keras' GaussianNoise: inputs + Normal(0, stddev) in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if not stddev >= 0:
            raise ValueError(f"GaussianNoise: stddev must be >= 0, got {stddev!r}")
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        """inputs + noise in training, else inputs."""
        if not training or self.stddev == 0:
            return inputs
        return inputs + _normal_noise(self, self.stddev, 0.0, inputs.shape, inputs.dtype)

    def get_config(self):
        """Keras 3's GaussianNoise config."""
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_Random):
    """Keras' GaussianDropout: inputs * Normal(1, sqrt(rate / (1 - rate))) in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate("GaussianDropout", rate)

    def call(self, inputs, training=None):
        """inputs * noise in training, else inputs."""
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * _normal_noise(self, stddev, 1.0, inputs.shape, inputs.dtype)

    def get_config(self):
        """Keras 3's GaussianDropout config."""
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_Random):
    """Keras' AlphaDropout (for SELU networks): dropped inputs become alpha' = -alpha * scale,
    then a * x + b with a = ((1 - rate)(1 + rate alpha'^2))^-1/2, b = -a alpha' rate, so the
    mean and variance are kept."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate("AlphaDropout", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, inputs, training=None):
        """a * where(keep, x, alpha') + b in training, else inputs."""
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for n, s in zip(self.noise_shape, inputs.shape))
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        kept, dropped = _alpha_masks(self, shape, inputs.dtype, alpha_p)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return (inputs * kept + dropped) * a + b

    def get_config(self):
        """Keras 3's AlphaDropout config."""
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": noise_shape}


class ActivityRegularization(Layer):
    """Keras' ActivityRegularization: the identity, adding L1L2(l1, l2)(outputs) / batch size
    to ``losses``."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = float(l1), float(l2)

    def call(self, inputs, training=None):
        """inputs."""
        return inputs

    def get_config(self):
        """Keras 3's config: l1, l2 (the activity regularizer is implied)."""
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
