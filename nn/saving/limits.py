"""Bounds on what a loader reads: a file may declare any size, nn refuses beyond these first.

Change them at run time (``nn.saving.limits.MAX_ARRAY_BYTES = 16 * 2**30``) to load larger
models. Every check happens on declared shapes and sizes, before any array is allocated.
"""

from __future__ import annotations

import contextlib
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

MAX_NESTING = 32
"""How deep models may nest inside models in a config (a Sequential inside a Functional inside ...)."""


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


@contextlib.contextmanager
def allocation_budget(path, where: str):
    """While a loader builds a model from a file: every weight a layer is about to allocate
    (``Layer.add_weight``, whatever the layer or model kind) is checked against
    ``MAX_ARRAY_BYTES`` and, in total, ``MAX_TOTAL_BYTES`` before the allocation happens."""
    from ..layers import layer as layer_module

    total = [0]

    def guard(layer, name, shape, dtype):
        size = check_array(path, f"{where}: layer '{layer.name}' weight '{name}'", shape, dtype)
        total[0] += size
        check_total(path, total[0])

    layer_module.ALLOCATION_GUARDS.append(guard)
    try:
        yield
    finally:
        layer_module.ALLOCATION_GUARDS.remove(guard)


def convert(path, where: str, array, dtype) -> np.ndarray:
    """``array`` as ``dtype`` when every value fits: a finite float that would overflow to inf,
    a non-integral or non-finite value for an integer target, or an integer out of range is a
    ``ValueError`` naming ``path`` and ``where`` (a model is never given values the file did not hold)."""
    array = np.asarray(array)
    dtype = np.dtype(dtype)
    if array.dtype.kind not in "fiub":
        raise file_error(path, where, f"holds dtype {array.dtype}, expected numbers")
    if dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            out = array.astype(dtype, copy=False)
        if array.dtype.kind == "f" and out.size and np.any(np.isfinite(array) & ~np.isfinite(out)):
            raise file_error(path, where, f"holds values beyond the range of {dtype} (they would load as inf)")
        return out
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = array.astype(np.float64) if array.dtype.kind == "f" else array
        if array.dtype.kind == "f" and not np.all(np.isfinite(values) & (values == np.round(values))):
            raise file_error(path, where, f"holds non-integral or non-finite values, expected {dtype}")
        if values.size and (np.min(values) < info.min or np.max(values) > info.max):
            raise file_error(path, where, f"holds values beyond the range of {dtype}")
        return array.astype(dtype)
    return array.astype(dtype)
