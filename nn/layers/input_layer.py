"""``Input`` and ``InputLayer``: the symbolic start of a model (Keras' ``keras.Input``).

``Input(shape)`` returns a ``KerasTensor``: a placeholder with a shape (batch axis first, None
when unknown) and a dtype, no data. Calling a layer on KerasTensors records the call instead of
computing it (``nn.symbolic.symbolic_call``); ``Model(inputs, outputs)`` then runs the
recorded graph on data.
"""

from __future__ import annotations

import numpy as np

from ..symbolic import KerasTensor, record_input
from ..utils import unique_name
from .layer import Layer


def standardize_shape(shape, what: str = "shape") -> tuple:
    """Keras' rule: a tuple/list of ints or None; an int or None is refused (``Input(4)`` raises,
    ``Input((4,))`` and ``Input([4])`` are the same)."""
    if shape is None:
        raise ValueError(f"{what}: undefined shapes are not supported; give a tuple such as (4,)")
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise ValueError(f"{what}: cannot convert {shape!r} to a shape; give a tuple such as ({shape!r},)")
    out = []
    for dim in shape:
        if dim is None:
            out.append(None)
        elif isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) and dim >= 0:
            out.append(int(dim))
        else:
            raise ValueError(f"{what}: dimensions must be non-negative ints or None, got {tuple(shape)!r}")
    return tuple(out)


class InputLayer(Layer):
    """The layer behind ``Input``: no weights; its output is the model's input placeholder."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, **kwargs):
        kwargs.pop("sparse", None)
        kwargs.pop("optional", None)
        kwargs.pop("input_tensor", None)
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype or "float32")
        if shape is not None and batch_shape is not None:
            raise ValueError("InputLayer: give shape or batch_shape, not both")
        if batch_shape is None:
            batch_shape = (batch_size,) + standardize_shape(shape, "Input")
        else:
            batch_shape = standardize_shape(batch_shape, "Input(batch_shape=...)")
        self.batch_shape = batch_shape
        self.built = True
        self.input_shape = self.output_shape = batch_shape
        self.output = record_input(self, KerasTensor(batch_shape, self.dtype, name=self.name))

    @property
    def shape(self) -> tuple:
        """The batch shape (batch axis first)."""
        return self.batch_shape

    def call(self, x, training=False):
        """The identity."""
        return x

    def compute_output_shape(self, input_shape):
        """The batch shape."""
        return self.batch_shape

    def get_config(self) -> dict:
        """Keras' config: batch_shape, dtype, name."""
        return {"batch_shape": list(self.batch_shape), "dtype": str(self.dtype), "name": self.name}


def Input(
    shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None, optional=False
):
    """``keras.Input``: a KerasTensor of shape ``(batch_size,) + shape`` (``shape`` a tuple, not an
    int), produced by a fresh ``InputLayer``; the start of a functional or Sequential model."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name)
    return layer.output


def _register() -> None:
    """InputLayer joins the layer registry, so configs that list it (Keras 3's Sequential and
    functional configs do) deserialize."""
    from . import core

    registry = getattr(core, "LAYER_TYPES", None)
    if isinstance(registry, dict):
        registry.setdefault("InputLayer", InputLayer)


_register()
