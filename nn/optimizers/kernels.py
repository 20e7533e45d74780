"""The optimizers' loop kernels: numba compiles each rule of ``nn.optimizers.rules`` into a loop
over the elements, bit for bit what numpy computes with the same rule on whole arrays.

A kernel is ``kernel(p, g, *slots, scalars)`` on flat 1-D C-contiguous arrays of one dtype
(float32 or float64), written in place; ``scalars`` is a tuple of numpy scalars of that dtype
(``fused.as_operand``). Compiled with ``numba.njit(cache=True, error_model="numpy")``: no fastmath
(so no reassociation and no FMA contraction), no parallel; ``error_model="numpy"`` gives IEEE
results (inf, nan) for a division by zero, as numpy does, instead of raising. This module imports
numba only when a kernel is first asked for (``kernel(name, dtype)``), never on ``import nn``.
The on-disk cache lives in ``nn/optimizers/__pycache__`` (numba's in-tree locator) when that
directory is writable, else in numba's user-wide cache (``~/.cache/numba`` or ``NUMBA_CACHE_DIR``
when set); when no cache can be written, the kernel is compiled without one (a warning, never an
error).
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from autograd_mini.numba_support import get_numba, loading_cached_code

from . import rules

_compiled: dict = {}
_lock = threading.Lock()
_lock_forms = threading.Lock()


_forms: list = []  # the helpers' per-element forms, registered once per process


def _signature(numba, name: str, dtype, guarded: bool = False):
    """``void(arrays..., (scalars...))``: 1-D C arrays, written ("w") or read only ("r", a writable
    array converts to it), as ``rules.arrays(name)`` says; then the tuple of the scalars, all of
    ``dtype``. ``guarded``: ``bool(arrays..., copies..., (scalars...))``, a written copy per written array."""
    scalar = numba.from_dtype(np.dtype(dtype))
    kinds = {"w": numba.types.Array(scalar, 1, "C"), "r": numba.types.Array(scalar, 1, "C", readonly=True)}
    arrays = rules.arrays(name)
    n_scalars = rules.RULES[name].__code__.co_argcount - len(arrays)
    copies = [kinds["w"]] * arrays.count("w") if guarded else []
    returns = numba.types.boolean if guarded else numba.types.void
    return returns(*[kinds[c] for c in arrays], *copies, numba.types.UniTuple(scalar, n_scalars))


def _compile(numba, rule, dtype, guarded: bool = False):
    """The loop of ``rule`` (``guarded``: its guarded loop, ``rules.guarded_loop``) compiled for
    ``dtype`` only (further compilation disabled, so a wrong argument type raises instead of
    silently compiling a differently rounded loop); on-disk cache when possible."""
    with _lock_forms:
        if not _forms:
            rules._numba_forms(numba)
            _forms.append(True)
    name = rule.__name__
    signature = _signature(numba, name, dtype, guarded)
    compiled_rule = numba.njit(error_model="numpy")(rule)  # (LLVM inlines it into the loop)
    form = rules.guarded_loop if guarded else rules.loop
    try:
        dispatcher = numba.njit(cache=True, error_model="numpy")(form(name, compiled_rule))
        with loading_cached_code():  # (a load needs numba's runtime only; a compile refreshes all)
            dispatcher.compile(signature)
    except Exception as error:  # no writable cache anywhere, or a failing save: compile without one
        warnings.warn(
            f"nn.optimizers.kernels: numba could not cache the {name!r} kernel ({error}); "
            "compiling it without the on-disk cache",
            RuntimeWarning,
            stacklevel=3,
        )
        dispatcher = numba.njit(cache=False, error_model="numpy")(form(name, compiled_rule))
        dispatcher.compile(signature)
    dispatcher.disable_compile()
    return dispatcher


def kernel(name: str, dtype, guarded: bool = False):
    """The compiled kernel ``name`` (one of ``KERNEL_NAMES``) for ``dtype`` (float32 or float64),
    or None when numba is unavailable or turned off. Compiled once per process and dtype.
    ``guarded=True``: the update rule's guarded loop (``rules.guarded_loop``), which a compiled
    step calls to copy the old values and check the new weights in the same pass."""
    found = _compiled.get((name, getattr(dtype, "char", None), guarded))
    if found and get_numba() is not None:  # the common case: compiled, numba on
        return found
    if name not in rules.RULES:
        raise ValueError(f"kernel: unknown kernel {name!r}; expected one of {sorted(rules.RULES)}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"kernel: dtype must be float32 or float64, got {dtype}")
    numba = get_numba()
    if numba is None:
        return None
    key = (name, dtype.char, guarded)
    found = _compiled.get(key)
    if found is None:
        with _lock:
            found = _compiled.get(key)
            if found is None:
                try:
                    found = _compile(numba, rules.RULES[name], dtype, guarded)
                except Exception as error:  # numba itself failed: the numpy rule serves, training goes on
                    warnings.warn(
                        f"nn.optimizers.kernels: numba could not compile the {name!r} kernel for {dtype} "
                        f"({type(error).__name__}: {error}); the numpy update is used instead",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    found = False
                _compiled[key] = found
    return found or None


def kernel_for(rule, dtype):
    """The kernel of ``rule`` when it is one of nn's rules (``rules.RULES``), else None (a rule
    of a user's subclass is evaluated by numpy only)."""
    name = getattr(rule, "__name__", None)
    if rules.RULES.get(name) is not rule:
        return None
    return kernel(name, dtype)


def slot_count(name: str) -> int:
    """How many slot arrays the update kernel ``name`` takes after ``p`` and ``g``."""
    return len(rules.arrays(name)) - 2


KERNEL_NAMES = tuple(rules.RULES)
