"""Weight penalties added to the training loss, with Keras 3's names, defaults and numbers.

L1: ``l1 * sum(|w|)``; L2: ``l2 * sum(w**2)`` (no 1/2); L1L2 both (defaults 0.0 and 0.0);
OrthogonalRegularizer: ``factor * 0.5 * sum|offdiag(N N^T)| / (n (n - 1) / 2)`` with N the
rows (or columns) of the weight scaled to unit norm.
"""

from __future__ import annotations

import math

import numpy as np

import autograd_mini as am


def _penalty(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float, got {name}={value!r}")
    if value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float, got {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: ``regularizer(weight)`` -> a scalar Tensor penalty."""

    def __call__(self, x):
        return 0.0

    def get_config(self) -> dict:
        """The constructor arguments."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """``cls(**config)``."""
        return cls(**config)


class L1(Regularizer):
    """``l1 * sum(|x|)``; Keras default l1=0.01."""

    def __init__(self, l1=0.01):
        self.l1 = _penalty(l1, "l1")

    def __call__(self, x):
        return self.l1 * am.abs(x).sum()

    def get_config(self):
        """Keras 3 config of ``L1``: ``{"l1": l1}``."""
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)``; Keras default l2=0.01."""

    def __init__(self, l2=0.01):
        self.l2 = _penalty(l2, "l2")

    def __call__(self, x):
        return self.l2 * (x * x).sum()

    def get_config(self):
        """Keras 3 config of ``L2``: ``{"l2": l2}``."""
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``; Keras 3 defaults l1=0.0, l2=0.0."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _penalty(l1, "l1"), _penalty(l2, "l2")

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * am.abs(x).sum()
        if self.l2:
            penalty = penalty + self.l2 * (x * x).sum()
        if isinstance(penalty, float):  # both zero: still a Tensor of x's dtype
            penalty = (x * 0.0).sum()
        return penalty

    def get_config(self):
        """Keras 3 config of ``L1L2``: ``{"l1": l1, "l2": l2}``."""
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Keras' OrthogonalRegularizer(factor=0.01, mode="rows") of a rank-2 weight: the mean
    absolute cosine between distinct rows (mode "rows") or columns ("columns"), times
    ``factor * 0.5``."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _penalty(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got {mode!r}")
        self.mode = mode

    def __call__(self, x):
        if len(x.shape) != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2, got inputs.shape={x.shape}")
        if self.mode == "columns":
            x = x.T
        norms = am.sqrt(am.maximum((x * x).sum(axis=1, keepdims=True), 1e-12))
        unit = x / norms
        product = unit @ unit.T
        size = x.shape[0]
        off_diagonal = product * (1.0 - np.eye(size, dtype=x.dtype))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * am.abs(off_diagonal).sum() / pairs

    def get_config(self):
        """Keras 3 config of ``OrthogonalRegularizer``: ``{"factor": factor, "mode": mode}``."""
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = (L1, L2, L1L2, OrthogonalRegularizer)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update(
    {"l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}
)


def serialize(regularizer) -> dict | None:
    """Keras 3's form: {"module": "keras.regularizers", "class_name", "config", "registered_name"}."""
    if regularizer is None:
        return None
    if type(regularizer) not in _CLASSES:
        raise ValueError(f"regularizers.serialize: expected one of nn's regularizers, got {regularizer!r}")
    return {
        "module": "keras.regularizers",
        "class_name": type(regularizer).__name__,
        "config": regularizer.get_config(),
        "registered_name": None,
    }


def deserialize(config):
    """A regularizer from ``serialize``'s dict or a name; only nn's own classes."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict):
        raise ValueError(f"regularizers.deserialize: expected a dict, got {config!r}")
    if "class_name" not in config:  # the bare {"l1": ..., "l2": ...} form
        return L1L2(**config)
    cls = ALL_OBJECTS_DICT.get(config["class_name"])
    if cls is None:
        raise ValueError(
            f"regularizers.deserialize: unknown regularizer {config['class_name']!r}; "
            f"expected one of {[c.__name__ for c in _CLASSES]}"
        )
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """A regularizer from None, a name ('l1', 'l2', 'l1_l2', 'orthogonal_regularizer'), a
    config dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier)
        if cls is None:
            raise ValueError(
                f"Could not interpret regularizer identifier: {identifier!r}; "
                "expected 'l1', 'l2', 'l1_l2', 'orthogonal_regularizer' or an instance"
            )
        return cls()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")
