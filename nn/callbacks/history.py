"""``History``: the per-epoch logs that ``fit`` returns (``keras.callbacks.History``)."""

from __future__ import annotations

from .callback import Callback


class History(Callback):
    """``history.history``: ``{"loss": [...], "val_loss": [...], ...}``, one value per epoch;
    ``history.epoch``: the epoch indices of this fit. Keras 3's trainer creates a fresh one per
    ``fit``; it becomes ``model.history``."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        """Start a new list of epochs (the history dict itself continues, as in Keras)."""
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        """Append every logged value."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
