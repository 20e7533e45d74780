"""``SwapEMAWeights`` (``keras.callbacks.SwapEMAWeights``): evaluate and save with the EMA weights."""

from __future__ import annotations

import numpy as np

from .callback import Callback


class SwapEMAWeights(Callback):
    """With an optimizer built with ``use_ema=True``: swap the moving averages into the model for
    validation (``swap_on_epoch=False``: around ``on_test_begin/end``) or for the other callbacks
    of the epoch end (``swap_on_epoch=True``: at ``on_epoch_begin`` back to the raw weights, at
    ``on_epoch_end`` to the averages; put it before ModelCheckpoint)."""

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._swapped = False

    def _swap(self):
        optimizer = self.model.optimizer
        if not getattr(optimizer, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={getattr(optimizer, 'use_ema', None)}"
            )
        for p in optimizer.trainable_variables:
            if getattr(p, "trainable", True):
                avg = optimizer.slot("average", p)
                data = p.mutable_data()
                tmp = data.copy()
                np.copyto(data, avg)
                np.copyto(avg, tmp)
        self._swapped = not self._swapped

    def on_epoch_begin(self, epoch, logs=None):
        """Back to the raw weights."""
        if self.swap_on_epoch and self._swapped:
            self._swap()

    def on_epoch_end(self, epoch, logs=None):
        """The averages in, for the callbacks after this one."""
        if self.swap_on_epoch and not self._swapped:
            self._swap()

    def on_test_begin(self, logs=None):
        """The averages in for validation."""
        if not self.swap_on_epoch and not self._swapped:
            self._swap()

    def on_test_end(self, logs=None):
        """The raw weights back."""
        if not self.swap_on_epoch and self._swapped:
            self._swap()

    def on_train_end(self, logs=None):
        """Leave the raw weights in (the trainer then finalizes with the averages)."""
        if self._swapped:
            self._swap()
