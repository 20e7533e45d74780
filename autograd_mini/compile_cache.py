"""``am.compile_cache``: the persistent cache of compiled step kernels (``jit_compile=True``,
``am.compile(..., kernels=True)``). A second process running the same step loads its machine
code instead of compiling it. The rules (key, folder, safety) are in ``lowering/disk_cache.py``.

    am.compile_cache.info()        # {"directory", "enabled", "kernels", "bytes", "limit"}
    am.compile_cache.clear()       # remove every cached kernel
    am.compile_cache.set_limit(64 << 20)
"""

from .lowering.disk_cache import (
    clear,
    directory,
    enabled,
    info,
    limit,
    set_enabled,
    set_limit,
    size,
    stats,
)

__all__ = ["clear", "directory", "enabled", "info", "limit", "set_enabled", "set_limit", "size", "stats"]
