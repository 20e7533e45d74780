"""Bounds on what a loader reads: a file may declare any size, nn refuses beyond these first.

Change them at run time (``nn.saving.limits.MAX_ARRAY_BYTES = 16 * 2**30``) to load larger
models. Every check happens on declared shapes and sizes, before any array is allocated.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import file_error

MAX_ARRAY_BYTES = 4 * 2**30
"""Largest single weight array a file may declare (bytes; default 4 GiB)."""

MAX_TOTAL_BYTES = 16 * 2**30
"""Largest total of all arrays in one file (bytes; default 16 GiB)."""

MAX_CONFIG_BYTES = 64 * 2**20
"""Largest JSON text (config.json, metadata.json, an HDF5 config attribute) read (default 64 MiB)."""

MAX_ENTRIES = 100_000
"""Most entries (zip members, HDF5 objects, layers) a file may hold."""

MAX_CONFIG_INT = 2**31 - 1
"""Largest integer a layer config may hold (``units: 10**12`` is refused)."""


def check_array(path, where: str, shape, dtype) -> int:
    """The byte size of an array of ``shape`` and ``dtype`` declared at ``where`` in ``path``;
    a ``ValueError`` if the shape is not a tuple of non-negative ints or the size exceeds
    ``MAX_ARRAY_BYTES``. Nothing is allocated."""
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise file_error(path, where, f"declares the shape {shape!r}, expected a tuple of ints") from None
    if any(d < 0 for d in dims):
        raise file_error(path, where, f"declares the negative shape {dims}")
    dtype = np.dtype(dtype)
    size = math.prod(dims) * dtype.itemsize
    if size > MAX_ARRAY_BYTES:
        raise file_error(
            path,
            where,
            f"declares an array of shape {dims} and dtype {dtype} ({size:,} bytes), beyond "
            f"nn.saving.limits.MAX_ARRAY_BYTES = {MAX_ARRAY_BYTES:,}",
        )
    return size


def check_total(path, total: int) -> None:
    """Refuse a file whose arrays together declare more than ``MAX_TOTAL_BYTES``."""
    if total > MAX_TOTAL_BYTES:
        raise file_error(path, "weights", f"declare {total:,} bytes in all, beyond nn.saving.limits.MAX_TOTAL_BYTES")


def check_text_size(path, where: str, size: int) -> None:
    """Refuse a JSON text of ``size`` bytes beyond ``MAX_CONFIG_BYTES`` before reading it."""
    if size > MAX_CONFIG_BYTES:
        raise file_error(
            path, where, f"is {size:,} bytes, beyond nn.saving.limits.MAX_CONFIG_BYTES = {MAX_CONFIG_BYTES:,}"
        )
