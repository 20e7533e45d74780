"""Activations by name (Keras names), as functions of Tensors."""

from __future__ import annotations

import autograd_mini as am


def linear(x):
    return x


def sigmoid(x):
    return am.sigmoid(x)


def tanh(x):
    return am.tanh(x)


def relu(x):
    return am.relu(x)


def leaky_relu(x, negative_slope=0.2):
    """Keras' default negative slope is 0.2."""
    return am.leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    return am.elu(x, alpha)


def softplus(x):
    return am.softplus(x)


def softmax(x, axis=-1):
    return am.softmax(x, axis)


_BY_NAME = {f.__name__: f for f in (linear, sigmoid, tanh, relu, leaky_relu, elu, softplus, softmax)}


def get(identifier):
    """An activation from a name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(f"unknown activation {identifier!r}; expected one of {sorted(_BY_NAME)}")


def name_of(fn) -> str:
    return getattr(fn, "__name__", repr(fn))
