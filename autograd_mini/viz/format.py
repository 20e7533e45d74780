"""Numbers and arrays as short label text: significant digits, scientific notation when a
value is very small or very large, gradient summaries (norm, min, max) for any size."""

from __future__ import annotations

import math

import numpy as np

#: tensors with at most this many elements show their values; larger ones a summary
PREVIEW_SIZE = 6


def fmt(x, precision: int = 4) -> str:
    """``x`` with ``precision`` significant digits; scientific notation below 1e-4 or at
    10**precision and above (``2e-06`` never prints as ``0.0000``)."""
    x = float(x)
    if x == 0:
        return "0"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    text = f"{x:.{precision}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def fmt_constant(x, precision: int = 4) -> str:
    """A constant's value: exact (``repr``) when short, so ``1.0001`` never shows as ``1``."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    text = repr(float(x))
    return text if len(text) <= max(precision + 6, 10) else fmt(x, max(precision, 8))


def values(array, precision: int = 4) -> str:
    """The elements of a small array, flattened: ``2.5`` or ``[1, -0.5, 3e-7]``."""
    array = np.asarray(array)
    if array.size == 1:
        return fmt(array.reshape(-1)[0], precision)
    return "[" + ", ".join(fmt(v, precision) for v in array.reshape(-1)) + "]"


def summary(array, precision: int = 4) -> str:
    """Values of a small array, or ``min a max b`` of a large one."""
    array = np.asarray(array)
    if array.size <= PREVIEW_SIZE:
        return values(array, precision)
    if array.size == 0:
        return "empty"
    return f"min {fmt(array.min(), precision)} max {fmt(array.max(), precision)}"


def grad_stats(grad, precision: int = 4) -> str:
    """``norm n min a max b`` of a gradient of any size."""
    grad = np.asarray(grad)
    if grad.size == 0:
        return "empty"
    norm = fmt(np.sqrt(np.sum(np.square(grad, dtype=np.float64))), precision)
    return f"norm {norm} min {fmt(grad.min(), precision)} max {fmt(grad.max(), precision)}"


def magnitude(grad) -> float | None:
    """The size of a gradient for colouring: its root mean square (size-independent)."""
    grad = np.asarray(grad, dtype=np.float64)
    if grad.size == 0:
        return None
    value = float(np.sqrt(np.mean(np.square(grad))))
    return value if math.isfinite(value) else None
