"""Compiled helpers that generated kernels call instead of writing the loops out: a matrix
product is one call in the generated code (short code compiles fast) and the helper itself
is compiled once per machine (numba's disk cache)."""

from __future__ import annotations

_HELPERS: dict = {}


def matmul_helper(numba):
    """``mm(a, b, out, m, k, n, ta, tb)``: out[m, n] = A @ B over flat C-ordered buffers, A read
    as (m, k) (``ta``: stored as (k, m)), B as (k, n) (``tb``: stored as (n, k)); accumulated in
    order in the output's dtype."""
    fn = _HELPERS.get("mm")
    if fn is None:

        def mm(a, b, out, m, k, n, ta, tb):  # pragma: no cover  (runs compiled)
            for i in range(m):
                for j in range(n):
                    acc = out.dtype.type(0)
                    for p in range(k):
                        x = a[p * m + i] if ta else a[i * k + p]
                        y = b[j * k + p] if tb else b[p * n + j]
                        acc += x * y
                    out[i * n + j] = acc

        fn = _HELPERS["mm"] = numba.njit(mm, cache=True, error_model="numpy")
    return fn
