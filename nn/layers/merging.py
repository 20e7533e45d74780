"""Keras 3's merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate,
Dot. Each is called on a list of Tensors (same shapes, or shapes that broadcast)."""

from __future__ import annotations

import autograd_mini as am

from .layer import Layer


def _check_list(layer, inputs, exactly=None):
    if not isinstance(inputs, (list, tuple)) or len(inputs) < (2 if exactly is None else exactly):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' must be called on a list of at least 2 inputs, got "
            f"{type(inputs).__name__}" + (f" of length {len(inputs)}" if isinstance(inputs, (list, tuple)) else "")
        )
    if exactly is not None and len(inputs) != exactly:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' needs exactly {exactly} inputs, got {len(inputs)}")


def _broadcast_shapes(shapes):
    out = list(shapes[0])
    for shape in shapes[1:]:
        if len(shape) != len(out):
            raise ValueError(f"merging: inputs must have the same rank, got shapes {list(shapes)}")
        for i, d in enumerate(shape):
            if out[i] is None or d is None:
                out[i] = out[i] if d is None else d if out[i] is None or out[i] == 1 else out[i]
            elif out[i] == 1:
                out[i] = d
            elif d != 1 and d != out[i]:
                raise ValueError(f"merging: inputs with shapes {list(shapes)} do not broadcast together")
    return tuple(out)


class _Merge(Layer):
    _exactly = None

    def build(self, input_shape):
        """Check the input shapes (a list of at least two)."""
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' must be called on a list of at least 2 inputs, got a single input of shape {input_shape}"
            )
        _broadcast_shapes(input_shape)

    def compute_output_shape(self, input_shape):
        """The broadcast shape of the inputs."""
        return _broadcast_shapes([tuple(s) for s in input_shape])

    def call(self, inputs, training=None):
        """The merge of the inputs."""
        _check_list(self, inputs, self._exactly)
        return self._merge(list(inputs))


class Add(_Merge):
    """Keras' Add: the elementwise sum of the inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """Keras' Subtract: inputs[0] - inputs[1] (exactly two inputs)."""

    _exactly = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Keras' Multiply: the elementwise product of the inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Keras' Average: the elementwise mean of the inputs."""

    def _merge(self, inputs):
        return Add._merge(self, inputs) * (1.0 / len(inputs))


class Maximum(_Merge):
    """Keras' Maximum: the elementwise maximum of the inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = am.maximum(out, x)
        return out


class Minimum(_Merge):
    """Keras' Minimum: the elementwise minimum of the inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = am.minimum(out, x)
        return out


class Concatenate(Layer):
    """Keras' Concatenate: the inputs joined along ``axis`` (default -1)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        """The shared shape with ``axis`` summed."""
        shapes = [list(s) for s in input_shape]
        out = list(shapes[0])
        axis = self.axis % len(out)
        for s in shapes[1:]:
            if len(s) != len(out) or any(
                i != axis and a is not None and b is not None and a != b for i, (a, b) in enumerate(zip(s, out))
            ):
                raise ValueError(
                    f"Concatenate '{self.name}': inputs must match except on axis {self.axis}, got shapes "
                    f"{[tuple(x) for x in shapes]}"
                )
        out[axis] = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
        return tuple(out)

    def build(self, input_shape):
        """Check the input shapes."""
        if not isinstance(input_shape, list) or len(input_shape) < 1:
            raise ValueError(f"Concatenate '{self.name}' must be called on a list of inputs")
        self.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        """concatenate(inputs, axis)."""
        _check_list(self, inputs, None if len(inputs) != 1 else 1)
        self.compute_output_shape([x.shape for x in inputs])
        return am.concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        """Keras 3's config: axis."""
        return {**super().get_config(), "axis": self.axis}


class Dot(Layer):
    """Keras' Dot of two (batch, n) inputs along ``axes`` (1 or -1 for rank 2):
    sum(a * b, axis) -> (batch, 1); ``normalize=True`` takes cosine similarities."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = bool(normalize)

    def _axis(self, ndim):
        axes = self.axes if isinstance(self.axes, int) else self.axes[0]
        if not isinstance(self.axes, int) and self.axes[0] != self.axes[1]:
            raise ValueError(f"Dot '{self.name}': only equal axes are supported, got {self.axes}")
        if ndim != 2:
            raise ValueError(f"Dot '{self.name}': only rank-2 inputs are supported, got rank {ndim}")
        if axes % ndim != 1:
            raise ValueError(f"Dot '{self.name}': only the feature axis (1 or -1) is supported, got axes={self.axes}")
        return 1

    def compute_output_shape(self, input_shape):
        """(batch, 1)."""
        return (input_shape[0][0], 1)

    def call(self, inputs, training=None):
        """sum(a * b) along the axis, kept as (batch, 1)."""
        _check_list(self, inputs, 2)
        a, b = inputs
        axis = self._axis(a.ndim)
        if self.normalize:
            a = a / am.sqrt(am.maximum((a * a).sum(axis=axis, keepdims=True), 1e-12))
            b = b / am.sqrt(am.maximum((b * b).sum(axis=axis, keepdims=True), 1e-12))
        out = (a * b).sum(axis=axis, keepdims=True)
        return out

    def get_config(self):
        """Keras 3's config: axes, normalize."""
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def _functional(cls, doc):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = doc
    return merge


add = _functional(Add, "Keras' ``layers.add(inputs)``: ``Add()(inputs)``.")
subtract = _functional(Subtract, "Keras' ``layers.subtract(inputs)``: ``Subtract()(inputs)``.")
multiply = _functional(Multiply, "Keras' ``layers.multiply(inputs)``: ``Multiply()(inputs)``.")
average = _functional(Average, "Keras' ``layers.average(inputs)``: ``Average()(inputs)``.")
maximum = _functional(Maximum, "Keras' ``layers.maximum(inputs)``: ``Maximum()(inputs)``.")
minimum = _functional(Minimum, "Keras' ``layers.minimum(inputs)``: ``Minimum()(inputs)``.")


def concatenate(inputs, axis=-1, **kwargs):
    """Keras' ``layers.concatenate(inputs, axis=-1)``: ``Concatenate(axis)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Keras' ``layers.dot(inputs, axes, normalize)``: ``Dot(axes, normalize)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
