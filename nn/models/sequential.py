"""``Sequential``: a linear stack of layers, a ``Model`` (Keras 3).

When the input shape is known (an ``Input`` first, or ``input_shape=`` on the first layer)
the layers are built at once, through symbolic calls that record each layer's output shape;
otherwise the first data builds them. Running is a plain loop over the layers.
"""

from __future__ import annotations

import autograd_mini as am

from ..layers.input_layer import InputLayer, KerasTensor
from .model import Model


class Sequential(Model):
    """``Sequential([Input((4,)), Dense(8, activation="relu"), Dense(3)])`` or ``add`` one by one."""

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self._layers: list = []
        self._input_layer = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    # ---- structure ----------------------------------------------------------------------------
    def add(self, layer, rebuild=True) -> None:
        """Append a layer (an ``Input`` only first, once)."""
        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError("Sequential.add: a KerasTensor must come from keras.Input(shape)")
            layer = history[0]
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Sequential.add: an Input must come first, and only once")
            self._input_layer = layer
            self.dtype = layer.dtype
            return
        from ..layers import Layer

        if not isinstance(layer, (Layer, Model)):
            raise TypeError(f"Sequential.add: expected an nn layer, got {type(layer).__name__}")
        self._layers.append(layer)
        self._mode_synced = False
        if rebuild:
            self._maybe_build()

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self._layers:
            raise TypeError("Sequential.pop: there are no layers to remove")
        layer = self._layers.pop()
        self.built = False
        if rebuild:
            self._maybe_build()
        return layer

    @property
    def layers(self) -> list:
        """The layers after the Input, as Keras lists them."""
        return list(self._layers)

    def _children(self):
        for layer in self._layers:
            yield layer.name, layer

    @property
    def input_shape(self):
        """The batch shape of the input, when known."""
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._layers:
            declared = getattr(self._layers[0], "_input_shape_arg", None)  # Keras 3 keeps input_shape= here
            shape = None if declared is None else (None,) + tuple(declared)
            if shape is None:
                declared = getattr(self._layers[0], "input_shape", None)
                shape = tuple(declared) if isinstance(declared, (tuple, list)) else None
            return shape
        return None

    @property
    def inputs(self) -> list:
        """[the input KerasTensor] once built (Keras' ``model.inputs``, for feature extraction)."""
        return [self.input]

    @property
    def outputs(self) -> list:
        """[the output KerasTensor] once built."""
        return [self.output]

    @property
    def output_shape(self):
        """The batch shape of the output, when built."""
        return self._output_shape if self.built else None

    def input_specs(self):
        """[(batch shape, dtype)] when the input shape is known."""
        shape = self.input_shape
        return None if shape is None else [(tuple(shape), self.dtype)]

    def _maybe_build(self) -> None:
        shape = self.input_shape
        if shape is not None and self._layers:
            self.build(shape)

    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis first), recording the
        output shapes through symbolic calls."""
        if input_shape is None:
            input_shape = self.input_shape
        if not self._layers:
            raise ValueError(f"Sequential model '{self.name}' has no layers to build; add some with model.add(layer)")
        input_shape = (None,) + tuple(input_shape)[1:]
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=input_shape, dtype=self.dtype)
        x = self._input_layer.output
        shapes = []
        for layer in self._layers:
            x = layer(x)
            shapes.append(x.shape)
        self._output_shape = shapes[-1]
        self._layer_output_shapes = shapes
        self._inputs_struct, self._outputs_struct = self._input_layer.output, x  # Model.input / output
        self.built = True

    def _build_from_data(self, x) -> None:
        if not self._layers:
            raise ValueError(f"Sequential model '{self.name}' has no layers; add some with model.add(layer)")
        self.build((None,) + tuple(x.shape[1:]))

    def call(self, inputs, training=None):
        """Each layer in turn."""
        if not self.built:
            self._build_from_data(inputs if isinstance(inputs, am.Tensor) else am.as_tensor(inputs))
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def get_config(self) -> dict:
        """Keras' config: name, trainable, layers (class_name + config each; the Input first)."""
        from .serialization import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from ``get_config()``."""
        from .serialization import sequential_from_config

        return sequential_from_config(cls, config, custom_objects)
