"""Thread-local switches of the engine: gradient recording and anomaly detection.

``no_grad()`` stops recording (like ``torch.no_grad``), ``enable_grad()`` turns it back on
inside a ``no_grad`` block, ``detect_anomaly()`` checks every op's output and every gradient
for NaN/Inf and names the op and the user's source line that created it.
All three work as context managers and as decorators.
"""

from __future__ import annotations

import contextlib
import threading


class _State(threading.local):
    """Per-thread switches; class attributes are each new thread's defaults.
    Hot paths read ``state.grad`` directly (an attribute read, no call)."""

    grad = True
    anomaly = False
    scope = None
    tracer = None  # the am.compile trace being recorded (autograd_mini.capture), else None


state = _State()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded."""
    return state.grad


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return state.anomaly


class _Switch(contextlib.ContextDecorator):
    """Set ``state.<name>`` to ``value`` inside a with-block (or a decorated call); restore it after.
    A plain class rather than ``@contextmanager``: it is entered on every layer call and backward."""

    __slots__ = ("name", "value", "previous")

    def __init__(self, name: str, value):
        self.name, self.value = name, value

    def _recreate_cm(self):  # each decorated call gets its own instance: re-entrant and thread-safe
        return type(self)(self.name, self.value)

    def __enter__(self):
        self.previous = getattr(state, self.name)
        setattr(state, self.name, self.value)
        return self

    def __exit__(self, *exc_info):
        setattr(state, self.name, self.previous)
        return False


def _set(name, value):
    return _Switch(name, value)


def no_grad():
    """Context manager / decorator: operations inside record no graph."""
    return _set("grad", False)


def enable_grad():
    """Context manager / decorator: record operations again (inside ``no_grad``)."""
    return _set("grad", True)


def set_grad_enabled(mode: bool):
    """Context manager / decorator: record operations iff ``mode``."""
    return _set("grad", bool(mode))


def detect_anomaly():
    """Context manager / decorator: raise at the first NaN/Inf in forward or backward.

    The error names the op, its input shapes and the source line that created the op.
    Recording that line costs time, so this mode is for debugging only.
    """
    return _set("anomaly", True)


class name_scope(contextlib.ContextDecorator):
    """Label the ops recorded inside with ``name`` (nested scopes join with '/').

    Graph drawings group ops by scope; ``nn`` layers open one named after the layer.
    """

    __slots__ = ("name", "previous")

    def __init__(self, name: str):
        self.name = name

    def _recreate_cm(self):
        return type(self)(self.name)

    def __enter__(self):
        self.previous = previous = state.scope
        state.scope = self.name if previous is None else f"{previous}/{self.name}"
        return self

    def __exit__(self, *exc_info):
        state.scope = self.previous
        return False
