"""``BackupAndRestore`` (``keras.callbacks.BackupAndRestore``): resume an interrupted ``fit``."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import numpy as np

from ..saving.atomic import atomic_write
from .callback import Callback

BACKUP_FILE = "latest.backup.npz"


def trainable_weights(model) -> list:
    """The model's trainable weights (``model.trainable_weights``, else its trainable parameters)."""
    weights = getattr(model, "trainable_weights", None)
    if weights is None:
        weights = [p for p in model.parameters() if getattr(p, "trainable", True)]
    return list(weights)


class BackupAndRestore(Callback):
    """Back up the training state in ``backup_dir`` at each epoch end (``save_freq="epoch"``) or
    every ``save_freq`` batches; at the start of the next ``fit`` restore it and continue from the
    saved epoch (the trainer starts at ``model._initial_epoch``, as Keras' does). The run ending
    normally deletes the backup (``delete_checkpoint=True``).

    The state is one file, ``backup_dir/latest.backup.npz``, written atomically (temporary file,
    fsync, rename): the model's weights (``get_weights``, in order), the optimizer's variables
    (``save_own_variables``), and JSON metadata: the epoch to resume at, the batch, and the random
    state (``nn.utils.get_rng_state`` when it exists). One file means weights, optimizer and epoch
    always belong together, whatever moment a crash hits. ``double_checkpoint=True`` keeps the
    previous backup as ``latest.backup.npz.bkp`` and falls back to it when the latest is unreadable.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint, self.delete_checkpoint = save_freq, double_checkpoint, delete_checkpoint
        self._path = os.path.join(self.backup_dir, BACKUP_FILE)
        self._prev_path = f"{self._path}.bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    # ---- restore --------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        """Restore the backup if there is one."""
        if not os.path.exists(self._path) and not os.path.exists(self._prev_path):
            return
        if not getattr(self.model, "built", True):
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call `fit()`. "
                f"Model {self.model} is unbuilt. You can build it beforehand by calling it on a batch of data."
            )
        try:
            state = self._read(self._path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            if not os.path.exists(self._prev_path):
                raise
            state = self._read(self._prev_path)
        self._restore(*state)

    @staticmethod
    def _read(path):
        """(meta, weights, optimizer store) with every header checked first (``nn.saving``'s npz
        reader); any damage is a ``ValueError`` naming the file."""
        from ..saving import npz_format
        from ..saving.errors import FileFormatError, file_error

        archive = npz_format._Archive(path)
        try:
            text = archive.read("metadata")
            meta = json.loads(str(text))
            if not isinstance(meta, dict) or not all(
                isinstance(meta.get(k), int) and meta[k] >= 0 for k in ("epoch", "n_weights", "n_optimizer")
            ):
                raise file_error(path, "metadata", "expected epoch, n_weights and n_optimizer counts")
            weights = [archive.read(f"weight_{i}") for i in range(meta["n_weights"])]
            store = {str(i): archive.read(f"optimizer_{i}") for i in range(meta["n_optimizer"])}
        except FileFormatError:
            raise
        except (Exception, RecursionError) as error:
            raise file_error(path, None, f"could not be read (truncated or corrupt?): {error}") from None
        finally:
            archive.close()
        return path, meta, weights, store

    def _restore(self, path, meta, weights, store):
        """Every part is checked (weights' shapes and dtypes, the optimizer's variables, the random
        state) before the first is assigned: a refused backup leaves the model as it was."""
        from ..saving import adapters, limits
        from ..saving.errors import file_error

        model = self.model
        params = model.weights
        if len(weights) != len(params):
            raise file_error(path, None, f"holds {len(weights)} weights, the model has {len(params)}")
        for i, (w, p) in enumerate(zip(weights, params)):
            if w.shape != p.shape:
                raise file_error(path, f"weight_{i}", f"has shape {w.shape}, the model's {p.name} has {p.shape}")
        weights = [limits.convert(path, f"weight_{i}", w, p.dtype) for i, (w, p) in enumerate(zip(weights, params))]
        rng_state = adapters.checked_rng_state(meta.get("rng_state"), path, "metadata")
        optimizer = getattr(model, "optimizer", None)
        arrays = None
        if optimizer is not None and store:
            if not optimizer.built:
                optimizer.build(trainable_weights(model))
            trainable = trainable_weights(model)
            arrays = [store[str(i)] for i in range(len(store))]
            shapes = adapters.expected_optimizer_shapes(optimizer, trainable)
            if [np.shape(a) for a in arrays] != [tuple(s) for s in shapes]:
                raise file_error(path, "optimizer", "its variables do not fit the model's optimizer")
            arrays = adapters.checked_optimizer_arrays(optimizer, trainable, arrays, path, "optimizer")
        model.set_weights(weights)
        if arrays is not None:
            optimizer.load_own_variables({str(i): a for i, a in enumerate(arrays)})
        if rng_state is not None:
            from ..utils import set_rng_state

            set_rng_state(rng_state)
        model._initial_epoch = meta["epoch"]
        self._current_epoch = meta["epoch"]

    # ---- back up --------------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        """Back up after each epoch (``save_freq="epoch"``)."""
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        """Back up every ``save_freq`` batches (integer ``save_freq``)."""
        if self._should_save_on_batch(batch):
            self._save_model()

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        add_batches = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self):
        from .. import utils

        model = self.model
        arrays = {f"weight_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
        store = {}
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "built", False):
            optimizer.save_own_variables(store)
        arrays.update({f"optimizer_{key}": np.asarray(value) for key, value in store.items()})
        get_state = getattr(utils, "get_rng_state", None)
        meta = {
            "epoch": self._current_epoch,
            "batch": self._last_batch_seen,
            "n_weights": len(arrays) - len(store),
            "n_optimizer": len(store),
            "rng_state": get_state() if get_state is not None else None,
        }
        arrays["metadata"] = np.array(json.dumps(meta))
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            shutil.copyfile(self._path, self._prev_path)
        with atomic_write(self._path, "wb") as f:
            np.savez(f, **arrays)

    def on_train_end(self, logs=None):
        """Delete the backup (``delete_checkpoint``): the run finished."""
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
