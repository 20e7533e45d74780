"""numba, when it is there: one place that decides whether compiled loops may be used.

numba compiles fused loops (an optimizer's whole update in one pass, a captured step's small
arrays in one call). It is optional: without it, or with ``AUTOGRAD_MINI_NUMBA=0`` in the
environment, or inside ``use_numba(False)``, every path runs on numpy alone, slower.
numba is imported on the first call of ``get_numba()``, never by ``import autograd_mini``.

numba's first compile or cache load in a process registers its array maths, which probes for a
BLAS by importing ``scipy.linalg.cython_blas``; that import runs ``scipy.linalg``'s whole package
(~0.16 s CPU, over half of numba's first use) although a kernel without ``np.dot`` never calls
BLAS. ``get_numba()`` lets the probe find the BLAS module without the package (``_quiet_blas_probe``)
and then forgets it: a kernel that types ``np.dot`` imports it for real then, as before.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import os
import sys

_state = {"checked": False, "module": None, "enabled": os.environ.get("AUTOGRAD_MINI_NUMBA", "1") != "0"}


def get_numba():
    """The numba module when compiled loops may be used, else None (not installed, or turned off)."""
    if not _state["enabled"]:
        return None
    if not _state["checked"]:
        _state["checked"] = True
        try:
            import numba
        except ImportError:  # optional: numpy-only paths serve
            numba = None
        if numba is not None:
            _quiet_blas_probe()
        _state["module"] = numba
    return _state["module"]


def _quiet_blas_probe() -> None:
    """Register numba's array maths (``numba.np.arraymath``, which numba imports at its first
    compile or cache load anyway) while ``scipy.linalg.cython_blas`` is loaded alone, by the standard
    import machinery (``PathFinder`` and its extension loader), without running ``scipy/linalg/
    __init__.py``. numba's probe (``ensure_blas``: ``import scipy.linalg.cython_blas``) finds it in
    ``sys.modules`` and answers as it would have (BLAS available; the LP64/ILP64 check reads
    ``scipy.__config__``). Then the lone module is taken out of ``sys.modules`` again, so that the
    process looks as if it had never been imported: a later ``import scipy.linalg`` (or numba typing
    ``np.dot``) imports the package as usual. Anything unexpected (no scipy, ``scipy.linalg`` already
    imported, another numba or scipy layout): nothing is done and numba probes as it always did."""
    name = "scipy.linalg.cython_blas"
    if "scipy.linalg" in sys.modules or name in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    try:
        scipy = sys.modules.get("scipy")  # (numba's own import checks scipy's version: imported already)
        if scipy is None or not getattr(scipy, "__path__", None):
            return
        locations = [os.path.join(entry, "linalg") for entry in scipy.__path__]
        spec = importlib.machinery.PathFinder.find_spec(name, locations)
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
            import numba.np.arraymath  # noqa: F401  (its BLAS probe runs now, finding the module above)
        finally:
            if sys.modules.get(name) is module and "scipy.linalg" not in sys.modules:
                del sys.modules[name]
    except Exception:  # an unexpected layout: numba probes the usual way at its first compile
        return


def numba_enabled() -> bool:
    """Whether ``get_numba()`` would give numba (it imports numba to find out)."""
    return get_numba() is not None


@contextlib.contextmanager
def use_numba(enabled: bool):
    """Turn compiled loops on or off inside the block (tests compare both paths this way)."""
    previous = _state["enabled"]
    _state["enabled"] = bool(enabled)
    try:
        yield
    finally:
        _state["enabled"] = previous


@contextlib.contextmanager
def loading_cached_code():
    """Inside the block, numba loads machine code from its on-disk cache (this project's kernels
    and helpers) after initialising only what running that code needs: its runtime (NRT, the
    allocator the kernels call). numba's own ``Cache.load_overload`` first refreshes its whole
    target context, importing and installing every typing and lowering registry it has (array
    maths, random, typed containers, cffi, ...: 0.1-0.15 s of a warm process's start), which
    only compiling needs; the first compile still refreshes, as numba always does (its compiler
    does so itself). Outside the block, and with a numba whose cache has another shape, nothing
    changes; a load that fails this way is done again numba's way."""
    if get_numba() is None:  # (numba off or absent: nothing is loaded, and numba is not imported)
        yield
        return
    try:
        from numba.core import caching
        from numba.core.compiler_lock import global_compiler_lock
        from numba.core.runtime import rtsys
    except ImportError:  # pragma: no cover  (a numba of another layout)
        caching = None
    cache = getattr(caching, "Cache", None)
    if cache is None or not all(
        hasattr(cache, a) for a in ("load_overload", "_load_overload", "_guard_against_spurious_io_errors")
    ):
        yield
        return
    numbas = cache.load_overload

    def load_overload(self, sig, target_context):
        try:
            rtsys.initialize(target_context)
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)
            return None  # (numba's guard swallowed a spurious I/O error: no cached code)
        except Exception:
            return numbas(self, sig, target_context)

    with global_compiler_lock:  # (no other thread's compile runs meanwhile)
        cache.load_overload = load_overload
        try:
            yield
        finally:
            cache.load_overload = numbas
