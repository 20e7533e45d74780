"""``FiniteGuard``: the undo that keeps an optimizer step from leaving a non-finite weight
(nn's rule; Keras 3 writes NaN), at the cost of a few array copies per step.

Before a step writes, ``save`` copies what the step may write (the variables' arrays, their
slots, the optimizer's extra state) into buffers kept from step to step; after it, ``finite``
says whether every weight is finite, and ``restore`` puts the copies back when one is not.

The check of a small float16/float32 weight copies it into one float64 buffer shared by the
step's weights, and one dot product of that buffer with itself checks them all: the square of
a float32 value cannot overflow float64 and a sum of non-negative terms is never inf - inf, so
the product is finite exactly when every weight is, and no floating-point flag is raised (no
``np.errstate`` per step, which costs more than the copies). A large or float64 weight is
checked in place (``all_finite``, inside one ``np.errstate``: its own product may overflow).
"""

from __future__ import annotations

import math

import numpy as np

# Weights up to this many elements are copied into the float64 buffer (a few hundred ns each);
# larger ones are checked in place, where one dot product costs less than the copy.
MAX_STAGED_SIZE = 4096
_STAGED_DTYPES = (np.dtype(np.float16), np.dtype(np.float32))


class FiniteGuard:
    """Copies of the arrays one step writes (the variables' ``weights``, their ``slots``, the
    optimizer's ``extra`` arrays), and the finiteness check of the weights. Built once per set
    of variables; ``fits`` says whether it still serves this step."""

    __slots__ = ("weights", "arrays", "copies", "stage", "views", "staged", "direct", "n_extra")

    def __init__(self, weights, slots, extra):
        self.weights = list(weights)
        self.arrays = self.weights + list(slots) + list(extra)
        self.copies = [np.empty_like(a) for a in self.arrays]
        self.n_extra = len(extra)
        staged = [k for k, w in enumerate(self.weights) if w.dtype in _STAGED_DTYPES and w.size <= MAX_STAGED_SIZE]
        self.direct = [k for k in range(len(self.weights)) if k not in staged]
        total = sum(self.weights[k].size for k in staged)
        self.stage = np.zeros(total, dtype=np.float64) if staged else None
        views, start = [], 0
        for k in staged:
            w = self.weights[k]
            views.append(self.stage[start : start + w.size].reshape(w.shape))
            start += w.size
        # (position, float64 view) per staged weight; ``views`` alone when every weight is staged
        self.staged = list(zip(staged, views))
        self.views = views if len(staged) == len(self.weights) else None

    def fits(self, weights, n_extra: int) -> bool:
        """Whether this guard serves a step writing ``weights`` (its variables' arrays, in order)
        while the optimizer has ``n_extra`` extra arrays: the same ones as when it was built; a
        weight array replaced (copy-on-write) by one of the same shape and dtype is taken over."""
        if n_extra != self.n_extra:
            return False
        mine = self.weights
        for w, own in zip(weights, mine):
            if w is not own:
                return self._take_over(weights)
        return True

    def _take_over(self, weights) -> bool:
        mine = self.weights
        if len(weights) != len(mine) or any(w.shape != o.shape or w.dtype != o.dtype for w, o in zip(weights, mine)):
            return False
        mine[:] = weights
        self.arrays[: len(mine)] = weights
        return True

    def save(self) -> None:
        """Copy every array the step may write."""
        for array, copy in zip(self.arrays, self.copies):
            copy[...] = array

    def finite(self, weights) -> bool:
        """Whether every array of ``weights`` (the step's weights after it, in order) is finite."""
        views = self.views
        if views is not None:
            for view, w in zip(views, weights):
                view[...] = w
        else:
            for k, view in self.staged:
                view[...] = weights[k]
        stage = self.stage
        if stage is not None and not math.isfinite(stage.dot(stage)):
            return False
        if self.direct:
            with np.errstate(over="ignore", invalid="ignore"):  # the check's own overflow is expected
                return all(all_finite(weights[k]) for k in self.direct)
        return True

    def restore(self, weights) -> None:
        """Put the saved values back: into ``weights`` (the variables' current arrays) and the others."""
        n = len(self.weights)
        for w, copy in zip(weights, self.copies[:n]):
            w[...] = copy
        for array, copy in zip(self.arrays[n:], self.copies[n:]):
            array[...] = copy


def all_finite(array: np.ndarray) -> bool:
    """No NaN or Inf: one dot product (a NaN/Inf makes it non-finite), checked element by element
    only when it is not finite (huge finite values can overflow the product)."""
    flat = array.reshape(-1)
    if math.isfinite(flat.dot(flat)):
        return True
    return bool(np.isfinite(flat).all())
