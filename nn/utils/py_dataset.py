"""``PyDataset``: Keras' base class for datasets that produce whole batches by index."""

from __future__ import annotations


class PyDataset:
    """Subclass and define ``__len__`` (batches per epoch) and ``__getitem__(index)`` returning
    ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` for one batch; ``on_epoch_end()`` runs after
    each epoch. ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted as Keras
    takes them; batches are produced in the training thread."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        """The number of workers requested (Keras' attribute)."""
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self):
        """Whether multiprocessing was requested (Keras' attribute)."""
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self):
        """The queue size requested (Keras' attribute)."""
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index):
        """The batch at position ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self):
        """The number of batches in an epoch."""
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    @property
    def num_batches(self):
        """``len(self)`` (Keras' property; None means unknown)."""
        return len(self)

    def on_epoch_end(self):
        """Called after each epoch (e.g. to reshuffle)."""
