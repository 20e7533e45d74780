"""``Model``: Keras 3's model API. The model describes (layers, ``call``); ``train_step`` /
``test_step`` / ``predict_step`` compute one batch (users override them); the loops around
them live in ``nn.models.trainer``.

``Model(inputs, outputs)`` returns a functional model (``nn.models.functional.Functional``);
subclass ``Model`` and define ``call(inputs, training=None)`` for anything else.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

import autograd_mini as am

from ..module import Module, Parameter
from . import compile_seams
from .serialization import ModelSerialization


class Model(ModelSerialization, Module):
    """A trainable stack or graph of layers with Keras' compile / fit / evaluate / predict."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return object.__new__(Functional)
        return object.__new__(cls)

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
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.history = None
        self.stop_training = False
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = compile_seams.LossTracker()
        self._compile_config = {}
        self.steps_per_execution, self.jit_compile, self.run_eagerly = 1, "auto", False
        self._fit_state = {}  # a dict: Module._children never walks it (fit caches the trainable weights here)

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
                raise ValueError(f"set_weights: '{p.name}' has shape {p.shape}, got an array of shape {w.shape}")
            arrays.append(w)
        for p, w in zip(params, arrays):
            p.mutable_data()[...] = w

    @property
    def losses(self) -> list:
        """Scalar Tensors added to the loss: the layers' weight (and activity) regularization."""
        out = []
        for layer in self.layers:
            out.extend(compile_seams.layer_losses(layer))
        return out

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
        return self.call(*args, training=training, **kwargs)

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

    # ---- compile ---------------------------------------------------------------------------------------
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Choose the optimizer, the loss and the metrics (names, functions or objects, Keras'
        rules). ``run_eagerly`` and ``jit_compile`` are stored; ``steps_per_execution`` batches run per
        execution of the loops (callbacks' batch hooks and the progress bar once per execution)."""
        if (
            metrics is None
            and isinstance(loss_weights, (list, tuple))
            and all(isinstance(w, str) for w in loss_weights)
        ):
            metrics, loss_weights = loss_weights, None  # nn's former positional order compile(optimizer, loss, metrics)
        for what, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple, dict)):
                raise ValueError(
                    f"compile: expected `{what}` to be a list, tuple, or dict, got {what}={value!r} "
                    f"of type {type(value).__name__} (write {what}=[{value!r}])"
                )
        if (
            isinstance(steps_per_execution, bool)
            or not isinstance(steps_per_execution, (int, np.integer))
            or steps_per_execution < 1
        ):
            raise ValueError(f"compile: steps_per_execution must be a positive int, got {steps_per_execution!r}")
        from .. import optimizers

        optimizer = optimizers.get(optimizer)
        compile_loss = None if loss is None else compile_seams.make_compile_loss(loss, loss_weights)
        compile_metrics = compile_seams.make_compile_metrics(metrics, weighted_metrics, loss)
        self.optimizer = optimizer
        self.loss = compile_seams.resolve_loss(loss)
        self._compile_loss, self._compile_metrics = compile_loss, compile_metrics
        self._loss_tracker = compile_seams.LossTracker()
        self.run_eagerly, self.steps_per_execution, self.jit_compile = run_eagerly, steps_per_execution, jit_compile
        self._compile_config = dict(optimizer=optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics, weighted_metrics=weighted_metrics, run_eagerly=run_eagerly, steps_per_execution=steps_per_execution, jit_compile=jit_compile, auto_scale_loss=auto_scale_loss)  # fmt: skip
        self._metric_names = list(metrics) if isinstance(metrics, (list, tuple)) else []  # read by nn.saving today
        self.compiled = True
        if self.built:
            compile_seams.register_variables(self.optimizer, self.trainable_weights)

    def _assert_compiled(self, what: str) -> None:
        if not self.compiled or self.optimizer is None:
            raise RuntimeError(f"{what}: you must call model.compile(optimizer=..., loss=...) first")

    # ---- one batch ---------------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of (y, y_pred) plus ``model.losses`` (regularization): a scalar Tensor."""
        if self._compile_loss is None:
            raise ValueError(
                f"Model '{self.name}': no loss to compute; compile with a loss (e.g. loss='mse') or override train_step"
            )
        if y is None:
            raise ValueError(
                f"Model '{self.name}': y is None but the model was compiled with a loss; give targets "
                f"(fit(x, y), or a generator/PyDataset yielding (x, y))"
            )
        loss = self._compile_loss(y, y_pred, sample_weight)
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def train_step(self, data):
        """One optimizer step on a batch ``(x, y[, sample_weight])``; returns the logs. A
        non-finite loss is caught before backward: no gradient, no update, the logs report it."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        value = float(loss.data)
        if not math.isfinite(value):
            self._loss_tracker.update_state(value, _batch_size(x))
            return self.get_metrics_result()
        params = self._fit_state.get("trainable") or self.trainable_weights
        for p in params:
            p.grad = None
        loss.backward()
        compile_seams.optimizer_step(self.optimizer, params)
        self._loss_tracker.update_state(value, _batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """The loss and metrics on a batch, in inference mode (no graph recorded)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with am.no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(float(loss.data), _batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs on a batch (inference mode, no graph recorded)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        with am.no_grad():
            return self(x, training=False)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with the batch; returns ``get_metrics_result()``."""
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """{"loss": running mean, metric name: value, ...} over the batches seen since the reset."""
        logs = {"loss": self._loss_tracker.result()}
        if self._compile_metrics is not None:
            logs.update(self._compile_metrics.result())
        return logs

    def reset_metrics(self) -> None:
        """Reset the loss tracker and the compiled metrics (fit does it at each epoch start)."""
        self._loss_tracker.reset_state()
        if self._compile_metrics is not None:
            self._compile_metrics.reset_state()

    @property
    def metrics_names(self) -> list[str]:
        """ "loss" then each compiled metric's name, in the order evaluate returns them."""
        names = ["loss"]
        if self._compile_metrics is not None:
            names += list(self._compile_metrics.metrics_names)
        return names

    # ---- loops (nn.models.trainer) ------------------------------------------------------------------------
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Train for ``epochs`` (an epoch index, as in Keras: ``initial_epoch`` continues); returns
        a fresh ``History`` (also ``model.history``). ``validation_split`` holds out the last
        fraction of the arrays before shuffling."""
        return _trainer().fit(
            self,
            x=x,
            y=y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            class_weight=class_weight,
            sample_weight=sample_weight,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            validation_batch_size=validation_batch_size,
            validation_freq=validation_freq,
        )

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        **kwargs,
    ):
        """The loss and metrics on the data: a float when there are no metrics, else
        [loss, *metrics] (``return_dict=True``: a dict)."""
        return _trainer().evaluate(
            self,
            x=x,
            y=y,
            batch_size=batch_size,
            verbose=verbose,
            sample_weight=sample_weight,
            steps=steps,
            callbacks=callbacks,
            return_dict=return_dict,
            **kwargs,
        )

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x as numpy arrays, batch by batch, in inference mode."""
        return _trainer().predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One train_step on this batch; returns the loss (and metrics) as evaluate does."""
        return _trainer().train_on_batch(self, x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One test_step on this batch (metrics reset first, as Keras does)."""
        return _trainer().test_on_batch(self, x, y, sample_weight, return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as numpy."""
        return _trainer().predict_on_batch(self, x)

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


def _trainer():
    from . import trainer

    return trainer


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


def unpack_x_y_sample_weight(data):
    """Keras' rule: a tuple ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; anything else is x."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"data must be (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(data)} elements")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of ``unpack_x_y_sample_weight``."""
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _batch_size(x) -> int:
    while isinstance(x, (list, tuple)):
        x = x[0]
    if isinstance(x, dict):
        x = next(iter(x.values()))
    return int(x.shape[0]) if getattr(x, "shape", None) else 1
