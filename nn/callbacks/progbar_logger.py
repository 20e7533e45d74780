"""``ProgbarLogger``: the progress bar of ``fit`` as a callback (``keras.callbacks.ProgbarLogger``),
drawn by ``nn.progress.EpochProgress``."""

from __future__ import annotations

from .callback import Callback


class ProgbarLogger(Callback):
    """One bar per epoch from ``params`` (``verbose``: 0 silent, 1 a live bar, 2 one line per
    epoch, "auto" = 1; ``epochs``; ``steps``); updated after each training batch, closed with the
    epoch's logs. ``stream``: where to draw (default stdout)."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.verbose, self.epochs, self.target = 1, 1, None
        self.progress = None
        self.seen = 0

    def set_params(self, params):
        """Read ``verbose``, ``epochs`` and ``steps``."""
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        """Open the epoch's bar."""
        from ..progress import EpochProgress

        self.seen = 0
        self.progress = EpochProgress(f"Epoch {epoch + 1}/{self.epochs}", self.target or 0, self.verbose, self.stream)

    def on_train_batch_end(self, batch, logs=None):
        """Advance the bar to batch ``batch + 1`` (with ``steps_per_execution`` > 1 the hook runs
        once per execution, ``batch`` its last index; the bar stops at ``steps``)."""
        seen = batch + 1 if not self.target else min(batch + 1, self.target)
        done, self.seen = seen - self.seen, seen
        if self.progress is not None:
            self.progress.update(dict(logs or {}), done)

    def on_epoch_end(self, epoch, logs=None):
        """Close the bar with the epoch's logs."""
        if self.progress is not None:
            if not self.target:
                self.progress.steps = self.seen
            self.progress.close(dict(logs or {}))
            self.progress = None
