"""Where an optimizer's rule runs: numba's loop kernel or numpy's whole-array passes.

An optimizer gives its rule of a step once (``Optimizer.update_rule`` → ``(rule, slot names,
scalars)``, the rule a function of ``nn.optimizers.rules``); each variable is updated by the
loop kernel (``loop_update``, ``nn.optimizers.kernels``) when it has ``MIN_FUSED_SIZE`` elements
or more and a kernel applies (numba available and on, float32/float64, C-contiguous writable
arrays of the variable's dtype and shape, one of nn's rules, ``rules.loopable``), else numpy on
whole arrays. Both evaluate the same rule text and give the same bits.

The scalars are cast to the variable's dtype first (``as_operand``), as Keras 3 casts its
hyperparameters (``ops.cast(self.beta_1, variable.dtype)``): a Python number rounds exactly as
NumPy 2 (NEP 50) rounds it when it meets an array of that dtype, so nothing changes for Python
floats; a numpy float64 hyperparameter with float32 weights is rounded to float32 too.
"""

from __future__ import annotations

import numbers

import numpy as np

from autograd_mini.numba_support import get_numba

from . import rules

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# Below this many elements numpy's few passes cost less than one compiled call (measured on the
# 1-10-1 lecture network: the fused call's ~15 Python calls per variable made eager batch-1
# steps slower); both compute the same bits, so the optimizer picks by size. A captured step's
# kernel calls the fused update whatever the size (it is inside the compiled code there).
MIN_FUSED_SIZE = 2048
_memo: dict = {}  # dtype char -> {Python float: its numpy scalar of that dtype}


class NotExact(TypeError):
    """A scalar that is not a real number."""


def as_operand(value, dtype: np.dtype):
    """``value`` as a numpy scalar of ``dtype``: a Python number rounded exactly as numpy rounds it
    when it meets an array of ``dtype`` (NEP 50), a numpy number cast to ``dtype`` (Keras' cast)."""
    if type(value) is float:  # the common case first; a numpy scalar costs ~0.5 us: memoized
        if value == 0.0:  # 0.0 == -0.0 as dict keys: not memoized
            return dtype.type(value)
        memo = _memo.get(dtype.char)
        if memo is None:
            memo = _memo[dtype.char] = {}
        found = memo.get(value)
        if found is None:
            if len(memo) >= 1024:  # a schedule makes a new rate each step: keep the memo small
                memo.clear()
            found = memo[value] = dtype.type(value)
        return found
    if isinstance(value, (numbers.Real, np.bool_, np.number)) and not isinstance(value, np.complexfloating):
        return dtype.type(value)
    raise NotExact(f"an optimizer scalar must be a real number, got {type(value).__name__} {value!r}")


def cast(scalars, dtype: np.dtype) -> tuple:
    """``scalars`` as numpy scalars of ``dtype`` (``as_operand``; Python floats from the memo)."""
    memo = _memo.get(dtype.char)
    if memo is None:
        memo = _memo[dtype.char] = {}
    get = memo.get
    return tuple([(get(s) if type(s) is float and s else None) or as_operand(s, dtype) for s in scalars])


_modules: dict = {}  # "kernels": the kernels module once imported (it imports numba)


def _kernel(rule, dtype: np.dtype):
    """``kernels.kernel_for(rule, dtype)``, importing the kernels module (and numba) on first use."""
    kernels = _modules.get("kernels")
    if kernels is None:
        from . import kernels  # numba is imported here, on the first fused update

        _modules["kernels"] = kernels
    return kernels.kernel_for(rule, dtype)


def _writable(array: np.ndarray, dtype, shape) -> bool:
    """A C-contiguous writable array of ``dtype`` and ``shape`` (a kernel writes it through ``reshape(-1)``)."""
    flags = array.flags
    return array.dtype == dtype and array.shape == shape and flags.c_contiguous and flags.writeable


def plan(rule, data: np.ndarray, slots, scalars):
    """The kernel that runs ``rule`` on ``data`` (and ``slots``) with the cast ``scalars``, or None
    when none applies (numba off or missing, dtype, layout, not one of nn's rules, ``loopable``)."""
    dtype = data.dtype
    if get_numba() is None or dtype not in _FLOATS or not _writable(data, dtype, data.shape):
        return None
    for a in slots:
        if not _writable(a, dtype, data.shape):
            return None
    if not rules.loopable(rule, scalars):
        return None
    return _kernel(rule, dtype)


def loop_update(rule, data: np.ndarray, gradient: np.ndarray, slots, scalars) -> bool:
    """One variable's update by the loop kernel of ``rule`` (``scalars`` cast to ``data``'s dtype,
    ``gradient`` of ``data``'s dtype and shape); False (nothing done) when no kernel applies."""
    kernel = plan(rule, data, slots, scalars)
    if kernel is None:
        return False
    kernel(data.reshape(-1), gradient.reshape(-1), *[a.reshape(-1) for a in slots], scalars)
    return True


def apply(rule, target: np.ndarray, others, scalars) -> None:
    """A base-class pass (``rules.weight_decay``, ``rules.ema``) on ``target`` (written) and
    ``others`` (read), with ``scalars`` cast to ``target``'s dtype; the kernel for large arrays."""
    if target.size >= MIN_FUSED_SIZE and _loop(rule, target, others, scalars):
        return
    rules.apply(rule, target, others, scalars)


def _loop(rule, target, others, scalars) -> bool:
    """``apply``'s kernel; False (nothing done) when none applies."""
    dtype = target.dtype
    if get_numba() is None or dtype not in _FLOATS or not _writable(target, dtype, target.shape):
        return False
    if any(o.dtype != dtype or o.shape != target.shape for o in others):
        return False
    kernel = _kernel(rule, dtype)
    if kernel is None:
        return False
    kernel(target.reshape(-1), *[o.reshape(-1) for o in others], scalars)
    return True


def weight_decay(data: np.ndarray, scale) -> bool:
    """``data -= data * scale`` in one compiled pass, exactly as numpy; False (nothing done) when
    no kernel applies (numba off, dtype, layout, fewer than ``MIN_FUSED_SIZE`` elements)."""
    if data.size < MIN_FUSED_SIZE:
        return False
    return _loop(rules.weight_decay, data, (), cast((scale,), data.dtype))


def ema(average: np.ndarray, data: np.ndarray, momentum, one_minus_momentum) -> bool:
    """``average = average * momentum + data * one_minus_momentum`` in one compiled pass, exactly
    as numpy; False (nothing done) when no kernel applies."""
    if average.size < MIN_FUSED_SIZE:
        return False
    return _loop(rules.ema, average, (data,), cast((momentum, one_minus_momentum), average.dtype))


def fused_update(optimizer, i: int, data: np.ndarray, lr):
    """``(kernel, slot_arrays, scalars)`` updating ``data`` (variable ``i``'s array) as the
    optimizer's rule does at this step, or None when no kernel applies (whatever the size)."""
    if get_numba() is None:
        return None
    found = optimizer._step_rule(lr)
    if found is None:
        return None
    rule, names, scalars = found
    slots = tuple(optimizer._slots[name][i] for name in names)
    try:
        scalars = cast(scalars, data.dtype)
    except NotExact:
        return None
    kernel = plan(rule, data, slots, scalars)
    if kernel is None:
        return None
    return kernel, slots, scalars


def run(fused, data: np.ndarray, gradient: np.ndarray) -> None:
    """Call a ``fused_update`` result on ``data`` with ``gradient`` (same shape and dtype)."""
    kernel, arrays, scalars = fused
    kernel(data.reshape(-1), gradient.reshape(-1), *[a.reshape(-1) for a in arrays], scalars)


_NotExact = NotExact  # (the former name)
