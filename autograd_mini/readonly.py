"""Read-only protection of the arrays a live graph holds (the safety net of in-place updates).

An op that saves a leaf's array (or a view) for backward makes it read-only, and counts how
many recorded ops hold it; when the last one is released (after backward, or when the graph
is garbage-collected) the array becomes writable again. Results of recorded ops are made
read-only for good by ``Function.apply`` and need no bookkeeping here. Writing through
``Tensor.mutable_data()`` (copy-on-write) never hits the protection.
"""

from __future__ import annotations

import contextlib

import numpy as np

# how many graphs hold each array this module made read-only (id -> count); a plain dict of
# ints keeps the per-op cost low (no new objects for the garbage collector)
holders: dict[int, int] = {}


def _protect_one(a: np.ndarray) -> tuple:
    key = id(a)
    count = holders.get(key)
    if count is not None:
        holders[key] = count + 1
        return (a,)
    if not a.flags.writeable:
        return ()
    a.setflags(write=False)
    holders[key] = 1
    return (a,)


def protect(array: np.ndarray) -> tuple:
    """Make ``array`` (and the array it views) read-only while a graph holds it; returns
    the arrays this call counted (to hand back to ``unprotect``)."""
    base = array.base
    if type(base) is np.ndarray:
        return _protect_one(array) + _protect_one(base)
    return _protect_one(array)


def needs_protection(item) -> bool:
    """True for a saved item that ``protect`` must count: a writable array, a view, or an
    array some graph already holds."""
    return type(item) is np.ndarray and (item.flags.writeable or item.base is not None or id(item) in holders)


def unprotect(held) -> None:
    """Undo one ``protect``: arrays no graph holds any more become writable again."""
    for a in held:
        key = id(a)
        count = holders.get(key)
        if count is None:
            continue
        if count > 1:
            holders[key] = count - 1
            continue
        del holders[key]
        with contextlib.suppress(ValueError):  # its base was made read-only by someone else meanwhile
            a.setflags(write=True)


class Held:
    """The arrays one recorded op made read-only; they become writable again (when no other
    graph holds them) on ``release()`` or when the op is garbage-collected unreleased. Only ops
    that save leaves' arrays or views own one, so most ops pay nothing for this."""

    __slots__ = ("arrays",)

    def __init__(self, arrays: tuple):
        self.arrays = arrays

    def release(self) -> None:
        """Hand the arrays back (idempotent)."""
        arrays, self.arrays = self.arrays, ()
        unprotect(arrays)

    def __del__(self):
        if self.arrays:
            unprotect(self.arrays)
