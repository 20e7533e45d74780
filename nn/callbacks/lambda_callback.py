"""``LambdaCallback``: a callback from plain functions (``keras.callbacks.LambdaCallback``)."""

from __future__ import annotations

from .callback import Callback

_INDEXED = {
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
}
_PLAIN = {"on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end"}


def _indexed(fn):
    def hook(index, logs=None):
        return fn(index, logs)

    return hook


def _plain(fn):
    def hook(logs=None):
        return fn(logs)

    return hook


class LambdaCallback(Callback):
    """``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``; any hook may be given by keyword
    (``on_train_begin(logs)``, ``on_train_batch_end(batch, logs)``, ``on_test_end(logs)``, ...).
    The functions always receive ``logs`` (a dict, ``{}`` when there is nothing to report); other keyword
    arguments become attributes, as in Keras."""

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
        given = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name in list(kwargs):
            if name in _INDEXED or name in _PLAIN:
                given[name] = kwargs.pop(name)
        self.__dict__.update(kwargs)
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, _indexed(fn) if name in _INDEXED else _plain(fn))
