"""Conversion rules shared by ``nn.ops``: what becomes a Tensor, and with which dtype.

Keras' rule, as its NumPy and torch backends apply it: an array keeps its dtype; a Python
float (or a list of them) becomes ``floatx`` (float32); a Python scalar next to a Tensor takes
that Tensor's dtype ("weak" typing), so ``ops.add(x32, 1.0)`` stays float32.
"""

from __future__ import annotations

import numpy as np

import autograd_mini as am

FLOATX = np.dtype(np.float32)


def _python_number(x) -> bool:
    return isinstance(x, (bool, int, float)) and not isinstance(x, np.generic)


def to_tensor(x, dtype=None) -> am.Tensor:
    """``x`` as a Tensor: Tensors pass through (cast when ``dtype`` differs), arrays keep their
    dtype, Python floats and float lists become float32, Python ints int32 (Keras' defaults)."""
    if isinstance(x, am.Tensor):
        if dtype is not None and x.dtype != np.dtype(dtype):
            return am.cast(x, np.dtype(dtype))
        return x
    if hasattr(x, "value") and isinstance(x.value, am.Tensor):
        return to_tensor(x.value, dtype)
    if dtype is not None:
        return am.as_tensor(np.asarray(x, dtype=np.dtype(dtype)))
    if isinstance(x, np.ndarray):
        return am.as_tensor(x)
    array = np.asarray(x)
    if array.dtype == np.float64 and not isinstance(x, np.generic):
        array = array.astype(FLOATX)
    elif array.dtype == np.int64 and not isinstance(x, np.generic):
        array = array.astype(np.int32)
    return am.as_tensor(array)


def pair(a, b):
    """Two operands as Tensors; a Python scalar takes the other operand's float dtype."""
    if _python_number(a) and not _python_number(b):
        b = to_tensor(b)
        return to_tensor(np.asarray(a, dtype=_weak_dtype(b, a))), b
    if _python_number(b) and not _python_number(a):
        a = to_tensor(a)
        return a, to_tensor(np.asarray(b, dtype=_weak_dtype(a, b)))
    return to_tensor(a), to_tensor(b)


def _weak_dtype(t: am.Tensor, scalar) -> np.dtype:
    if t.dtype.kind == "f" or isinstance(scalar, bool):
        return t.dtype
    if isinstance(scalar, float):
        return FLOATX
    return t.dtype


def as_float(x) -> am.Tensor:
    """``x`` as a float Tensor (integers and booleans become float32, as Keras' float ops do)."""
    t = to_tensor(x)
    if t.dtype.kind != "f":
        t = am.as_tensor(t.data.astype(FLOATX))
    return t


def plain(x):
    """The numpy array under a Tensor (or ``np.asarray`` of anything else)."""
    return x.data if isinstance(x, am.Tensor) else np.asarray(x)
