"""``ReduceLROnPlateau`` (``keras.callbacks.ReduceLROnPlateau``)."""

from __future__ import annotations

import warnings

import numpy as np

from .monitor_callback import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` (floored at ``min_lr``) after ``patience`` epochs
    without an improvement of ``monitor`` by more than ``min_delta``; then wait ``cooldown``
    epochs. Logs ``learning_rate`` at each epoch end."""

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor, self.min_lr, self.patience = factor, min_lr, patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter, self.wait = 0, 0

    def _reset(self):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def on_train_begin(self, logs=None):
        """Reset the state."""
        self._reset()

    def in_cooldown(self):
        """True while cooling down after a reduction."""
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        """Count epochs without improvement; reduce the rate after ``patience`` of them."""
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0
