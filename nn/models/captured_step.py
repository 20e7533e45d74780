"""The captured training step behind ``compile(jit_compile=...)`` (Keras' name).

``fit`` calls ``train_step`` once per batch. With ``jit_compile`` on, the default
``train_step``'s array work — forward, loss, backward and the optimizer update — runs through
``am.compile``: each input signature (batch shape and dtype, so the last partial batch is a
second one) is traced by running the eager step, checked by a second trace, and replayed on
later batches without Graph objects. What stays in Python on every batch is what must:
the loss tracker, the metrics (from the replayed predictions), callbacks and progress.

The replay gives the numbers the eager step gives, bit for bit: the same array operations in
the same order, the same random stream (Dropout draws its masks in ``@am.replayable`` code),
the same optimizer (its update is replayed as Python, writing through ``mutable_data``). A
non-finite loss skips the update inside the replayed step, as the eager step does.

``jit_compile="auto"`` (Keras' default) captures when the model can be captured: a built-in
``train_step``, one array input and one array target. Where the trace is refused
(``am.CaptureError``: a custom layer or loss that computes from the data outside the op set),
"auto" falls back to the eager step with a warning; ``jit_compile=True`` raises instead.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import autograd_mini as am

from .data_adapters import unpack_x_y_sample_weight


@am.replayable
def _update_if_finite(optimizer, params, loss) -> None:
    """The optimizer step, skipped when the loss is not finite (the weights keep the last good step)."""
    if math.isfinite(float(loss.data)):
        optimizer.step()


def wants_capture(model) -> bool:
    """Whether ``fit`` should try the captured step for this model.

    ``jit_compile=True``: whenever the default ``train_step`` runs. ``"auto"``: only when every
    piece is nn's own (layers, loss, the model class's ``call``), because a replay runs none of
    the user's Python: a custom loss or layer with side effects would silently run once, at
    trace time (jax's rule), so "auto" leaves user code eager."""
    mode = getattr(model, "jit_compile", "auto")
    if mode is False or getattr(model, "run_eagerly", False):
        return False
    from .model import Model

    if type(model).train_step is not Model.train_step:
        return False
    if mode is True:
        return True
    return _ours(type(model)) and all(_ours(type(layer)) for layer in model.layers) and _ours_loss(model.loss)


def _ours(cls) -> bool:
    return cls.__module__.split(".")[0] == "nn"


def _ours_loss(loss) -> bool:
    if isinstance(loss, (list, tuple)):
        return all(_ours_loss(item) for item in loss)
    if isinstance(loss, dict):
        return all(_ours_loss(item) for item in loss.values())
    if isinstance(loss, str):
        return True
    return _ours(loss if isinstance(loss, type) else type(loss)) or getattr(loss, "__module__", "").startswith("nn.")


class CapturedTrainStep:
    """``train_step`` for one fit call: captured per signature, eager where it cannot be."""

    def __init__(self, model, params):
        self.model = model
        self.params = params
        self.strict = getattr(model, "jit_compile", "auto") is True
        self.compiled = am.compile(self._core)
        self.eager = False

    def _core(self, x, y, sample_weight):
        model = self.model
        y_pred = model(x, training=True)
        loss = model.compute_loss(x, y, y_pred, sample_weight, training=True)
        for p in self.params:
            p.grad = None
        loss.backward()
        _update_if_finite(model.optimizer, self.params, loss)
        return loss, y_pred

    def __call__(self, data):
        model = self.model
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if self.eager or not _plain_batch(x, y, sample_weight):
            return model.train_step(data)
        try:
            loss, y_pred = self.compiled(x, y, sample_weight)
        except am.CaptureError as error:
            if self.strict:
                raise
            warnings.warn(f"jit_compile: training eagerly, the step cannot be captured: {error}", stacklevel=2)
            self.eager = True
            return model.train_step(data)
        value = float(loss.data)
        model._loss_tracker.update_state(value, len(x))
        if not math.isfinite(value):
            return model.get_metrics_result()
        return model.compute_metrics(x, y, y_pred, sample_weight)


def _plain_batch(x, y, sample_weight) -> bool:
    """One array input, one array target, an optional array of sample weights."""
    return (
        isinstance(x, np.ndarray)
        and isinstance(y, np.ndarray)
        and (sample_weight is None or isinstance(sample_weight, np.ndarray))
    )
