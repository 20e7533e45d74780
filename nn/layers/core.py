"""Layers with Keras names, arguments and defaults. A layer called on a Tensor returns a Tensor."""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from .. import activations, initializers, regularizers
from ..fused import dense
from ..module import Module, Parameter
from ..utils import rng, snake_case, unique_name

_FUSED_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")


class Layer(Module):
    """Base layer: named like Keras ('dense', 'dense_1', ...), built on first call."""

    def __init__(self, name: str | None = None, input_shape=None, input_dim=None, dtype="float32"):
        super().__init__()
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.built = False
        self.dtype = np.dtype(dtype)
        if input_dim is not None:
            input_shape = (input_dim,)
        self.input_shape = None if input_shape is None else (None,) + tuple(input_shape)
        self.output_shape = None

    # -- subclasses ----------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, may be None)."""

    def call(self, x, training: bool = False):
        raise NotImplementedError

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {"name": self.name}

    # -- machinery --------------------------------------------------------------------------------
    def build_for(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        if not self.built:
            self.input_shape = input_shape
            self.build(input_shape)
            self.built = True
        self.output_shape = self.compute_output_shape(input_shape)
        return self.output_shape

    def forward(self, x, training: bool | None = None):
        if not isinstance(x, am.Tensor):
            x = am.as_tensor(np.asarray(x, dtype=self.dtype))
        if not self.built:
            self.build_for((None,) + x.shape[1:])
        with am.name_scope(self.name):
            return self.call(x, training=self.training if training is None else training)

    def add_weight(self, name: str, shape, initializer, trainable: bool = True) -> Parameter:
        data = initializers.get(initializer)(tuple(shape), dtype=self.dtype)
        param = Parameter(np.asarray(data, dtype=self.dtype), name=f"{self.name}.{name}", trainable=trainable)
        setattr(self, name, param)
        return param

    @property
    def weights(self) -> list[Parameter]:
        return self.parameters()

    @property
    def trainable_weights(self) -> list[Parameter]:
        return [p for p in self.parameters() if p.trainable]

    def count_params(self) -> int:
        return int(sum(p.size for p in self.parameters()))

    def get_weights(self) -> list[np.ndarray]:
        return [p.data.copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        params = self.parameters()
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"set_weights: layer '{self.name}' has {len(params)} weights "
                f"({', '.join(p.name for p in params)}), got a list of {len(weights)}"
            )
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(f"set_weights: '{p.name}' has shape {p.shape}, got an array of shape {w.shape}")
            p.data = np.array(w, dtype=p.dtype, copy=True)

    def regularization_losses(self) -> list:
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class Dense(Layer):
    """y = activation(x @ kernel + bias), kernel of shape (inputs, units)."""

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.activation_name = activation if isinstance(activation, str) else activations.name_of(self.activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, x, training=False):
        if x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Dense '{self.name}': expected inputs with {self.kernel.shape[0]} features "
                f"(last axis), got shape {x.shape}"
            )
        bias = self.bias if self.use_bias else None
        if self.activation_name in _FUSED_ACTIVATIONS:
            return dense(x, self.kernel, bias, self.activation_name)
        return self.activation(dense(x, self.kernel, bias, "linear"))

    def regularization_losses(self):
        losses = []
        if self.kernel_regularizer is not None:
            losses.append(self.kernel_regularizer(self.kernel))
        if self.bias_regularizer is not None and self.use_bias:
            losses.append(self.bias_regularizer(self.bias))
        return losses

    def get_config(self):
        return {
            "name": self.name,
            "units": self.units,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_regularizer": None if self.kernel_regularizer is None else self.kernel_regularizer.get_config(),
            "bias_regularizer": None if self.bias_regularizer is None else self.bias_regularizer.get_config(),
        }


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale the
    rest by 1/(1-rate); in inference, the identity.

    The keep decision compares 16 random bits with a threshold when ``rate`` is within 1e-4
    (relative) of a multiple of 2^-16, as 0.1, 0.2, 0.25, 0.5 are: half the random bits of a
    float32 uniform, for a drop probability off by less than 2^-16 (0.2 drops with probability
    0.2000122). Other rates draw float uniforms, as Keras does.
    """

    def __init__(self, rate: float, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)
        threshold = int(np.ceil(self.rate * 65536))
        self._threshold16 = (
            threshold if threshold > 0 and abs(threshold / 65536 - self.rate) <= 1e-4 * self.rate else None
        )

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        generator = self._generator or rng()
        if self._threshold16 is not None:
            keep = generator.integers(0, 65536, size=x.shape, dtype=np.uint16) >= self._threshold16
        else:
            keep = generator.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64) >= self.rate
        mask = keep.astype(x.dtype)
        mask *= 1.0 / (1.0 - self.rate)
        return x * mask

    def get_config(self):
        return {"name": self.name, "rate": self.rate, "seed": self.seed}


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def call(self, x, training=False):
        return x.reshape(x.shape[0], -1)


class Activation(Layer):
    """Applies an activation by name (or a callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.activation_name = activation if isinstance(activation, str) else activations.name_of(self.activation)

    def call(self, x, training=False):
        return self.activation(x)

    def get_config(self):
        return {"name": self.name, "activation": self.activation_name}


class LeakyReLU(Layer):
    """x if x > 0 else alpha * x (Keras' default alpha is 0.3)."""

    def __init__(self, alpha: float = 0.3, negative_slope: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha if negative_slope is None else negative_slope)

    def call(self, x, training=False):
        return am.leaky_relu(x, self.alpha)

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}


class PReLU(Layer):
    """x if x > 0 else alpha * x with a trainable alpha per feature (initialized to zeros)."""

    def __init__(self, alpha_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)

    def build(self, input_shape):
        self.add_weight("alpha", tuple(input_shape[1:]), self.alpha_initializer)

    def call(self, x, training=False):
        return am.relu(x) - self.alpha * am.relu(-x)


class RReLU(Layer):
    """Randomized leaky ReLU: slope ~ U(lower, upper) per element in training, the mean slope
    (lower + upper) / 2 in inference (as in PyTorch)."""

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= lower <= upper:
            raise ValueError(f"RReLU: need 0 <= lower <= upper, got lower={lower}, upper={upper}")
        self.lower, self.upper = float(lower), float(upper)

    def call(self, x, training=False):
        if not training:
            return am.leaky_relu(x, (self.lower + self.upper) / 2)
        slope = rng().uniform(self.lower, self.upper, x.shape).astype(x.dtype)
        return am.where(x.data > 0, x, x * slope)

    def get_config(self):
        return {"name": self.name, "lower": self.lower, "upper": self.upper}


class Softmax(Layer):
    """softmax along ``axis``."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, x, training=False):
        return am.softmax(x, self.axis)

    def get_config(self):
        return {"name": self.name, "axis": self.axis}


LAYER_TYPES = {cls.__name__: cls for cls in (Dense, Dropout, Flatten, Activation, LeakyReLU, PReLU, RReLU, Softmax)}
