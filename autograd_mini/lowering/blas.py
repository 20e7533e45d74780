"""Large matrix products inside generated kernels, as BLAS calls.

numba compiles ``np.dot(a, b, out)`` on contiguous 2-d float32/float64 arrays into a call of the
BLAS that scipy ships (``?gemm``; ``?gemv`` when one side is a single row or column). A kernel
can so keep the elementwise work between the products (bias, activation, dropout mask, loss,
optimizer) in its loops and leave each product to BLAS, as the numpy replay does. A transposed
operand (``x.T @ g``, ``g @ W.T`` in a backward pass) is its flat buffer seen in its stored
shape and then ``.T``: an F-ordered view that numba hands to BLAS as a transpose flag, no copy.

Where this cannot work (scipy missing, a dtype BLAS has no routine for, operands of mixed
dtypes) ``matmul`` raises ``NotLowerable`` and the step keeps the numpy replay.

Rounding: BLAS sums each of the ``k`` products in blocks (with FMA where the CPU has it), as
numpy's own matmul does (numpy calls an OpenBLAS too, possibly another build), so a product
can differ from the replay's in the last bits of a ``k``-term float sum.
"""

from __future__ import annotations

import os

import numpy as np

from .emitter import NotLowerable, Var

_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_state = {"enabled": os.environ.get("AUTOGRAD_MINI_KERNEL_BLAS", "1") != "0", "scipy": None}


def available() -> bool:
    """Whether kernels may call BLAS: scipy's BLAS bindings import (numba needs them), and it is not
    turned off (``AUTOGRAD_MINI_KERNEL_BLAS=0`` or ``set_enabled(False)``)."""
    if not _state["enabled"]:
        return False
    if _state["scipy"] is None:
        try:
            import scipy.linalg.cython_blas  # noqa: F401  (what numba's np.dot binds to)
        except ImportError:
            _state["scipy"] = False
        else:
            _state["scipy"] = True
    return _state["scipy"]


def set_enabled(flag: bool) -> None:
    """Allow (True, the default) or forbid BLAS calls in kernels compiled from now on; without
    them a large product raises ``NotLowerable`` and its step keeps the numpy replay."""
    _state["enabled"] = bool(flag)


# The products, one per operand layout, over flat C-ordered buffers. ``.T`` of a C-ordered
# view is F-ordered: numba passes it to ``?gemm`` as a transpose flag (no copy). Compiled on
# first use with numba's disk cache, once per machine: a kernel calls them instead of inlining
# ``np.dot``, which numba would type and lower again at every call site of every kernel.
def _nn(a, b, out, m, k, n):  # pragma: no cover  (runs compiled)
    np.dot(a.reshape((m, k)), b.reshape((k, n)), out.reshape((m, n)))


def _tn(a, b, out, m, k, n):  # pragma: no cover
    np.dot(a.reshape((k, m)).T, b.reshape((k, n)), out.reshape((m, n)))


def _nt(a, b, out, m, k, n):  # pragma: no cover
    np.dot(a.reshape((m, k)), b.reshape((n, k)).T, out.reshape((m, n)))


def _tt(a, b, out, m, k, n):  # pragma: no cover
    np.dot(a.reshape((k, m)).T, b.reshape((n, k)).T, out.reshape((m, n)))


_PRODUCTS = {(False, False): _nn, (True, False): _tn, (False, True): _nt, (True, True): _tt}
_COMPILED: dict = {}


def product(transpose_a: bool, transpose_b: bool):
    """The compiled ``fn(a, b, out, m, k, n)``: out (m, n) = A @ B by BLAS over flat buffers, A
    stored as (m, k) or, ``transpose_a``, as (k, m); B as (k, n) or, ``transpose_b``, as (n, k)."""
    key = (bool(transpose_a), bool(transpose_b))
    fn = _COMPILED.get(key)
    if fn is None:
        from ..numba_support import get_numba

        numba = get_numba()
        if numba is None:
            raise NotLowerable("numba is not available")
        fn = _COMPILED[key] = numba.njit(_signatures(numba), cache=True, error_model="numpy")(_PRODUCTS[key])
    return fn


def _signatures(numba) -> list:
    """float32 and float64, operands read-only or not (a read-only type accepts both), the sizes
    plain int64: declared, so numba compiles two versions, not one per literal shape of every call."""
    t = numba.types
    found = []
    for dtype in (t.float32, t.float64):
        readonly = t.Array(dtype, 1, "C", readonly=True)
        found.append(t.void(readonly, readonly, t.Array(dtype, 1, "C"), t.int64, t.int64, t.int64))
    return found


def matmul(L, a: Var, b: Var, dims: tuple, transpose_a: bool, transpose_b: bool, out_dtype) -> Var:
    """out (m, n) = A @ B as one BLAS call written into the emitter ``L``'s code; ``dims`` is
    (m, k, n), A read as (m, k) (``transpose_a``: stored as (k, m)), B as (k, n) (``transpose_b``:
    stored as (n, k)). Raises NotLowerable where BLAS cannot take the product."""
    m, k, n = dims
    out_dtype = np.dtype(out_dtype)
    if not available():
        raise NotLowerable(f"matmul of {m}x{k} by {k}x{n} is large and kernels have no BLAS (scipy missing or off)")
    if out_dtype not in _BLAS_DTYPES or a.dtype != out_dtype or b.dtype != out_dtype:
        raise NotLowerable(
            f"matmul of {m}x{k} by {k}x{n} is large and BLAS takes one float dtype, not {a.dtype} by {b.dtype}"
        )
    if a.scalar or b.scalar or m * n < 2:
        raise NotLowerable(f"matmul of {m}x{k} by {k}x{n} has no BLAS form (a single element)")
    name = f"blas_{'t' if transpose_a else 'n'}{'t' if transpose_b else 'n'}_"
    L.globals[name] = product(transpose_a, transpose_b)
    out = L.alloc((m, n), out_dtype)
    L.line(f"{name}({a.name}, {b.name}, {out.name}, {m}, {k}, {n})")
    return out
