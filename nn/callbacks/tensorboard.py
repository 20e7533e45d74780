"""Keras 3's ``TensorBoard`` callback: scalar event files that TensorBoard reads.

Written with the ``tensorboard`` package's own event writer (the ``tensorboard`` extra: ``pip
install -e ".[tensorboard]"``; imported when the callback is made). As Keras: ``log_dir/train``
and ``log_dir/validation`` each get ``epoch_<metric>`` scalars per epoch (the learning rate
too, under train), ``batch_<metric>`` every ``update_freq`` batches when it is "batch" or an int,
and ``evaluation_<metric>_vs_iterations`` after each evaluation. nn has no TensorFlow graph,
profiler or embeddings: ``write_graph`` is accepted and writes nothing, the others must stay off.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .callback import Callback


def _writer_class():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as error:
        raise ImportError(
            f'TensorBoard needs the tensorboard package ({error}); install it with pip install -e ".[tensorboard]"'
        ) from None
    return EventFileWriter, event_pb2, summary_pb2


class TensorBoard(Callback):
    """``TensorBoard(log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
    write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
    embeddings_metadata=None)`` (Keras' signature)."""

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        for name, value in (
            ("histogram_freq", histogram_freq),
            ("profile_batch", profile_batch),
            ("embeddings_freq", embeddings_freq),
        ):
            if value:
                raise ValueError(f"TensorBoard: nn writes scalars only; {name}={value!r} is not supported (use 0)")
        if write_images:
            raise ValueError("TensorBoard: nn writes scalars only; write_images=True is not supported")
        if update_freq != "epoch" and update_freq != "batch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(
                f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive int, got {update_freq!r}"
            )
        self._classes = _writer_class()
        self.log_dir = str(log_dir)
        self.write_graph = write_graph
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.histogram_freq = histogram_freq
        self._writers: dict = {}
        self._global_train_batch = 0
        self._epoch_start = None
        self._epoch_batches = 0

    # -- writing ------------------------------------------------------------------------------------
    def _writer(self, which: str):
        if which not in self._writers:
            EventFileWriter = self._classes[0]
            folder = os.path.join(self.log_dir, which)
            os.makedirs(folder, exist_ok=True)
            self._writers[which] = EventFileWriter(folder)
        return self._writers[which]

    def _scalar(self, which: str, tag: str, value, step: int) -> None:
        _, event_pb2, summary_pb2 = self._classes
        number = float(np.asarray(value).reshape(-1)[0]) if np.size(value) else float("nan")
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=number)])
        self._writer(which).add_event(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- hooks ----------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        """Start counting batches."""
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        """Flush and close the event files."""
        self._close()

    def on_epoch_begin(self, epoch, logs=None):
        """Time the epoch (for ``write_steps_per_second``)."""
        self._epoch_start = time.time()
        self._epoch_batches = 0

    def on_train_batch_end(self, batch, logs=None):
        """``batch_<name>`` scalars every ``update_freq`` batches (when it is not 'epoch')."""
        self._global_train_batch += 1
        self._epoch_batches += 1
        if self.update_freq == "epoch" or not logs or self._global_train_batch % self.update_freq:
            return
        for name, value in logs.items():
            self._scalar("train", f"batch_{name}", value, self._global_train_batch)

    def on_epoch_end(self, epoch, logs=None):
        """``epoch_<name>`` under train (with ``learning_rate``) and validation (``val_`` dropped)."""
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "learning_rate", None) is not None:
            train["learning_rate"] = float(np.asarray(optimizer.learning_rate))
        if self.write_steps_per_second and self._epoch_start is not None:
            train["steps_per_second"] = self._epoch_batches / max(time.time() - self._epoch_start, 1e-9)
        for name, value in train.items():
            self._scalar("train", f"epoch_{name}", value, epoch)
        for name, value in validation.items():
            self._scalar("validation", f"epoch_{name}", value, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        """``evaluation_<name>_vs_iterations`` at the optimizer's step count."""
        optimizer = getattr(self.model, "optimizer", None)
        if not logs or optimizer is None or not hasattr(optimizer, "iterations"):
            return
        step = int(np.asarray(optimizer.iterations))
        for name, value in logs.items():
            self._scalar("validation", f"evaluation_{name}_vs_iterations", value, step)
        self._writer("validation").flush()
