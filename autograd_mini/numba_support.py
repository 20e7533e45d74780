"""numba, when it is there: one place that decides whether compiled loops may be used.

numba compiles fused loops (an optimizer's whole update in one pass, a captured step's small
arrays in one call). It is optional: without it, or with ``AUTOGRAD_MINI_NUMBA=0`` in the
environment, or inside ``use_numba(False)``, every path runs on numpy alone, slower.
numba is imported on the first call of ``get_numba()``, never by ``import autograd_mini``.
"""

from __future__ import annotations

import contextlib
import os

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
        _state["module"] = numba
    return _state["module"]


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
