"""Global pooling over the steps axis: Keras 3's ``GlobalAveragePooling1D`` / ``GlobalMaxPooling1D``."""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from .layer import Layer


class _GlobalPooling1D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{type(self).__name__}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}"
            )
        self.data_format = data_format
        self.keepdims = bool(keepdims)

    @property
    def _steps_axis(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects 3-d inputs (batch, steps, features), got {input_shape}"
            )
        shape = list(input_shape)
        if self.keepdims:
            shape[self._steps_axis] = 1
        else:
            del shape[self._steps_axis]
        return tuple(shape)

    def get_config(self) -> dict:
        """Keras' keys: data_format, keepdims."""
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over the steps axis (masked steps excluded when a ``mask`` (batch, steps) is given)."""

    def call(self, inputs, mask=None):
        """mean(inputs) over the steps axis; with a mask, sum(inputs mask) / sum(mask)."""
        axis = self._steps_axis
        if mask is None:
            return am.mean(inputs, axis=axis, keepdims=self.keepdims)
        weights = np.asarray(mask.data if isinstance(mask, am.Tensor) else mask, dtype=inputs.dtype)
        weights = np.expand_dims(weights, 2 if axis == 1 else 1)
        total = am.sum(inputs * am.as_tensor(weights), axis=axis, keepdims=self.keepdims)
        return total / am.as_tensor(np.sum(weights, axis=axis, keepdims=self.keepdims))


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over the steps axis."""

    def call(self, inputs):
        """max(inputs) over the steps axis."""
        return am.max(inputs, axis=self._steps_axis, keepdims=self.keepdims)
