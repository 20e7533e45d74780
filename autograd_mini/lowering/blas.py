"""Large matrix products inside generated kernels, as BLAS calls.

A kernel keeps the elementwise work between the products (bias, activation, dropout mask, loss,
optimizer) in its loops and leaves each product to BLAS, as the numpy replay does. Two ways, the
first found serves (``backend()``):

- ``"numpy"``: numpy's own OpenBLAS (the one a wheel bundles, whose ``cblas_?gemm`` numpy's matmul
  calls), called through its C symbol: the products are numpy's, bit for bit, and the process
  keeps one BLAS thread pool (a second pool on a 2-core machine makes both slower).
- ``"scipy"``: numba's ``np.dot(a, b, out)``, which binds scipy's BLAS (``scipy.linalg.cython_blas``).

Either takes contiguous float32/float64 operands. A transposed operand (``x.T @ g``, ``g @ W.T``
in a backward pass) is its flat buffer in its stored shape with a transpose flag, no copy.
Where neither serves (no numpy OpenBLAS symbols and no scipy, a dtype or mix of dtypes BLAS has
no routine for) ``matmul`` raises ``NotLowerable`` and the step keeps the numpy replay.
``AUTOGRAD_MINI_KERNEL_BLAS=0`` or ``set_enabled(False)`` turns it off.

Rounding: BLAS sums the ``k`` products of an element in blocks (with FMA where the CPU has it);
with the ``"numpy"`` way they are the replay's products exactly, with ``"scipy"`` another build of
the same library may differ in the last bits of a ``k``-term float sum.
"""

from __future__ import annotations

import ctypes
import glob
import os
from pathlib import Path

import numpy as np

from .emitter import NotLowerable, Var, dtype_name

_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_CBLAS = {np.dtype(np.float32): "scipy_cblas_sgemm64_", np.dtype(np.float64): "scipy_cblas_dgemm64_"}
_state = {"enabled": os.environ.get("AUTOGRAD_MINI_KERNEL_BLAS", "1") != "0", "backend": None}


def backend() -> str | None:
    """How kernels call BLAS: ``"numpy"`` (numpy's bundled OpenBLAS), ``"scipy"`` (numba's np.dot),
    or None (neither, or turned off: large products keep the numpy replay)."""
    if not _state["enabled"]:
        return None
    if _state["backend"] is None:
        _state["backend"] = "numpy" if _numpy_openblas() else ("scipy" if _has_scipy_blas() else "")
    return _state["backend"] or None


def available() -> bool:
    """Whether kernels may call BLAS (``backend()`` is not None)."""
    return backend() is not None


def set_enabled(flag: bool) -> None:
    """Allow (True, the default) or forbid BLAS calls in kernels compiled from now on; without
    them a large product raises ``NotLowerable`` and its step keeps the numpy replay."""
    _state["enabled"] = bool(flag)


def _has_scipy_blas() -> bool:
    try:
        import scipy.linalg.cython_blas  # noqa: F401  (what numba's np.dot binds to)
    except ImportError:
        return False
    return True


def _numpy_openblas() -> str | None:
    """The path of the OpenBLAS numpy's wheel bundles, when it exports the 64-bit-integer CBLAS
    ``?gemm`` that numpy calls (Linux ``numpy.libs``, macOS ``numpy/.dylibs``), made visible to
    numba's linker; else None."""
    numpy_dir = Path(np.__file__).parent
    for pattern in (numpy_dir.parent / "numpy.libs" / "*openblas*", numpy_dir / ".dylibs" / "*openblas*"):
        for path in sorted(glob.glob(str(pattern))):
            try:
                library = ctypes.CDLL(path)  # (already loaded by numpy: the same handle)
            except OSError:
                continue
            if all(hasattr(library, symbol) for symbol in _CBLAS.values()):
                import llvmlite.binding

                llvmlite.binding.load_library_permanently(path)
                return path
    return None


# The "scipy" way: the products, one per operand layout, over flat C-ordered buffers. ``.T`` of a C-ordered
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


# numpy's OpenBLAS: one function for every layout, row-major CBLAS (101), 111/112 = (no) transpose.
# The pointers are passed as integers (the C ABI passes both alike); ``_sgemm``/``_dgemm`` are
# bound to the C symbols (numba.types.ExternalFunction, resolved by name) before it compiles.
_sgemm = _dgemm = None


def _gemm32(a, b, out, m, k, n, ta, tb):  # pragma: no cover  (runs compiled)
    ops, lda, ldb = (112 if ta else 111, 112 if tb else 111), m if ta else k, k if tb else n
    a_, b_, out_ = a.ctypes.data, b.ctypes.data, out.ctypes.data
    _sgemm(101, ops[0], ops[1], m, n, k, np.float32(1.0), a_, lda, b_, ldb, np.float32(0.0), out_, n)


def _gemm64(a, b, out, m, k, n, ta, tb):  # pragma: no cover
    ops, lda, ldb = (112 if ta else 111, 112 if tb else 111), m if ta else k, k if tb else n
    a_, b_, out_ = a.ctypes.data, b.ctypes.data, out.ctypes.data
    _dgemm(101, ops[0], ops[1], m, n, k, 1.0, a_, lda, b_, ldb, 0.0, out_, n)


_COMPILED: dict = {}


def _numba():
    from ..numba_support import get_numba

    numba = get_numba()
    if numba is None:
        raise NotLowerable("numba is not available")
    return numba


def product(transpose_a: bool, transpose_b: bool):
    """The compiled ``fn(a, b, out, m, k, n)`` of the ``"scipy"`` way: out (m, n) = A @ B over flat
    buffers, A stored as (m, k) or, ``transpose_a``, as (k, m); B as (k, n) or, ``transpose_b``, as (n, k)."""
    key = (bool(transpose_a), bool(transpose_b))
    fn = _COMPILED.get(key)
    if fn is None:
        numba = _numba()
        t = numba.types
        signatures = []
        for dtype in (t.float32, t.float64):
            readonly = t.Array(dtype, 1, "C", readonly=True)  # (accepts writable arrays too)
            signatures.append(t.void(readonly, readonly, t.Array(dtype, 1, "C"), t.int64, t.int64, t.int64))
        fn = _COMPILED[key] = numba.njit(signatures, cache=True, error_model="numpy")(_PRODUCTS[key])
    return fn


def gemm(dtype):
    """The compiled ``fn(a, b, out, m, k, n, ta, tb)`` of the ``"numpy"`` way, for ``dtype``."""
    dtype = np.dtype(dtype)
    fn = _COMPILED.get(dtype)
    if fn is None:
        numba = _numba()
        t = numba.types
        scalar = t.float32 if dtype == np.float32 else t.float64
        c_args = (t.int32, t.int32, t.int32, t.int64, t.int64, t.int64, scalar, t.intp, t.int64, t.intp, t.int64)
        symbol = t.ExternalFunction(_CBLAS[dtype], t.void(*c_args, scalar, t.intp, t.int64))
        globals()["_sgemm" if dtype == np.float32 else "_dgemm"] = symbol
        readonly = t.Array(scalar, 1, "C", readonly=True)
        signature = t.void(readonly, readonly, t.Array(scalar, 1, "C"), t.int64, t.int64, t.int64, t.boolean, t.boolean)
        python = _gemm32 if dtype == np.float32 else _gemm64
        fn = _COMPILED[dtype] = numba.njit([signature], cache=True, error_model="numpy")(python)
    return fn


def matmul(L, a: Var, b: Var, dims: tuple, transpose_a: bool, transpose_b: bool, out_dtype) -> Var:
    """out (m, n) = A @ B as one BLAS call written into the emitter ``L``'s code; ``dims`` is
    (m, k, n), A read as (m, k) (``transpose_a``: stored as (k, m)), B as (k, n) (``transpose_b``:
    stored as (n, k)). Raises NotLowerable where BLAS cannot take the product."""
    m, k, n = dims
    out_dtype = np.dtype(out_dtype)
    way = backend()
    if way is None:
        raise NotLowerable(
            f"matmul of {m}x{k} by {k}x{n} is large and kernels have no BLAS (neither numpy's OpenBLAS nor scipy, or turned off)"
        )
    if out_dtype not in _BLAS_DTYPES or a.dtype != out_dtype or b.dtype != out_dtype:
        raise NotLowerable(
            f"matmul of {m}x{k} by {k}x{n} is large and BLAS takes one float dtype, not {a.dtype} by {b.dtype}"
        )
    if a.scalar or b.scalar or m * n < 2:
        raise NotLowerable(f"matmul of {m}x{k} by {k}x{n} has no BLAS form (a single element)")
    out = L.alloc((m, n), out_dtype)
    if way == "numpy":
        name = f"blas_{dtype_name(out_dtype)}_"
        L.globals[name] = gemm(out_dtype)
        L.line(f"{name}({a.name}, {b.name}, {out.name}, {m}, {k}, {n}, {bool(transpose_a)}, {bool(transpose_b)})")
    else:
        name = f"blas_{'t' if transpose_a else 'n'}{'t' if transpose_b else 'n'}_"
        L.globals[name] = product(transpose_a, transpose_b)
        L.line(f"{name}({a.name}, {b.name}, {out.name}, {m}, {k}, {n})")
    return out
