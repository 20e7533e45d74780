"""``Trainer``: Keras 3's trainer (``keras/src/trainers/trainer.py`` with the JAX backend's loops),
the base class ``Model`` inherits ``compile`` / ``fit`` / ``evaluate`` / ``predict`` from.

One step per kind, which users may override: ``train_step`` (forward, loss, backward, the
optimizer step, the metrics), ``test_step`` and ``predict_step``. The loops never call them
directly: ``make_train_function()`` / ``make_test_function()`` / ``make_predict_function()``
are the one seam that returns the function of one *execution* (``steps_per_execution``
batches), running either the step itself or ``am.compile`` of that same step (``jit_compile``,
see ``nn.models.step_function``). The loops around them (``fit`` and friends) check the
arguments before anything changes, take the data through ``nn.models.data_adapters`` and call
Keras' callback hooks (``nn.callbacks.CallbackList``) with ``logs`` dicts, never None.

Training faults, Keras 3's semantics: a non-finite loss does not stop ``fit`` (it is logged as
NaN; ``TerminateOnNaN`` stops training quietly). Where nn differs: the optimizer never writes a
non-finite value into a weight; that step is skipped (the weights keep the last finite step)
and the optimizer warns once, naming its step.
"""

from __future__ import annotations

import numbers

import numpy as np

import autograd_mini as am

from ..optimizers.step import apply_if_finite
from ..utils import set_rng_state
from . import data_adapters as da
from . import step_function
from .data_adapters import unpack_x_y_sample_weight


class LossTracker:
    """Running mean of the loss, weighted by batch size (Keras' ``Mean(name="loss")`` tracker)."""

    __slots__ = ("total", "count")

    def __init__(self):
        self.total, self.count = 0.0, 0

    def update_state(self, value: float, count: int) -> None:
        """Add a batch mean ``value`` over ``count`` samples."""
        self.total += value * count
        self.count += count

    def update_many(self, values, count: int) -> None:
        """``update_state(value, count)`` for each of ``values`` (an array of batch means) in turn:
        the same float operations, without a call per batch."""
        total, seen = self.total, self.count
        for value in values.tolist():
            total += value * count
            seen += count
        self.total, self.count = total, seen

    def result(self) -> float:
        """The mean so far (NaN before any batch)."""
        return self.total / self.count if self.count else float("nan")

    def reset_state(self) -> None:
        """Forget the batches seen."""
        self.total, self.count = 0.0, 0


@am.replayable  # a captured step updates the metrics with each replay's arrays
def _update_metrics(model, loss, batch_size, x, y, y_pred, sample_weight) -> tuple:
    """The loss tracker and ``compute_metrics`` on this batch; the logs' values as 0-d Tensors (their
    keys are kept in ``model._log_keys``), so that a replay returns this batch's values."""
    model._loss_tracker.update_state(float(loss.data), batch_size)
    logs = model.compute_metrics(x, y, _probabilities(y_pred), sample_weight)
    model._log_keys = tuple(logs)
    return tuple(am.Tensor._wrap(_log_value(v)) for v in logs.values())


def _log_value(v) -> np.ndarray:
    """A metric's value for the logs: a scalar as a 0-d float64 array (Python's float); a
    metric whose result is an array (``F1Score(average=None)``: one value per class) keeps it,
    copied, as Keras' logs do."""
    value = np.asarray(_value(v))
    return np.asarray(float(value)) if value.ndim == 0 else value.copy()


def _probabilities(y_pred):
    """``y_pred`` without the softmax/sigmoid logits Keras marks on it (``_keras_logits``): the
    compiled metrics see the outputs themselves, the same arrays eager and in a replay (which
    passes no such mark), as Keras' JAX and torch backends compute them; the loss keeps the logits."""
    if isinstance(y_pred, am.Tensor):
        return am.Tensor._wrap(y_pred.data) if getattr(y_pred, "_keras_logits", None) is not None else y_pred
    if isinstance(y_pred, (list, tuple)):
        return type(y_pred)(_probabilities(v) for v in y_pred)
    if isinstance(y_pred, dict):
        return {k: _probabilities(v) for k, v in y_pred.items()}
    return y_pred


@am.replayable
def _track_loss(model, loss, batch_size) -> am.Tensor:
    """``_update_metrics`` without compiled metrics: the loss tracker alone; the running mean (the
    logs' one value) as a 0-d float64 Tensor."""
    tracker = model._loss_tracker
    tracker.update_state(float(loss.data), batch_size)
    return am.Tensor._wrap(np.array(tracker.result()))  # (a Python float: float64)


def _value(v):
    return v.data if isinstance(v, am.Tensor) else v


class Trainer:
    """compile / fit / evaluate / predict around ``train_step`` / ``test_step`` / ``predict_step``."""

    def __init__(self):
        super().__init__()
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.history = None
        self.stop_training = False
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = LossTracker()
        self._compile_config = {}
        self._log_keys = ("loss",)
        self.steps_per_execution, self.jit_compile, self.run_eagerly = 1, "auto", False
        self.train_function = self.test_function = self.predict_function = None
        self._fit_state = {}  # a dict: Module._children never walks it (fit caches the trainable weights here)

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
        rules). ``jit_compile`` ("auto", True, False) and ``run_eagerly`` choose what
        ``make_train_function`` returns; ``steps_per_execution`` batches run per execution of the
        loops (callbacks' batch hooks and the progress bar once per execution)."""
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
        _positive_int(steps_per_execution, "steps_per_execution", "compile")
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"compile: jit_compile must be 'auto', True or False, got {jit_compile!r}")
        from .. import losses, optimizers
        from ..compile_utils import CompileLoss, CompileMetrics

        optimizer = optimizers.get(optimizer)
        # Keras 3 keeps the previously compiled loss when compile() is called again without one
        compile_loss = self._compile_loss if loss is None else CompileLoss(loss, loss_weights=loss_weights)
        compile_metrics = None
        if metrics or weighted_metrics:
            compile_metrics = CompileMetrics(metrics, weighted_metrics=weighted_metrics)
        self.optimizer = optimizer
        self.loss = loss if loss is None or isinstance(loss, (list, dict)) else losses.get(loss)
        self._compile_loss, self._compile_metrics = compile_loss, compile_metrics
        self._loss_tracker = LossTracker()
        self.run_eagerly, self.steps_per_execution = run_eagerly, int(steps_per_execution)
        self.jit_compile = jit_compile
        self._compile_config = dict(optimizer=optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics, weighted_metrics=weighted_metrics, run_eagerly=run_eagerly, steps_per_execution=steps_per_execution, jit_compile=jit_compile, auto_scale_loss=auto_scale_loss)  # fmt: skip
        self._metric_names = list(metrics) if isinstance(metrics, (list, tuple)) else []  # read by nn.saving today
        self.compiled = True
        self.train_function = self.test_function = self.predict_function = None
        if self.built:
            self._build_optimizer()

    def _resume_saved_rng_state(self) -> None:
        """Continue fit's random stream where the saved model left it: a model from ``load_model``
        carries its file's (validated) random state (``nn.saving`` sets ``_saved_rng_state``),
        which its first ``fit`` restores; loading itself leaves the global stream alone, as
        Keras' ``load_model`` does."""
        state = self.__dict__.pop("_saved_rng_state", None)
        if state is not None:
            set_rng_state(state)

    def _build_optimizer(self) -> None:
        """Hand the (now built) trainable weights to the optimizer."""
        self.optimizer.add_params(self.trainable_weights)

    def _assert_compiled(self, what: str) -> None:
        if not self.compiled or self.optimizer is None:
            raise RuntimeError(f"{what}: you must call model.compile(optimizer=..., loss=...) first")

    # ---- one batch -------------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of (y, y_pred) plus ``model.losses`` (regularization): a scalar Tensor."""
        if self._compile_loss is None:
            penalties = self.losses  # Keras: compile() without a loss trains on the add_loss terms
            if not penalties:
                raise ValueError(
                    f"Model '{self.name}': no loss to compute; compile with a loss (e.g. loss='mse'), "
                    "add one with add_loss() in call, or override train_step"
                )
            total = penalties[0]
            for penalty in penalties[1:]:
                total = total + penalty
            return total
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
        """One optimizer step on a batch ``(x, y[, sample_weight])``; returns the logs (running
        means). A step whose loss is not finite updates nothing (see ``apply_if_finite``); its
        loss is still logged, and the metrics still see the batch, as in Keras."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        variables = self._fit_state.get("trainable") or self.trainable_weights
        for p in variables:
            p.grad = None
        if loss.requires_grad:  # a loss that reaches no trainable weight (Keras: no gradients, no update)
            loss.backward()
        apply_if_finite(self.optimizer, variables, loss)
        return self._logs_after(loss, x, y, y_pred, sample_weight)

    def test_step(self, data):
        """The loss and metrics on a batch, in inference mode (no graph recorded)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with am.no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self._logs_after(loss, x, y, y_pred, sample_weight)

    def _logs_after(self, loss, x, y, y_pred, sample_weight) -> dict:
        """The loss tracker and ``compute_metrics`` updated with this batch; the logs (0-d Tensors).
        Without compiled metrics (and nn's own ``compute_metrics``) the batch's arrays are not
        handed over, so that a replayed step tracks only the loss."""
        batch_size = _batch_size(x)
        if self._compile_metrics is None and type(self).compute_metrics is Trainer.compute_metrics:
            return {"loss": _track_loss(self, loss, batch_size)}
        values = _update_metrics(self, loss, batch_size, x, y, y_pred, sample_weight)
        return dict(zip(self._log_keys, values))

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

    # ---- the seam: the function of one execution --------------------------------------------------------
    def make_train_function(self, force=False):
        """``function(batch, batches) -> (logs, count)``: ``train_step`` on ``batch`` and on up to
        ``steps_per_execution - 1`` more from the iterator ``batches``. The step runs as written,
        or through ``am.compile`` (``jit_compile``: "auto" replays nn's own models bit for bit,
        True compiles loop kernels); kept until ``compile()`` or the variables change."""
        function = self._make_function("train", force)
        step = function.step
        self._captured_train_step = step if isinstance(step, step_function.CapturedStep) else None
        return function

    def make_test_function(self, force=False):
        """As ``make_train_function``, for ``test_step`` (evaluation and validation)."""
        return self._make_function("test", force)

    def make_predict_function(self, force=False):
        """As ``make_train_function``, for ``predict_step``: ``(outputs as numpy, per batch), count``."""
        return self._make_function("predict", force)

    def _make_function(self, kind: str, force: bool):
        """The ``kind`` function, kept while what its capture baked in is unchanged: ``compile()``
        (optimizer, loss, metrics, jit_compile, steps_per_execution), the variables (a layer
        added, other weights) and which of them are frozen (``trainable=False`` clears
        ``requires_grad``, which a recorded backward baked in)."""
        variables = self.weights
        key = (self._compile_config, self.optimizer, self.jit_compile, self.steps_per_execution, *variables)
        frozen = tuple(p.requires_grad and getattr(p, "trainable", True) for p in variables)
        name = f"{kind}_function"
        cached = self._fit_state.get(f"{kind}_key")
        function = getattr(self, name)
        if function is None or force or not cached or not _same(cached[0], key) or cached[1] != frozen:
            own = getattr(Trainer, f"{kind}_step")
            step = step_function.capture(self, getattr(self, f"{kind}_step"), kind, own, _track_loss)
            collect = _to_numpy if kind == "predict" else None
            function = step_function.execution(step, self.steps_per_execution, collect=collect)
            setattr(self, name, function)
            self._fit_state[f"{kind}_key"] = (key, frozen)
        return function

    # ---- fit -----------------------------------------------------------------------------------------------
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
        fraction of the arrays before shuffling; ``validation_steps`` batches of the validation
        data are evaluated from its start at each validation (Keras)."""
        what = "fit"
        self._assert_compiled(what)
        _positive_int(self.steps_per_execution, "steps_per_execution", what)
        epochs = _positive_int(epochs, "epochs", what)
        verbose = _verbose(verbose, what)
        validation_freq = _positive_int(validation_freq, "validation_freq", what)
        for name, value in (
            ("steps_per_epoch", steps_per_epoch),
            ("validation_steps", validation_steps),
            ("validation_batch_size", validation_batch_size),
        ):
            _positive_int(value, name, what, allow_none=True)
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
            raise ValueError(f"fit: `initial_epoch` must be a non-negative integer, got {initial_epoch!r}")
        callbacks = _callback_list(callbacks, what)
        data = da.FitData(
            self,
            x,
            y,
            sample_weight,
            class_weight,
            batch_size,
            shuffle,
            steps_per_epoch,
            validation_split,
            validation_data,
            validation_batch_size,
            validation_steps,
        )
        _check_loss_fits_output(self, what)
        iterator, val = data.train, data.validation

        from ..callbacks import CallbackList

        params = {"verbose": verbose, "epochs": epochs, "steps": iterator.num_batches}
        cbs = CallbackList(callbacks, add_history=True, model=self, **params)
        history = self.history  # CallbackList.set_model made the list's History model.history
        self._build_optimizer()
        self._fit_state["trainable"] = self.trainable_weights
        was_training = self.training
        self.stop_training = False
        logs = {}
        try:
            self.train(True)
            self._resume_saved_rng_state()
            cbs.on_train_begin({})
            # BackupAndRestore sets model._initial_epoch in on_train_begin (Keras' rule): resume there
            initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch
            self._initial_epoch = None
            train_function = self.make_train_function()
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                cbs.on_epoch_begin(epoch, {})
                progress = _progress(f"Epoch {epoch + 1}/{epochs}", iterator.num_batches, verbose)
                step_logs = _run_epoch(self, train_function, iterator, cbs, progress, "train")
                if iterator.ran_out and not step_logs:
                    break
                epoch_logs = _float_logs(step_logs)
                if val is not None and (epoch + 1) % validation_freq == 0 and not self.stop_training:
                    val_logs = self._run_test(val, cbs, verbose=0)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                progress.close(epoch_logs)
                cbs.on_epoch_end(epoch, epoch_logs)
                logs = epoch_logs
                if self.stop_training or iterator.ran_out:
                    break
            self.optimizer.finalize_variable_values(self.trainable_weights)  # use_ema: the averages in (Keras)
            cbs.on_train_end(logs)
        finally:
            self.train(was_training)
            self._fit_state.pop("trainable", None)
        return history

    # ---- evaluate / predict ------------------------------------------------------------------------------
    def _run_test(self, iterator, cbs, verbose) -> dict:
        was_training = self.training
        self.reset_metrics()
        iterator.reset()  # validation_steps: each validation starts at the data's beginning (Keras)
        try:
            self.train(False)
            cbs.on_test_begin({})
            progress = _progress("Evaluate", iterator.num_batches, verbose)
            logs = _float_logs(_run_epoch(self, self.make_test_function(), iterator, cbs, progress, "test"))
            if verbose:
                progress.close(logs)
            cbs.on_test_end(logs)
        finally:
            self.train(was_training)
        return logs

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
        what = "evaluate"
        if kwargs:
            raise TypeError(f"evaluate: unexpected arguments {sorted(kwargs)}")
        self._assert_compiled(what)
        _positive_int(self.steps_per_execution, "steps_per_execution", what)
        verbose = _verbose(verbose, what)
        steps = _positive_int(steps, "steps", what, allow_none=True)
        iterator = da.epoch_iterator(self, x, y, sample_weight, batch_size, steps, False, None, what)
        from ..callbacks import CallbackList

        cbs = CallbackList(
            _callback_list(callbacks, what), model=self, verbose=verbose, epochs=1, steps=iterator.num_batches
        )
        logs = self._run_test(iterator, cbs, verbose)
        if not logs:
            raise ValueError("evaluate: the data produced no batches")
        return _returned_logs(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x as numpy arrays, batch by batch, in inference mode."""
        what = "predict"
        _require_layers(self, what)
        _positive_int(self.steps_per_execution, "steps_per_execution", what)
        verbose = _verbose(verbose, what)
        steps = _positive_int(steps, "steps", what, allow_none=True)
        if isinstance(x, tuple) and len(x) in (2, 3) and not isinstance(x[0], numbers.Number):
            x = x[0]  # (x, y) given to predict: Keras uses x
        iterator = da.epoch_iterator(self, x, None, None, batch_size, steps, False, None, what)
        from ..callbacks import CallbackList

        cbs = CallbackList(
            _callback_list(callbacks, what), model=self, verbose=verbose, epochs=1, steps=iterator.num_batches
        )
        was_training = self.training
        try:
            self.train(False)
            cbs.on_predict_begin({})
            progress = _progress("Predict", iterator.num_batches, verbose)
            outputs = _run_epoch(self, self.make_predict_function(), iterator, cbs, progress, "predict")
            if verbose:
                progress.close({})
            cbs.on_predict_end({})
        finally:
            self.train(was_training)
        if not outputs:
            raise ValueError("predict: the data produced no batches")
        return _concat(outputs)

    # ---- single batches ----------------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One ``train_step`` on the batch; the running metrics continue (Keras 3). A non-finite loss
        is returned as it is (the weights are not updated)."""
        what = "train_on_batch"
        self._assert_compiled(what)
        batch = da.one_batch(self, x, y, sample_weight, class_weight, what)
        self._build_optimizer()
        was_training = self.training
        try:
            self.train(True)
            logs = self.train_step(batch)
        finally:
            self.train(was_training)
        return _returned_logs(_float_logs(logs), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One ``test_step`` on the batch, metrics reset first."""
        what = "test_on_batch"
        self._assert_compiled(what)
        batch = da.one_batch(self, x, y, sample_weight, None, what)
        self.reset_metrics()
        was_training = self.training
        try:
            self.train(False)
            logs = self.test_step(batch)
        finally:
            self.train(was_training)
        return _returned_logs(_float_logs(logs), return_dict)

    def predict_on_batch(self, x):
        """``predict_step`` on one batch, as numpy."""
        what = "predict_on_batch"
        _require_layers(self, what)
        batch = da.one_batch(self, x, None, None, None, what)
        was_training = self.training
        try:
            self.train(False)
            return _to_numpy(self.predict_step(batch))
        finally:
            self.train(was_training)


# ---- the epoch loop ----------------------------------------------------------------------------------------
def _run_epoch(model, function, iterator, cbs, progress, kind):
    """All executions of one epoch (``kind``: "train", "test", "predict"). Callbacks' batch hooks run
    once per execution (Keras 3): ``on_*_batch_begin(begin)`` before it and ``on_*_batch_end(begin
    + steps_per_execution - 1, logs)`` after it. Returns the last logs (train, test) or every
    batch's outputs (predict). Training stops early when a callback sets ``model.stop_training``.

    When nothing can observe the steps between an epoch's first and last (no callback overrides
    a batch hook, as Keras 3 tells with ``utils.is_default``; a compiled step), the epoch's
    batches go to the step's kernel in large groups, one native call each
    (``CapturedStep.run_blocks``): the same numbers as the executions one by one, bit for bit.
    A live progress bar is then drawn after each group (at most 4096 batches, or 1 MiB of
    batch data) with the logs after its last batch: what Keras' ``Progbar`` shows, which redraws
    at most every 0.05 s whatever the steps."""
    begin_hooks = cbs.hooks(f"on_{kind}_batch_begin")
    end_hooks = cbs.hooks(f"on_{kind}_batch_end")
    update = progress.update if progress.verbose else None
    spe = model.steps_per_execution
    batches = iter(iterator)
    predicting = kind == "predict"
    result = [] if predicting else {}
    captured = getattr(function, "step", None)  # (a make_*_function of the user: its own function)
    if (
        not begin_hooks
        and not end_hooks
        and not (kind == "train" and model.stop_training)
        and isinstance(captured, step_function.CapturedStep)
        and captured.kernels
    ):  # nothing observes the executions' boundaries: many batches per native call
        # (arrays only: a generator's or dataset's batches are not fetched ahead of their steps)
        arrays = isinstance(iterator, da.EpochIterator) and isinstance(iterator.adapter, da.ArrayAdapter)
        blocks = iterator.blocks() if arrays else None
        live = progress.mode in ("live", "notebook")  # (a bar that moves: drawn per native call)
        per_group = (lambda logs, n: update(logs or {}, n)) if live else None
        if predicting and blocks is not None:
            outputs, count = captured.run_blocks(blocks, collect=_to_numpy, progress=per_group)
            if update is not None and count and not live:
                update({}, count)
            return outputs
        if not predicting and arrays:
            if blocks is None:
                logs, count = captured.run_all(batches, progress=per_group)
            else:
                logs, count = captured.run_blocks(blocks, progress=per_group)
            if update is not None and count and not live:
                update(logs, count)
            return result if logs is None else logs
    step = 0
    for batch in batches:
        for hook in begin_hooks:
            hook(step, {})
        logs, count = function(batch, batches)
        if predicting:
            result.extend(logs)
            logs = {"outputs": logs[0] if count == 1 else _concat(logs)}
        else:
            result = logs
        if update is not None:
            update({} if predicting else logs, count)
        if end_hooks:
            out = logs if predicting else _callback_logs(logs)
            for hook in end_hooks:
                hook(step + spe - 1, out)
        if model.stop_training and kind == "train":
            break
        step += spe
    return result


def _callback_logs(logs):
    """The logs as callbacks get them at a batch end: Python floats (Keras' ``pythonify_logs``),
    the same dict when they already are (no copy per batch)."""
    if isinstance(logs, dict):
        for value in logs.values():
            if value.__class__ is not float:
                return _float_logs(logs)
        return logs
    return {}


def _float_logs(logs) -> dict:
    """A copy with every value that converts (Tensors, numpy scalars) as a Python float."""
    out = {}
    for key, value in (logs or {}).items():
        if isinstance(value, am.Tensor):
            value = value.data
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


# ---- argument checks and small helpers ---------------------------------------------------------------------
def _positive_int(value, name: str, what: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what}: `{name}` must be a positive integer, got {name}={value!r}")
    return int(value)


def _verbose(verbose, what: str) -> int:
    """Keras' values: "auto" (1), 0, 1, 2; True and False are 1 and 0 (Keras 3 accepts them)."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool):
        return int(verbose)
    if verbose not in (0, 1, 2):
        raise ValueError(f"{what}: `verbose` must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def _callback_list(callbacks, what: str) -> list:
    """``callbacks`` as a list: None, one Callback (Keras accepts it), or a list/tuple of them."""
    from ..callbacks import Callback

    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"{what}: `callbacks` must be a Callback or a list of them, got {type(callbacks).__name__}")
    return list(callbacks)


def _progress(title, steps, verbose):
    from ..progress import EpochProgress

    return EpochProgress(title, steps or 0, verbose)


def _check_loss_fits_output(model, what) -> None:
    """Categorical cross-entropy needs one output unit per class (at least 2)."""
    name = getattr(model.loss, "name", None)
    shape = getattr(model, "output_shape", None)
    if name == "categorical_crossentropy" and isinstance(shape, tuple) and shape and shape[-1] == 1:
        raise ValueError(
            f"{what}: categorical_crossentropy needs one output unit per class (at least 2), but the model's "
            f"output has 1 unit; use binary_crossentropy"
        )


def _require_layers(model, what):
    layers = getattr(model, "_layers", None)
    if layers is not None and not [layer for layer in layers if type(layer).__name__ != "InputLayer"]:
        raise ValueError(f"{what}: the Sequential model '{model.name}' has no layers; add some with model.add(layer)")


def _returned_logs(logs, return_dict):
    if return_dict:
        return logs
    values = [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]
    return values[0] if len(values) == 1 else values


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


def _batch_size(x) -> int:
    while isinstance(x, (list, tuple)):
        x = x[0]
    if isinstance(x, dict):
        x = next(iter(x.values()))
    return int(x.shape[0]) if getattr(x, "shape", None) else 1


def _same(a: tuple, b: tuple) -> bool:
    """The same objects, in order (``is``: Tensors compare elementwise with ``==``)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))
