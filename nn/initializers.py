"""Weight initializers with Keras names and formulas (fan_in, fan_out of a (in, out) kernel)."""

from __future__ import annotations

import numpy as np

from .utils import rng


def _fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(shape, stddev, dtype):
    # Keras' truncated normal: redraw values beyond two standard deviations
    values = rng().standard_normal(shape)
    bad = np.abs(values) > 2
    while bad.any():
        values[bad] = rng().standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2
    return (values * stddev).astype(dtype)


class Initializer:
    def __call__(self, shape, dtype=np.float32):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {k: v for k, v in vars(self).items()}


class Zeros(Initializer):
    def __call__(self, shape, dtype=np.float32):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype=np.float32):
        return np.ones(shape, dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=np.float32):
        return np.full(shape, self.value, dtype)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=np.float32):
        return (self.mean + self.stddev * rng().standard_normal(shape)).astype(dtype)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05):
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=np.float32):
        return rng().uniform(self.minval, self.maxval, shape).astype(dtype)


class GlorotUniform(Initializer):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""

    def __call__(self, shape, dtype=np.float32):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng().uniform(-limit, limit, shape).astype(dtype)


class GlorotNormal(Initializer):
    """Truncated normal, stddev = sqrt(2 / (fan_in + fan_out)) / 0.8796 (Keras' correction)."""

    def __call__(self, shape, dtype=np.float32):
        fan_in, fan_out = _fans(shape)
        return _truncated_normal(shape, np.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978, dtype)


class HeUniform(Initializer):
    """U(-limit, limit), limit = sqrt(6 / fan_in)."""

    def __call__(self, shape, dtype=np.float32):
        fan_in, _ = _fans(shape)
        limit = np.sqrt(6.0 / fan_in)
        return rng().uniform(-limit, limit, shape).astype(dtype)


class HeNormal(Initializer):
    """Truncated normal, stddev = sqrt(2 / fan_in) / 0.8796."""

    def __call__(self, shape, dtype=np.float32):
        fan_in, _ = _fans(shape)
        return _truncated_normal(shape, np.sqrt(2.0 / fan_in) / 0.87962566103423978, dtype)


_BY_NAME = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
}


def get(identifier) -> Initializer:
    """An initializer from a name ('glorot_uniform', ...), an instance, or a callable."""
    if isinstance(identifier, Initializer) or callable(identifier) and not isinstance(identifier, str):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"unknown initializer {identifier!r}; expected one of {sorted(_BY_NAME)}")


def name_of(init) -> str:
    for name, cls in _BY_NAME.items():
        if type(init) is cls:
            return name
    return type(init).__name__
