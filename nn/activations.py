"""Keras 3's activations (``keras.activations``) as functions of Tensors.

Each is built from the core's differentiable ops (so it is differentiable at every order),
except ``gelu``'s erf and ``sparsemax`` (``nn.activation_ops``). ``softmax`` and ``sigmoid``
mark their output with the logits (``out._keras_logits = x``), as Keras 3 does, so a
cross-entropy loss can work from the logits.
"""

from __future__ import annotations

import math

import numpy as np

import autograd_mini as am

from .activation_ops import erf, sparsemax

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _t(x):
    return x if isinstance(x, am.Tensor) else am.as_tensor(np.asarray(x))


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras' relu: x above ``threshold`` (else 0), clipped at ``max_value``, minus
    ``negative_slope * relu(threshold - x)``. Defaults: max(x, 0)."""
    x = _t(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0:
        return am.relu(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return am.leaky_relu(x, negative_slope)
    negative_part = None
    if negative_slope != 0.0:
        negative_part = am.relu(threshold - x) if threshold != 0 else am.relu(-x)
    out = am.where(x.data > threshold, x, x * 0.0) if threshold != 0 else am.relu(x)
    if max_value is not None:
        out = am.clip(out, 0.0, max_value)
    if negative_part is not None:
        out = out - negative_slope * negative_part
    return out


def leaky_relu(x, negative_slope=0.2):
    """x if x > 0 else negative_slope * x (the function form's default slope is 0.2)."""
    return am.leaky_relu(_t(x), negative_slope)


def relu6(x):
    """min(max(x, 0), 6)."""
    return am.clip(_t(x), 0.0, 6.0)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``; the output carries ``_keras_logits = x``."""
    x = _t(x)
    out = am.softmax(x, axis)
    out._keras_logits = x
    return out


def elu(x, alpha=1.0):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return am.elu(_t(x), alpha)


def selu(x):
    """scale * elu(x, alpha) with Keras' alpha=1.67326324..., scale=1.05070098..."""
    return _SELU_SCALE * am.elu(_t(x), _SELU_ALPHA)


def softplus(x):
    """log(1 + exp(x))."""
    return am.softplus(_t(x))


def softsign(x):
    """x / (1 + |x|)."""
    return am.softsign(_t(x))


def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, else 0."""
    x = _t(x)
    return x - am.clip(x, -threshold, threshold)


def sparse_plus(x):
    """0 for x <= -1, (x + 1)**2 / 4 for -1 < x < 1, x for x >= 1."""
    x = _t(x)
    inner = am.clip(x, -1.0, 1.0) + 1.0
    return am.where(x.data >= 1, x, 0.25 * inner * inner)


def silu(x):
    """x * sigmoid(x) (alias: swish)."""
    x = _t(x)
    return x * am.sigmoid(x)


def squareplus(x, b=4):
    """(x + sqrt(x**2 + b)) / 2."""
    x = _t(x)
    return 0.5 * (x + am.sqrt(x * x + b))


def gelu(x, approximate=False):
    """x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))); ``approximate=True``: Keras' tanh form
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))."""
    x = _t(x)
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * (x * x * x))
        return 0.5 * x * (1.0 + am.tanh(inner))
    return 0.5 * x * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))


def celu(x, alpha=1.0):
    """x for x >= 0, alpha * (exp(x / alpha) - 1) otherwise."""
    return alpha * am.elu(_t(x) * (1.0 / alpha), 1.0)


def glu(x, axis=-1):
    """a * sigmoid(b) with x split in two equal halves a, b along ``axis``."""
    x = _t(x)
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: axis {axis} must have an even size to split in two halves, got shape {x.shape}")
    axis = axis % x.ndim
    first = tuple([slice(None)] * axis + [slice(0, n // 2)])
    second = tuple([slice(None)] * axis + [slice(n // 2, n)])
    return x[first] * am.sigmoid(x[second])


def tanh(x):
    """tanh(x)."""
    return am.tanh(_t(x))


def tanh_shrink(x):
    """x - tanh(x)."""
    x = _t(x)
    return x - am.tanh(x)


def hard_tanh(x):
    """clip(x, -1, 1)."""
    return am.clip(_t(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    x = _t(x)
    return am.where(np.abs(x.data) > threshold, x, x * 0.0)


def threshold(x, threshold, default_value):
    """x where x > threshold, else ``default_value``."""
    x = _t(x)
    return am.where(x.data > threshold, x, x * 0.0 + default_value)


def sigmoid(x):
    """1 / (1 + exp(-x)); the output carries ``_keras_logits = x``."""
    x = _t(x)
    out = am.sigmoid(x)
    out._keras_logits = x
    return out


def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1) / 2 in between, 1 for x >= 1."""
    return am.clip(0.5 * (_t(x) + 1.0), 0.0, 1.0)


def exponential(x):
    """exp(x)."""
    return am.exp(_t(x))


def hard_sigmoid(x):
    """Keras 3: relu6(x + 3) / 6 = 0 below -3, 1 above 3, x / 6 + 0.5 in between."""
    return am.clip(_t(x) * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def hard_silu(x):
    """x * hard_sigmoid(x) (alias: hard_swish)."""
    x = _t(x)
    return x * hard_sigmoid(x)


def linear(x):
    """The identity."""
    return x


def mish(x):
    """x * tanh(softplus(x))."""
    x = _t(x)
    return x * am.tanh(am.softplus(x))


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    return am.log_softmax(_t(x), axis)


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    return -am.softplus(-_t(x))


_FUNCTIONS = (
    relu,
    leaky_relu,
    relu6,
    softmax,
    celu,
    elu,
    selu,
    softplus,
    softsign,
    squareplus,
    soft_shrink,
    sparse_plus,
    silu,
    gelu,
    glu,
    tanh,
    tanh_shrink,
    threshold,
    sigmoid,
    sparse_sigmoid,
    exponential,
    hard_sigmoid,
    hard_silu,
    hard_tanh,
    hard_shrink,
    linear,
    mish,
    log_softmax,
    log_sigmoid,
    sparsemax,
)
swish, hard_swish = silu, hard_silu
ALL_OBJECTS_DICT = {f.__name__: f for f in _FUNCTIONS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu


def serialize(activation) -> str:
    """The Keras name of a built-in activation ('relu', ...)."""
    for name, fn in ALL_OBJECTS_DICT.items():
        if fn is activation and name not in ("swish", "hard_swish"):
            return name
    raise ValueError(
        f"Unknown activation function {activation!r} cannot be serialized: "
        f"expected one of nn.activations' functions {sorted(ALL_OBJECTS_DICT)}"
    )


def deserialize(config):
    """The activation named by ``config`` (a name or Keras' {"class_name": "function", "config": name})."""
    if isinstance(config, dict):
        config = config.get("config")
    if not isinstance(config, str) or config not in ALL_OBJECTS_DICT:
        raise ValueError(f"Could not interpret activation function identifier: {config!r}")
    return ALL_OBJECTS_DICT[config]


def get(identifier):
    """An activation from None (linear), a name, a config dict or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def name_of(fn) -> str:
    """The Keras name of a built-in activation, else the callable's ``__name__``."""
    try:
        return serialize(fn)
    except ValueError:
        return getattr(fn, "__name__", repr(fn))
