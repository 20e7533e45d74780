"""Keras 3's reshaping layers: Reshape, Flatten."""

from __future__ import annotations

import math

from .layer import Layer


class Reshape(Layer):
    """Keras' Reshape: each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if sum(1 for d in target_shape if d == -1) > 1 or any(d != -1 and d <= 0 for d in target_shape):
            raise ValueError(f"Reshape: target_shape must hold positive ints and at most one -1, got {target_shape}")
        self.target_shape = target_shape

    def _resolved(self, sample_shape) -> tuple:
        if -1 not in self.target_shape:
            if None not in sample_shape and math.prod(sample_shape) != math.prod(self.target_shape):
                raise ValueError(
                    f"Reshape '{self.name}': cannot reshape samples of shape {tuple(sample_shape)} "
                    f"({math.prod(sample_shape)} values) to {self.target_shape}"
                )
            return self.target_shape
        if None in sample_shape:
            return tuple(None if d == -1 else d for d in self.target_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        total = math.prod(sample_shape)
        if total % known:
            raise ValueError(
                f"Reshape '{self.name}': cannot reshape samples of shape {tuple(sample_shape)} to {self.target_shape}"
            )
        return tuple(total // known if d == -1 else d for d in self.target_shape)

    def compute_output_shape(self, input_shape):
        """(batch,) + target_shape with -1 resolved."""
        return (input_shape[0],) + self._resolved(tuple(input_shape[1:]))

    def call(self, inputs, training=None):
        """inputs reshaped per sample."""
        return inputs.reshape((inputs.shape[0],) + self._resolved(inputs.shape[1:]))

    def get_config(self):
        """Keras 3's config: target_shape."""
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Flatten(Layer):
    """Keras' Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"Flatten: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
        self.data_format = data_format or "channels_last"

    def compute_output_shape(self, input_shape):
        """(batch, product of the other axes)."""
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def call(self, inputs, training=None):
        """inputs reshaped to (batch, -1) (channels_first: channels moved last first, as Keras)."""
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.transpose(0, *range(2, inputs.ndim), 1)
        return inputs.reshape(inputs.shape[0], -1)

    def get_config(self):
        """Keras 3's config: data_format."""
        return {**super().get_config(), "data_format": self.data_format}
