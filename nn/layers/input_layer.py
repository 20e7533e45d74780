"""``Input`` and ``InputLayer``: the symbolic start of a model (Keras' ``keras.Input``).

``KerasTensor`` is the symbolic placeholder that the functional API passes between layers:
calling a layer on one records the call instead of computing (see ``nn.models.functional``).
"""

from __future__ import annotations

import numpy as np

from ..utils import unique_name


class KerasTensor:
    """A symbolic tensor: a shape (batch axis first, None when unknown) and a dtype, no data."""

    def __init__(self, shape, dtype="float32", name: str | None = None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.name = name


class Input:
    """``Input(shape)``: declares the per-sample input shape (not a layer of ``model.layers``)."""

    def __init__(self, shape, name: str | None = None, dtype="float32"):
        self.shape = (None,) + tuple(shape)
        self.name = name or unique_name("input_layer")
        self.dtype = np.dtype(dtype)


class InputLayer(Input):
    pass
