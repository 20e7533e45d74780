"""``Callback``: Keras 3's base class with every hook (``keras.callbacks.Callback``)."""

from __future__ import annotations


class Callback:
    """Hooks the trainer calls; ``self.model`` is the model being trained, ``self.params`` the
    fit parameters (``{"verbose", "epochs", "steps"}``). ``on_train_batch_begin/end`` default to
    ``on_batch_begin/end`` (Keras' backwards-compatible aliases)."""

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        """Store the fit parameters."""
        self.params = params

    def set_model(self, model):
        """Attach the model."""
        self._model = model

    @property
    def model(self):
        """The model this callback is attached to."""
        return self._model

    @model.setter
    def model(self, model):
        self._model = model

    def on_batch_begin(self, batch, logs=None):
        """Alias of ``on_train_batch_begin`` (kept by Keras for compatibility)."""

    def on_batch_end(self, batch, logs=None):
        """Alias of ``on_train_batch_end`` (kept by Keras for compatibility)."""

    def on_epoch_begin(self, epoch, logs=None):
        """At the start of epoch ``epoch`` (0-based) of ``fit``."""

    def on_epoch_end(self, epoch, logs=None):
        """At the end of an epoch; ``logs`` has the epoch's metrics (and ``val_*``)."""

    def on_train_batch_begin(self, batch, logs=None):
        """Before a training batch; calls ``on_batch_begin``."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """After a training batch (``logs``: running averages); calls ``on_batch_end``."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Before an evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """After an evaluation batch."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Before a prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """After a prediction batch."""

    def on_train_begin(self, logs=None):
        """At the start of ``fit``."""

    def on_train_end(self, logs=None):
        """At the end of ``fit`` (``logs``: the last epoch's)."""

    def on_test_begin(self, logs=None):
        """At the start of ``evaluate`` (and of validation inside ``fit``)."""

    def on_test_end(self, logs=None):
        """At the end of ``evaluate``."""

    def on_predict_begin(self, logs=None):
        """At the start of ``predict``."""

    def on_predict_end(self, logs=None):
        """At the end of ``predict``."""
