"""Compiled helpers that generated kernels call instead of writing the work out, so that the
generated code stays short and numba types and lowers little per kernel.

- ``mm_``: a matrix product as one call (its loops are compiled once per machine: numba's disk cache).
- ``copy_(dst, src)``: ``dst[:] = src`` for flat arrays of one size, and ``finite_(x)``: whether
  every element of the flat array ``x`` is finite; each one call, cached like ``mm_`` (a slice
  assignment or a loop written out in each kernel costs numba far more to compile).
- ``empty_(n, f32)``: a new flat C-ordered buffer of ``n`` elements. It is what ``np.empty(n, f32)``
  allocates (numba's runtime, the same alignment), but numba's ``np.empty`` is an overload that it
  types and compiles afresh for every literal size in every process (about 0.1 s of the lecture
  step's cold compile); this intrinsic is typed by one small function and lowered to a dozen
  LLVM instructions.
- ``view_(a, shape)``: the C-contiguous array ``a`` seen with another shape of the same size
  (``a.reshape(shape)`` without numba's general reshape, which is compiled per shape and ndim
  through ``compile_internal``: about 0.2 s of the lecture step's cold compile). No copy: the
  view shares ``a``'s buffer and keeps it alive (a new reference), as reshape does.

The intrinsics are built on the first call of ``intrinsics(numba)``; ``autograd_mini`` never
imports numba on its own import.
"""

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


def copy_helper(numba):
    """``copy_(dst, src)``: ``dst[k] = src[k]`` for each k (flat arrays of one size)."""
    fn = _HELPERS.get("copy")
    if fn is None:

        def copy_(dst, src):  # pragma: no cover  (runs compiled)
            for k in range(src.size):
                dst[k] = src[k]

        fn = _HELPERS["copy"] = numba.njit(copy_, cache=True, error_model="numpy")
    return fn


def finite_helper(numba):
    """``finite_(x)``: True when every element of the flat array ``x`` is finite (no NaN, no inf)."""
    fn = _HELPERS.get("finite")
    if fn is None:
        import math

        def finite_(x):  # pragma: no cover  (runs compiled)
            for k in range(x.size):  # noqa: SIM110  (a loop numba compiles; no generator)
                if not math.isfinite(x[k]):
                    return False
            return True

        fn = _HELPERS["finite"] = numba.njit(finite_, cache=True, error_model="numpy")
    return fn


def intrinsics(numba) -> dict:
    """``{"empty_": ..., "view_": ...}``: the allocation and reshape intrinsics (built once)."""
    found = _HELPERS.get("intrinsics")
    if found is None:
        found = _HELPERS["intrinsics"] = _build_intrinsics(numba)
    return found


def _build_intrinsics(numba) -> dict:
    from llvmlite import ir
    from numba.core import types
    from numba.core.imputils import impl_ret_borrowed, impl_ret_new_ref
    from numba.extending import intrinsic
    from numba.np.arrayobj import make_array, populate_array

    def c_strides(builder, dims, itemsize):
        strides, step = [], itemsize
        for dim in reversed(dims):
            strides.append(step)
            step = builder.mul(step, dim)
        return list(reversed(strides))

    @intrinsic
    def empty_(typingctx, count, kind):
        """A new 1-d C-ordered array of ``count`` uninitialised elements of the scalar type ``kind``
        (``count``: a size the generated code writes as a constant, never negative)."""
        if not isinstance(count, types.Integer) or not isinstance(kind, types.NumberClass):
            return None
        dtype = kind.instance_type
        array_type = types.Array(dtype, 1, "C")

        def codegen(context, builder, signature, args):
            intp = context.get_value_type(types.intp)
            n = context.cast(builder, args[0], signature.args[0], types.intp)
            itemsize = ir.Constant(intp, context.get_abi_sizeof(context.get_data_type(dtype)))
            align = context.get_preferred_array_alignment(dtype)
            meminfo = context.nrt.meminfo_alloc_aligned(builder, builder.mul(n, itemsize), align)
            data = context.nrt.meminfo_data(builder, meminfo)
            array = make_array(array_type)(context, builder)
            pointer = context.get_data_type(dtype).as_pointer()
            populate_array(
                array,
                data=builder.bitcast(data, pointer),
                shape=[n],
                strides=[itemsize],
                itemsize=itemsize,
                meminfo=meminfo,
            )
            return impl_ret_new_ref(context, builder, array_type, array._getvalue())

        return array_type(count, kind), codegen

    @intrinsic
    def view_(typingctx, array, shape):
        """``array`` (C-contiguous) seen with ``shape`` (a tuple of ints): no copy; ValueError when the
        shape's size is not the array's (as reshape raises)."""
        if not isinstance(array, types.Array) or array.layout != "C" or not isinstance(shape, types.BaseTuple):
            return None
        if not all(isinstance(t, types.Integer) for t in shape):
            return None
        result = array.copy(ndim=len(shape), layout="C")

        def codegen(context, builder, signature, args):
            source = make_array(array)(context, builder, args[0])
            dims = [
                context.cast(builder, builder.extract_value(args[1], i), shape[i], types.intp)
                for i in range(len(shape))
            ]
            size = context.get_constant(types.intp, 1)
            for dim in dims:
                size = builder.mul(size, dim)
            with builder.if_then(builder.icmp_signed("!=", size, source.nitems), likely=False):
                context.call_conv.return_user_exc(builder, ValueError, ("view_: the shape's size is not the array's",))
            out = make_array(result)(context, builder)
            populate_array(
                out,
                data=source.data,
                shape=dims,
                strides=c_strides(builder, dims, source.itemsize),
                itemsize=source.itemsize,
                meminfo=source.meminfo,
                parent=source.parent,
            )
            return impl_ret_borrowed(context, builder, result, out._getvalue())

        return result(array, shape), codegen

    return {"empty_": empty_, "view_": view_}
