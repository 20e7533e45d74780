"""The loops around ``train_step`` / ``test_step`` / ``predict_step`` (Keras 3's trainer):
argument checks, data adapters, callbacks with Keras' hooks and logs, progress, History.

Robustness: arguments are checked before anything changes; a non-finite loss is caught by the
default train_step before backward (the weights keep the last good step), the callbacks see
it (``TerminateOnNaN`` stops cleanly), and without a stop the loop raises FloatingPointError.
``model.training`` is restored however fit ends, and ``model.history`` keeps the epochs done.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import autograd_mini as am

from . import data_adapters as da
from . import execution, step_cache
from .model import pack_x_y_sample_weight, unpack_x_y_sample_weight
from .serialization import resume_saved_rng_state


# ---- argument checks ---------------------------------------------------------------------------------------
def _positive_int(value, name: str, what: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what}: `{name}` must be a positive integer, got {name}={value!r}")
    return int(value)


def _steps_per_execution(model, what: str) -> int:
    return _positive_int(getattr(model, "steps_per_execution", 1), "steps_per_execution", what)


def _verbose(verbose, what: str) -> int:
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"{what}: `verbose` must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def _adapter(model, x, y, sample_weight, batch_size, steps, shuffle, class_weight, what):
    """(adapter, needs standardized arrays) for any of Keras' data forms."""
    if x is None:
        raise ValueError(f"{what}: x is None; give the input data")
    if da.is_py_dataset(x) or da.is_generator(x):
        kind = "a PyDataset" if da.is_py_dataset(x) else "a generator"
        for name, value in (("y", y), ("sample_weight", sample_weight), ("batch_size", batch_size)):
            if value is not None:
                raise ValueError(f"{what}: `{name}` must not be given when x is {kind} (it yields whole batches)")
        if class_weight is not None:
            raise ValueError(f"{what}: `class_weight` is only supported for array data")
        if da.is_py_dataset(x):
            return da.PyDatasetAdapter(x, model, shuffle, what)
        return da.GeneratorAdapter(x, model, what)
    batch_size = _positive_int(batch_size, "batch_size", what, allow_none=True)
    xs = da.standardize_x(model, x, what)
    if not model.built:  # build from the data, then standardize against the now-known input
        model._ensure_built(_head(xs))
        xs = da.standardize_x(model, x, what)
    ys = da.standardize_y(model, y, what)
    sw = None
    if sample_weight is not None:
        if class_weight is not None:
            raise ValueError(f"{what}: give `class_weight` or `sample_weight`, not both")
        sw = np.asarray(sample_weight.data if isinstance(sample_weight, am.Tensor) else sample_weight)
        if sw.dtype.kind not in "fiub" or (sw.dtype.kind == "f" and not np.isfinite(sw).all()):
            raise ValueError(f"{what}: sample_weight must be finite numbers, got dtype {sw.dtype}")
        sw = sw.astype(model.dtype)
    n = da.num_samples(xs, ys, sw, what)
    if class_weight is not None:
        sw = da.class_weight_to_sample_weight(ys, class_weight)
    if batch_size is None:
        batch_size = math.ceil(n / steps) if steps else 32
    return da.ArrayAdapter(xs, ys, sw, batch_size, shuffle, n)


def _head(xs):
    return xs[:1] if not isinstance(xs, list) else [a[:1] for a in xs]


_KERAS_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


class CallbackList:
    """Keras' hooks dispatched to each callback that defines them (base-class no-ops skipped)."""

    def __init__(self, callbacks, model, params):
        from ..callbacks import Callback

        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not hasattr(cb, "set_model"):
                raise TypeError(f"callbacks must be nn.callbacks.Callback instances, got {type(cb).__name__}")
        self._base = Callback
        for cb in self.callbacks:
            cb.set_model(model)
            set_params = getattr(cb, "set_params", None)
            if set_params is not None:
                set_params(dict(params))
            else:
                cb.params = dict(params)
        self._hooks = {}

    def _methods(self, hook):
        methods = self._hooks.get(hook)
        if methods is None:
            methods = []
            base = getattr(self._base, hook, None)
            for cb in self.callbacks:
                method = getattr(cb, hook, None)
                if method is None:
                    continue
                if hook not in vars(cb) and getattr(type(cb), hook, None) is base and base is not None:
                    alias = _KERAS_ALIASES.get(hook)  # Keras' on_train_batch_* call on_batch_*
                    if alias is None or getattr(type(cb), alias, None) is getattr(self._base, alias, None):
                        continue
                methods.append(method)
            self._hooks[hook] = methods
        return methods

    def call(self, hook, *args):
        """Run ``hook(*args)`` on every callback that defines it."""
        for method in self._methods(hook):
            method(*args)

    def hooks(self, hook) -> list:
        """The bound ``hook`` methods to call (callbacks that leave it as the base class's no-op
        are skipped, as Keras skips them for async dispatch): the loops fetch a batch hook's
        list once per loop and call it per execution; an empty list costs nothing."""
        return self._methods(hook)


_float_logs = execution.float_logs


def _progress(title, steps, verbose):
    from ..progress import EpochProgress

    return EpochProgress(title, steps, verbose)


# ---- fit -------------------------------------------------------------------------------------------------------
def fit(
    model,
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
    """Keras 3's ``Model.fit`` (see ``Model.fit``)."""
    what = "fit"
    model._assert_compiled(what)
    spe = _steps_per_execution(model, what)
    epochs = _positive_int(epochs, "epochs", what)
    verbose = _verbose(verbose, what)
    steps_per_epoch = _positive_int(steps_per_epoch, "steps_per_epoch", what, allow_none=True)
    validation_steps = _positive_int(validation_steps, "validation_steps", what, allow_none=True)
    validation_freq = _positive_int(validation_freq, "validation_freq", what)
    validation_batch_size = _positive_int(validation_batch_size, "validation_batch_size", what, allow_none=True)
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
        raise ValueError(f"fit: `initial_epoch` must be a non-negative integer, got {initial_epoch!r}")
    if (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, numbers.Real)
        or not 0 <= validation_split < 1
    ):
        raise ValueError(f"fit: `validation_split` must be a number in [0, 1), got {validation_split!r}")
    if validation_split and validation_data is None:
        if da.is_generator(x) or da.is_py_dataset(x):
            raise ValueError("fit: `validation_split` is only supported for arrays, not generators or PyDatasets")
        x, y, sample_weight, validation_data = _split(model, x, y, sample_weight, validation_split)
    adapter = _adapter(model, x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight, what)
    _check_loss_fits_output(model, what)
    val = None
    if validation_data is not None:
        val = _validation_adapter(model, validation_data, validation_batch_size or batch_size, validation_steps)
    if adapter.num_batches is None and steps_per_epoch is None:
        steps = None
    else:
        steps = steps_per_epoch or adapter.num_batches
    iterator = da.EpochIterator(adapter, steps_per_epoch)

    from ..callbacks import History

    history = History()
    model.history = history
    params = {"verbose": verbose, "epochs": epochs, "steps": steps}
    cbs = CallbackList(list(callbacks or []) + [history], model, params)
    compile_seams_register(model)
    model._fit_state["trainable"] = model.trainable_weights
    was_training = model.training
    model.stop_training = False
    logs = None
    try:
        model.train(True)
        resume_saved_rng_state(model)  # a loaded model continues its file's random stream (nn.saving)
        cbs.call("on_train_begin", None)
        # BackupAndRestore sets model._initial_epoch in on_train_begin (Keras' rule): resume there
        initial_epoch = getattr(model, "_initial_epoch", None) or initial_epoch
        model._initial_epoch = None
        train_step = step_cache.train_step_for(model, model._fit_state["trainable"])
        for epoch in range(initial_epoch, epochs):
            model.reset_metrics()
            cbs.call("on_epoch_begin", epoch, None)
            progress = _progress(f"Epoch {epoch + 1}/{epochs}", steps or 0, verbose)
            step_logs, bad_step = execution.train_epoch(model, train_step, iterator, spe, cbs, progress)
            if bad_step is not None:
                raise FloatingPointError(
                    f"fit: the loss became {float(step_logs['loss'])} at epoch {epoch + 1}, step {bad_step}; the "
                    f"weights are those of the last finite step (learning rate too high? add "
                    f"nn.callbacks.TerminateOnNaN() to stop quietly, or am.detect_anomaly() to find the op)"
                )
            if iterator.ran_out and not step_logs:
                break
            epoch_logs = _float_logs(step_logs)
            if val is not None and (epoch + 1) % validation_freq == 0 and not model.stop_training:
                val_logs = _run_test(model, val, cbs, verbose=0)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            progress.close(epoch_logs)
            cbs.call("on_epoch_end", epoch, epoch_logs)
            logs = epoch_logs
            if model.stop_training or iterator.ran_out:
                break
        finalize = getattr(model.optimizer, "finalize_variable_values", None)
        if finalize is not None:  # use_ema: the averaged weights go into the model (Keras)
            finalize(model.trainable_weights)
        cbs.call("on_train_end", logs)
    finally:
        model.train(was_training)
        model._fit_state.pop("trainable", None)
    return history


def _check_loss_fits_output(model, what) -> None:
    """Categorical cross-entropy needs one output unit per class (at least 2)."""
    name = getattr(model.loss, "name", None)
    shape = getattr(model, "output_shape", None)
    if name == "categorical_crossentropy" and isinstance(shape, tuple) and shape and shape[-1] == 1:
        raise ValueError(
            f"{what}: categorical_crossentropy needs one output unit per class (at least 2), but the model's "
            f"output has 1 unit; use binary_crossentropy"
        )


def compile_seams_register(model) -> None:
    """Hand the (now built) trainable weights to the optimizer."""
    from .compile_seams import register_variables

    register_variables(model.optimizer, model.trainable_weights)


def _split(model, x, y, sample_weight, validation_split):
    """Keras' rule: the last ``validation_split`` fraction of the arrays, before shuffling."""
    xs = da.standardize_x(model, x, "fit")
    ys = da.standardize_y(model, y, "fit")
    n = da.num_samples(xs, ys, None, "fit")
    split = int(math.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(
            f"fit: the training data has {n} samples, not enough to split into training and validation sets "
            f"with validation_split={validation_split}; give more data or another validation_split"
        )
    train = (da._take(xs, slice(0, split)), da._take(ys, slice(0, split)))
    held = (da._take(xs, slice(split, None)), da._take(ys, slice(split, None)))
    sw_train = sw_val = None
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight)
        sw_train, sw_val = sample_weight[:split], sample_weight[split:]
    return train[0], train[1], sw_train, pack_x_y_sample_weight(held[0], held[1], sw_val)


def _validation_adapter(model, validation_data, batch_size, steps):
    what = "fit (validation_data)"
    if da.is_generator(validation_data) or da.is_py_dataset(validation_data):
        return da.EpochIterator(_adapter(model, validation_data, None, None, None, steps, False, None, what), steps)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            f"fit: `validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight), "
            f"a generator or a PyDataset; got {type(validation_data).__name__}"
        )
    x_val, y_val, sw_val = unpack_x_y_sample_weight(tuple(validation_data))
    if y_val is None:
        raise ValueError("fit: `validation_data` = (x_val, None) has no targets; give (x_val, y_val)")
    adapter = _adapter(model, x_val, y_val, sw_val, batch_size, steps, False, None, what)
    return da.EpochIterator(adapter, steps)


# ---- evaluate / predict ----------------------------------------------------------------------------------------
def _run_test(model, iterator, cbs, verbose) -> dict:
    spe = _steps_per_execution(model, "evaluate")
    was_training = model.training
    model.reset_metrics()
    try:
        model.train(False)
        cbs.call("on_test_begin", None)
        progress = _progress("Evaluate", iterator.num_batches or 0, verbose)
        logs = _float_logs(execution.test_epoch(model, iterator, spe, cbs, progress))
        if verbose:
            progress.close(logs)
        cbs.call("on_test_end", logs)
    finally:
        model.train(was_training)
    return logs


def evaluate(
    model,
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
    """Keras 3's ``Model.evaluate`` (see ``Model.evaluate``)."""
    what = "evaluate"
    if kwargs:
        raise TypeError(f"evaluate: unexpected arguments {sorted(kwargs)}")
    model._assert_compiled(what)
    _steps_per_execution(model, what)
    verbose = _verbose(verbose, what)
    steps = _positive_int(steps, "steps", what, allow_none=True)
    adapter = _adapter(model, x, y, sample_weight, batch_size, steps, False, None, what)
    iterator = da.EpochIterator(adapter, steps)
    cbs = CallbackList(callbacks or [], model, {"verbose": verbose, "epochs": 1, "steps": iterator.num_batches})
    logs = _run_test(model, iterator, cbs, verbose)
    if not logs:
        raise ValueError("evaluate: the data produced no batches")
    if return_dict:
        return logs
    values = [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
    """Keras 3's ``Model.predict``: outputs as numpy, concatenated over batches."""
    what = "predict"
    _require_layers(model, what)
    spe = _steps_per_execution(model, what)
    verbose = _verbose(verbose, what)
    steps = _positive_int(steps, "steps", what, allow_none=True)
    if da.is_generator(x) or da.is_py_dataset(x):
        adapter = _adapter(model, x, None, None, batch_size, steps, False, None, what)
    else:
        if isinstance(x, tuple) and len(x) in (2, 3) and not isinstance(x[0], numbers.Number):
            x = x[0]  # (x, y) given to predict: Keras uses x
        adapter = _adapter(model, x, None, None, batch_size, steps, False, None, what)
    iterator = da.EpochIterator(adapter, steps)
    cbs = CallbackList(callbacks or [], model, {"verbose": verbose, "epochs": 1, "steps": iterator.num_batches})
    was_training = model.training
    try:
        model.train(False)
        cbs.call("on_predict_begin", None)
        progress = _progress("Predict", iterator.num_batches or 0, verbose)
        outputs = execution.predict_batches(model, iterator, spe, cbs, progress, _to_numpy, _concat)
        if verbose:
            progress.close({})
        cbs.call("on_predict_end", None)
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("predict: the data produced no batches")
    return _concat(outputs)


def _require_layers(model, what):
    layers = getattr(model, "_layers", None)
    if layers is not None and not [layer for layer in layers if type(layer).__name__ != "InputLayer"]:
        raise ValueError(f"{what}: the Sequential model '{model.name}' has no layers; add some with model.add(layer)")


def _to_numpy(out):
    if isinstance(out, am.Tensor):
        return out.data
    if isinstance(out, (list, tuple)):
        return [_to_numpy(o) for o in out]
    if isinstance(out, dict):
        return {k: _to_numpy(v) for k, v in out.items()}
    return np.asarray(out)


def _concat(outputs):
    first = outputs[0]
    if isinstance(first, list):
        return [np.concatenate([o[i] for o in outputs]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: np.concatenate([o[k] for o in outputs]) for k in first}
    return np.concatenate(outputs)


# ---- single batches --------------------------------------------------------------------------------------------
def _batch_logs(logs, return_dict):
    logs = _float_logs(logs)
    if return_dict:
        return logs
    values = [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]
    return values[0] if len(values) == 1 else values


def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    """One ``train_step`` on the batch; the running metrics continue (Keras 3)."""
    model._assert_compiled("train_on_batch")
    adapter = _adapter(model, x, y, sample_weight, None, None, False, class_weight, "train_on_batch")
    batch = pack_x_y_sample_weight(adapter.x, adapter.y, adapter.sample_weight)
    compile_seams_register(model)
    was_training = model.training
    try:
        model.train(True)
        logs = model.train_step(batch)
    finally:
        model.train(was_training)
    loss = logs.get("loss")
    if loss is not None and not math.isfinite(float(loss)):
        raise FloatingPointError(f"train_on_batch: the loss is {float(loss)}; the weights were not updated")
    return _batch_logs(logs, return_dict)


def test_on_batch(model, x, y=None, sample_weight=None, return_dict=False):
    """One ``test_step`` on the batch, metrics reset first."""
    model._assert_compiled("test_on_batch")
    adapter = _adapter(model, x, y, sample_weight, None, None, False, None, "test_on_batch")
    model.reset_metrics()
    was_training = model.training
    try:
        model.train(False)
        logs = model.test_step(pack_x_y_sample_weight(adapter.x, adapter.y, adapter.sample_weight))
    finally:
        model.train(was_training)
    return _batch_logs(logs, return_dict)


def predict_on_batch(model, x):
    """``predict_step`` on one batch, as numpy."""
    _require_layers(model, "predict_on_batch")
    adapter = _adapter(model, x, None, None, None, None, False, None, "predict_on_batch")
    was_training = model.training
    try:
        model.train(False)
        return _to_numpy(model.predict_step((adapter.x,)))
    finally:
        model.train(was_training)
