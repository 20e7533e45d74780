"""``EarlyStopping`` (``keras.callbacks.EarlyStopping``, Keras 3's semantics)."""

from __future__ import annotations

import warnings

from .monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved (by more than ``min_delta``) for
    ``patience`` epochs, counted from ``start_from_epoch``. ``baseline``: improvements that do not
    beat it do not reset the wait (the best starts unset). ``restore_best_weights``: at the end of
    training (stopped early or not) the best epoch's weights are put back. A monitored value
    missing from the logs warns and is skipped."""

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.wait, self.stopped_epoch = 0, 0
        self.restore_best_weights, self.best_weights = restore_best_weights, None
        self.start_from_epoch = start_from_epoch
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        """Reset the state (a callback may serve several fits)."""
        self.wait, self.stopped_epoch = 0, 0
        self.best, self.best_weights, self.best_epoch = None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        """Track the best value; ask the model to stop after ``patience`` epochs without improvement."""
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        """Report the stop; restore the best weights."""
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        """``logs[monitor]``, or None with Keras' warning."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}",
                stacklevel=2,
            )
        return value
