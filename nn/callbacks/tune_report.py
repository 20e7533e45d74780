"""``TuneReportCallback``: an ``nn`` training as a Ray Tune trial (the name of Ray's Keras callback).

Ray is optional (the ``tune`` extra): it is imported when the callback is built, never by ``import nn``.
"""

from __future__ import annotations

import numbers
import os
import tempfile

from .callback import Callback

CHECKPOINT_FILE = "model.keras"
EPOCH_KEY = "nn_epoch"  # in the checkpoint's Ray metadata: the number of epochs the saved model has trained


def _tune():
    try:
        from ray import tune
    except ImportError as error:
        raise ImportError(
            "TuneReportCallback needs Ray Tune: pip install 'autograd_mini[tune]' (ray[tune,client], optuna)"
        ) from error
    return tune


class TuneReportCallback(Callback):
    """Report each epoch's logs to Ray Tune (``ray.tune.report``), and on request a checkpoint.

    As Ray's own Keras and Lightning callbacks do: ``metrics=None`` reports every key of the epoch's
    logs (``loss``, the compiled metrics, ``val_*``); a list reports those keys; a dict maps the name
    reported to Tune to the key in the logs. A key missing from the logs is an error (naming the keys
    there are), not a silent gap in Tune's table.

    ``checkpoint_every=N`` (``N >= 1``) also saves the model every ``N`` epochs and at the last epoch,
    in nn's atomic ``.keras`` format (weights, optimizer slots and step, and the random state ``fit``
    draws from), into a temporary folder handed to Ray as ``ray.tune.Checkpoint.from_directory``;
    Ray copies it to the trial's storage and gives it back through ``ray.tune.get_checkpoint()`` when
    the trial restarts. ``TuneReportCallback.restore()`` turns that into ``(model, initial_epoch)``;
    ``model.fit(..., initial_epoch=initial_epoch)`` then continues bit for bit, as if never stopped.
    ``checkpoint_every=0`` (the default) reports metrics only.
    """

    def __init__(self, metrics=None, checkpoint_every: int = 0, filename: str = CHECKPOINT_FILE):
        super().__init__()
        if isinstance(metrics, str):
            metrics = [metrics]
        if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
            raise TypeError(
                f"TuneReportCallback: `metrics` must be None, a key, a list of keys or a dict "
                f"{{reported name: log key}}, got {type(metrics).__name__}"
            )
        if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 0:
            raise ValueError(
                f"TuneReportCallback: `checkpoint_every` must be an int >= 0 (0: no checkpoints), got {checkpoint_every!r}"
            )
        if not isinstance(filename, str) or not filename.endswith(".keras") or os.path.basename(filename) != filename:
            raise ValueError(f"TuneReportCallback: `filename` must be a file name ending in .keras, got {filename!r}")
        self._tune = _tune()
        self.metrics = dict(metrics) if isinstance(metrics, dict) else (list(metrics) if metrics else None)
        self.checkpoint_every = checkpoint_every
        self.filename = filename

    def _reported(self, logs: dict) -> dict:
        logs = logs or {}
        if self.metrics is None:
            pairs = [(key, key) for key in logs]
        elif isinstance(self.metrics, dict):
            pairs = list(self.metrics.items())
        else:
            pairs = [(key, key) for key in self.metrics]
        missing = [key for _, key in pairs if key not in logs]
        if missing:
            raise KeyError(f"TuneReportCallback: {missing} not in the epoch's logs; the logs have {sorted(logs)}")
        return {name: _plain(logs[key]) for name, key in pairs}

    def _checkpoint_due(self, epoch: int) -> bool:
        if not self.checkpoint_every:
            return False
        last = (self.params or {}).get("epochs")
        return (epoch + 1) % self.checkpoint_every == 0 or epoch + 1 == last

    def on_epoch_end(self, epoch, logs=None):
        """Report the epoch's logs; save and attach a checkpoint when one is due."""
        metrics = self._reported(logs)
        if not self._checkpoint_due(epoch):
            self._tune.report(metrics)
            return
        with tempfile.TemporaryDirectory(prefix="nn_tune_") as folder:
            self.model.save(os.path.join(folder, self.filename))
            checkpoint = self._tune.Checkpoint.from_directory(folder)
            checkpoint.set_metadata({EPOCH_KEY: epoch + 1, "nn_file": self.filename})
            self._tune.report(metrics, checkpoint=checkpoint)

    @staticmethod
    def restore(checkpoint=None):
        """``(model, initial_epoch)`` from ``checkpoint`` (default: ``ray.tune.get_checkpoint()``, the
        trial's last reported checkpoint when Tune restarts it), or ``(None, 0)`` when there is none.
        The model comes back compiled, with its optimizer state and ``fit``'s random state restored,
        so call this after seeding (``nn.utils.set_random_seed``): the file's state wins."""
        tune = _tune()
        if checkpoint is None:
            checkpoint = tune.get_checkpoint()
        if checkpoint is None:
            return None, 0
        from ..saving import load_model

        metadata = checkpoint.get_metadata()
        epoch, filename = metadata.get(EPOCH_KEY), metadata.get("nn_file", CHECKPOINT_FILE)
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(
                f"TuneReportCallback.restore: checkpoint {checkpoint} has no epoch count "
                f"({EPOCH_KEY!r} in its metadata, a non-negative int); got metadata {metadata!r}"
            )
        if not isinstance(filename, str) or os.path.basename(filename) != filename or not filename.endswith(".keras"):
            raise ValueError(f"TuneReportCallback.restore: bad model file name {filename!r} in {checkpoint}")
        with checkpoint.as_directory() as folder:
            path = os.path.join(folder, filename)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"TuneReportCallback.restore: {checkpoint} has no {filename}")
            model = load_model(path)
        return model, epoch


def _plain(value):
    """A log value as a plain Python number (Tune's table and result files take those)."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return value
