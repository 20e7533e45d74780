"""Keras 3's neural-network ops (``keras.ops.nn``): activations, one-hot encodings,
cross-entropies and normalization, composed from the core's differentiable ops.

The activations are ``nn.activations``' (one formula each); the cross-entropies follow
Keras' per-element forms (``keras/src/backend/*/nn.py``): probabilities clipped to
[1e-7, 1 - 1e-7], categorical outputs renormalised over ``axis`` first.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from .. import activations as _act
from ._convert import as_float, pair, plain, to_tensor

EPSILON = 1e-7


def relu(x):
    """max(x, 0)."""
    return _act.relu(as_float(x))


def relu6(x):
    """min(max(x, 0), 6)."""
    return _act.relu6(as_float(x))


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return _act.sigmoid(as_float(x))


def softplus(x):
    """log(1 + exp(x))."""
    return _act.softplus(as_float(x))


def softsign(x):
    """x / (1 + |x|)."""
    return _act.softsign(as_float(x))


def silu(x):
    """x * sigmoid(x)."""
    return _act.silu(as_float(x))


swish = silu


def log_sigmoid(x):
    """-softplus(-x)."""
    return _act.log_sigmoid(as_float(x))


def leaky_relu(x, negative_slope=0.2):
    """x if x > 0 else negative_slope * x."""
    return _act.leaky_relu(as_float(x), negative_slope)


def hard_sigmoid(x):
    """clip(x / 6 + 1/2, 0, 1)."""
    return _act.hard_sigmoid(as_float(x))


def hard_silu(x):
    """x * hard_sigmoid(x)."""
    return _act.hard_silu(as_float(x))


hard_swish = hard_silu


def elu(x, alpha=1.0):
    """x if x > 0 else alpha (exp(x) - 1)."""
    return _act.elu(as_float(x), alpha)


def selu(x):
    """scale * elu(x, alpha) with Keras' constants."""
    return _act.selu(as_float(x))


def gelu(x, approximate=True):
    """x * Phi(x); the tanh approximation by default (the ops' default, unlike the activation's)."""
    return _act.gelu(as_float(x), approximate=approximate)


def celu(x, alpha=1.0):
    """max(x, 0) + min(0, alpha (exp(x / alpha) - 1))."""
    return _act.celu(as_float(x), alpha)


def glu(x, axis=-1):
    """a * sigmoid(b), the halves of ``x`` along ``axis``."""
    return _act.glu(as_float(x), axis)


def tanh_shrink(x):
    """x - tanh(x)."""
    return _act.tanh_shrink(as_float(x))


def hard_tanh(x):
    """clip(x, -1, 1)."""
    return _act.hard_tanh(as_float(x))


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``."""
    return _act.softmax(as_float(x), axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    return _act.log_softmax(as_float(x), axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels as one-hot vectors along ``axis`` (float32; labels outside
    [0, num_classes) give a row of zeros, as Keras' backends do)."""
    if sparse:
        raise ValueError("one_hot: nn has no sparse tensors (sparse=True)")
    labels = plain(x).astype(np.int64)
    out = (labels[..., None] == np.arange(num_classes)).astype(np.dtype(dtype or np.float32))
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return am.as_tensor(out)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """One-hot vectors of the labels summed over the last input axis and clipped to 1."""
    num_classes = kwargs.pop("num_tokens", num_classes)
    labels = plain(inputs).astype(np.int64)
    if labels.ndim == 0:
        labels = labels[None]
    hot = (labels[..., None] == np.arange(num_classes)).any(axis=-2)
    out = hot.astype(np.dtype(dtype or np.float32))
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return am.as_tensor(out)


def _same_shape(target, output):
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -(t log p + (1 - t) log(1 - p)), p = clip(output or sigmoid(logits), eps, 1 - eps)."""
    output = as_float(output)
    target = to_tensor(target, output.dtype)
    _same_shape(target, output)
    p = am.sigmoid(output) if from_logits else output
    p = am.clip(p, EPSILON, 1.0 - EPSILON)
    return -(target * am.log(p) + (1.0 - target) * am.log(1.0 - p))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum(t log p) over ``axis``: p = log_softmax(logits), or output / sum(output) clipped to [eps, 1 - eps]."""
    output = as_float(output)
    target = to_tensor(target, output.dtype)
    _same_shape(target, output)
    if target.ndim < 1:
        raise ValueError(f"Arguments `target` and `output` must be at least rank 1. Received: {target.shape}")
    if from_logits:
        log_prob = am.log_softmax(output, axis=axis)
    else:
        p = output / am.sum(output, axis=axis, keepdims=True)
        log_prob = am.log(am.clip(p, EPSILON, 1.0 - EPSILON))
    return -am.sum(target * log_prob, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``categorical_crossentropy`` with integer labels (a trailing axis of 1 is dropped)."""
    output = as_float(output)
    labels = plain(target).astype(np.int64)
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != output.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={labels.shape}, output.shape={output.shape}"
        )
    hot = one_hot(labels, output.shape[axis], axis=axis, dtype=output.dtype)
    return categorical_crossentropy(hot, output, from_logits=from_logits, axis=axis)


def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) over ``axes``; variance = mean(x^2) - mean(x)^2 as Keras computes it."""
    t = as_float(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    mean = am.mean(t, axis=axes, keepdims=True)
    variance = am.maximum(am.mean(t * t, axis=axes, keepdims=True) - mean * mean, 0.0)
    if not keepdims:
        mean, variance = am.squeeze(mean, axes), am.squeeze(variance, axes)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics shaped along ``axis``."""
    t = as_float(x)
    axis %= t.ndim
    shape = [1] * t.ndim
    shape[axis] = t.shape[axis]

    def along(v):
        return am.reshape(to_tensor(v, t.dtype), tuple(shape))

    out = (t - along(mean)) / am.sqrt(along(variance) + epsilon)
    if scale is not None:
        out = out * along(scale)
    if offset is not None:
        out = out + along(offset)
    return out


def normalize(x, axis=-1, order=2, epsilon=None):
    """x / max(norm(x), epsilon) along ``axis`` (the 2-norm uses x / sqrt(max(sum x^2, eps^2)))."""
    t = as_float(x)
    eps = 1e-7 if epsilon is None else epsilon
    if order == 2:
        return t / am.sqrt(am.maximum(am.sum(t * t, axis=axis, keepdims=True), eps * eps))
    if order == 1:
        return t / am.maximum(am.sum(am.abs(t), axis=axis, keepdims=True), eps)
    raise ValueError(f"normalize: nn supports order 1 or 2, got {order!r}")


def dropout(inputs, rate, noise_shape=None, seed=None):
    """``nn.random.dropout``."""
    from ..random import dropout as _dropout

    return _dropout(inputs, rate, noise_shape=noise_shape, seed=seed)


def psnr(x1, x2, max_val):
    """20 log10(max_val) - 10 log10(mean((x1 - x2)^2))."""
    a, b = pair(x1, x2)
    mse = am.mean((a - b) * (a - b))
    return 20.0 * np.log10(max_val) - 10.0 * am.log(mse) / np.log(10.0)
