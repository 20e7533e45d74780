"""``ModelCheckpoint`` (``keras.callbacks.ModelCheckpoint``, Keras 3's semantics)."""

from __future__ import annotations

import inspect
import os
import warnings

import numpy as np

from .monitor_callback import MonitorCallback

MODEL_SUFFIXES = (".keras", ".h5", ".npz")
WEIGHTS_SUFFIXES = (".weights.h5", ".weights.npz")


def call_with_overwrite(method, path):
    """``method(path, overwrite=True)`` when the model's save method takes ``overwrite`` (Keras' form)."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        parameters = {}
    takes = "overwrite" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    return method(path, overwrite=True) if takes else method(path)


class ModelCheckpoint(MonitorCallback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) every epoch
    (``save_freq="epoch"``) or every ``save_freq`` batches. ``filepath`` is formatted with
    ``epoch`` (1-based), ``batch`` (per-batch saving) and the logs: ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``.
    ``save_best_only``: only when ``monitor`` improves on the best so far (starting from
    ``initial_value_threshold``); a missing monitored value warns and saves. Folders are created
    at the start of training and before each save. Files end in ``.keras``/``.h5``/``.npz``
    (``.weights.h5``/``.weights.npz`` with ``save_weights_only``); the writes are the saving
    module's (atomic)."""

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if self.save_freq != "epoch" and (isinstance(self.save_freq, bool) or not isinstance(self.save_freq, int)):
            raise ValueError(
                f"Unrecognized save_freq: {self.save_freq}. Expected save_freq are 'epoch' or integer values"
            )
        if save_weights_only:
            if not self.filepath.endswith(WEIGHTS_SUFFIXES):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in "
                    f"`.weights.h5` (Keras weights format) or `.weights.npz`. Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith(MODEL_SUFFIXES):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format), `.h5` or `.npz`. "
                f"Received: filepath={self.filepath}"
            )

    def on_train_begin(self, logs=None):
        """Create the checkpoint folder (when its name has no ``{...}`` fields)."""
        folder = os.path.dirname(self.filepath)
        if folder and "{" not in folder:
            os.makedirs(folder, exist_ok=True)

    def on_epoch_begin(self, epoch, logs=None):
        """Remember the epoch for per-batch saving."""
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        """Save every ``save_freq`` batches (integer ``save_freq``)."""
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        """Save at the epoch end (``save_freq="epoch"``)."""
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            add_batches = batch + 1  # a new epoch: batches are 0-based
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(
                f"Can save best model only when `monitor` is a scalar value. Received: {current}. "
                "Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, "
                    f"saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = dict(logs or {})
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError(
                f"Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing "
                f"directory: {filepath}"
            )
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            call_with_overwrite(self.model.save_weights, filepath)
        else:
            call_with_overwrite(self.model.save, filepath)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from None
