"""Weight initializers with Keras 3's names, arguments, defaults and formulas.

fan_in / fan_out of a shape: () -> 1, 1; (n,) -> n, n; (a, b) -> a, b; (..., a, b) -> a * r,
b * r with r the product of the leading axes (Keras' ``compute_fans``). Randomness comes from
``nn.utils.rng()``; an initializer given an int ``seed`` draws from its own generator seeded
afresh on each call, so it returns the same values every time (as Keras' seeded ones do).
"""

from __future__ import annotations

import math

import numpy as np

from . import utils

_TRUNCATION_CORRECTION = 0.87962566103423978  # stddev of a unit normal truncated to [-2, 2]


def compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape, as Keras computes them."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _returning_tensor(call):
    import functools

    import autograd_mini as am

    @functools.wraps(call)
    def wrapped(self, shape, dtype=None, **kwargs):
        out = call(self, shape, dtype, **kwargs) if not kwargs else call(self, shape, dtype=dtype, **kwargs)
        return out if isinstance(out, am.Tensor) else am.as_tensor(np.asarray(out))

    wrapped._returns_tensor = True
    return wrapped


def _dtype(dtype):
    return np.dtype(np.float32 if dtype is None else dtype)


class Initializer:
    """Base class: ``initializer(shape, dtype=None)`` -> a Tensor (dtype None: float32), as
    Keras 3 returns a backend tensor (``float(init(shape=(1, 1)))`` works). Subclasses write
    ``__call__`` returning an array; the base wraps it."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is not None and not getattr(call, "_returns_tensor", False):
            cls.__call__ = _returning_tensor(call)

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor arguments."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """``cls(**config)``."""
        return cls(**config)

    def clone(self):
        """A fresh initializer with the same config."""
        return type(self).from_config(self.get_config())


class _Seeded(Initializer):
    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise ValueError(f"{type(self).__name__}: seed must be None or an int, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def _rng(self) -> np.random.Generator:
        return utils.rng() if self.seed is None else np.random.default_rng(self.seed)

    def get_config(self) -> dict:
        """Keras 3 config of a seeded initializer: ``{"seed": seed}``."""
        return {"seed": self.seed}


def _truncated_normal(generator, shape, mean, stddev, dtype):
    """Normal(mean, stddev) with draws beyond two standard deviations drawn again (Keras)."""
    values = generator.standard_normal(shape)
    bad = np.abs(values) > 2
    while bad.any():
        values[bad] = generator.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2
    return (mean + stddev * values).astype(_dtype(dtype))


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, _dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(shape, _dtype(dtype))


class Constant(Initializer):
    """All ``value`` (Keras default 0.0)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, _dtype(dtype))

    def get_config(self):
        """Keras 3 config of ``Constant``: ``{"value": value}``."""
        return {"value": self.value}


class RandomNormal(_Seeded):
    """Normal(mean, stddev); Keras defaults mean=0.0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return (self.mean + self.stddev * self._rng().standard_normal(shape)).astype(_dtype(dtype))

    def get_config(self):
        """Keras 3 config: ``{"seed": seed, "mean": mean, "stddev": stddev}``."""
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(_Seeded):
    """Normal(mean, stddev) truncated at two standard deviations (redrawn); mean=0.0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return _truncated_normal(self._rng(), shape, self.mean, self.stddev, dtype)

    def get_config(self):
        """Keras 3 config: ``{"seed": seed, "mean": mean, "stddev": stddev}``."""
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class RandomUniform(_Seeded):
    """Uniform(minval, maxval); Keras defaults minval=-0.05, maxval=0.05."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return self._rng().uniform(self.minval, self.maxval, shape).astype(_dtype(dtype))

    def get_config(self):
        """Keras 3 config of ``RandomUniform``: ``{"seed": seed, "minval": minval, "maxval": maxval}``."""
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(_Seeded):
    """Keras' VarianceScaling: n = fan_in, fan_out or their mean (``mode``); s = scale / max(1, n);
    "truncated_normal": stddev sqrt(s) / 0.87962566103423978 truncated at 2 stddev;
    "untruncated_normal": stddev sqrt(s); "uniform": U(-sqrt(3 s), sqrt(3 s))."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale!r}")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {list(self._MODES)}, got {mode!r}")
        distribution = distribution.lower() if isinstance(distribution, str) else distribution
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: distribution must be one of {list(self._DISTRIBUTIONS)}, got {distribution!r}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        generator = self._rng()
        if self.distribution == "truncated_normal":
            return _truncated_normal(generator, shape, 0.0, math.sqrt(scale) / _TRUNCATION_CORRECTION, dtype)
        if self.distribution == "untruncated_normal":
            return (math.sqrt(scale) * generator.standard_normal(shape)).astype(_dtype(dtype))
        limit = math.sqrt(3.0 * scale)
        return generator.uniform(-limit, limit, shape).astype(_dtype(dtype))

    def get_config(self):
        """Keras 3 config of ``VarianceScaling``: ``{"seed", "scale", "mode", "distribution"}``."""
        return {"seed": self.seed, "scale": self.scale, "mode": self.mode, "distribution": self.distribution}


def _preset(class_name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self):
        """Keras 3 config of a preset (Glorot, He, Lecun): ``{"seed": seed}`` only."""
        return {"seed": self.seed}

    return type(class_name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform", "U(-l, l), l = sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _preset(
    "GlorotNormal",
    1.0,
    "fan_avg",
    "truncated_normal",
    "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)) / 0.8796.",
)
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "U(-l, l), l = sqrt(6 / fan_in).")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal, stddev sqrt(2 / fan_in) / 0.8796.")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "U(-l, l), l = sqrt(3 / fan_in).")
LecunNormal = _preset(
    "LecunNormal", 1.0, "fan_in", "truncated_normal", "Truncated normal, stddev sqrt(1 / fan_in) / 0.8796."
)


class Orthogonal(_Seeded):
    """gain * Q of the QR decomposition of a normal (rows, cols) matrix, signs fixed by diag(R);
    rows = prod(shape[:-1]), cols = shape[-1] (transposed when rows < cols). Needs 2+ dims."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the shape must have at least 2 dimensions, got shape={shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        """Keras 3 config of ``Orthogonal``: ``{"seed": seed, "gain": gain}``."""
        return {"seed": self.seed, "gain": self.gain}


class Identity(Initializer):
    """gain * the identity matrix (2-D shapes only; rectangular ones get ones on the diagonal)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity: the shape must be 2-D, got shape={shape}")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        """Keras 3 config of ``Identity``: ``{"gain": gain}``."""
        return {"gain": self.gain}


def _snake(name: str) -> str:
    return utils.snake_case(name)


_CLASSES = (
    Zeros,
    Ones,
    Constant,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    Orthogonal,
    Identity,
)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({_snake(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update(
    {
        "normal": RandomNormal,
        "uniform": RandomUniform,
        "one": Ones,
        "zero": Zeros,
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
    }
)

# lower-case aliases as Keras exports them
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def serialize(initializer) -> dict:
    """Keras 3's form: {"module": "keras.initializers", "class_name", "config", "registered_name"}."""
    if not isinstance(initializer, Initializer) or type(initializer).__name__ not in ALL_OBJECTS_DICT:
        raise ValueError(f"initializers.serialize: expected one of nn's initializers, got {initializer!r}")
    return {
        "module": "keras.initializers",
        "class_name": type(initializer).__name__,
        "config": initializer.get_config(),
        "registered_name": None,
    }


def deserialize(config):
    """An initializer from ``serialize``'s dict (or a name); only nn's own classes."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"initializers.deserialize: expected a dict with 'class_name', got {config!r}")
    cls = ALL_OBJECTS_DICT.get(config["class_name"])
    if cls is None:
        raise ValueError(
            f"initializers.deserialize: unknown initializer {config['class_name']!r}; "
            f"expected one of {sorted(c.__name__ for c in _CLASSES)}"
        )
    inner = dict(config.get("config") or {})
    for key in ("input_axes", "output_axes"):  # Keras 3.1x: fan axes of einsum kernels; nn's are (in, out)
        if inner.get(key, "given") is None:
            del inner[key]
    return cls.from_config(inner)


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'GlorotUniform', ...), a config dict, an
    instance, a class or a callable ``(shape, dtype) -> array`` (Keras' ``initializers.get``)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier)
        if cls is None:
            raise ValueError(
                f"Could not interpret initializer identifier: {identifier!r}; "
                f"expected one of {sorted(k for k in ALL_OBJECTS_DICT if k[0].islower())}"
            )
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def name_of(init) -> str:
    """The snake-case Keras name of an initializer instance."""
    return _snake(type(init).__name__)
