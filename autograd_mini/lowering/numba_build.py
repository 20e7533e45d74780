"""How a generated kernel becomes machine code: numba's options, its pipeline trimmed to what
generated code uses, and LLVM's optimization level by the kernel's size.

Measured on the lecture's step (1-10-1 sigmoid, MSE, SGD; ``benchmarks/compile_breakdown.py``),
a cold compile is spread over numba's passes and LLVM's, with no single large part; these
three choices each remove a slice of it and change no result:

- ``OPTIONS``: IEEE results as numpy gives them (no exception on a division by zero), no
  fastmath; no C-callable wrapper (a kernel is called from Python or from another kernel, never
  through a C function pointer; that wrapper cost ~0.06 s of each cold compile).
- ``lean_pipeline``: numba's nopython pipeline without the passes that find nothing to do in
  generated code, which has no closures, comprehensions, ``with`` blocks, ``literally``,
  ``literal_unroll``, dead branches, array expressions or inlinable overloads, and names every
  value once (so no SSA reconstruction is needed to type it). About 0.04 s of the lecture step.
  Should a kernel not compile this way, it is compiled again with numba's whole pipeline
  (``compile_with_fallback``), so trimming never loses a kernel.
- ``level``: a small kernel (every array and loop at most ``SMALL`` elements, only helpers that
  are compiled ahead) is optimized at LLVM ``-O1`` instead of numba's ``-O3``: its loops are too
  short for unrolling and vectorization to pay, and the same statements give the same bits
  (no fastmath: LLVM may not reassociate or contract float arithmetic at any level). About
  0.05 s of the lecture step; its steps run as fast (``benchmarks/multi_step.py``: 13.5 us per
  step either way). Larger kernels keep ``-O3``.

numba has one process-wide optimization level (``numba.config.OPT``, read when LLVM's passes
are built); ``level`` lowers it for one compile (never raises it: ``NUMBA_OPT=0`` stays 0),
holding numba's compiler lock so that no other compile sees it.
"""

from __future__ import annotations

import contextlib

OPTIONS = {"error_model": "numpy", "no_cfunc_wrapper": True}
SMALL = 256  # elements: the largest array or loop of a kernel compiled at -O1
SMALL_LEVEL = 1

# passes of numba's nopython pipeline that generated code never needs (see the module docstring)
_SKIPPED = frozenset(
    {
        "WithLifting",
        "InlineClosureLikes",
        "RewriteDynamicRaises",
        "MakeFunctionToJitFunction",
        "InlineInlinables",
        "DeadBranchPrune",
        "FindLiterallyCalls",
        "LiteralUnroll",
        "ReconstructSSA",
        "PreLowerStripPhis",
        "LiteralPropagationSubPipelinePass",
        "InlineOverloads",
        "NopythonRewrites",
        "NoPythonSupportedFeatureValidation",
        "DumpParforDiagnostics",
    }
)
_built: dict = {}


def lean_pipeline():
    """numba's nopython pipeline without ``_SKIPPED`` (a ``pipeline_class`` for ``numba.njit``),
    or None when this numba's pipeline cannot be built that way (its whole pipeline serves)."""
    if "lean" not in _built:
        _built["lean"] = None
        try:
            from numba.core.compiler import CompilerBase, DefaultPassBuilder
            from numba.core.compiler_machinery import PassManager
        except ImportError:  # pragma: no cover  (a numba without the pass-manager API)
            return None

        class LeanCompiler(CompilerBase):
            """numba's nopython pipeline, minus the passes generated kernels never need."""

            def define_pipelines(self):
                whole = DefaultPassBuilder.define_nopython_pipeline(self.state)
                lean = PassManager("autograd_mini_lean")
                for pass_class, description in whole.passes:
                    if pass_class.__name__ not in _SKIPPED:
                        lean.add_pass(pass_class, description)
                lean.finalize()
                return [lean]

        _built["lean"] = LeanCompiler
    return _built["lean"]


def level(largest: int, helpers_ahead: bool) -> int | None:
    """The LLVM level for a kernel whose largest array or loop has ``largest`` elements
    (``helpers_ahead``: every function it calls is compiled already, so none is compiled at this
    level in passing); None: numba's own (``-O3``)."""
    return SMALL_LEVEL if helpers_ahead and largest <= SMALL else None


def describe(opt_level: int | None) -> str:
    """What the kernel cache key records of how a kernel is built."""
    return f"build {sorted(OPTIONS.items())} lean {sorted(_SKIPPED)} level {opt_level}"


def dispatcher(numba, function, *, cache: bool, lean: bool = True):
    """``numba.njit(function)`` with ``OPTIONS`` (and the lean pipeline unless ``lean`` is False)."""
    pipeline = lean_pipeline() if lean else None
    extra = {"pipeline_class": pipeline} if pipeline is not None else {}
    return numba.njit(function, cache=cache, **OPTIONS, **extra)


@contextlib.contextmanager
def _optimization_level(opt_level: int | None):
    if opt_level is None:
        yield
        return
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:
        saved = config.OPT
        if opt_level >= saved:  # (never above the level the user set: NUMBA_OPT=0 stays 0)
            yield
            return
        config.OPT = type(saved)(opt_level)  # (numba's own int subclass)
        try:
            yield
        finally:
            config.OPT = saved


def compile_with_fallback(numba, fn, signature, *, cache: bool, opt_level: int | None):
    """``fn`` (from ``dispatcher``, ``cache`` as it was made with) compiled for ``signature``; when
    the lean pipeline refuses it, a new dispatcher of the same function compiled with numba's
    whole pipeline. Returns the dispatcher that compiled; a NumbaError of the whole pipeline
    propagates."""
    try:
        with _optimization_level(opt_level):
            fn.compile(signature)
        return fn
    except Exception:  # (whatever the trimmed pipeline met: the whole one decides)
        if lean_pipeline() is None:
            raise
    whole = dispatcher(numba, fn.py_func, cache=cache, lean=False)
    with _optimization_level(opt_level):
        whole.compile(signature)
    return whole
