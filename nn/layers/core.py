"""Keras 3's core layers: Dense, Activation, Identity, Lambda, Embedding.

(The activation, dropout and reshaping layers live in their own modules; their names are
re-exported here for code that imported them from ``nn.layers.core``.)
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from .. import activations, constraints, initializers, regularizers
from ..fused import dense
from .layer import Layer

# activations computed inside the fused Dense node; softmax and sigmoid instead run as their
# own op after the fused linear part, so the output carries Keras' ``_keras_logits``
_FUSED_ACTIVATIONS = ("linear", "relu", "tanh")


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


class Dense(Layer):
    """Keras' Dense: ``activation(inputs @ kernel + bias)``, kernel (input_dim, units).

    linear/relu/tanh run as one fused graph node (``nn.fused.DenseFunction``); any other
    activation runs on the fused linear part (softmax/sigmoid outputs then carry the logits).
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _positive_int(units, f"Dense: units (layer '{self.name}')")
        self.activation = activations.get(activation)
        self.activation_name = activations.name_of(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.bias = None

    def build(self, input_shape):
        """kernel (input_shape[-1], units), bias (units,)."""
        if input_shape[-1] is None:
            raise ValueError(f"Dense '{self.name}': the last axis of the input shape must be known, got {input_shape}")
        self.add_weight(
            "kernel",
            (input_shape[-1], self.units),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.add_weight(
                "bias",
                (self.units,),
                self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def compute_output_shape(self, input_shape):
        """input_shape[:-1] + (units,)."""
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, inputs, training=None):
        """activation(inputs @ kernel + bias)."""
        if inputs.ndim == 0 or inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Dense '{self.name}': expected inputs with {self.kernel.shape[0]} features "
                f"(last axis), got shape {inputs.shape}"
            )
        if self.activation_name in _FUSED_ACTIVATIONS:
            return dense(inputs, self.kernel, self.bias, self.activation_name)
        return self.activation(dense(inputs, self.kernel, self.bias, "linear"))

    def get_config(self):
        """Keras 3's Dense config."""
        config = {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize_initializer(self.kernel_initializer),
            "bias_initializer": _serialize_initializer(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config


def _serialize_initializer(init):
    if isinstance(init, initializers.Initializer):
        return initializers.serialize(init)
    raise ValueError(f"get_config: cannot serialize the initializer {init!r} (not one of nn.initializers)")


class Activation(Layer):
    """Keras' Activation: applies ``activation`` (a name or a callable) to the inputs."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.activation_name = activations.name_of(self.activation)

    def call(self, inputs, training=None):
        """activation(inputs)."""
        return self.activation(inputs)

    def get_config(self):
        """Keras 3's config: the activation's name."""
        return {**super().get_config(), "activation": self.activation_name}


class Identity(Layer):
    """Keras' Identity: returns its inputs unchanged."""

    def call(self, inputs, training=None):
        """inputs."""
        return inputs


class Lambda(Layer):
    """Keras' Lambda: ``function(inputs, **arguments)``.

    Its config would need the function's code, which nn never saves nor runs from text:
    ``get_config`` raises, so a model with a Lambda cannot be serialized (it only lives in
    the process that made it). Write a Layer subclass to save one.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda: function must be callable, got {function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = None if output_shape is None else tuple(output_shape)
        self.mask = mask

    def call(self, inputs, training=None):
        """function(inputs, **arguments)."""
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        """(batch,) + output_shape when given, else the input shape."""
        if self._output_shape is not None:
            return (input_shape[0],) + self._output_shape
        return input_shape

    def get_config(self):
        """Refuses: a Lambda's code is not serialized by nn."""
        raise ValueError(
            f"Lambda '{self.name}' cannot be serialized: nn saves no code. "
            "Use a Layer subclass with get_config, or rebuild the Lambda in code."
        )


class Embedding(Layer):
    """Keras' Embedding: row ``i`` of ``embeddings`` (input_dim, output_dim) for each index i."""

    _casts_inputs = False

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        **kwargs,
    ):
        input_length = kwargs.pop("input_length", None)  # Keras 2 argument, ignored
        del input_length
        super().__init__(**kwargs)
        self.input_dim = _positive_int(input_dim, "Embedding: input_dim")
        self.output_dim = _positive_int(output_dim, "Embedding: output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self._initial_weights = weights
        if weights is not None:
            self.build_for((None,))

    def build(self, input_shape=None):
        """embeddings (input_dim, output_dim)."""
        self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape):
        """input_shape + (output_dim,)."""
        return tuple(input_shape) + (self.output_dim,)

    def call(self, inputs, training=None):
        """embeddings[inputs]."""
        indices = np.asarray(inputs.data if isinstance(inputs, am.Tensor) else inputs)
        if indices.dtype.kind == "f":
            if not np.all(indices == np.round(indices)):
                raise ValueError(f"Embedding '{self.name}': expected integer indices, got non-integral floats")
            indices = indices.astype(np.int64)
        elif indices.dtype.kind not in "iu":
            raise ValueError(f"Embedding '{self.name}': expected integer indices, got dtype {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= self.input_dim):
            raise ValueError(
                f"Embedding '{self.name}': indices must be in [0, {self.input_dim}), "
                f"got values in [{indices.min()}, {indices.max()}]"
            )
        return self.embeddings[indices]

    def get_config(self):
        """Keras 3's Embedding config."""
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _serialize_initializer(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }
