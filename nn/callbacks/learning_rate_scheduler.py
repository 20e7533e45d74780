"""``LearningRateScheduler`` (``keras.callbacks.LearningRateScheduler``)."""

from __future__ import annotations

import numpy as np

from .callback import Callback


class LearningRateScheduler(Callback):
    """At each epoch start: ``optimizer.learning_rate = schedule(epoch, lr)`` (or ``schedule(epoch)``
    for a one-argument function, as Keras falls back on TypeError); the result must be a float.
    Logs ``learning_rate`` at each epoch end."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        """Set the epoch's learning rate."""
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # the old one-argument API
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
        optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        """Log the current ``learning_rate``."""
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
