"""``TerminateOnNaN`` (``keras.callbacks.TerminateOnNaN``)."""

from __future__ import annotations

import math

from .callback import Callback


class TerminateOnNaN(Callback):
    """After a training batch whose ``loss`` is NaN or infinite: stop training cleanly
    (``model.stop_training = True``), or raise ``RuntimeError`` with ``raise_error=True``."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        """Check the batch loss."""
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
