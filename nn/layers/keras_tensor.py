"""``KerasTensor``: the symbolic placeholder the functional API passes between layers."""

from __future__ import annotations

import numpy as np


class KerasTensor:
    """A symbolic tensor: ``shape`` (batch axis first, None when unknown), ``dtype``, ``name``, and
    ``_keras_history`` = (layer, node_index, tensor_index) of the call that produced it."""

    _is_keras_tensor = True

    def __init__(self, shape, dtype="float32", name: str | None = None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.name = name
        self._keras_history = None

    @property
    def ndim(self) -> int:
        """The rank, batch axis included."""
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"
