"""nn's op table: the fused ops and activations ``nn`` defines on the core's ``Function``
mechanism, held to the same finite-difference standard (``op_harness.py``)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from loss_op_rows import LOSS_OPS
from op_harness import MAX_SIDE, Op

import nn
from autograd_mini.testing import arrays, shapes


def _draw_dense(data):
    """x (n, k) or (b, n, k), kernel (k, m), bias (m,), an activation; relu pre-activations kept off 0."""
    batch = data.draw(st.lists(st.integers(1, MAX_SIDE), min_size=1, max_size=2))
    k, m = data.draw(st.integers(1, MAX_SIDE)), data.draw(st.integers(1, MAX_SIDE))
    x, kernel, bias = data.draw(arrays((*batch, k))), data.draw(arrays((k, m))), data.draw(arrays((m,)))
    activation = data.draw(st.sampled_from(["linear", "relu", "tanh", "sigmoid"]))
    if activation == "relu":
        assume(np.all(np.abs(x @ kernel + bias) > 1e-3))
    return [x, kernel, bias], {"activation": activation}


def _dense_ref(x, kernel, bias, activation):
    z = x @ kernel + bias
    return {"linear": z, "relu": np.maximum(z, 0), "tanh": np.tanh(z), "sigmoid": 1 / (1 + np.exp(-z))}[activation]


def _draw_cross_entropy(data):
    """logits and (unnormalized, positive) targets of one shape, classes on the last axis."""
    shape = data.draw(shapes(min_dims=1, max_side=MAX_SIDE))
    return [data.draw(arrays(shape)), data.draw(arrays(shape, low=0.1, high=1.0))], {}


def _cross_entropy_ref(z, y):
    log_p = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    return np.asarray(-np.sum(y * log_p) / max(1, z.size // z.shape[-1]))


NN_OPS = [
    # nn's fused ops are built on the same Function mechanism and held to the same standard
    Op("nn.dense", nn.dense, _dense_ref, _draw_dense, covers=()),
    Op(
        "nn.softmax_cross_entropy",
        nn.fused_cross_entropy.softmax_cross_entropy,
        _cross_entropy_ref,
        _draw_cross_entropy,
        covers=(),
    ),
    # losses (rows in loss_op_rows.py)
    *LOSS_OPS,
]


# layers and activations
def _act(fn, ref, avoid=(0.0,), low=-3.0, high=3.0, **options):
    """A row for an elementwise activation: inputs in [low, high], 1e-3 away from its kinks."""

    def draw(data):
        shape = data.draw(shapes(max_dims=2, max_side=3))  # elementwise: small shapes say it all
        return [data.draw(arrays(shape, low=low, high=high, avoid=avoid))], {}

    return (lambda x: fn(x, **options)), ref, draw


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _softmax_ref(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sparsemax_ref(x, axis):
    moved = np.moveaxis(x, axis, -1)
    z = -np.sort(-moved, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    cumulative = np.cumsum(z, axis=-1)
    k_z = (1 + k * z > cumulative).sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, k_z - 1, axis=-1) - 1) / k_z
    return np.moveaxis(np.maximum(moved - tau, 0), -1, axis), np.moveaxis(moved - tau, -1, axis)


def _draw_axis(check=None):
    def draw(data):
        shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=3))
        x = data.draw(arrays(shape))
        axis = data.draw(st.integers(-len(shape), len(shape) - 1))
        if check is not None:
            assume(check(x, axis))
        return [x], {"axis": axis}

    return draw


def _draw_glu(data):
    shape = list(data.draw(shapes(min_dims=1, max_dims=2, max_side=2)))
    shape[-1] *= 2
    return [data.draw(arrays(tuple(shape)))], {}


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_A = nn.activations
_ACTIVATION_ROWS = {
    "relu": _act(_A.relu, lambda x: np.maximum(x, 0)),
    "relu_options": _act(
        _A.relu,
        lambda x: np.minimum(np.where(x > 0.5, x, 0), 2.0) - 0.1 * np.maximum(0.5 - x, 0),
        avoid=(0.5, 2.0),
        negative_slope=0.1,
        max_value=2.0,
        threshold=0.5,
    ),
    "relu_max_value": _act(_A.relu, lambda x: np.clip(x, 0, 1.5), avoid=(0.0, 1.5), max_value=1.5),
    "leaky_relu": _act(_A.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    "relu6": _act(_A.relu6, lambda x: np.clip(x, 0, 6), avoid=(0.0, 6.0), low=-8.0, high=8.0),
    "elu": _act(_A.elu, _elu),
    "selu": _act(_A.selu, lambda x: _SELU_SCALE * _elu(x, _SELU_ALPHA)),
    "softplus": _act(_A.softplus, _softplus, avoid=()),
    "softsign": _act(_A.softsign, lambda x: x / (1 + np.abs(x))),
    "soft_shrink": _act(
        _A.soft_shrink, lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)), avoid=(-0.5, 0.5)
    ),
    "sparse_plus": _act(
        _A.sparse_plus, lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)), avoid=(-1.0, 1.0)
    ),
    "silu": _act(_A.silu, lambda x: x * _sigmoid(x), avoid=()),
    "squareplus": _act(_A.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2, avoid=()),
    "gelu": _act(_A.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), avoid=()),
    "gelu_approximate": _act(
        _A.gelu,
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
        avoid=(),
        approximate=True,
    ),
    "celu": _act(_A.celu, lambda x: np.where(x > 0, x, 0.7 * np.expm1(np.minimum(x, 0) / 0.7)), alpha=0.7),
    "tanh": _act(_A.tanh, np.tanh, avoid=()),
    "tanh_shrink": _act(_A.tanh_shrink, lambda x: x - np.tanh(x), avoid=()),
    "hard_tanh": _act(_A.hard_tanh, lambda x: np.clip(x, -1, 1), avoid=(-1.0, 1.0)),
    "hard_shrink": _act(_A.hard_shrink, lambda x: np.where(np.abs(x) > 0.5, x, 0.0), avoid=(-0.5, 0.5)),
    "threshold": _act(
        _A.threshold, lambda x: np.where(x > 0.3, x, -1.0), avoid=(0.3,), threshold=0.3, default_value=-1.0
    ),
    "sigmoid": _act(_A.sigmoid, _sigmoid, avoid=()),
    "sparse_sigmoid": _act(_A.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1), avoid=(-1.0, 1.0)),
    "exponential": _act(_A.exponential, np.exp, avoid=()),
    "hard_sigmoid": _act(_A.hard_sigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), avoid=(-3.0, 3.0), low=-5.0, high=5.0),
    "hard_silu": _act(_A.hard_silu, lambda x: x * np.clip(x / 6 + 0.5, 0, 1), avoid=(-3.0, 3.0), low=-5.0, high=5.0),
    "linear": _act(lambda x: x * 1.0, lambda x: x, avoid=()),
    "mish": _act(_A.mish, lambda x: x * np.tanh(_softplus(x)), avoid=()),
    "log_sigmoid": _act(_A.log_sigmoid, lambda x: -_softplus(-x), avoid=()),
}

_ACTIVATION_ROWS["erf"] = _act(nn.activation_ops.erf, _erf, avoid=())
_ACTIVATION_ROWS["softmax"] = (_A.softmax, _softmax_ref, _draw_axis())
_ACTIVATION_ROWS["log_softmax"] = (_A.log_softmax, lambda x, axis: np.log(_softmax_ref(x, axis)), _draw_axis())
_ACTIVATION_ROWS["sparsemax"] = (
    _A.sparsemax,
    lambda x, axis: _sparsemax_ref(x, axis)[0],
    _draw_axis(lambda x, axis: np.all(np.abs(_sparsemax_ref(x, axis)[1]) > 1e-3)),  # off the support's edges
)
_ACTIVATION_ROWS["glu"] = (
    _A.glu,
    lambda x: x[..., : x.shape[-1] // 2] * _sigmoid(x[..., x.shape[-1] // 2 :]),
    _draw_glu,
)


def _group(names):
    """One table row for several activations: each example draws which one it checks (a row
    each would cost the suite ~2 minutes; grouped, every activation still gets ~6 examples)."""

    def draw(data):
        name = data.draw(st.sampled_from(names))
        args, kwargs = _ACTIVATION_ROWS[name][2](data)
        return args, {**kwargs, "activation": name}

    return (
        lambda x, activation, **kw: _ACTIVATION_ROWS[activation][0](x, **kw),
        lambda x, activation, **kw: _ACTIVATION_ROWS[activation][1](x, **kw),
        draw,
    )


_GROUPS = {
    "relu_family": ["relu", "relu_options", "relu_max_value", "leaky_relu", "relu6", "elu", "selu", "celu"],
    "piecewise": ["soft_shrink", "sparse_plus", "hard_tanh", "hard_shrink", "threshold", "sparse_sigmoid"],
    "hard_and_tanh": ["hard_sigmoid", "hard_silu", "tanh", "tanh_shrink", "sigmoid", "exponential", "linear"],
    "smooth": ["softplus", "softsign", "silu", "squareplus", "mish", "log_sigmoid"],
    "gelu": ["gelu", "gelu_approximate", "erf"],
    "along_axis": ["softmax", "log_softmax", "sparsemax", "glu"],
}
assert sorted(n for g in _GROUPS.values() for n in g) == sorted(_ACTIVATION_ROWS), "every activation in one group"
NN_OPS += [Op(f"nn.activations[{group}]", *_group(names), covers=()) for group, names in _GROUPS.items()]
