"""``CallbackList``: calls every hook on a list of callbacks, in order (``keras.callbacks.CallbackList``)."""

from __future__ import annotations

from .callback import Callback
from .history import History
from .progbar_logger import ProgbarLogger

_HOOKS_WITH_INDEX = (
    "on_batch_begin",
    "on_batch_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)
_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}
_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
)


class CallbackList(Callback):
    """Keras 3's container: ``add_history`` / ``add_progbar`` append a History / ProgbarLogger
    unless one is given; ``set_model`` also sets ``model.history``; ``params`` go to every callback."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        if isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks) if callbacks else []
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not hasattr(cb, "set_model"):
                raise TypeError(f"CallbackList: expected nn.callbacks.Callback instances, got {type(cb).__name__}")
        self._hooks: dict = {}
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def hooks(self, hook: str) -> list:
        """The bound ``hook`` methods worth calling: callbacks that leave it as the base class's
        no-op are skipped (as Keras skips them), except that an old-style ``on_batch_begin/end``
        serves ``on_train_batch_begin/end`` (Keras' alias). The loops fetch a batch hook's list
        once per epoch and call it per execution; an empty list costs nothing."""
        methods = self._hooks.get(hook)
        if methods is None:
            methods = []
            base = getattr(Callback, hook, None)
            for cb in self.callbacks:
                method = getattr(cb, hook, None)
                if method is None:
                    continue
                if base is not None and hook not in vars(cb) and getattr(type(cb), hook, None) is base:
                    alias = _ALIASES.get(hook)
                    if alias is None or getattr(type(cb), alias, None) is getattr(Callback, alias):
                        continue
                methods.append(method)
            self._hooks[hook] = methods
        return methods

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def append(self, callback):
        """Add a callback at the end."""
        self.callbacks.append(callback)
        self._hooks.clear()

    def set_params(self, params):
        """Give ``params`` to every callback (when not empty)."""
        self.params = params
        if params:
            for cb in self.callbacks:
                set_params = getattr(cb, "set_params", None)
                if set_params is not None:
                    set_params(dict(params))
                else:
                    cb.params = dict(params)

    def set_model(self, model):
        """Attach ``model`` to every callback; the History becomes ``model.history``."""
        if not model:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)


def _dispatch_indexed(name):
    def hook(self, index, logs=None):
        logs = {} if logs is None else logs
        for method in self.hooks(name):
            method(index, logs)

    hook.__name__ = name
    hook.__doc__ = f"Call ``{name}(index, logs)`` on every callback."
    return hook


def _dispatch(name):
    def hook(self, logs=None):
        logs = {} if logs is None else logs
        for method in self.hooks(name):
            method(logs)

    hook.__name__ = name
    hook.__doc__ = f"Call ``{name}(logs)`` on every callback."
    return hook


for _name in _HOOKS_WITH_INDEX:
    setattr(CallbackList, _name, _dispatch_indexed(_name))
for _name in _HOOKS:
    setattr(CallbackList, _name, _dispatch(_name))
