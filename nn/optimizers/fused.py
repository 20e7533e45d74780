"""Choosing a fused (numba) update for one variable: the kernel, its slot arrays, its scalars.

An optimizer describes its rule for variable ``i`` with ``_fused_rule(i, lr)`` →
``(kernel_name, slot_arrays, scalars)`` (scalars as the Python or numpy values its numpy
``update_step`` would hand to numpy). ``fused_update`` checks that the fused loop would compute
exactly what ``update_step`` computes and returns ``(kernel, arrays, scalars)``, else None:
numba available and on, a float32/float64 variable, C-contiguous parameter and slots of its
dtype, the rule not overridden by a subclass, every scalar castable as numpy casts it.

Scalars are cast as NumPy 2 (NEP 50) casts a scalar meeting an array of the variable's dtype:
a Python int or float is "weak" and rounds once to that dtype; a numpy scalar is "strong" and
would promote the whole operation when its dtype is wider, so such a scalar (say an
``np.float64`` hyperparameter with float32 weights) means no kernel: numpy's result differs.
"""

from __future__ import annotations

import numpy as np

from autograd_mini.numba_support import get_numba

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Below this many elements numpy's few passes cost less than one compiled call (measured on the
# 1-10-1 lecture network: the fused call's ~15 Python calls per variable made eager batch-1
# steps slower); both compute the same bits, so the optimizer picks by size. A captured step's
# kernel calls the fused update whatever the size (it is inside the compiled code there).
MIN_FUSED_SIZE = 2048
_memo: dict = {"f": {}, "d": {}}  # dtype char -> {Python float: its numpy scalar of that dtype}


class _NotExact(Exception):
    """A scalar the kernel cannot take without changing numpy's rounding."""


def as_operand(value, dtype: np.dtype):
    """``value`` as a numpy scalar of ``dtype``, rounded exactly as numpy rounds it when it meets an
    array of ``dtype`` in ``array * value`` (raises ``_NotExact`` when numpy would promote instead)."""
    if type(value) is float:  # the common case first; a numpy scalar costs ~0.5 us: memoized
        if value == 0.0:  # 0.0 == -0.0 as dict keys: not memoized
            return dtype.type(value)
        memo = _memo[dtype.char]
        found = memo.get(value)
        if found is None:
            if len(memo) >= 1024:  # a schedule makes a new rate each step: keep the memo small
                memo.clear()
            found = memo[value] = dtype.type(value)
        return found
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        if value.dtype.kind not in "biuf" or np.result_type(value, dtype) != dtype:
            raise _NotExact(value)
        return dtype.type(value)
    if isinstance(value, (bool, int, float)):
        return dtype.type(value)
    raise _NotExact(value)


def _owner(cls, attribute: str):
    """The class in ``cls``' MRO that defines ``attribute``."""
    return next((c for c in cls.__mro__ if attribute in c.__dict__), None)


_own_rule: dict = {}  # optimizer class -> whether its update_step is the one its _fused_rule mirrors
_modules: dict = {}  # "kernels": the kernels module once imported (it imports numba)


def fused_update(optimizer, i: int, data: np.ndarray, lr):
    """``(kernel, slot_arrays, scalars)`` updating ``data`` (variable ``i``'s array) exactly as
    ``optimizer.update_step`` would at this step, or None when no kernel applies."""
    if get_numba() is None:
        return None
    cls = type(optimizer)
    own = _own_rule.get(cls)
    if own is None:
        own = _own_rule[cls] = _owner(cls, "_fused_rule") is _owner(cls, "update_step")
    if not own or "update_step" in optimizer.__dict__:  # a subclass' (or instance's) own rule
        return None
    dtype = data.dtype
    if dtype not in _FLOATS or not data.flags.c_contiguous or not data.flags.writeable:
        return None
    rule = optimizer._fused_rule(i, lr)
    if rule is None:
        return None
    name, arrays, scalars = rule
    for a in arrays:
        if a.dtype != dtype or a.shape != data.shape or not a.flags.c_contiguous or not a.flags.writeable:
            return None
    try:
        scalars = tuple(as_operand(s, dtype) for s in scalars)
    except _NotExact:
        return None
    kernel = _kernel(name, dtype)
    if kernel is None:
        return None
    return kernel, tuple(arrays), scalars


def _kernel(name: str, dtype: np.dtype):
    """``kernels.kernel(name, dtype)``, importing the kernels module (and numba) on first use."""
    kernels = _modules.get("kernels")
    if kernels is None:
        from . import kernels  # numba is imported here, on the first fused update

        _modules["kernels"] = kernels
    return kernels.kernel(name, dtype)


def _writable(array: np.ndarray) -> bool:
    """A float32/float64 C-contiguous writable array (a kernel writes it through ``reshape(-1)``)."""
    flags = array.flags
    return array.dtype in _FLOATS and flags.c_contiguous and flags.writeable


def weight_decay(data: np.ndarray, scale) -> bool:
    """``data -= data * scale`` in one compiled pass, exactly as numpy's two; False (nothing done)
    when no kernel applies (numba off, dtype, layout, a promoting scalar)."""
    if data.size < MIN_FUSED_SIZE or get_numba() is None or not _writable(data):
        return False
    try:
        scale = as_operand(scale, data.dtype)
    except _NotExact:
        return False
    kernel = _kernel("weight_decay", data.dtype)
    if kernel is None:
        return False
    kernel(data.reshape(-1), scale)
    return True


def ema(average: np.ndarray, data: np.ndarray, momentum, one_minus_momentum) -> bool:
    """``average = average * momentum + data * one_minus_momentum`` in one compiled pass, exactly
    as numpy's three; False (nothing done) when no kernel applies."""
    if average.size < MIN_FUSED_SIZE or get_numba() is None or not _writable(average):
        return False
    if data.dtype != average.dtype or data.shape != average.shape:
        return False
    try:
        scalars = (as_operand(momentum, average.dtype), as_operand(one_minus_momentum, average.dtype))
    except _NotExact:
        return False
    kernel = _kernel("ema", average.dtype)
    if kernel is None:
        return False
    kernel(average.reshape(-1), data.reshape(-1), *scalars)
    return True


def run(fused, data: np.ndarray, gradient: np.ndarray) -> None:
    """Call a ``fused_update`` result on ``data`` with ``gradient`` (same shape and dtype)."""
    kernel, arrays, scalars = fused
    kernel(data.reshape(-1), gradient.reshape(-1), *[a.reshape(-1) for a in arrays], *scalars)
