"""Keras 3's ``keras.random``: random draws and the stateful ``SeedGenerator``.

The ``seed`` argument follows Keras: ``None`` draws from nn's global generator (seeded by
``nn.utils.set_random_seed``); an int is stateless (the same values every call); a
``SeedGenerator`` gives new values each call and keeps its position in a non-trainable
variable, ``state = [seed, counter]``, so saving and restoring that variable resumes the
stream exactly (each draw uses numpy's generator seeded with ``(seed, counter)``; the
counter advances by one per draw). The numbers are numpy's, not JAX's or TensorFlow's.
"""

from __future__ import annotations

import random as _python_random

import numpy as np

import autograd_mini as am

from .module import Parameter
from .ops._convert import as_float, plain
from .utils import rng as _global_rng
from .utils import unique_name

_FLOATX = np.dtype(np.float32)


class SeedGenerator:
    """Keras' ``SeedGenerator(seed=None, name=None)``: a seed that advances on every draw.

    ``state`` is a non-trainable variable ``[seed, counter]`` (float64, exact for seeds
    below 2^53); ``next()`` returns the current pair and advances the counter.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or unique_name("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = _python_random.randint(1, int(1e9))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self.state = Parameter(np.array([int(seed), 0], dtype=np.float64), name="seed_generator_state", trainable=False)
        self.state.requires_grad = False

    def next(self, ordered=True) -> tuple[int, int]:
        """The current (seed, counter); the counter then advances by one."""
        seed, counter = (int(v) for v in self.state.data)
        self.state.assign(np.array([seed, counter + 1], dtype=np.float64))
        return seed, counter

    def get_state(self) -> np.ndarray:
        """A copy of the state ``[seed, counter]`` (float64)."""
        return np.array(self.state.data, dtype=np.float64, copy=True)

    def set_state(self, state) -> None:
        """Continue from ``state = [seed, counter]`` (two non-negative integers below 2^53)."""
        self.state.assign(self.checked_state(state))

    def checked_state(self, state) -> np.ndarray:
        """``state`` as float64 ``[seed, counter]``, or a ValueError saying what is wrong (nothing changes)."""
        value = np.asarray(state)
        if value.shape != (2,) or value.dtype.kind not in "fiu":
            raise ValueError(
                f"SeedGenerator '{self.name}': state must be 2 numbers [seed, counter], got shape "
                f"{value.shape} dtype {value.dtype}"
            )
        value = value.astype(np.float64)
        if not (np.all(np.isfinite(value)) and np.all(value >= 0) and np.all(value < 2.0**53)) or np.any(
            value != np.floor(value)
        ):
            raise ValueError(
                f"SeedGenerator '{self.name}': state must be two non-negative integers below 2^53, got {value.tolist()}"
            )
        return value

    def generator(self) -> np.random.Generator:
        """A numpy generator for the next draw (advances the state)."""
        return np.random.default_rng(list(self.next()))

    def get_config(self) -> dict:
        """{'seed': the seed given (None if none), 'name'}."""
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        """``cls(**config)``."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} state={self.state.data.astype(np.int64).tolist()}>"


def draw_generator(seed) -> np.random.Generator:
    """The numpy generator a draw with this ``seed`` uses (None, an int, or a SeedGenerator)."""
    if seed is None:
        return _global_rng()
    if isinstance(seed, SeedGenerator):
        return seed.generator()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be None, an int or a SeedGenerator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _float_dtype(dtype) -> np.dtype:
    dtype = _FLOATX if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"expected a float dtype, got {dtype}")
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws of ``shape`` (float32 by default)."""
    g = draw_generator(seed)
    values = g.standard_normal(_shape(shape)) * stddev + mean
    return am.as_tensor(values.astype(_float_dtype(dtype)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform draws in [minval, maxval); an integer ``dtype`` gives integers in that range."""
    g = draw_generator(seed)
    dtype = _FLOATX if dtype is None else np.dtype(dtype)
    if dtype.kind in "iu":
        return am.as_tensor(g.integers(int(minval), int(maxval), _shape(shape)).astype(dtype))
    values = g.random(_shape(shape)) * (maxval - minval) + minval
    return am.as_tensor(values.astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws within two standard deviations (others drawn again), as Keras."""
    g = draw_generator(seed)
    size = _shape(shape)
    values = g.standard_normal(size)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = g.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2.0
    return am.as_tensor((values * stddev + mean).astype(_float_dtype(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers in [minval, maxval)."""
    g = draw_generator(seed)
    return am.as_tensor(g.integers(int(minval), int(maxval), _shape(shape)).astype(np.dtype(dtype)))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """inputs * keep / (1 - rate), keep drawn with probability 1 - rate (broadcast from
    ``noise_shape``); the gradient is keep / (1 - rate)."""
    x = as_float(inputs)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate!r}")
    shape = (
        x.shape if noise_shape is None else tuple(d if d is not None else x.shape[i] for i, d in enumerate(noise_shape))
    )
    keep = draw_generator(seed).random(shape) >= rate
    scale = (keep / (1.0 - rate)).astype(x.dtype)
    return x * am.as_tensor(scale)


def shuffle(x, axis=0, seed=None):
    """``x`` permuted along ``axis`` (a gather: the gradient goes back to each place)."""
    from .ops.numpy import take

    n = np.shape(plain(x))[axis]
    return take(x, draw_generator(seed).permutation(n), axis=axis)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class indices per row drawn from softmax(logits) (2-d logits)."""
    z = np.asarray(plain(logits), dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"categorical: logits must be 2-d (batch, classes), got shape {z.shape}")
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = draw_generator(seed).random((z.shape[0], int(num_samples)))
    cdf = np.cumsum(p, axis=1)
    out = np.minimum((u[:, :, None] >= cdf[:, None, :]).sum(axis=2), z.shape[1] - 1)
    return am.as_tensor(out.astype(np.dtype(dtype)))


def gamma(shape, alpha, dtype=None, seed=None):
    """Gamma(alpha, 1) draws."""
    return am.as_tensor(draw_generator(seed).gamma(alpha, 1.0, _shape(shape)).astype(_float_dtype(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Binomial(counts, probabilities) draws (as floats, Keras' default dtype)."""
    values = draw_generator(seed).binomial(plain(counts), plain(probabilities), _shape(shape))
    return am.as_tensor(values.astype(_float_dtype(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Beta(alpha, beta) draws."""
    values = draw_generator(seed).beta(plain(alpha), plain(beta), _shape(shape))
    return am.as_tensor(values.astype(_float_dtype(dtype)))


__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]
