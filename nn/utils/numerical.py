"""Keras' numerical helpers on numpy arrays: ``to_categorical`` and ``normalize``."""

from __future__ import annotations

import numpy as np


def to_categorical(x, num_classes=None):
    """One-hot encode integer labels (Keras 3's rule): a trailing axis of size 1 is dropped,
    ``num_classes`` defaults to ``max(x) + 1``; the result has shape ``x.shape + (num_classes,)``
    and dtype float64, as Keras' numpy path returns it."""
    x = np.asarray(x)
    if x.dtype.kind not in "iub" and not (x.dtype.kind == "f" and np.all(x == np.round(x))):
        raise ValueError(f"to_categorical: x must hold integer class labels, got dtype {x.dtype}")
    x = x.astype(np.int64)
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = x.reshape(-1)
    if num_classes is None:
        if flat.size == 0:
            raise ValueError("to_categorical: x is empty; give num_classes")
        num_classes = int(flat.max()) + 1
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"to_categorical: num_classes must be a positive int, got {num_classes!r}")
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must be in [0, {num_classes}), got values in [{flat.min()}, {flat.max()}]"
        )
    out = np.zeros((flat.size, int(num_classes)))
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (int(num_classes),))


def normalize(x, axis=-1, order=2):
    """``x / ||x||_order`` along ``axis`` (zero norms count as 1, so zero rows stay zero)."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
