"""``Sequential``: Keras' compile / fit / evaluate / predict / summary on the autograd core."""

from __future__ import annotations

import numpy as np

import autograd_mini as am

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..callbacks import Callback, History
from ..fused import dense
from ..layers import Dense, Input, Layer
from ..module import Module
from ..progress import EpochProgress
from ..utils import rng, unique_name

_CROSS_ENTROPY_ACTIVATION = {
    losses_module.CategoricalCrossentropy: "softmax",
    losses_module.SparseCategoricalCrossentropy: "softmax",
    losses_module.BinaryCrossentropy: "sigmoid",
}


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


class Sequential(Module):
    """A linear stack of layers: ``Sequential([Input((4,)), Dense(8, activation="relu"), Dense(3)])``."""

    def __init__(self, layers=None, name: str | None = None):
        super().__init__()
        self.name = name or unique_name("sequential")
        self._layers: list[Layer] = []
        self._input: Input | None = None
        self.optimizer = None
        self.loss = None
        self.metric_fns: list = []
        self.history = History()
        self.stop_training = False
        self.dtype = np.dtype(np.float32)
        for layer in layers or []:
            self.add(layer)

    # ---- structure ----------------------------------------------------------------------------
    def add(self, layer) -> None:
        if isinstance(layer, Input):
            if self._layers or self._input is not None:
                raise ValueError("Sequential.add: Input must come first, and only once")
            self._input = layer
            self.dtype = layer.dtype
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected an nn layer, got {type(layer).__name__}")
        self._layers.append(layer)
        if self.input_shape is not None:
            self.build(self.input_shape)

    @property
    def layers(self) -> list[Layer]:
        """The layers after ``Input``, as Keras lists them."""
        return list(self._layers)

    @property
    def input_shape(self):
        if self._input is not None:
            return self._input.shape
        if self._layers and self._layers[0].input_shape is not None:
            return self._layers[0].input_shape
        return None

    @property
    def output_shape(self):
        return self._layers[-1].output_shape if self._layers else None

    @property
    def built(self) -> bool:
        return bool(self._layers) and all(layer.built for layer in self._layers)

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.build_for(shape)

    def _children(self):
        for layer in self._layers:
            yield layer.name, layer

    def forward(self, x, training: bool | None = None):
        if not isinstance(x, am.Tensor):
            x = am.as_tensor(np.asarray(x, dtype=self.dtype))
        if not self.built:
            self.build((None,) + x.shape[1:])
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def _forward_logits(self, x, training: bool):
        """Forward pass that stops before the last layer's softmax/sigmoid (for fused CE)."""
        for layer in self._layers[:-1]:
            x = layer(x, training=training)
        last = self._layers[-1]
        with am.name_scope(last.name):
            return _linear_part(last, x)

    def count_params(self) -> int:
        return int(sum(layer.count_params() for layer in self._layers))

    def get_weights(self) -> list[np.ndarray]:
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        expected = sum(len(layer.parameters()) for layer in self._layers)
        if len(weights) != expected:
            raise ValueError(f"set_weights: the model has {expected} weight arrays, got a list of {len(weights)}")
        i = 0
        for layer in self._layers:
            n = len(layer.parameters())
            layer.set_weights(weights[i : i + n])
            i += n

    # ---- summary ------------------------------------------------------------------------------
    def summary(self, print_fn=print, line_length: int = 65) -> None:
        """Print Keras' table: layer (type), output shape, params, then the totals."""
        if not self.built:
            raise ValueError(
                "summary: the model is not built yet; give Input(shape) or input_shape=, "
                "or call the model on data first"
            )
        cols = [29, 26, line_length - 55]
        rows = [
            f'Model: "{self.name}"',
            "_" * line_length,
            _row(["Layer (type)", "Output Shape", "Param #"], cols),
            "=" * line_length,
        ]
        for i, layer in enumerate(self._layers):
            rows.append(
                _row(
                    [f"{layer.name} ({type(layer).__name__})", str(layer.output_shape), str(layer.count_params())], cols
                )
            )
            rows.append("=" * line_length if i == len(self._layers) - 1 else "")
        trainable = sum(p.size for p in self.parameters() if p.trainable)
        total = self.count_params()
        rows += [
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
            "_" * line_length,
        ]
        print_fn("\n".join(rows))

    # ---- training API -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the optimizer, the loss and the metrics (names or objects, as in Keras)."""
        if loss is None:
            raise ValueError("compile: a loss is required, e.g. loss='mse'")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self._metric_names = list(metrics or [])
        self.metric_fns = []
        if self.built:
            self._bind()

    def _bind(self) -> None:
        self.optimizer.add_params(self.parameters())
        units = self.output_shape[-1] if self.output_shape else 1
        loss_name = getattr(self.loss, "name", "")
        self.metric_fns = [metrics_module.resolve(m, loss_name, units) for m in self._metric_names]

    def _fused_output(self) -> bool:
        """True when the last layer's softmax/sigmoid and the cross-entropy are computed together."""
        last = self._layers[-1]
        wanted = _CROSS_ENTROPY_ACTIVATION.get(type(self.loss))
        return (
            wanted is not None
            and not self.loss.from_logits
            and isinstance(last, Dense)
            and last.activation_name == wanted
        )

    def _require_compiled(self, what: str) -> None:
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{what}: call model.compile(optimizer=..., loss=...) first")

    def _check_data(self, x, y, what: str):
        x = np.asarray(x.data if isinstance(x, am.Tensor) else x)
        if x.dtype.kind not in "fiub":
            raise ValueError(f"{what}: x must be numeric, got dtype {x.dtype}")
        x = x.astype(self.dtype, copy=False)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{what}: x contains NaN or Inf ({int(np.sum(~np.isfinite(x)))} values)")
        if not self.built:
            self.build((None,) + x.shape[1:])
        expected = self.input_shape[1:]
        if tuple(x.shape[1:]) != tuple(expected):
            raise ValueError(
                f"{what}: the model expects inputs of shape (batch, {', '.join(map(str, expected))}) "
                f"but x has shape {x.shape}"
            )
        if y is None:
            return x, None
        y = np.asarray(y.data if isinstance(y, am.Tensor) else y)
        if len(x) != len(y):
            raise ValueError(f"{what}: x and y have different lengths: x has {len(x)} samples, y has {len(y)}")
        if y.dtype.kind not in "fiub" or (y.dtype.kind == "f" and not np.all(np.isfinite(y))):
            raise ValueError(f"{what}: y must be finite numbers, got dtype {y.dtype}")
        units = self.output_shape[-1]
        loss = self.loss
        if isinstance(loss, losses_module.SparseCategoricalCrossentropy):
            if y.ndim > 1 and not (y.ndim == 2 and y.shape[1] == 1):
                raise ValueError(
                    f"{what}: sparse_categorical_crossentropy expects integer labels of shape "
                    f"(n,), got y of shape {y.shape} (one-hot targets: use categorical_crossentropy)"
                )
            if np.any(y != np.round(y)) or (y.size and (y.min() < 0 or y.max() >= units)):
                raise ValueError(
                    f"{what}: labels must be integers in [0, {units}) for an output of {units} units, "
                    f"got values in [{y.min()}, {y.max()}]"
                )
            return x, y.astype(np.int64).reshape(-1)
        if isinstance(loss, losses_module.CategoricalCrossentropy):
            if units < 2:
                raise ValueError(
                    f"{what}: categorical_crossentropy needs one output unit per class (at least 2), "
                    f"but the model's output has {units} unit; use binary_crossentropy"
                )
            if y.shape[1:] != (units,):
                raise ValueError(
                    f"{what}: categorical_crossentropy expects one-hot y of shape (n, {units}), "
                    f"got {y.shape} (integer labels: use sparse_categorical_crossentropy)"
                )
        y = y.astype(self.dtype, copy=False)
        if y.ndim == 1 and units == 1:
            y = y[:, None]
        if y.shape[1:] != tuple(self.output_shape[1:]):
            raise ValueError(f"{what}: the model's output has shape {self.output_shape} but y has shape {y.shape}")
        return x, y

    def _loss_and_output(self, xb, yb, training: bool):
        """(total loss Tensor, the batch's predictions as numpy for metrics)."""
        if self._fused_output():
            logits = self._forward_logits(xb, training)
            loss = type(self.loss)(from_logits=True)(yb, logits)
            probs = None
            if self.metric_fns:  # the predictions are only needed by metrics
                probs = (_softmax if self._layers[-1].activation_name == "softmax" else _sigmoid)(logits.data)
        else:
            out = self.forward(xb, training=training)
            loss = self.loss(yb, out)
            probs = out.data
        for layer in self._layers:
            for penalty in layer.regularization_losses():
                loss = loss + penalty
        return loss, probs

    def _update_metrics(self, trackers, yb, probs) -> None:
        for (_name, fn), tracker in zip(self.metric_fns, trackers):
            tracker.update(fn(yb, probs))

    def fit(
        self,
        x=None,
        y=None,
        batch_size=32,
        epochs=1,
        verbose=1,
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        initial_epoch=0,
    ):
        """Train for ``epochs`` (an epoch index, as in Keras); returns the History.

        ``validation_split`` holds out the *last* fraction of x/y before shuffling (Keras'
        rule), so put the data in random order first if it is sorted.
        """
        self._require_compiled("fit")
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"fit: batch_size must be positive, got {batch_size}")
        if not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        x, y = self._check_data(x, y, "fit")
        self._bind()
        if validation_data is None and validation_split:
            split = int(len(x) * (1 - validation_split))
            x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
            if split == 0 or split == len(x) + len(validation_data[0]):
                raise ValueError(f"fit: validation_split={validation_split} leaves no training or validation data")
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("fit: validation_data must be a tuple (x_val, y_val)")
            validation_data = self._check_data(*validation_data, "fit (validation_data)")
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be nn.callbacks.Callback instances, got {type(cb).__name__}")
        all_callbacks = callbacks + [self.history]
        for cb in all_callbacks:
            cb.set_model(self)
        self.stop_training = False
        n = len(x)
        steps = max(1, -(-n // batch_size))
        params = self.parameters()
        for cb in all_callbacks:
            cb.on_train_begin()
        self.train()
        for epoch in range(initial_epoch, epochs):
            for cb in all_callbacks:
                cb.on_epoch_begin(epoch)
            order = rng().permutation(n) if shuffle else None
            loss_tracker = metrics_module.Mean()
            trackers = [metrics_module.Mean() for _ in self.metric_fns]
            progress = EpochProgress(f"Epoch {epoch + 1}/{epochs}", steps, verbose)
            for step in range(steps):
                batch = slice(step * batch_size, (step + 1) * batch_size)
                index = order[batch] if order is not None else batch
                xb, yb = x[index], y[index]
                for cb in callbacks:
                    cb.on_train_batch_begin(step)
                loss, probs = self._loss_and_output(xb, yb, training=True)
                for p in params:
                    p.grad = None
                loss.backward()
                self.optimizer.step()
                loss_value = float(loss.data)
                if not np.isfinite(loss_value):
                    raise FloatingPointError(
                        f"fit: the loss became {loss_value} at epoch {epoch + 1}, step {step + 1} "
                        f"(learning rate too high? try am.detect_anomaly() to find the op)"
                    )
                loss_tracker.update(loss_value, len(xb))
                self._update_metrics(trackers, yb, probs)
                logs = {"loss": loss_tracker.result()}
                logs.update({name: t.result() for (name, _), t in zip(self.metric_fns, trackers)})
                progress.update(logs)
                for cb in callbacks:
                    cb.on_train_batch_end(step, logs)
            if validation_data is not None:
                values = self._evaluate_arrays(*validation_data, batch_size)
                logs.update({f"val_{k}": v for k, v in values.items()})
            progress.close(logs)
            for cb in all_callbacks:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in all_callbacks:
            cb.on_train_end(logs if epochs > initial_epoch else None)
        self.eval()
        return self.history

    def _evaluate_arrays(self, x, y, batch_size) -> dict:
        was_training = self.training
        self.eval()
        loss_tracker = metrics_module.Mean()
        trackers = [metrics_module.Mean() for _ in self.metric_fns]
        with am.no_grad():
            for start in range(0, len(x), batch_size):
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
                loss, probs = self._loss_and_output(xb, yb, training=False)
                loss_tracker.update(float(loss.data), len(xb))
                self._update_metrics(trackers, yb, probs)
        self.train(was_training)
        values = {"loss": loss_tracker.result()}
        values.update({name: t.result() for (name, _), t in zip(self.metric_fns, trackers)})
        return values

    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, return_dict=False):
        """The loss (and metrics) on x/y: a float, or [loss, *metrics] when metrics were compiled."""
        self._require_compiled("evaluate")
        x, y = self._check_data(x, y, "evaluate")
        self._bind()
        values = self._evaluate_arrays(x, y, int(batch_size or 32))
        if verbose:
            steps = -(-len(x) // int(batch_size or 32))
            print(f"{steps}/{steps} - " + " - ".join(f"{k}: {v:.4f}" for k, v in values.items()))
        if return_dict:
            return values
        return values["loss"] if len(values) == 1 else list(values.values())

    def predict(self, x, batch_size=32, verbose=0) -> np.ndarray:
        """The model's outputs for x as a numpy array (inference mode, no graph recorded)."""
        x, _ = self._check_data(x, None, "predict")
        self.eval()
        outs = []
        with am.no_grad():
            for start in range(0, len(x), int(batch_size or 32)):
                outs.append(self.forward(x[start : start + int(batch_size or 32)], training=False).data)
        if verbose:
            print(f"predict: {len(x)} samples")
        return np.concatenate(outs) if outs else np.zeros((0,) + tuple(self.output_shape[1:]), self.dtype)

    def __call__(self, x, training: bool | None = None):
        return self.forward(x, training=training)

    # ---- saving (implemented in nn.saving) ---------------------------------------------------------------
    def save_weights(self, path) -> None:
        from ..saving import save_weights

        save_weights(self, path)

    def load_weights(self, path) -> None:
        from ..saving import load_weights

        load_weights(self, path)

    def save(self, path) -> None:
        from ..saving import save_model

        save_model(self, path)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "input_shape": list(self.input_shape[1:]) if self.input_shape else None,
            "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()} for layer in self._layers],
        }


def _linear_part(layer: Dense, x):
    """Dense without its activation (the logits)."""
    return dense(x, layer.kernel, layer.bias if layer.use_bias else None, "linear")


def _row(fields, widths) -> str:
    line = ""
    for text, width in zip(fields, widths):
        line += (" " + text).ljust(width)
    return line.rstrip()
