"""``Model``: Keras 3's model API. The model describes (layers, ``call``, weights, summary,
saving); it inherits ``compile`` / ``fit`` / ``evaluate`` / ``predict`` and the
``train_step`` / ``test_step`` / ``predict_step`` users override from ``Trainer``
(``nn.models.trainer``), as Keras' ``Model`` does.

``Model(inputs, outputs)`` returns a functional model (``nn.models.functional.Functional``);
subclass ``Model`` and define ``call(inputs, training=None)`` for anything else.
"""

from __future__ import annotations

import inspect

import numpy as np

import autograd_mini as am

from ..module import LossTerms, Module, Parameter, losses_rule, note_loss_term
from .serialization import ModelSerialization
from .trainer import Trainer


class Model(Trainer, ModelSerialization, Module):
    """A trainable stack or graph of layers with Keras' compile / fit / evaluate / predict."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return object.__new__(Functional)
        if _functional_arguments(args, kwargs):
            from .functional import functional_subclass

            return object.__new__(functional_subclass(cls))  # Keras: CustomModel(inputs, outputs)
        return object.__new__(cls)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "call" in cls.__dict__:
            from ..layers.layer import call_accepts

            cls._call_takes_training, cls._call_takes_mask = call_accepts(cls.__dict__["call"])

    _call_takes_training = True
    _call_takes_mask = True

    def __init__(self, *args, name=None, trainable=True, dtype=None, **kwargs):
        if args or kwargs:
            unknown = sorted(kwargs) or [type(a).__name__ for a in args]
            raise TypeError(f"Model: unexpected arguments {unknown} (functional models: Model(inputs, outputs))")
        super().__init__()
        from ..utils import snake_case, unique_name

        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = np.dtype(dtype or "float32")
        self.training = False  # Keras: inference unless inside fit or called with training=True
        self._mode_synced = False
        self.built = False

    # ---- structure -----------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The layers this model holds (attribute order for subclassed models)."""
        from ..layers import Layer

        return [value for _, value in self._children() if isinstance(value, (Layer, Model))]

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by ``index`` into ``model.layers`` (exactly one of them)."""
        if name is not None and index is not None:
            raise ValueError(f"get_layer: provide only a layer name or a layer index, got index={index}, name={name!r}")
        layers = self.layers
        if index is not None:
            if not isinstance(index, (int, np.integer)) or not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"get_layer: asked for the layer at index {index} but the model has {len(layers)} layers"
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"get_layer: no such layer: {name!r}; existing layers are {[layer.name for layer in layers]}"
            )
        raise ValueError("get_layer: provide either a layer name or a layer index")

    @property
    def weights(self) -> list[Parameter]:
        """Every weight, in Keras' order (layer by layer)."""
        return self.parameters()

    @property
    def trainable_weights(self) -> list[Parameter]:
        """The weights that fit updates (none when ``model.trainable`` is False)."""
        if not self.trainable:
            return []
        return [p for p in self.parameters() if getattr(p, "trainable", True)]

    @property
    def non_trainable_weights(self) -> list[Parameter]:
        """The weights that fit leaves alone."""
        trainable = {id(p) for p in self.trainable_weights}
        return [p for p in self.parameters() if id(p) not in trainable]

    def count_params(self) -> int:
        """The number of scalars in all weights."""
        return int(sum(p.size for p in self.parameters()))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weight arrays, in ``model.weights`` order."""
        return [p.data.copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        """Set every weight from a list of arrays in ``model.weights`` order (checked first: a
        wrong count or shape changes nothing)."""
        params = self.parameters()
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f"set_weights: the model has {len(params)} weight arrays, got a list of {len(weights)}")
        arrays = []
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(f"set_weights: '{p.path}' has shape {p.shape}, got an array of shape {w.shape}")
            arrays.append(w)
        for p, w in zip(params, arrays):
            p.mutable_data()[...] = w

    @property
    @losses_rule
    def losses(self) -> list:
        """Scalar Tensors added to the loss: the layers' weight (and activity) regularization.
        Empty, without a walk of the layers, while no loss term can exist (``LossTerms``)."""
        if not LossTerms.possible:
            return []
        out = list(self.__dict__.get("_own_losses", ()))
        for layer in self.layers:
            losses = getattr(layer, "losses", None)  # a plain Module has none
            if isinstance(losses, list):
                out.extend(losses)
        return out

    def add_loss(self, loss) -> None:
        """Keras' ``add_loss``: a scalar Tensor added to the training loss (cleared at the next call)."""
        note_loss_term()
        self.__dict__.setdefault("_own_losses", []).append(loss)

    @property
    def trainable(self) -> bool:
        """False freezes the model: every layer and nested model, as Keras 3 propagates it."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value) -> None:
        self.__dict__["_trainable"] = bool(value)
        try:
            children = list(self._children())
        except AttributeError:  # during __init__, before the layers exist
            children = []
        for _, child in children:
            if isinstance(child, Module) and hasattr(child, "trainable") and child is not self:
                child.trainable = value

    @property
    def metrics(self) -> list:
        """Keras' ``model.metrics``: the loss tracker, the compiled metrics, then the Metric
        objects held as attributes (a custom ``train_step``'s trackers)."""
        from ..metrics.metric import Metric

        out = [self._loss_tracker] if self.compiled else []
        if self._compile_metrics is not None:
            out.append(self._compile_metrics)
        out += [v for v in vars(self).values() if isinstance(v, Metric)]
        return out

    @property
    def input(self):
        """The model's input KerasTensor(s) (functional models)."""
        if not hasattr(self, "_inputs_struct"):
            raise AttributeError(f"Model '{self.name}' has no defined input (it was never called on a KerasTensor)")
        return self._inputs_struct

    @property
    def output(self):
        """The model's output KerasTensor(s) (functional models)."""
        if not hasattr(self, "_outputs_struct"):
            raise AttributeError(f"Model '{self.name}' has no defined output (it was never called on a KerasTensor)")
        return self._outputs_struct

    # ---- calling ------------------------------------------------------------------------------------
    def call(self, inputs, training=None):
        """The forward computation (define it in a subclass)."""
        raise NotImplementedError(f"{type(self).__name__}: define call(self, inputs, training=None)")

    def forward(self, *args, training=None, **kwargs):
        """``model(x, training=None)``: ``call`` in the model's mode (inference outside fit)."""
        if not self._mode_synced:
            self.train(self.training)
        if training is None:
            training = self.training
        if self._call_takes_training:
            kwargs["training"] = training  # Keras passes training (and mask) only to a call that accepts it
        if not self._call_takes_mask and kwargs.get("mask", 0) is None:
            del kwargs["mask"]
        if self.__dict__.get("_own_losses"):
            self._own_losses = []
        return self.call(*args, **kwargs)

    def train(self, mode: bool = True):
        """Put the model and all its layers in training (True) or inference mode."""
        super().train(mode)
        self._mode_synced = True
        return self

    def input_specs(self):
        """(batch shape, dtype) per input when known, else None."""
        return None

    def _ensure_built(self, x) -> None:
        """Build from a batch of data when the input shape was not declared."""
        if not self.built:
            self._build_from_data(x)

    def _build_from_data(self, x) -> None:
        with am.no_grad():
            self(x, training=False)
        self.built = True

    # ---- summary, config, saving ------------------------------------------------------------------------
    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ):
        """Print Keras 3's table: layers, output shapes, parameter counts, then the totals and
        their sizes (plus the optimizer's variables once built)."""
        from .summary import print_summary

        print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable, layer_range)

    def get_config(self) -> dict:
        """Subclassed models have no generic config (Keras raises too); override it."""
        raise NotImplementedError(f"{type(self).__name__}.get_config: override get_config() and from_config()")

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config (layers, input_layers, output_layers) rebuilds the graph, as
        Keras' ``Model.from_config`` does; otherwise ``cls(**config)`` (subclassed models)."""
        if {"layers", "input_layers", "output_layers"} <= set(config):
            from .serialization import functional_from_config

            return functional_from_config(config, custom_objects)
        return cls(**config)

    def save(self, filepath, overwrite=True, **kwargs):
        """Save the architecture, weights and compile state (``nn.saving.save_model``)."""
        from .. import saving

        return _call_saving(saving.save_model, self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Save the weights (``nn.saving.save_weights``)."""
        from .. import saving

        return _call_saving(saving.save_weights, self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load weights saved by ``save_weights`` (``nn.saving.load_weights``)."""
        from .. import saving

        return _call_saving(saving.load_weights, self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def export(self, filepath, format="onnx", **kwargs):
        """Export for inference (``nn.saving.export_model``)."""
        from .. import saving

        export_model = getattr(saving, "export_model", None)
        if export_model is None:
            raise NotImplementedError("export: nn.saving.export_model is not available in this build")
        return export_model(self, filepath, format=format, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


def _call_saving(function, model, filepath, **kwargs):
    """Call a saving function with the keyword arguments it accepts (defaults it lacks are dropped)."""
    parameters = inspect.signature(function).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        defaults = {"overwrite": True, "skip_mismatch": False}
        for key in list(kwargs):
            if key not in parameters:
                if key in defaults and kwargs[key] == defaults[key]:
                    del kwargs[key]
                else:
                    raise TypeError(f"{function.__name__}: this build of nn.saving does not support {key}=")
    return function(model, filepath, **kwargs)


def _functional_arguments(args, kwargs) -> bool:
    """True for ``(inputs, outputs)`` given as KerasTensors: Keras' functional constructor."""
    if "inputs" in kwargs and "outputs" in kwargs:
        return True
    if len(args) >= 2 or (len(args) == 1 and "outputs" in kwargs):
        from .functional import _flatten, _is_keras_tensor

        leaves = _flatten(args[0])
        return bool(leaves) and all(_is_keras_tensor(t) for t in leaves)
    return False
