"""``LambdaCallback``: a callback from plain functions (``keras.callbacks.LambdaCallback``)."""

from __future__ import annotations

from .callback import Callback


class LambdaCallback(Callback):
    """``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``; any hook may be given by keyword
    (``on_train_begin(logs)``, ``on_train_batch_end(batch, logs)``, ``on_test_end(logs)``, ...)."""

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        self.__dict__.update(kwargs)
        given = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)
