"""Compiled helpers that generated kernels call instead of writing the work out, so that the
generated code stays short and numba types and lowers little per kernel.

- ``mm_``: a matrix product as one call (its loops are compiled once per machine: numba's disk cache).
- ``copy_(dst, src)``: ``dst[:] = src`` for flat arrays of one size, an intrinsic lowered to one
  ``llvm.memcpy`` (a slice assignment or a loop written out costs numba far more to compile).
- ``finite_(x)``: whether every element of the flat array ``x`` is finite, one call of a compiled
  helper through ``call_unlinked``.
- ``call_unlinked(numba, dispatcher, symbol)``: an intrinsic calling a compiled numba function by
  a process-wide symbol instead of linking its machine code into the caller. A linked callee is
  copied into every kernel that calls it and LLVM optimizes it again there, once per call site
  (about 0.2 s of the lecture step's cold compile per kind of helper: the optimizer's update
  loop, the copies, the finite checks); through the symbol it is a plain call.
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


def finite_helper(numba):
    """``finite_(x)``: True when every element of the flat array ``x`` (float32 or float64) is
    finite (no NaN, no inf); called through ``call_unlinked``."""
    fn = _HELPERS.get("finite")
    if fn is None:
        import math

        def finite_(x):  # pragma: no cover  (runs compiled)
            for k in range(x.size):  # noqa: SIM110  (a loop numba compiles; no generator)
                if not math.isfinite(x[k]):
                    return False
            return True

        from ..numba_support import loading_cached_code

        t = numba.types
        signatures = [t.boolean(t.Array(dtype, 1, "C")) for dtype in (t.float32, t.float64)]
        with loading_cached_code():
            compiled = numba.njit(signatures, cache=True, error_model="numpy")(finite_)
        fn = _HELPERS["finite"] = call_unlinked(numba, compiled, "autograd_mini_finite")
    return fn


def call_unlinked(numba, dispatcher, symbol: str):
    """An intrinsic that calls the compiled ``dispatcher`` (its signatures compiled ahead, e.g.
    with ``numba.njit([...])``) like the dispatcher itself, through the process-wide symbol
    ``symbol`` plus a digest of the argument types, registered with LLVM for each signature it
    has. The caller's machine code names the symbol, so a kernel loaded from the disk cache
    finds the callee of this process (registered when this function runs, before any kernel that
    calls it is built or loaded). ``symbol`` must name the callee's code uniquely (the kernel
    cache key describes the callee: ``.am_callee``). Arguments that are not exactly a compiled
    signature's are converted where numba can (a writable array to a read-only one)."""
    key = (id(dispatcher), symbol)
    found = _HELPERS.get(key)
    if found is not None:
        return found[0]
    import hashlib

    import llvmlite.binding as llvm
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    entries = []  # (argument types, symbol, compile result)
    for args, result in dispatcher.overloads.items():
        name = f"{symbol}_{hashlib.sha256(str(args).encode()).hexdigest()[:16]}"
        llvm.add_symbol(name, result.library.get_pointer_to_function(result.fndesc.mangled_name))
        entries.append((tuple(args), name, result))

    def pick(typingctx, args):
        for formal, name, result in entries:
            if formal == args:
                return formal, name, result
        for formal, name, result in entries:
            if len(formal) == len(args) and all(typingctx.can_convert(a, f) is not None for a, f in zip(args, formal)):
                return formal, name, result
        return None

    def typer(typingctx, args):
        found = pick(typingctx, tuple(args))
        if found is None:
            return None
        formal, name, result = found
        returns = result.signature.return_type

        def codegen(context, builder, signature, values):
            values = [context.cast(builder, v, a, f) for v, a, f in zip(values, signature.args, formal)]
            function_type = context.call_conv.get_function_type(returns, formal)
            function = cgutils.get_or_insert_function(builder.module, function_type, name)
            status, value = context.call_conv.call_function(builder, function, returns, formal, values)
            with cgutils.if_unlikely(builder, status.is_error):
                context.call_conv.return_status_propagate(builder, status)
            return context.get_dummy_value() if returns == types.none else value

        return returns(*args), codegen

    # (an intrinsic of the callee's arity: numba's intrinsics take no *args)
    params = ", ".join(f"a{k}" for k in range(len(entries[0][0]) if entries else 0))
    scope = {"typer": typer}
    exec(f"def call(typingctx, {params}):\n    return typer(typingctx, ({params}{',' if params else ''}))\n", scope)
    call = intrinsic(scope["call"])
    call.am_callee, call.am_symbol = dispatcher, symbol
    _HELPERS[key] = (call, dispatcher)  # (the dispatcher kept alive: its machine code is called)
    return call


def intrinsics(numba) -> dict:
    """``{"empty_": ..., "view_": ..., "copy_": ...}``: the allocation, reshape and copy intrinsics (built once)."""
    found = _HELPERS.get("intrinsics")
    if found is None:
        found = _HELPERS["intrinsics"] = _build_intrinsics(numba)
    return found


def _build_intrinsics(numba) -> dict:
    from llvmlite import ir
    from numba.core import cgutils, types
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

    @intrinsic
    def copy_(typingctx, dst, src):
        """``dst[:] = src`` for C-contiguous 1-d arrays of one dtype, as one ``llvm.memcpy`` of
        ``src``'s bytes; ValueError when the sizes differ."""
        arrays = isinstance(dst, types.Array) and isinstance(src, types.Array)
        if not arrays or dst.dtype != src.dtype or dst.ndim != 1 or src.ndim != 1:
            return None
        if dst.layout != "C" or src.layout != "C" or not dst.mutable:
            return None

        def codegen(context, builder, signature, args):
            target = make_array(dst)(context, builder, args[0])
            source = make_array(src)(context, builder, args[1])
            with builder.if_then(builder.icmp_signed("!=", target.nitems, source.nitems), likely=False):
                context.call_conv.return_user_exc(builder, ValueError, ("copy_: the sizes differ",))
            cgutils.raw_memcpy(builder, target.data, source.data, source.nitems, source.itemsize)
            return context.get_dummy_value()

        return types.none(dst, src), codegen

    return {"empty_": empty_, "view_": view_, "copy_": copy_}
