"""``CSVLogger`` (``keras.callbacks.CSVLogger``): one row per epoch, each write atomic."""

from __future__ import annotations

import collections.abc
import csv
import io
import os

import numpy as np

from ..saving.atomic import atomic_write
from .callback import Callback


class CSVLogger(Callback):
    """Rows ``epoch,<sorted log keys>`` (Keras' layout: without validation keys, empty ``val_*``
    columns are added and filled with "NA"); ``separator`` between fields; ``append`` keeps the
    existing file (its header too). After each epoch the whole file is rewritten through
    ``nn.saving.atomic.atomic_write``: a crash leaves the previous complete file."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep, self.filename, self.append = separator, os.fspath(filename), append
        self.keys = None
        self.append_header = True
        self._previous = ""
        self._rows: list[dict] = []

    def on_train_begin(self, logs=None):
        """Read the existing file when appending."""
        self._previous, self.append_header = "", True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="", encoding="utf-8") as f:
                self._previous = f.read()
            self.append_header = not self._previous.split("\n", 1)[0]
        self.keys = None
        self._rows = []

    @staticmethod
    def _handle_value(k):
        if isinstance(k, str):
            return k
        if isinstance(k, collections.abc.Iterable) and not (isinstance(k, np.ndarray) and k.ndim == 0):
            return f'"[{", ".join(map(str, k))}]"'
        return k

    def on_epoch_end(self, epoch, logs=None):
        """Add the epoch's row and rewrite the file atomically."""
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        row = {"epoch": epoch}
        row.update((key, self._handle_value(logs.get(key, "NA"))) for key in self.keys)
        self._rows.append(row)

        class Dialect(csv.excel):
            delimiter = self.sep

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["epoch"] + self.keys, dialect=Dialect)
        if self.append_header:
            writer.writeheader()
        writer.writerows(self._rows)
        with atomic_write(self.filename, "w", encoding="utf-8") as f:
            f.write(self._previous + buffer.getvalue())
